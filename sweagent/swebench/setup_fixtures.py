"""Fixture images whose set-up leaves the repository the way SWE-bench's images do.

    python -m sweagent.swebench.setup_fixtures build [--out FILE] [--kind build --kind modes ...]

SWE-bench builds an instance image by checking out the base commit and running the repository's
set-up, and the image keeps what that left: `pip install .` leaves an untracked `build/` and
`*.egg-info`, some set-ups edit tracked files first (sphinx's rewrites a line of `tox.ini`), and some
change file modes. Each image here does one of these (`SETUPS`; `all` does every one) to a small
package with real packaging files (the `calc` fixture plus `setup.py`, `setup.cfg`, `tox.ini`), so
tests and `swe-ttc bench baseline` can check that a patch holds the agent's work and nothing else.
Rows are classic SWE-bench rows plus `image`; images are rebuilt only when their inputs change.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Any

import click
import docker

from sweagent.config import DEFAULT_IMAGE
from sweagent.io import atomic_write_text
from sweagent.swebench.fixture_tasks import CALC, FixtureTask
from sweagent.swebench.fixtures import ROW_IMAGE_NAMESPACE, build_image, make_repo, make_row
from sweagent.swebench.images import official_image_name

PIP_INSTALL = "pip install --break-system-packages --no-build-isolation --no-deps --no-index ."
SETUPS: dict[str, str] = {
    # an in-tree build: untracked build/lib/... and calc.egg-info/, as requests' images have
    "build": PIP_INSTALL,
    # a tracked config file edited before installing, as sphinx's and astropy's set-ups do
    "config": "sed -i 's/^commands = pytest$/commands = pytest -rA/' tox.ini && grep -q -- -rA tox.ini",
    # every tracked file made executable, as an image whose set-up changed modes
    "modes": "git ls-files -z | xargs -0 chmod 755",
}
SETUPS["all"] = " && ".join(SETUPS[kind] for kind in ("config", "modes", "build"))

PACKAGING = {
    "setup.py": "from setuptools import setup\n\nsetup()\n",
    "setup.cfg": (
        "[metadata]\nname = calc\nversion = 0.1\n\n[options]\npackages = find:\n\n"
        "[options.packages.find]\nexclude =\n    tests\n    tests.*\n"
    ),
    "tox.ini": "[tox]\nenvlist = py3\n\n[testenv]\ndeps = pytest\ncommands = pytest\n",
}


def _table_module(index: int, rows: int = 400) -> str:
    """A generated data module (about 12 KB): bulk for a large untracked build/ folder."""
    body = "".join(f"    'key_{index:03d}_{j:04d}': {index * 7919 + j * 104729},\n" for j in range(rows))
    return f'"""Lookup table {index} (generated)."""\n\nTABLE = {{\n{body}}}\n'


def setup_task(kind: str, modules: int = 0) -> FixtureTask:
    """The `calc` task, packaged, as the row of an image set up with `SETUPS[kind]`; `modules` adds
    that many generated data modules (a large package, so `pip install .` leaves a large build/)."""
    if kind not in SETUPS:
        raise ValueError(f"unknown set-up {kind!r}: one of {', '.join(SETUPS)}")
    files = {**CALC.files, **PACKAGING}
    files.update({f"calc/tables/table_{i:03d}.py": _table_module(i) for i in range(modules)})
    if modules:
        files["calc/tables/__init__.py"] = ""
    suffix = f"-m{modules}" if modules else ""
    return dataclasses.replace(CALC, instance_id=f"swe-ttc-fixtures__calc-setup-{kind}{suffix}", files=files)


def image_name(task: FixtureTask) -> str:
    return official_image_name(task.instance_id, ROW_IMAGE_NAMESPACE)


def build(
    kinds: list[str],
    *,
    out: Path | None = None,
    client: docker.DockerClient | None = None,
    base_image: str = DEFAULT_IMAGE,
    modules: int = 0,
) -> list[dict[str, Any]]:
    """Make sure each set-up's image exists; return its rows (written as JSON lines to `out`)."""
    client = client or docker.from_env()
    rows = []
    with tempfile.TemporaryDirectory(prefix="swe-ttc-setup-fixtures-") as tmp:
        for kind in kinds:
            task = setup_task(kind, modules)
            repo = Path(tmp) / task.instance_id
            row = make_row(task, repo, make_repo(task, repo))
            row["image"] = build_image(
                client, task, base_image, Path(tmp), setup=SETUPS[kind], name=image_name(task)
            )
            rows.append(row)
    if out is not None:
        atomic_write_text(out, "".join(json.dumps(row) + "\n" for row in rows))
    return rows


@click.group()
def cli() -> None:
    """Fixture images with SWE-bench-style set-up left in the repository."""


@cli.command("build")
@click.option("--out", type=click.Path(path_type=Path), help="write the rows here (JSON lines)")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(sorted(SETUPS)), help="default: all kinds")
@click.option("--modules", default=0, show_default=True, help="generated data modules to add")
@click.option("--base-image", default=DEFAULT_IMAGE, show_default=True)
def build_cmd(out: Path | None, kinds: tuple[str, ...], modules: int, base_image: str) -> None:
    """Build the set-up images (and write their dataset rows)."""
    for row in build(list(kinds or SETUPS), out=out, base_image=base_image, modules=modules):
        click.echo(f"{row['instance_id']}: {row['image']}")


if __name__ == "__main__":
    cli()
