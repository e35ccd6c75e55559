"""Reading history for mining (git only, no containers): candidates, skip reasons, messages, diffs."""

from __future__ import annotations

from synth.config import MineConfig
from synth.history import diff, list_commits, skip_reason
from tests.helpers.repos import commit_files, git, make_repo


def test_skip_reasons_of_the_history(history):
    commits = {history.label(c.sha): c for c in list_commits(history.repo)}
    reasons = {label: skip_reason(c, MineConfig()) for label, c in commits.items()}
    assert reasons == {
        "initial": "root_commit",
        "docs": "docs_only",
        "clamp_fix": None,
        "tests_only": "tests_only",
        "code_only": "code_only",
        "no_flip": None,
        "mean_fix": None,
        "cannot_run": None,
        "too_many": "too_many_files",
        "docs_again": "docs_only",
    }
    assert skip_reason(commits["too_many"], MineConfig(max_source_files=4)) is None


def test_since_limits_the_range(history):
    recent = list_commits(history.repo, since="2024-01-08T00:00:00+00:00")
    assert [history.label(c.sha) for c in recent] == ["docs_again", "too_many", "cannot_run"]


def test_diff_splits_tests_from_source(history):
    commit = next(c for c in list_commits(history.repo) if c.sha == history.shas["clamp_fix"])
    assert commit.test_files == ["tests/test_ranges.py"] and commit.other_files == ["mathkit/ranges.py"]
    test_patch = diff(history.repo, commit.parent, commit.sha, commit.test_files)
    assert test_patch.startswith("diff --git a/tests/test_ranges.py b/tests/test_ranges.py")
    assert "+def test_clamp_high" in test_patch and "ranges.py b/mathkit" not in test_patch


def test_merge_commits_stand_for_their_pull_request(tmp_path):
    repo = make_repo(tmp_path / "r", {"app.py": "def f():\n    return 1\n", "tests/test_app.py": "x = 1\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"app.py": "def f():\n    return 2\n"}, "Change f")
    commit_files(repo, {"tests/test_app.py": "x = 2\n"}, "Test f")
    git(repo, "checkout", "-q", "main")
    git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "feature",
        "-m",
        "Merge pull request #7 from dev/feature\n\nf returns 2\n\nIt returned 1.",
    )
    singles = list_commits(repo)
    assert [c.subject for c in singles] == ["Test f", "Change f", "initial"]
    assert [skip_reason(c, MineConfig()) for c in singles] == ["tests_only", "code_only", "root_commit"]
    merges = list_commits(repo, merges=True)
    assert len(merges) == 1
    merge = merges[0]
    assert skip_reason(merge, MineConfig(merges=True)) is None
    assert sorted(f.path for f in merge.files) == ["app.py", "tests/test_app.py"]
    assert merge.problem_statement() == "f returns 2\n\nIt returned 1.\n"
