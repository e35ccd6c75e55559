"""Writing the page: one HTML file with its styles, scripts and data inlined (opens from disk, offline).

The run's data is embedded as JSON in `<script type="application/json">` elements: a summary the page
parses at load, and one element per trajectory, tree or selection record that it parses only when
that view is opened. Text from the run is never pasted into HTML: JSON is made safe for a script
element (every `<` escaped) and the page's script inserts it as text.
"""

from __future__ import annotations

import os
import re
import tempfile
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from markupsafe import escape

from sweagent.inspector.diffs import diff_css
from sweagent.inspector.run_reader import Options, RunData, read_run, script_json

HERE = Path(__file__).parent
ASSETS = HERE / "assets"
# Order matters: the libraries before the page's own script.
SCRIPTS = ("vendor/chart.umd.min.js", "vendor/cytoscape.min.js", "inspector.js")
DEFAULT_NAME = "inspector.html"
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)


@cache
def _asset(name: str) -> str:
    text = (ASSETS / name).read_text(encoding="utf-8")
    if name.endswith(".js"):
        text = _SOURCE_MAP.sub("", text)  # the map is not shipped; a browser would ask for it
        if "</script" in text.lower():
            raise ValueError(f"{name} contains '</script' and cannot be inlined")
    return text


@lru_cache(maxsize=1)
def _template():
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=False, keep_trailing_newline=True
    )
    return env.get_template("page.html.j2")


def _context(data: RunData, extra: dict[str, Any] | None) -> dict[str, Any]:
    summary = {**data.summary, "run": {**data.summary["run"], **(extra or {})}}
    return {
        "title": escape(summary["run"]["name"]),
        "css": _asset("inspector.css"),
        "diff_css": diff_css(),
        "summary": script_json(summary),
        "scripts": [_asset(name) for name in SCRIPTS],
        "payloads": data.payloads,
    }


def render_html(data: RunData, extra: dict[str, Any] | None = None) -> str:
    """The page for `data`; `extra` keys are added to `summary.run` (e.g. the live server's version)."""
    return _template().render(_context(data, extra))


def default_output(run_dir: str | Path) -> Path:
    return Path(run_dir) / DEFAULT_NAME


def write_page(path: Path, data: RunData) -> None:
    """Stream the page into a temp file beside `path`, then rename it (a reader never sees half a page)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            _template().stream(_context(data, None)).dump(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # a report to share (CI artefact, web folder), unlike a private temp file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_run(run_dir: str | Path, output: str | Path | None = None, opts: Options | None = None) -> Path:
    """Read `run_dir`, write its page to `output` (default `<run_dir>/inspector.html`)."""
    data = read_run(run_dir, opts)
    path = Path(output) if output else default_output(run_dir)
    write_page(path, data)
    return path
