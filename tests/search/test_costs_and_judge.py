"""What a search spends and how its reward model fared, as a user reads them in the saved files."""

from __future__ import annotations

import pytest

from search.runner import run_search
from search.stages import StaticWatch
from search.tree import SearchTree
from simulation.model import SimParams
from simulation.tasks import FIXTURES
from sweagent.tools.editor import EditorTool
from sweagent.trajectory import Trajectory
from tests.search.conftest import search_config
from tests.search.test_honesty import replay_pool


@pytest.fixture(scope="module")
def slug(tmp_path_factory):
    fixture = FIXTURES["slugify"]
    repo, commit = fixture.make_repo(tmp_path_factory.mktemp("slug") / "repo")
    return fixture, repo, commit, fixture.task(repo, commit)


def test_a_failing_judge_is_counted_and_reported_at_the_end(slug, tmp_path):
    fixture, repo, commit, task = slug
    config = search_config(fixture, SimParams(judge_failure=1.0), sandbox="local", strategy="tree", budget=2)
    with replay_pool(repo, commit) as pool:
        traj = run_search(task, config, tmp_path, repo_path=str(repo), pool=pool)
    judge = traj.stats["judge"]
    assert judge["calls"] > 0 and judge["failed"] == judge["calls"] and judge["too_many_failures"]
    assert "WARNING: the reward model failed on" in traj.exit_detail
    assert "logprobs" in judge["method"]  # which method, and why, is stated
    saved = Trajectory.load(tmp_path / task.instance_id / f"{task.instance_id}.traj.json")
    assert saved.stats["judge"] == judge and saved.environment["judge"] == judge["method"]
    tree = SearchTree.load(tmp_path / task.instance_id / "tree.json")
    assert tree.meta["judge"]["failed"] == judge["failed"]
    candidates = tree.candidates()
    judged = [n for n in candidates if "judge" in n.scores]
    assert judged and all("reward none (judge failed)" in n.decision for n in judged)
    # a candidate an execution check rejected is not judged while others pass: said so, not scored 0.5
    assert all(
        "not judged (an execution check rejected it)" in n.decision for n in candidates if n not in judged
    )
    # no hidden 0.5: the selection saw no reward at all for them
    assert all(r["reward"] is None for r in tree.meta["selection"]["ranking"])


def test_every_strategy_is_charged_for_tokens_judge_tokens_and_sandbox_seconds(slug, tmp_path):
    fixture, repo, commit, task = slug
    with replay_pool(repo, commit) as pool:
        for strategy in ("best-of-n", "tree"):
            config = search_config(
                fixture, SimParams(), sandbox="local", strategy=strategy, budget=2, seed=1, sandbox_price=0.01
            )
            traj = run_search(task, config, tmp_path / strategy, repo_path=str(repo), pool=pool)
            stats = traj.stats
            assert stats["judge_tokens"] > 0 and stats["input_tokens"] > 0
            assert stats["sandbox_seconds"] >= stats["verify_sandbox_seconds"] > 0
            assert stats["total_cost"] == pytest.approx(
                stats["cost"] + 0.01 * stats["sandbox_seconds"], abs=1e-5
            )
            tree = SearchTree.load(tmp_path / strategy / task.instance_id / "tree.json")
            patch_nodes = [n for n in tree.nodes() if n.is_candidate]
            assert patch_nodes and all(n.expansion.verify_sandbox_seconds > 0 for n in patch_nodes)


def test_a_sandbox_seconds_cap_stops_the_search(slug, tmp_path):
    fixture, repo, commit, task = slug
    config = search_config(
        fixture, SimParams(), sandbox="local", strategy="tree", budget=4, max_sandbox_seconds=0.001
    )
    with replay_pool(repo, commit) as pool:
        traj = run_search(task, config, tmp_path, repo_path=str(repo), pool=pool)
    assert (
        traj.stats["search"]["stop_reason"].startswith("sandbox cap")
        and traj.stats["search"]["expansions"] == 1
    )


def test_each_edit_step_gets_a_static_reward(slug):
    fixture, repo, commit, _ = slug
    with replay_pool(repo, commit) as pool:
        pool.ensure(pool.slots[0])
        box = pool.slots[0].sandbox
        watch = StaticWatch(EditorTool())
        path = "textkit/slug.py"
        watch.run(box, {"command": "view", "path": path})  # reading is not an edit
        watch.run(
            box,
            {
                "command": "str_replace",
                "path": path,
                "old_str": "    return text\n",
                "new_str": "    return txt\n",
            },
        )
        watch.run(
            box,
            {
                "command": "str_replace",
                "path": path,
                "old_str": "    return txt\n",
                "new_str": "    return text\n",
            },
        )
        watch.run(box, {"command": "create", "path": "notes.txt", "file_text": "not python\n"})
    broke, fixed = watch.rewards
    assert (broke["step"], fixed["step"]) == (2, 3) and broke["path"] == fixed["path"] == path
    assert broke["value"] < 0.1 and "undefined name" in broke["explanation"]
    assert fixed["value"] > 0.9


def test_a_served_reward_model_scores_the_search_and_is_named(slug, tmp_path):
    from tests.helpers.openai_server import OpenAIServer

    fixture, repo, commit, task = slug
    with OpenAIServer(handler=lambda request: {"data": [{"score": 0.9}]}) as server:
        served = {"base_url": server.url.removesuffix("/v1"), "kind": "score"}
        config = search_config(
            fixture, SimParams(), sandbox="local", strategy="single", budget=1, served_reward_model=served
        )
        with replay_pool(repo, commit) as pool:
            traj = run_search(task, config, tmp_path, repo_path=str(repo), pool=pool)
        assert any(r.path == "/score" for r in server.requests)
    judge = traj.stats["judge"]
    assert judge["method"].startswith("served reward model (score at http://127.0.0.1:")
    assert judge["calls"] >= 2 and judge["failed"] == 0
