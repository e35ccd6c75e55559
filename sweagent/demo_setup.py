"""The offline demo: an example repository with a real bug, its issue, and a recorded replay.

The replay is a scripted model (`replay/demo`), not a language model: it drives the real agent loop
through litellm's real code path in a real sandbox, so the demo shows the whole machinery offline.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

DEMO_DIR = Path(__file__).parent / "demo"
DEMO_MODEL = "replay/demo"
DEMO_ISSUE = DEMO_DIR / "issue.md"
DEMO_TEST_COMMAND = "python3 -m unittest discover -s tests -t ."

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "swe-ttc demo",
    "GIT_AUTHOR_EMAIL": "demo@swe-ttc.invalid",
    "GIT_COMMITTER_NAME": "swe-ttc demo",
    "GIT_COMMITTER_EMAIL": "demo@swe-ttc.invalid",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}


def create_demo_repo(dest: Path) -> Path:
    """Copy the example repository to `dest` and commit it, so it is a real git repository."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(DEMO_DIR / "repo", dest, ignore=shutil.ignore_patterns("__pycache__"))
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "-m", "inventory: stats helpers"],
    ):
        subprocess.run(
            ["git", *args], cwd=dest, env=_GIT_ENV | {"HOME": str(dest)}, check=True, capture_output=True
        )
    return dest


def register_demo_model() -> str:
    """Register the recorded demo rollout as the `replay/demo` scripted model."""
    from sweagent.model.scripted import register_replay

    actions = yaml.safe_load((DEMO_DIR / "replay.yaml").read_text())["actions"]
    register_replay("demo", actions)
    return DEMO_MODEL
