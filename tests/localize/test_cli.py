"""`swe-ttc localize` and `swe-ttc bench localize` as a user runs them."""

from __future__ import annotations

import json
import subprocess

import pytest

from sweagent.cli import main
from tests.helpers.repos import make_repo
from tests.localize.dataset import make_fixture_dataset
from tests.localize.shop import MESSAGE_ISSUE


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_from_an_issue_file(shop_repo, tmp_path, capsys):
    issue = tmp_path / "issue.md"
    issue.write_text(MESSAGE_ISSUE)
    code, out, _ = run(
        capsys,
        "localize",
        "--repo",
        str(shop_repo),
        "--issue",
        f"@{issue}",
        "--json",
        "--top",
        "3",
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert code == 0
    data = json.loads(out)
    assert [f["path"] for f in data["files"]][0] == "shop/inventory.py"
    assert len(data["files"]) <= 3
    assert data["functions"][0]["qualname"] == "Inventory.reserve"
    assert {"files", "tests", "other", "functions", "stats", "warnings"} <= set(data)
    assert data["stats"]["commit"]


def test_pretty_output_has_tables(shop_repo, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    code, out, _ = run(
        capsys,
        "localize",
        "--repo",
        str(shop_repo),
        "--issue",
        "restock_from_supplier doubles stock",
        "--no-cache",
    )
    assert code == 0
    assert "Source files most likely to need a change" in out
    assert "shop/inventory.py" in out
    assert "Inventory.restock_from_supplier" in out
    assert "Related tests" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--repo", "/nonexistent/repo", "--issue", "x"], "error: repository not found: /nonexistent/repo"),
        (["--issue", "x", "--commit", "deadbeef"], "error: commit deadbeef not found"),
        (["--issue", ""], "error: the issue text is empty"),
        (["--issue", "@/nonexistent/issue.md"], "error: issue file not found: /nonexistent/issue.md"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(shop_repo, capsys, args, message):
    if "--repo" not in args:
        args = ["--repo", str(shop_repo), *args]
    code, out, err = run(capsys, "localize", *args, "--no-cache")
    assert code == 2
    assert out == ""
    assert err.startswith(message)
    assert err.count("\n") == 1 and "Traceback" not in err


def test_nothing_to_rank_exits_non_zero_but_no_python_only_warns(tmp_path, capsys):
    empty = make_repo(tmp_path / "assets", {"logo.png": "not really a png"})
    code, _, err = run(capsys, "localize", "--repo", str(empty), "--issue", "logo broken", "--no-cache")
    assert code == 2 and "nothing to rank" in err
    docs = make_repo(tmp_path / "docs", {"guide.rst": "Install the widget with pip.\n"})
    code, out, err = run(
        capsys, "localize", "--repo", str(docs), "--issue", "widget install fails", "--no-cache"
    )
    assert code == 0
    assert "warning: no Python files" in err
    assert "guide.rst" in out


def test_console_script_subprocess(shop_repo, tmp_path):
    proc = subprocess.run(
        ["swe-ttc", "localize", "--repo", str(shop_repo), "--issue", "@-", "--json", "--no-cache"],
        input=MESSAGE_ISSUE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"][0]["path"] == "shop/inventory.py"
    bad = subprocess.run(
        ["swe-ttc", "localize", "--repo", str(tmp_path / "missing"), "--issue", "x"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("error: repository not found")


def test_bench_localize_on_the_fixture_dataset(tmp_path, capsys):
    dataset, repos = make_fixture_dataset(tmp_path)
    code, out, _ = run(capsys, "bench", "localize", "--dataset", str(dataset), "--repos", str(repos))
    assert code == 0
    data = json.loads(out)
    rows = len(dataset.read_text().splitlines())
    assert data["instances"] == rows and data["skipped"] == {}
    for level in ("files", "functions"):
        assert data[level]["n"] == rows
        for method in ("ours", "bm25"):
            assert set(data[level][method]) == {f"{m}@{k}" for m in ("all", "any") for k in (1, 3, 5, 10)}
    assert set(data["per_repo"]) == {"acme/shop", "acme/textkit"}
    shapes = data["by_shape"]
    # every instance has exactly one of each pair of shapes
    for one, other in (("multi_file", "single_file"), ("traceback", "no_traceback")):
        counted = [shapes[s]["files"]["n"] for s in (one, other) if s in shapes]
        assert sum(counted) == rows
    with_trace = [json.loads(line) for line in dataset.read_text().splitlines()]
    traced = sum('File "' in r["problem_statement"] for r in with_trace)
    assert shapes.get("traceback", {"instances": 0})["instances"] == traced
    assert data["time"]["index_builds"] == 2  # instances of one commit share an index
    assert data["time"]["query_ms_mean"] > 0
    # a build is cold (parsed every module) or warm (reused an earlier build's modules), never both
    assert data["time"]["index_cold"]["builds"] + data["time"]["index_warm"]["builds"] == 2
    # the claim the benchmark exists for: better than plain BM25 on the same instances, same run
    assert data["files"]["ours"]["all@5"] >= data["files"]["bm25"]["all@5"] + 0.10
    assert data["files"]["ours"]["all@1"] > data["files"]["bm25"]["all@1"]
    assert data["functions"]["ours"]["all@5"] > data["functions"]["bm25"]["all@5"]


def test_bench_limit_and_missing_repositories(tmp_path, capsys):
    dataset, repos = make_fixture_dataset(tmp_path)
    code, out, _ = run(
        capsys, "bench", "localize", "--dataset", str(dataset), "--repos", str(repos), "--limit", "3"
    )
    assert code == 0 and json.loads(out)["instances"] == 3
    empty = tmp_path / "none"
    empty.mkdir()
    code, _, err = run(capsys, "bench", "localize", "--dataset", str(dataset), "--repos", str(empty))
    assert code == 2 and "no instance of" in err
