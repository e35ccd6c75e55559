"""Run `swe-ttc` as a user does (a subprocess), and check the demo's example repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SWE_TTC = [sys.executable, "-m", "sweagent.cli"]


def run_cli(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """`swe-ttc ARGS` with a wide terminal (no wrapped paths) and litellm's offline price map."""
    full_env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "COLUMNS": "160", **(env or {})}
    return subprocess.run([*SWE_TTC, *args], capture_output=True, text=True, env=full_env, timeout=timeout)


def example_tests_pass(repo: Path) -> bool:
    """Do the demo repository's own unittest tests pass in `repo`?"""
    proc = subprocess.run(
        [sys.executable, "-m", "unittest", "discover", "-s", "tests", "-t", "."],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    return proc.returncode == 0
