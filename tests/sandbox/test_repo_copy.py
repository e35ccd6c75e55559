"""Getting a host repository into a sandbox: validation, a clean copy, no trace of later commits."""

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


FIX_LINE = "return a + b  # the later fix, a line no earlier commit has"


def _repo_with_a_future(tmp_path):
    """A repository whose HEAD (tagged, on a branch, stashed over, in the reflog) is a later fix."""
    repo = make_test_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    commit_files(repo, {"pkg/core.py": f"def add(a, b):\n    {FIX_LINE}\n"}, "the fix")
    fix = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "tag", "-a", "v-fix", "-m", "release with the fix")
    git(repo, "branch", "later")
    git(repo, "update-ref", "refs/remotes/origin/main", fix)
    git(repo, "update-ref", "refs/notes/commits", fix)
    (repo / "pkg/core.py").write_text("stashed work\n")
    git(repo, "stash")
    blobs = git(repo, "rev-parse", f"{fix}:pkg/core.py", f"{fix}^{{tree}}").split()
    return repo, base, fix, blobs


def _leak_report(box, fix, blobs):
    """What git in the sandbox shows of the fix, by every route an agent could take."""
    checks = {
        "fsck": "git fsck --lost-found --unreachable --no-reflogs 2>&1",
        "rev-list": "git rev-list --all --reflog",
        "objects": "git cat-file --batch-all-objects --batch-check",
        "pickaxe": f"git log --all --reflog --oneline -S'{FIX_LINE}'",
        "packs": "cat .git/objects/pack/*.idx 2>/dev/null | od -An -tx1 | tr -d ' \\n'",
        "lost-found": "ls -R .git/lost-found 2>/dev/null; cat .git/packed-refs .git/FETCH_HEAD 2>/dev/null",
    }
    report = {name: box.run(cmd).output for name, cmd in checks.items()}
    found = [name for name, out in report.items() if fix in out or any(b in out for b in blobs)]
    found += [name for name, out in report.items() if FIX_LINE in out and name != "pickaxe"]
    if report["pickaxe"].strip():
        found.append("pickaxe")
    if box.run(f"git cat-file -e {fix}").exit_code == 0:
        found.append("cat-file")
    return sorted(set(found)), report


@pytest.mark.parametrize("kind", ["docker", "local"])
def test_no_object_of_a_later_commit_reaches_the_sandbox(kind, tmp_path, request, run_label):
    if kind == "docker":
        request.getfixturevalue("base_image")
    repo, base, fix, blobs = _repo_with_a_future(tmp_path)
    with _open_at(kind, repo, run_label, base) as box:
        assert box.run("git rev-parse HEAD").output.strip() == base  # commit ids are the host's own
        found, report = _leak_report(box, fix, blobs)
        assert found == [], {name: report[name][:300] for name in found}
        # the copy is whole up to the base: every commit of its history, with its objects, is there
        assert (
            box.run("git rev-list --count HEAD").output.strip()
            == git(repo, "rev-list", "--count", base).strip()
        )
        assert box.run("git fsck --connectivity-only 2>&1").exit_code == 0
        # git's own object count in the sandbox is that of the history up to the base
        counted = box.run("git count-objects -v").output
        loose = int(counted.split("count: ")[1].split()[0]) + int(counted.split("in-pack: ")[1].split()[0])
        assert loose == int(git(repo, "rev-list", "--objects", "--count", base).strip())
    # the leak the checks catch is real: the host repository shows the fix the same ways
    assert git(repo, "log", "--all", "--oneline", f"-S{FIX_LINE}").strip()
