"""`swe-ttc solve --search` and `swe-ttc bench search` as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess

import networkx as nx
import pytest

from search.tree import SearchTree
from tests.helpers.cli import example_tests_pass, run_cli


def test_solve_demo_with_tree_search_end_to_end(tmp_path, base_image):
    proc = run_cli(
        "solve",
        "--demo",
        "--search",
        "tree",
        "--budget",
        "3",
        "--output-dir",
        str(tmp_path),
        "--run-id",
        "s1",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "search: tree, budget 3 rollout(s)" in out and "docker sandbox" in out
    assert "★ selected" in out and "tree:" in out  # the rich tree was shown
    run = tmp_path / "s1"
    (instance_dir,) = [p for p in run.iterdir() if p.is_dir() and p.name != "example-repo"]
    tree = SearchTree.load(instance_dir / "tree.json")
    assert {n.stage for n in tree.nodes()} >= {"root", "reproduce", "localize", "patch"}
    assert tree.meta["stats"]["search"]["rollouts_spent"] <= 3
    assert nx.read_graphml(instance_dir / "tree.graphml").number_of_nodes() == len(tree.nodes())
    patch = next(instance_dir.glob("*.patch")).read_text()
    preds = json.loads((run / "preds.json").read_text())
    assert preds[tree.instance_id]["model_patch"] == patch
    assert "search:" in (run / "config.yaml").read_text()
    work = tmp_path / "check"
    shutil.copytree(run / "example-repo", work)
    assert not example_tests_pass(work)
    subprocess.run(["git", "apply", "-"], input=patch, text=True, cwd=work, check=True)
    assert example_tests_pass(work)


def test_solve_rejects_a_bad_budget_in_one_line(tmp_path):
    args = ["--repo", str(tmp_path), "--issue", "x", "--search", "tree", "--budget", "0"]
    proc = run_cli("solve", *args, "--output-dir", str(tmp_path))
    assert proc.returncode != 0
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "search.budget" in err, err


def test_bench_search_one_cell_reports_cost_and_a_paired_verdict(tmp_path):
    out = tmp_path / "grid.json"
    args = ["--auc", "0.9", "--repro-detectable", "0.5", "--difficulty", "easy", "--trials", "2"]
    proc = run_cli("bench", "search", *args, "--tasks", "slugify", "--workers", "1", "--output", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["settings"]["execution"].startswith("replay")
    (cell,) = report["grid"]
    assert cell["cell"] == {"auc": 0.9, "repro_detectable": 0.5, "difficulty": "easy"}
    assert set(cell["strategies"]) == {"single", "best-of-n", "tree"}
    for row in cell["strategies"].values():
        assert row["trials"] == 2
        lo, hi = row["resolve_rate_ci95_wilson"]
        assert lo <= row["resolve_rate"] <= hi
        # cost counted in full: the agent's and the judge's tokens, and sandbox-seconds
        assert row["rollout_tokens_mean"] > 0 and row["judge_tokens_mean"] > 0
        assert row["sandbox_seconds_mean"] > 0 and row["total_cost_usd_mean"] > 0
    cap = cell["budget"]["cost_cap_usd"]
    assert cap == pytest.approx(4 * cell["budget"]["rollout_cost_usd"], rel=1e-3)
    diff = cell["tree_minus_best_of_n"]["resolve_rate"]
    assert diff["pairs"] == 2 and cell["verdict"] in ("tree wins", "tree loses", "no difference measured")
    trials = json.loads(out.read_text())["trials"]
    assert {t["label"] for t in trials} == {"single", "best-of-n", "tree"}
    # nobody spends much past the common cap: at most one expansion's worth
    assert all(t["total_cost"] <= cap * 1.5 for t in trials if t["label"] != "single")


def test_bench_search_rejects_bad_input_in_one_line():
    for args, message in [
        (["--tasks", "nope"], "error: unknown fixture task"),
        (["--auc", "0.3"], "error: --auc"),
        (["--difficulty", "impossible"], "error: --difficulty"),
        (["--incomplete-rate", "2"], "error: --incomplete-rate"),
    ]:
        proc = run_cli("bench", "search", *args)
        err = proc.stderr.strip()
        assert proc.returncode != 0 and err.startswith(message) and len(err.splitlines()) == 1, err
