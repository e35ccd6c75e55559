"""Sandboxes over a small real repository: one per kind per module, reset between tests."""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

import pytest

from sweagent.config import SandboxConfig
from tests.helpers.repos import git, make_repo

FILES = {
    "pkg/__init__.py": "",
    "pkg/core.py": "def add(a, b):\n    return a + b\n",
    "docs/guide.txt": "line one\nline two\n",
    "run.sh": "#!/bin/sh\necho run\n",
    ".gitignore": "*.log\nbuild/\n",
}
SECRET_NAME = "SWE_TTC_TEST_API_KEY"


def make_test_repo(root: Path) -> Path:
    repo = make_repo(root, FILES)
    (repo / "run.sh").chmod(0o755)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "make run.sh executable")
    return repo


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return make_test_repo(tmp_path_factory.mktemp("repo") / "repo")


@pytest.fixture(scope="module")
def run_label() -> str:
    return f"test-sandbox-{uuid.uuid4().hex[:8]}"


def open_kind(kind: str, repo: Path, run_label: str, **overrides):
    from sweagent.sandbox.factory import open_sandbox

    config = SandboxConfig(kind=kind, network="none", command_timeout=20, output_limit=2000, **overrides)
    return open_sandbox(config, repo_path=str(repo), run_label=run_label)


@pytest.fixture(scope="module", params=["docker", "local"])
def shared(request, repo, run_label):
    """One sandbox per kind for the module; a host secret is set while it starts (it must not leak)."""
    if request.param == "docker":
        request.getfixturevalue("base_image")
    os.environ[SECRET_NAME] = "sk-do-not-leak"
    try:
        box = open_kind(request.param, repo, run_label)
    finally:
        del os.environ[SECRET_NAME]
    with box:
        yield box


@pytest.fixture
def sandbox(shared):
    """The shared sandbox with a clean repository and the shell back at the work dir."""
    shared.run(f"cd {shared.workdir} && git reset -q --hard && git clean -fdqx", timeout=30)
    return shared


def mode_of(sandbox, path: str) -> str:
    return sandbox.run(f"stat -c %a {path}").output.strip()


def is_executable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXUSR)
