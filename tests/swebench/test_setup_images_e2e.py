"""On images whose set-up left build output, an edited config file or changed modes in /testbed:
`batch` (one rollout, and a search that forks node states across sandboxes) yields exactly the
agent's work, which applies with plain `git apply` to a fresh container and `eval` resolves."""

from __future__ import annotations

import json

import pytest

from search.pool import SandboxPool
from sweagent.config import SandboxConfig
from sweagent.model.scripted import register_replay
from sweagent.sandbox.base import RepoState
from sweagent.swebench.setup_fixtures import setup_task
from sweagent.trajectory import Trajectory, trajectory_path
from tests.helpers.setup_images import (
    SCRATCH_GLOBS,
    agent_actions,
    apply_check_in_fresh_container,
    known_patch,
    normalised,
)
from tests.swebench.test_batch import batch_cli
from tests.swebench.util import read_json, run_cli, write_jsonl
from verifiers.execution import ExecutionConfig

pytestmark = pytest.mark.docker


def check_predictions(run_dir, rows: list[dict], docker_client) -> dict:
    """Each prediction is exactly the agent's work and applies to a fresh container; returns them."""
    preds = read_json(run_dir / "preds.json")
    assert sorted(preds) == sorted(row["instance_id"] for row in rows)
    for row in rows:
        patch = preds[row["instance_id"]]["model_patch"]
        assert normalised(patch) == normalised(known_patch()), patch
        assert "old mode" not in patch
        code, output = apply_check_in_fresh_container(docker_client, row["image"], patch)
        assert code == 0, output
    return preds


def check_eval_resolves_without_fallbacks(run_dir, dataset, rows: list[dict]) -> None:
    assert run_cli(["eval", "--dataset", str(dataset), "--predictions", str(run_dir / "preds.json")]) == 0
    summary = read_json(run_dir / "eval" / "report.json")
    assert summary["resolved_ids"] == sorted(row["instance_id"] for row in rows), summary
    for row in rows:
        iid = row["instance_id"]
        entry = read_json(run_dir / "eval" / iid / "report.json")[iid]
        attempts = entry["apply_attempts"]
        assert [(a["command"], a["exit_code"]) for a in attempts] == [("git apply --verbose", 0)], attempts


def test_rollouts_yield_the_agents_work_only_and_resolve(setup_rows, tmp_path, docker_client):
    kinds = ["build", "config", "modes"]
    rows = [setup_rows[kind] for kind in kinds]
    dataset = write_jsonl(tmp_path / "setup.jsonl", rows)
    for row in rows:
        register_replay(f"setup-{row['instance_id']}", agent_actions())
    assert batch_cli(dataset, tmp_path, "one", "replay/setup-{instance_id}", "--workers", "2") == 0
    run_dir = tmp_path / "one"
    check_predictions(run_dir, rows, docker_client)
    # the trajectory shows what the image held before the agent started
    starts = {
        kind: Trajectory.load(trajectory_path(run_dir, row["instance_id"])).environment["baseline"]
        for kind, row in zip(kinds, rows, strict=True)
    }
    assert starts["build"]["untracked"] == ["build/", "calc.egg-info/"] and not starts["build"]["modified"]
    assert starts["config"]["modified"] == ["tox.ini"] and not starts["config"]["untracked"]
    assert starts["modes"]["mode_changed"] == sorted(setup_task("modes").files)
    check_eval_resolves_without_fallbacks(run_dir, dataset, rows)


def test_search_forks_across_sandboxes_yield_the_agents_work_only(setup_rows, tmp_path, docker_client):
    rows = [setup_rows["all"]]
    dataset = write_jsonl(tmp_path / "setup-all.jsonl", rows)
    register_replay(f"search-{rows[0]['instance_id']}", agent_actions())
    code = batch_cli(
        dataset,
        tmp_path,
        "search",
        "replay/search-{instance_id}",
        "--search",
        "best-of-n",
        "--budget",
        "2",
        "--search.parallel",
        "2",
    )
    assert code == 0
    run_dir = tmp_path / "search"
    preds = check_predictions(run_dir, rows, docker_client)
    traj = Trajectory.load(trajectory_path(run_dir, rows[0]["instance_id"]))
    assert traj.environment["baseline"]["untracked"] == ["build/", "calc.egg-info/"]
    check_eval_resolves_without_fallbacks(run_dir, dataset, rows)

    # the chosen node's saved state, restored into sandboxes that never held it: a warm one (start
    # tree plus the state's patch) and a freshly opened one, give the same patch
    tree = json.loads((run_dir / rows[0]["instance_id"] / "tree.json").read_text())
    chosen = next(n for n in tree["nodes"] if n["id"] == traj.environment["search"]["chosen"])
    state = RepoState.from_dict(chosen["state"])
    pool = SandboxPool(
        SandboxConfig(network="none"),
        size=1,
        repo_path=None,
        commit=rows[0]["base_commit"],
        image=rows[0]["image"],
        run_label="test-setup-fork",
        execution=ExecutionConfig(),
    )
    with pool:
        slot = pool.slots[0]
        for expected_how in ("fresh", "warm"):
            if expected_how == "warm":  # move the warm sandbox elsewhere first
                assert slot.sandbox.run("rm -rf calc reproduce_issue.py && echo x > stray.txt").ok
            _, how, _ = pool.fork(slot, state)
            assert how == expected_how
            assert (
                slot.sandbox.diff(exclude_new=SCRATCH_GLOBS) == preds[rows[0]["instance_id"]]["model_patch"]
            )
