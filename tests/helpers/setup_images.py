"""The agent's work on the set-up fixture images (`sweagent.swebench.setup_fixtures`), and checks of
the patches it yields: normalised comparison, and `git apply --check` in a fresh container."""

from __future__ import annotations

import io
import tarfile
import tempfile
import uuid
from pathlib import Path
from typing import Any

import unidiff

from sweagent.config import AgentConfig
from sweagent.model.scripted import oracle_actions
from sweagent.swebench.fixture_tasks import CALC
from sweagent.swebench.fixtures import diff_for, make_repo
from sweagent.swebench.setup_fixtures import PACKAGING, PIP_INSTALL, setup_task

SCRATCH_GLOBS = AgentConfig().exclude_new_files
TOX_EDIT = ("envlist = py3\n", "envlist = py3,py311\n")
# The agent's work: the fix, a new module whose name merely contains "debug", a change to tox.ini
# (a file one set-up edits: the patch must be relative to the edited file).
AGENT_CHANGES = {
    **CALC.fix,
    "calc/debug_utils.py": '"""Helpers for debugging divisions."""\n\n\ndef explain(a, b):\n    return f"{a}/{b}"\n',
    "tox.ini": PACKAGING["tox.ini"].replace(*TOX_EDIT),
}
REPRODUCTION = (
    "from calc import divide\n\nresult = divide(7, 2)\n"
    'print("Issue resolved" if result == 3.5 else "Issue reproduced", result)\n'
)
# What an agent leaves besides its work: a reproduction script it runs (bytecode appears), notes
# in a scratch folder, and a rebuild of the package (build/ and calc.egg-info/ rewritten or created).
SCRATCH_COMMAND = (
    "cd /testbed && python3 reproduce_issue.py && mkdir -p scratch && echo notes > scratch/notes.txt "
    f"&& python3 -c 'import calc.ops' && {PIP_INSTALL} >/dev/null 2>&1"
)
SCRATCH_ACTIONS: list[dict[str, Any]] = [
    {
        "thought": "Reproduce the issue first.",
        "tool": "editor",
        "args": {
            "command": "create",
            "path": "/testbed/reproduce_issue.py",
            "file_text": REPRODUCTION,
        },
    },
    {"thought": "Run it, and rebuild the package.", "tool": "bash", "args": {"command": SCRATCH_COMMAND}},
]


def known_patch() -> str:
    """`git diff` of AGENT_CHANGES on the task's base commit, made on the host (no set-up applied)."""
    task = setup_task("build")  # every set-up kind has the same repository
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        make_repo(task, repo)
        return diff_for(repo, AGENT_CHANGES)


def agent_actions() -> list[dict[str, Any]]:
    """Scratch work, then the editor actions that make AGENT_CHANGES (the oracle's), then submit."""
    return [*SCRATCH_ACTIONS, *oracle_actions(known_patch())]


def normalised(patch: str) -> list[tuple]:
    """A patch as (path, added, removed, hunks) per file, sorted: blob ids and modes left out."""
    files = []
    for pf in unidiff.PatchSet(patch):
        hunks = [(h.source_start, h.source_length, h.target_start, h.target_length, str(h)) for h in pf]
        files.append((pf.path, pf.is_added_file, pf.is_removed_file, hunks))
    return sorted(files)


def apply_check_in_fresh_container(client, image: str, patch: str) -> tuple[int, str]:
    """(exit code, output) of plain `git apply --check` (no fuzz, no 3-way) on /testbed of a new
    container of `image`, which is removed afterwards."""
    container = client.containers.run(
        image, ["sleep", "infinity"], detach=True, init=True, network_mode="none",
        labels={"swe-ttc": "1", "swe-ttc.run": f"test-apply-{uuid.uuid4().hex[:8]}"},
    )  # fmt: skip
    try:
        buffer = io.BytesIO()
        data = patch.encode("utf-8", "surrogateescape")
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo("candidate.diff")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        container.put_archive("/tmp", buffer.getvalue())
        result = container.exec_run(
            ["git", "apply", "--check", "-v", "/tmp/candidate.diff"], workdir="/testbed"
        )
        return result.exit_code, result.output.decode("utf-8", "replace")
    finally:
        container.remove(force=True)
