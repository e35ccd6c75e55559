"""A real batch run (tree search, then eval) over the fixture dataset, and headless Chromium to open its page.

The model is a scripted replay through litellm: in every stage it writes a reproduction script for
the fixture's issue, runs it, applies the fixture's fix with the editor and reruns the script, so the
search tree has reproduce, localize and patch nodes whose candidates earn real execution verdicts.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sweagent.model.scripted import oracle_actions, register_replay
from tests.swebench.conftest import fixture_dataset, fixture_rows  # noqa: F401 (session fixtures)
from tests.swebench.util import run_cli

# What each fixture's reproduction checks; a task without one gets the fix alone.
REPRODUCTIONS = {
    "swe-ttc-fixtures__calc-1": "from calc.ops import divide\nbug = divide(7, 2) != 3.5",
    "swe-ttc-fixtures__textkit-2": "from textkit.slug import slugify\nbug = slugify('Hello, World!') != 'hello-world'",
    "swe-ttc-fixtures__inventory-3": (
        "from inventory import Inventory\ntry:\n    Inventory().remove('x')\n    bug = True\n"
        "except ValueError:\n    bug = False"
    ),
}
RUN = "inspect-e2e"


def stage_actions(instance_id: str, patch: str) -> list[dict[str, Any]]:
    check = REPRODUCTIONS.get(instance_id)
    run = {
        "thought": "Run the reproduction.",
        "tool": "bash",
        "args": {"command": "cd /testbed && python3 reproduce_issue.py"},
    }
    before = []
    if check:
        script = check + "\nprint('Issue reproduced' if bug else 'Issue resolved')\n"
        before = [
            {
                "thought": "Write a script that shows the bug.",
                "tool": "editor",
                "args": {"command": "create", "path": "/testbed/reproduce_issue.py", "file_text": script},
            },
            run,
        ]
    fix = [a for a in oracle_actions(patch) if a["tool"] != "submit"]
    done = {"thought": "Done.", "tool": "submit", "args": {"summary": "reproduced and fixed"}}
    return [*before, *fix, *([run] if check else []), done]


@pytest.fixture(scope="session")
def searched_run(fixture_dataset, fixture_rows, tmp_path_factory) -> Path:  # noqa: F811
    """`swe-ttc batch --search tree` then `swe-ttc eval` over the fixtures; the run folder."""
    out = tmp_path_factory.mktemp("inspect-runs")
    for iid, row in fixture_rows.items():
        register_replay(f"inspect-{iid}", stage_actions(iid, row["patch"]))
    batch = [
        "batch",
        "--dataset",
        str(fixture_dataset),
        "--model",
        "replay/inspect-{instance_id}",
        "--output-dir",
        str(out),
        "--run-id",
        RUN,
        "--agent.localize_hint",
        "false",
        "--search",
        "tree",
        "--budget",
        "2",
        "--workers",
        "2",
    ]
    assert run_cli(batch) == 0
    run_dir = out / RUN
    graded = [
        "eval",
        "--dataset",
        str(fixture_dataset),
        "--predictions",
        str(run_dir / "preds.json"),
        "--output-dir",
        str(out),
        "--network",
        "none",
        "--workers",
        "2",
    ]
    assert run_cli(graded) == 0
    assert (run_dir / "eval" / "report.json").is_file()
    return run_dir


@pytest.fixture
def run_copy(searched_run, tmp_path) -> Path:
    """A copy of the run a test may change."""
    return Path(shutil.copytree(searched_run, tmp_path / RUN))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium (the system's, via Playwright) on a fresh profile."""
    from sweagent.inspector.browser import chromium_context

    with chromium_context() as context:
        yield context


class Page:
    """A browser tab that records console errors and uncaught exceptions."""

    def __init__(self, context: Any) -> None:
        self.tab = context.new_page()
        self.errors: list[str] = []
        self.tab.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.tab.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        self.tab.on(
            "dialog", lambda dialog: (self.errors.append(f"dialog: {dialog.message}"), dialog.dismiss())
        )

    def open(self, url: str) -> Page:
        self.tab.goto(url, wait_until="load")
        return self

    def show(self, hash_route: str) -> None:
        self.tab.evaluate("(h) => { location.hash = h; }", hash_route)
        self.tab.wait_for_function("(h) => document.body.dataset.route === h", arg=hash_route)


@pytest.fixture
def page(browser) -> Iterator[Page]:
    tab = Page(browser)
    yield tab
    tab.tab.close()


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())
