"""Real-project repositories from sdists (host side, no Docker): deterministic commits, instances that
hold the release without the fix, and repositories exported with nothing but their own commit."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from sweagent.errors import UserError
from sweagent.swebench.real_projects import (
    Project,
    export_commit,
    instance_commit,
    project,
    read_rows,
    release_repo,
)

TOY = Project(
    name="toy",
    repo="toy/toy",
    package="toy",
    release="1.0",
    spec_version="1.0",
    requirements=(),
    extra_files={"bin/test": ("#!/bin/sh\necho ok\n", 0o755)},
)
FIXED = "def double(x):\n    return 2 * x\n"
TESTS = "from toy.core import double\n\n\ndef test_double():\n    assert double(2) == 4\n"


def make_sdist(tmp: Path) -> Path:
    files = {
        "toy-1.0/toy/__init__.py": "",
        "toy-1.0/toy/core.py": FIXED,
        "toy-1.0/tests/test_core.py": TESTS,
        "toy-1.0/toy.egg-info/PKG-INFO": "Name: toy\n",
    }
    path = tmp / "toy-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def row(gold: str, tests: str) -> dict:
    return {"instance_id": "toy__toy-1", "repo": "toy/toy", "patch": gold, "test_patch": tests}


GOLD = """diff --git a/toy/core.py b/toy/core.py
--- a/toy/core.py
+++ b/toy/core.py
@@ -1,2 +1,2 @@
 def double(x):
-    return x + x + 0
+    return 2 * x
"""
TEST_PATCH = """diff --git a/tests/test_core.py b/tests/test_core.py
--- a/tests/test_core.py
+++ b/tests/test_core.py
@@ -4,2 +4,2 @@ from toy.core import double
 def test_double():
-    assert double(1) == 2
+    assert double(2) == 4
"""


def test_release_commit_is_the_same_on_every_machine(tmp_path):
    sdist = make_sdist(tmp_path)
    first = release_repo(TOY, sdist, tmp_path / "a")
    second = release_repo(TOY, sdist, tmp_path / "b")
    assert first == second
    assert release_repo(TOY, sdist, tmp_path / "a") == first  # an existing repository is reused
    interrupted = tmp_path / "c" / "leftover"
    interrupted.mkdir(parents=True)
    assert release_repo(TOY, sdist, tmp_path / "c") == first and not interrupted.exists()
    files = git(tmp_path / "a", "ls-files").split()
    assert "bin/test" in files and not any("egg-info" in f for f in files)  # extra files in, artefacts out
    assert git(tmp_path / "a", "ls-files", "-s", "bin/test").startswith("100755")
    assert git(tmp_path / "a", "show", "--stat", "--format=%s", first).strip() == "toy 1.0"  # an empty commit


def test_instance_is_the_release_without_the_fix_and_holds_nothing_else(tmp_path):
    release = tmp_path / "release"
    release_repo(TOY, make_sdist(tmp_path), release)
    sha = instance_commit(release, row(GOLD, TEST_PATCH))
    assert sha and instance_commit(release, row(GOLD, TEST_PATCH)) == sha
    export_commit(release, sha, tmp_path / "inst" / ".git")
    inst = tmp_path / "inst"
    git(inst, "reset", "-q", "--hard", sha)
    assert (inst / "toy" / "core.py").read_text() == "def double(x):\n    return x + x + 0\n"
    assert "double(1) == 2" in (inst / "tests" / "test_core.py").read_text()
    assert len(git(inst, "rev-list", "--all").split()) == 2  # the base and the empty commit on top
    assert "2 * x" not in git(inst, "log", "--all", "-p")  # the fix is in no object the sandbox holds
    assert git(inst, "status", "--porcelain") == ""
    # a fix the release does not hold (its added line is not there) does not reverse-apply
    assert (
        instance_commit(release, row(GOLD.replace("+    return 2 * x", "+    return 3 * x"), TEST_PATCH))
        is None
    )


def test_bad_input_is_one_line():
    with pytest.raises(UserError, match="unknown project `toy`"):
        project("toy")
    with pytest.raises(UserError, match="cannot read .*missing.jsonl"):
        read_rows(Path("missing.jsonl"))
