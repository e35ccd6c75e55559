"""`swe-ttc synth tasks`: mining the history repository in a real container."""

from __future__ import annotations

import json

import pytest

from sweagent.task import Task
from synth.fixtures import HISTORY, SOLUTIONS
from tests.helpers.repos import commit_files, make_repo
from tests.synth.conftest import run_cli

pytestmark = pytest.mark.docker


def test_exactly_the_fix_commits_become_tasks(mined, history):
    assert sorted(mined.by_label) == ["clamp_fix", "mean_fix"]
    assert mined.summary["mined"] == 2
    assert mined.summary["dropped"] == {
        "docs_only": 2,
        "code_only": 1,
        "root_commit": 1,
        "tests_cannot_run": 1,
        "tests_did_not_flip": 1,
        "tests_only": 1,
        "too_many_files": 1,
    }
    assert mined.summary["commits"] == len(history.shas)


def test_tests_that_flip_are_found_by_running_them(mined):
    clamp, mean = mined.by_label["clamp_fix"], mined.by_label["mean_fix"]
    assert json.loads(clamp["FAIL_TO_PASS"]) == ["tests/test_ranges.py::test_clamp_high"]
    assert json.loads(clamp["PASS_TO_PASS"]) == [
        "tests/test_ranges.py::test_clamp_inside",
        "tests/test_ranges.py::test_clamp_low",
    ]
    assert json.loads(mean["FAIL_TO_PASS"]) == ["tests/test_stats.py::test_mean_empty"]
    assert json.loads(mean["PASS_TO_PASS"]) == [
        "tests/test_stats.py::test_mean",
        "tests/test_stats.py::test_total",
        "tests/test_stats.py::test_total_generator",
    ]


def test_rows_are_swebench_tasks_split_into_gold_and_test_patches(mined, history):
    labels = [c.label for c in HISTORY]
    for label, row in mined.by_label.items():
        task = Task.from_swebench(row)
        assert task.base_commit == history.shas[labels[labels.index(label) - 1]]
        assert row["source_commit"] == history.shas[label]
        assert task.repo == str(history.repo.resolve())
        assert "diff --git a/tests/" in task.test_patch and "mathkit/" not in task.test_patch
        assert SOLUTIONS[label]["right"].path in task.patch and "tests/" not in task.patch
        assert task.eval_script and "pytest -rA" in task.eval_script
        assert task.log_parser == "parse_log_pytest"
    statement = mined.by_label["mean_fix"]["problem_statement"]
    assert statement.startswith("mean() of an empty list raises ZeroDivisionError\n\n`mean([])` should")
    assert "Signed-off-by" not in statement


def test_max_stops_after_n_tasks(history, tmp_path):
    out = tmp_path / "one.jsonl"
    code, stdout = run_cli(
        ["synth", "tasks", "--repo", str(history.repo), "--output", str(out), "--max", "1", "--json"]
    )
    assert code == 0
    summary = json.loads(stdout)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert summary["mined"] == 1 and len(rows) == 1
    assert rows[0]["source_commit"] == history.shas["mean_fix"]  # newest first


def test_repository_without_usable_commits_says_why_and_writes_nothing(tmp_path):
    repo = make_repo(tmp_path / "docs", {"README.md": "# docs\n", "src/app.py": "x = 1\n"})
    commit_files(repo, {"README.md": "# docs\n\nMore.\n"}, "Docs")
    commit_files(repo, {"src/app.py": "x = 2\n"}, "Code without tests")
    out = tmp_path / "none.jsonl"
    code, stdout = run_cli(["synth", "tasks", "--repo", str(repo), "--output", str(out)])
    assert code == 0
    text = " ".join(stdout.split())
    assert "0 tasks, because of 3 commits" in text
    assert "changes neither source nor tests" in text and "changes source without tests" in text
    assert "nothing written" in text
    assert not out.exists()


@pytest.mark.parametrize("kind", ["missing", "not_git"])
def test_bad_repository_path_is_one_line(tmp_path, capsys, kind):
    path = tmp_path / "nope"
    if kind == "not_git":
        path.mkdir()
    code, _ = run_cli(["synth", "tasks", "--repo", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert ("does not exist" in err) if kind == "missing" else ("not a git repository" in err)
