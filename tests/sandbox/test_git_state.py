"""diff / snapshot / restore against the base commit, in one sandbox and across fresh ones."""

from __future__ import annotations

import pytest
import unidiff

from sweagent.sandbox.base import RepoState
from tests.sandbox.conftest import open_kind


def _files(patch: str) -> dict[str, unidiff.PatchedFile]:
    return {f.path: f for f in unidiff.PatchSet(patch)}


def _make_changes(sandbox) -> None:
    """Modify, add (text, binary, executable, nested), delete, change a mode, add an ignored file."""
    sandbox.write_file("pkg/core.py", "def add(a, b):\n    return a + b + 0\n")
    sandbox.write_file("pkg/new_module.py", "VALUE = 'ünïcode'\n")
    sandbox.write_file("reproduce_bug.py", "print('repro')\n")
    sandbox.write_file("tests/repro_case.py", "print('nested repro')\n")
    sandbox.write_file("debug.log", "ignored by .gitignore\n")
    assert sandbox.run(
        "rm docs/guide.txt && chmod -x run.sh && printf '\\x00\\x01\\xff\\xfe' > data.bin "
        "&& printf '#!/bin/sh\\necho tool\\n' > tool.sh && chmod +x tool.sh"
    ).ok


def test_diff_includes_untracked_and_respects_exclusions(sandbox):
    _make_changes(sandbox)
    index_before = sandbox.run("git ls-files --stage | md5sum; git status --porcelain").output
    patch = sandbox.diff()
    files = _files(patch)
    assert set(files) == {
        "pkg/core.py",
        "pkg/new_module.py",
        "reproduce_bug.py",
        "tests/repro_case.py",
        "docs/guide.txt",
        "run.sh",
        "data.bin",
        "tool.sh",
    }
    assert files["docs/guide.txt"].is_removed_file and files["pkg/new_module.py"].is_added_file
    assert "GIT binary patch" in patch and "debug.log" not in patch
    assert "old mode 100755\nnew mode 100644" in patch and "new file mode 100755" in patch

    kept = _files(sandbox.diff(exclude_new=["reproduce*.py", "repro_*.py"]))
    assert "reproduce_bug.py" not in kept, "a scratch script at the repository root is left out"
    assert "tests/repro_case.py" in kept, "below the top level a matching name is the agent's work"
    assert {"pkg/core.py", "pkg/new_module.py", "data.bin"} <= set(kept)
    # a tracked file matching a glob is still reported: only new files are left out
    assert "pkg/core.py" in _files(sandbox.diff(exclude_new=["core.py"]))
    # the repository's own index is untouched by looking
    assert sandbox.run("git ls-files --stage | md5sum; git status --porcelain").output == index_before


def test_clean_tree_has_empty_diff(sandbox):
    assert sandbox.diff() == ""
    assert sandbox.snapshot().patch == ""


def test_snapshot_restore_round_trip_same_sandbox(sandbox):
    _make_changes(sandbox)
    state = sandbox.snapshot()
    assert state.base_commit == sandbox.base_commit and state.tree
    # move somewhere else entirely: other edits, a commit, lost files
    sandbox.write_file("pkg/core.py", "broken\n")
    sandbox.write_file("other_new.txt", "should disappear\n")
    assert sandbox.run("git add -A && git -c user.name=a -c user.email=b commit -qm wip && rm -f tool.sh").ok
    sandbox.restore(state)
    again = sandbox.snapshot()
    assert again.tree == state.tree and again.patch == state.patch
    assert sandbox.run("cat debug.log").output == "ignored by .gitignore\n", "ignored files are kept"
    assert sandbox.run("test -e other_new.txt").exit_code == 1
    assert sandbox.run("git rev-parse HEAD").output.strip() == state.base_commit
    assert sandbox.run("stat -c %a tool.sh run.sh").output.split() == ["755", "644"]
    assert sandbox.run("od -An -tx1 data.bin").output.split() == ["00", "01", "ff", "fe"]


def test_restore_by_patch_when_tree_is_unknown(sandbox):
    _make_changes(sandbox)
    state = sandbox.snapshot()
    sandbox.run("git reset -q --hard && git clean -fdq")
    sandbox.restore(RepoState(base_commit=state.base_commit, patch=state.patch, tree="0" * 40))
    assert sandbox.snapshot().tree == state.tree
    sandbox.restore(RepoState(base_commit=state.base_commit, patch=""))
    assert sandbox.diff() == ""


def test_state_serialises_and_restores_in_a_fresh_sandbox(sandbox, repo, run_label):
    _make_changes(sandbox)
    state = RepoState.from_dict(sandbox.snapshot().to_dict())
    kind = "local" if sandbox.workdir != "/testbed" else "docker"
    with open_kind(kind, repo, run_label) as fresh:
        assert fresh.base_commit == state.base_commit
        fresh.restore(state)
        after = fresh.snapshot()
        assert after.patch == state.patch and after.tree == state.tree
        assert fresh.run("stat -c %a tool.sh run.sh").output.split() == ["755", "644"]
        assert fresh.read_file("pkg/new_module.py") == "VALUE = 'ünïcode'\n"


def test_restore_with_unknown_base_fails_clearly(sandbox):
    from sweagent.sandbox.shell_sandbox import SandboxError

    with pytest.raises(SandboxError):
        sandbox.restore(RepoState(base_commit="1" * 40, patch=""))


def test_non_utf8_text_survives_patch_round_trip(sandbox):
    assert sandbox.run("printf 'caf\\xe9 cr\\xe8me\\n' > latin1.txt && printf 'x\\xff\\n' >> pkg/core.py").ok
    state = sandbox.snapshot()
    sandbox.run("git reset -q --hard && git clean -fdq")
    sandbox.restore(RepoState(base_commit=state.base_commit, patch=state.patch))
    assert sandbox.run("od -An -tx1 latin1.txt").output.split() == "63 61 66 e9 20 63 72 e8 6d 65 0a".split()
    assert sandbox.snapshot().tree == state.tree


def test_new_source_files_named_like_scratch_are_kept(sandbox):
    """Only the agent's scratch files at the top level and build output stay out of the patch."""
    from sweagent.config import AgentConfig

    assert sandbox.baseline is not None and sandbox.baseline.is_clean  # a fresh copy of the commit
    kept = [
        "pkg/debug_utils/__init__.py",
        "pkg/debug_utils/x.py",
        "pkg/scratch_space.py",
        "tests/repro_case.py",
    ]
    dropped = [
        "reproduce_bug.py",
        "debug_mean.py",
        "scratch/notes.txt",
        "pkg/__pycache__/core.cpython-311.pyc",
        "pkg/orphan.pyc",
        "calc.egg-info/PKG-INFO",
        "dist/calc-0.1.tar.gz",
    ]
    for path in kept + dropped:
        sandbox.write_file(path, f"# {path}\n")
    patch = sandbox.diff(exclude_new=AgentConfig().exclude_new_files)
    assert sorted(_files(patch)) == sorted(kept)
    # a snapshot carries the scratch files (a later stage may run them), but never build output
    carried = set(_files(sandbox.snapshot().patch))
    assert {"reproduce_bug.py", "scratch/notes.txt", "dist/calc-0.1.tar.gz"} <= carried
    assert not {p for p in carried if "pycache" in p or p.endswith((".pyc", "PKG-INFO"))}
