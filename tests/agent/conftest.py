"""A real sandbox over a small repository, shared per module, reset between tests."""

from __future__ import annotations

import pytest

from sweagent.config import SandboxConfig
from sweagent.sandbox.factory import open_sandbox
from tests.helpers.repos import make_repo

FILES = {
    "pkg/__init__.py": "",
    "pkg/core.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
    "pkg/dup.py": "x = 1\ny = 2\nx = 1\n",
    "README.md": "# demo\n",
}


@pytest.fixture(scope="module", params=["docker", "local"])
def sandbox(request, tmp_path_factory):
    if request.param == "docker":
        request.getfixturevalue("base_image")
    repo = make_repo(tmp_path_factory.mktemp("repo") / "repo", FILES)
    config = SandboxConfig(kind=request.param, network="none", command_timeout=20)
    with open_sandbox(config, repo_path=str(repo)) as box:
        box.clean_state = box.snapshot()
        yield box


@pytest.fixture
def box(sandbox):
    sandbox.restore(sandbox.clean_state)
    return sandbox
