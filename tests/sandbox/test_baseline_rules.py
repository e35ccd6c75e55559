"""Which new files a patch keeps, and the excludes file git is given (checked with real git)."""

from __future__ import annotations

import subprocess

import pytest

from sweagent.config import AgentConfig
from sweagent.sandbox.baseline import Baseline, exclude_file_text, exclude_pattern, parse_raw_diff
from tests.helpers.repos import git, make_repo

SCRATCH = AgentConfig().exclude_new_files
START = Baseline(
    tree="t" * 40,
    head="h" * 40,
    untracked=("build/", "calc.egg-info/", "notes.txt", "pkg/generated.c"),
    top_level=frozenset({"pkg", "tests", "setup.py", "scratch_tools", "build_helpers"}),
)


@pytest.mark.parametrize(
    "path",
    [
        "pkg/debug_utils/x.py",  # a new package whose name merely contains "debug"
        "pkg/scratch_space.py",
        "pkg/debug_helpers.py",
        "tests/repro_case.py",  # a test the agent added, named like a reproduction
        "scratch_tools/new.py",  # a folder the repository already had, named like a scratch glob
        "newpkg/reproduce.py",  # below a new top-level folder whose own name is not scratch
        "docs/build/index.rst",  # "build" below the top level
        "pkg/dist/x.py",
    ],
)
def test_the_agents_new_source_files_are_kept(path):
    assert not START.left_out(path, SCRATCH)


@pytest.mark.parametrize(
    "path",
    [
        "reproduce_issue.py",  # scratch scripts at the repository root
        "repro_divide.py",
        "debug_mean.py",
        "scratch.txt",
        "scratch/notes.txt",  # anything in a new top-level scratch folder
        "pkg/__pycache__/core.cpython-311.pyc",  # build noise at any depth
        "pkg/core.pyc",
        "new.egg-info/PKG-INFO",
        "pkg/.pytest_cache/v/x",
        "build/lib/pkg/core.py",  # untracked at start (also: build output)
        "calc.egg-info/SOURCES.txt",
        "notes.txt",
        "pkg/generated.c",
        "dist/calc-0.1.tar.gz",  # a new top-level build output folder
    ],
)
def test_build_output_scratch_files_and_start_state_are_left_out(path):
    assert START.left_out(path, SCRATCH)


def test_build_folder_the_repository_tracks_is_not_build_output():
    tracked_build = Baseline(tree="t", head="h", top_level=frozenset({"build"}))
    assert not tracked_build.left_out("build/new_step.py", SCRATCH)
    assert tracked_build.left_out("dist/x.whl", SCRATCH)


def test_no_globs_means_only_build_output_and_start_state_are_left_out():
    assert not START.left_out("reproduce_issue.py", [])
    assert START.left_out("build/x", []) and START.left_out("a/__pycache__/b.pyc", [])


def test_raw_diff_is_sorted_into_kinds():
    sha_a, sha_b = "a" * 40, "b" * 40
    raw = (
        f":100644 100755 {sha_a} {sha_a} M\0run.sh\0"
        f":100644 100644 {sha_a} {sha_b} M\0tox.ini\0"
        f":100644 100755 {sha_a} {sha_b} M\0both.py\0"
        f":000000 100644 {'0' * 40} {sha_b} A\0staged.py\0"
        f":100644 000000 {sha_a} {'0' * 40} D\0gone.txt\0"
    ).encode()
    assert parse_raw_diff(raw) == {
        "modified": ["tox.ini", "both.py"],
        "mode_changed": ["run.sh", "both.py"],
        "added": ["staged.py"],
        "deleted": ["gone.txt"],
    }
    assert parse_raw_diff(b"") == {"modified": [], "mode_changed": [], "added": [], "deleted": []}


def test_summary_caps_lists_and_keeps_counts():
    many = Baseline(
        tree="t", head="h", untracked=tuple(f"f{i}" for i in range(5)), changes={"modified": ["a"]}
    )
    summary = many.summary(limit=2)
    assert summary["untracked"] == ["f0", "f1"] and summary["counts"] == {"modified": 1, "untracked": 5}
    assert summary["tree"] == "t" and not many.is_clean
    assert Baseline(tree="t", head="h", changes={"modified": []}).is_clean


def test_exclude_patterns_match_exactly_their_path_in_real_git(tmp_path):
    """Names with wildcards, leading `#`/`!`, trailing spaces: each pattern ignores its own path only."""
    odd = [
        "build/",
        "a*b.txt",
        "q?.txt",
        "[x].txt",
        "#hash",
        "!bang",
        "trail ",
        "back\\slash",
        "dir/sub file",
    ]
    neighbours = ["aXb.txt", "qZ.txt", "x.txt", "trail", "dir/other", "builder/x"]
    repo = make_repo(tmp_path / "repo", {"tracked.txt": "t\n"})
    for name in [*odd, *neighbours]:
        path = repo / name.rstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith("/"):
            path.mkdir()
            (path / "inner.txt").write_text("x\n")
        else:
            path.write_text("x\n")
    excludes = tmp_path / "exclude"
    excludes.write_bytes(exclude_file_text(odd))
    listed = subprocess.run(
        ["git", "-c", f"core.excludesFile={excludes}", "ls-files", "-z", "--others", "--exclude-standard"],
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout.decode()
    left = set(filter(None, listed.split("\0")))
    assert left == set(neighbours)
    assert exclude_pattern("pkg/a b ") == "/pkg/a b\\ " and exclude_pattern("x*/") == "/x\\*/"
    assert git(repo, "status", "--porcelain")  # the repository itself still sees every file
