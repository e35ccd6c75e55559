"""Getting a host repository into a sandbox: validation, a clean copy, no view of later commits."""

from __future__ import annotations

import pytest

from sweagent.errors import UserError
from sweagent.sandbox.repo_copy import clone_url, prepare_clone
from tests.helpers.repos import commit_files, git
from tests.sandbox.conftest import make_test_repo


def test_bad_paths_are_one_line_user_errors(tmp_path):
    cases = {
        str(tmp_path / "missing"): "does not exist",
        str(tmp_path): "is not a git repository",
    }
    for path, words in cases.items():
        with pytest.raises(UserError) as err:
            prepare_clone(path)
        assert words in str(err.value) and "\n" not in str(err.value)
    repo = make_test_repo(tmp_path / "repo")
    with pytest.raises(UserError, match="unknown commit `nope123`"):
        prepare_clone(repo, "nope123")


def test_clone_url_failure_is_one_line(tmp_path):
    with pytest.raises(UserError) as err:
        clone_url(f"file://{tmp_path}/no-such-repo", tmp_path / "dest", timeout=30)
    message = str(err.value)
    assert message.startswith(f"could not clone file://{tmp_path}/no-such-repo: ")
    assert message.endswith("offline? pass a local path") and "\n" not in message


@pytest.mark.parametrize("kind", ["docker", "local"])
def test_copy_at_older_commit_hides_later_history_and_leaves_user_tree(kind, tmp_path, request, run_label):
    if kind == "docker":
        request.getfixturevalue("base_image")
    repo = make_test_repo(tmp_path / "repo")
    old = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "tag", "v1")
    commit_files(repo, {"pkg/core.py": "THE FIX\n"}, "fix the bug")
    git(repo, "tag", "v2")
    git(repo, "branch", "feature")
    (repo / "pkg/core.py").write_text("user's uncommitted work\n")
    (repo / "untracked.txt").write_text("user's file\n")
    git(repo, "add", "untracked.txt")
    status_before = git(repo, "status", "--porcelain")

    with _open_at(kind, repo, run_label, old) as box:
        assert box.base_commit == old
        assert box.run("git rev-parse HEAD").output.strip() == old
        log_all = box.run("git log --all --oneline; git tag; git branch -a; git stash list").output
        assert "fix the bug" not in log_all and "v2" not in log_all and "feature" not in log_all
        assert "v1" in log_all
        assert "THE FIX" not in box.read_file("pkg/core.py")
        assert box.run("test -e untracked.txt").exit_code == 1
        assert box.diff() == ""
        box.write_file("pkg/core.py", "sandbox edit\n")
    assert (repo / "pkg/core.py").read_text() == "user's uncommitted work\n"
    assert git(repo, "status", "--porcelain") == status_before


def _open_at(kind, repo, run_label, commit):
    from sweagent.config import SandboxConfig
    from sweagent.sandbox.factory import open_sandbox

    return open_sandbox(
        SandboxConfig(kind=kind, network="none"), repo_path=str(repo), commit=commit, run_label=run_label
    )


def test_local_sandbox_needs_a_repository():
    from sweagent.config import SandboxConfig
    from sweagent.sandbox.factory import open_sandbox

    with pytest.raises(UserError, match="needs a repository"):
        open_sandbox(SandboxConfig(kind="local"))
