"""`swe-ttc solve --search` and `swe-ttc bench search` as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess

import networkx as nx

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


def test_bench_search_tiny_configuration(base_image):
    proc = run_cli(
        "bench",
        "search",
        "--seeds",
        "1",
        "--budget",
        "1",
        "--tasks",
        "slugify",
        "--fork-repeats",
        "1",
        "--workers",
        "1",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    labels = {"single@1", "best-of-n@1", "tree@1", "best-of-n@0.5", "tree@0.5"}
    assert set(report["strategies"]) == labels
    for row in report["strategies"].values():
        assert row["trials"] == 1 and 0 < row["rollouts_spent_mean"] <= row["budget_rollouts"]
        lo, hi = row["resolve_rate_ci95_wilson"]
        assert lo <= row["resolve_rate"] <= hi
    fork = report["fork"]
    assert fork["sandbox"] == "docker" and fork["warm_fork_ms_median"] > 0
    assert (
        abs(fork["speedup"] - fork["fresh_sandbox_and_restore_ms_median"] / fork["warm_fork_ms_median"]) < 0.2
    )


def test_bench_search_rejects_unknown_tasks():
    proc = run_cli("bench", "search", "--tasks", "nope")
    assert proc.returncode != 0 and proc.stderr.strip().startswith("error: unknown fixture task")
