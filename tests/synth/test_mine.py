"""`swe-ttc synth tasks`: mining the history repository in a real container."""

from __future__ import annotations

import json

import pytest

from sweagent.task import Task
from synth.fixtures import HISTORY, SOLUTIONS
from tests.helpers.repos import commit_files, git, make_repo
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


def test_problem_statements_describe_the_failure_not_the_fix(mined, history):
    """Written from the failing tests' output at the parent: the error, expected and actual values."""
    clamp, mean = mined.by_label["clamp_fix"], mined.by_label["mean_fix"]
    assert clamp["problem_statement_source"] == mean["problem_statement_source"] == "tests"
    statement = clamp["problem_statement"]
    assert statement.startswith("`clamp(15, 0, 10) == 10` is false: got 15, expected 10\n")
    assert "`tests/test_ranges.py::test_clamp_high` fails." in statement
    assert "Expected: `10`\nActual: `15`" in statement
    statement = mean["problem_statement"]
    assert statement.startswith("`mean([]) == 0.0` raises ZeroDivisionError: division by zero\n")
    assert "raised at mathkit/stats.py:" in statement
    for row in (clamp, mean):
        commit = next(c for c in HISTORY if history.shas[c.label] == row["source_commit"])
        subject = commit.message.splitlines()[0]
        added = [ln[1:].strip() for ln in row["patch"].splitlines() if ln.startswith("+") and ln[1:].strip()]
        assert subject not in row["problem_statement"]  # the commit message is not the issue
        assert not [ln for ln in added if ln in row["problem_statement"] and len(ln) > 12], added


def test_issue_from_commit_uses_the_message_and_says_so(history, tmp_path):
    out = tmp_path / "commit.jsonl"
    code, _ = run_cli(
        [
            "synth",
            "tasks",
            "--repo",
            str(history.repo),
            "--output",
            str(out),
            "--max",
            "1",
            "--issue-from",
            "commit",
            "--json",
        ]
    )
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 0 and row["problem_statement_source"] == "commit"
    statement = row["problem_statement"]
    assert statement.startswith("mean() of an empty list raises ZeroDivisionError\n\n`mean([])` should")
    assert "Signed-off-by" not in statement


def test_issue_writer_model_sees_the_failing_tests_never_the_fix(history, tmp_path):
    from tests.helpers.openai_server import OpenAIServer

    reply = "mean() crashes on an empty list\n\nCalling `mean([])` raises ZeroDivisionError."
    out = tmp_path / "written.jsonl"
    with OpenAIServer(handler=lambda request: reply) as server:
        code, stdout = run_cli(
            [
                "synth",
                "tasks",
                "--repo",
                str(history.repo),
                "--output",
                str(out),
                "--max",
                "1",
                "--issue-writer",
                "openai/issue-writer",
                "--issue-writer-api-base",
                server.url,
                "--json",
            ]
        )
        prompts = [json.dumps(r.body["messages"]) for r in server.requests]
    assert code == 0, stdout
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["problem_statement"] == reply + "\n"
    assert (row["problem_statement_source"], row["issue_writer"]) == ("model", "openai/issue-writer")
    (prompt,) = prompts
    assert "tests/test_stats.py::test_mean_empty" in prompt and "ZeroDivisionError" in prompt
    assert "if not values" not in prompt and "return 0.0" not in prompt  # the fix's lines
    assert "diff --git" not in prompt and "empty list raises" not in prompt  # no diff, no commit message


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
    commit_files(repo, {"tests/test_app.py": "def test_x():\n    pass\n"}, "Tests without code")
    commit_files(repo, {"src/app.py": "x = 2\n"}, "Code without tests")
    out = tmp_path / "none.jsonl"
    code, stdout = run_cli(["synth", "tasks", "--repo", str(repo), "--output", str(out)])
    assert code == 0
    text = " ".join(stdout.split())
    assert "0 tasks, because of 4 commits" in text
    assert "changes neither source nor tests" in text and "changes source without tests" in text
    assert "nothing written" in text
    assert not out.exists()


@pytest.mark.parametrize("kind", ["no_history", "no_test_changes", "empty"])
def test_a_history_that_cannot_hold_tasks_is_one_line(tmp_path, capsys, kind):
    repo = make_repo(
        tmp_path / "r", {"src/app.py": "x = 1\n", "tests/test_app.py": "def test_x():\n    pass\n"}
    )
    if kind == "no_test_changes":
        commit_files(repo, {"src/app.py": "x = 2\n"}, "Code without tests")
        commit_files(repo, {"README.md": "# app\n"}, "Docs")
    if kind == "empty":
        repo = tmp_path / "empty"
        repo.mkdir()
        git(repo, "init", "-q")
    out = tmp_path / "tasks.jsonl"
    code, _ = run_cli(["synth", "tasks", "--repo", str(repo), "--output", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: ")
    expected = {
        "no_history": "has a single commit, so no history to mine",
        "no_test_changes": "changes a test file (3 commits)",
        "empty": "has no commits yet",
    }[kind]
    assert expected in err and not out.exists()


def test_tests_that_give_no_results_at_the_parent_are_named(tmp_path):
    """A commit whose tests do not run at its parent is dropped with that reason, not mined wrongly."""
    repo = make_repo(
        tmp_path / "broken",
        {
            "conftest.py": "import app  # noqa\n",
            "app.py": "def f(:\n    return 1\n",
            "tests/test_app.py": "def test_true():\n    assert True\n",
        },
    )
    commit_files(
        repo,
        {
            "app.py": "def f():\n    return 2\n",
            "tests/test_app.py": "from app import f\n\n\ndef test_f():\n    assert f() == 2\n",
        },
        "Make f return 2",
    )
    out = tmp_path / "tasks.jsonl"
    code, stdout = run_cli(["synth", "tasks", "--repo", str(repo), "--output", str(out), "--json"])
    summary = json.loads(stdout)
    assert code == 0 and summary["mined"] == 0 and not out.exists()
    assert summary["dropped"] == {"root_commit": 1, "tests_cannot_run_on_base": 1}


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
