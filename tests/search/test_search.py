"""The search end to end in real Docker sandboxes, driven by the simulated model through litellm."""

from __future__ import annotations

import json
import uuid

import networkx as nx

from search.runner import run_search
from search.tree import SearchTree
from simulation.model import SimParams
from simulation.tasks import Grader
from sweagent.trajectory import Trajectory
from tests.search.conftest import ALWAYS_RIGHT, search_config


def load(run, task) -> SearchTree:
    return SearchTree.load(run / task.instance_id / "tree.json")


def node_actions(run, task, node_id) -> list[tuple[str, str]]:
    traj = Trajectory.load(run / task.instance_id / "nodes" / f"{node_id}.traj.json")
    return [(s.action.tool, str(s.action.args.get("command", ""))) for s in traj.steps if s.action]


def test_tree_forks_from_parent_state_and_stops_on_a_verified_candidate(median_repo, base_image, run_dir):
    fixture, repo, task = median_repo
    run = run_dir("tree")
    config = search_config(fixture, ALWAYS_RIGHT, strategy="tree", budget=4)
    traj = run_search(task, config, run, repo_path=str(repo))

    assert traj.exit_status == "submitted", traj.exit_detail
    assert Grader().resolved(fixture, repo, traj.patch), traj.patch
    stats = traj.stats["search"]
    assert stats["stop_reason"].startswith("verified candidate")
    assert stats["rollouts_spent"] < config.search.budget  # stopped early: one rollout of four
    tree = load(run, task)
    stages = [n.stage for n in tree.nodes()]
    assert stages == ["root", "reproduce", "localize", "patch"]
    repro, localize, patch = tree.nodes()[1:]

    # the child continues from the parent's state: it has the script without writing it again
    assert "reproduce_issue.py" in localize.state["patch"]
    assert ("editor", "create") not in node_actions(run, task, localize.id)
    assert localize.expansion.restore_path == "warm"
    assert repro.artifacts.reproduces_on_base is True
    assert patch.artifacts.verified_with == repro.id
    assert [v.status for v in patch.verdicts] == ["passed", "passed", "passed"]
    assert patch.verified and patch.decision.startswith("SELECTED")

    # files a user gets: tree.json (loaded above), GraphML, and the chosen path as one trajectory
    graph = nx.read_graphml(run / task.instance_id / "tree.graphml")
    assert set(graph.nodes) == {n.id for n in tree.nodes()}
    assert graph.nodes[patch.id]["stage"] == "patch" and graph.has_edge(localize.id, patch.id)
    saved = Trajectory.load(run / task.instance_id / f"{task.instance_id}.traj.json")
    assert saved.patch == traj.patch
    assert [s.stage for s in saved.steps][0] == "reproduce" and saved.steps[-1].stage == "patch"


def test_a_crashing_stage_is_a_failed_node_and_the_search_goes_on(median_repo, base_image, run_dir):
    fixture, repo, task = median_repo
    run = run_dir("crash")
    params = ALWAYS_RIGHT.model_copy(update={"p_crash": 0.5})
    # seed 2: the first reproduce stage's model call fails; the stages after it do not
    config = search_config(fixture, params, strategy="tree", budget=3, seed=2)
    traj = run_search(task, config, run, repo_path=str(repo))
    tree = load(run, task)
    failed = [n for n in tree.nodes() if n.status == "failed"]
    assert failed, "the seed was chosen to crash a stage"
    assert failed[0].expansion.exit_status.startswith("error: model")
    assert failed[0].decision.startswith("failed:")
    later = [n for n in tree.nodes() if n.expansion and n.expansion.order > failed[0].expansion.order]
    assert later and any(n.verified for n in later)
    assert traj.exit_status == "submitted"


def test_a_killed_container_is_replaced_and_the_state_restored(
    median_repo, docker_client, base_image, run_dir
):
    fixture, repo, task = median_repo
    run = run_dir(f"kill-{uuid.uuid4().hex[:8]}")
    config = search_config(fixture, ALWAYS_RIGHT, strategy="tree", budget=3)
    killed = []

    def on_event(event):
        # kill the sandbox's container in the middle of the localize stage (node n2, after its first step)
        if event.get("node") == "n2" and event.get("step") == 1 and not killed:
            for container in docker_client.containers.list(filters={"label": f"swe-ttc.run={run.name}"}):
                container.kill()
                killed.append(container.id)

    traj = run_search(task, config, run, repo_path=str(repo), on_event=on_event)
    assert killed
    tree = load(run, task)
    broken = tree.node("n2")
    assert broken.status == "failed" and broken.decision.startswith("failed:")
    retry = next(n for n in tree.nodes() if n.parent == "n1" and n.status == "ok")
    assert retry.expansion.sandbox_replaced and retry.expansion.restore_path == "fresh"
    # the fresh sandbox got n1's files back (from the state's patch) without redoing the reproduce stage
    assert "reproduce_issue.py" in retry.state["patch"]
    assert ("editor", "create") not in node_actions(run, task, retry.id)
    assert traj.exit_status == "submitted" and traj.stats["search"]["sandbox_replacements"] >= 1
    assert not docker_client.containers.list(all=True, filters={"label": f"swe-ttc.run={run.name}"})


def test_parallel_expansions_use_separate_warm_sandboxes(median_repo, base_image, run_dir):
    fixture, repo, task = median_repo
    run = run_dir("parallel")
    config = search_config(fixture, ALWAYS_RIGHT, strategy="best-of-n", budget=2, parallel=2)
    traj = run_search(task, config, run, repo_path=str(repo))
    tree = load(run, task)
    sandboxes = {n.expansion.sandbox for n in tree.nodes() if n.expansion}
    assert {s.split(".")[0] for s in sandboxes} == {"sandbox0", "sandbox1"}
    orders = sorted(n.expansion.order for n in tree.nodes() if n.expansion)
    assert orders == list(range(len(orders)))
    assert len(tree.children("n0")) == 2  # two rollouts started in the first wave
    assert traj.exit_status == "submitted"


def test_the_search_never_sees_hidden_fields(median_repo, base_image, run_dir):
    from simulation.model import record_prompts

    fixture, repo, task = median_repo
    sentinels = {f: f"SENTINEL-{f}-{uuid.uuid4().hex}" for f in ("patch", "test_patch", "eval_script")}
    secret = task.model_copy(
        update={
            **sentinels,
            "FAIL_TO_PASS": [f"SENTINEL-F2P-{uuid.uuid4().hex}"],
            "PASS_TO_PASS": [f"SENTINEL-P2P-{uuid.uuid4().hex}"],
        }
    )
    needles = [*sentinels.values(), secret.FAIL_TO_PASS[0], secret.PASS_TO_PASS[0]]
    params = SimParams()  # a few branches, judge calls
    config = search_config(fixture, params, strategy="tree", budget=2)
    run = run_dir("noleak")
    prompts = record_prompts(True)
    try:
        run_search(secret, config, run, repo_path=str(repo))
    finally:
        seen = list(prompts)
        record_prompts(False)
    assert any(task.problem_statement in p for p in seen), "prompts were captured"
    assert any("Does this patch resolve the issue?" in p for p in seen), "the reward model was asked"
    for needle in needles:
        assert not any(needle in p for p in seen), "a hidden field reached a prompt"
    # every command, observation, verdict and score is written under the run directory
    written = "".join(p.read_text(errors="replace") for p in run.rglob("*") if p.is_file())
    assert "reproduce_issue.py" in written and "git apply" in written
    for needle in needles:
        assert needle not in written, "a hidden field reached a command, file or record"


def test_tree_json_round_trips(median_repo, base_image, run_dir):
    fixture, repo, task = median_repo
    run = run_dir("roundtrip")
    config = search_config(fixture, SimParams(), strategy="tree", budget=1, seed=5)
    run_search(task, config, run, repo_path=str(repo))
    path = run / task.instance_id / "tree.json"
    data = json.loads(path.read_text())
    assert data["format"] == "swe-ttc/search-tree@1"
    tree = SearchTree.load(path)
    assert tree.to_json()["nodes"] == data["nodes"]
    assert len(tree.nodes()) == 1 + 3  # a budget of 1 rollout is 3 stage expansions


def test_token_cap_stops_the_search_and_reports_what_it_spent(median_repo, base_image, run_dir):
    fixture, repo, task = median_repo
    run = run_dir("cap")
    config = search_config(fixture, ALWAYS_RIGHT, strategy="tree", budget=4, max_tokens=1)
    traj = run_search(task, config, run, repo_path=str(repo))
    stats = traj.stats["search"]
    assert stats["stop_reason"].startswith("token cap") and stats["expansions"] == 1
    assert traj.stats["tokens"] > 1 and traj.stats["cost"] > 0
    assert traj.exit_status == "submitted (limit)" and "no candidate patch" in traj.exit_detail


def test_the_same_seed_gives_the_same_search(median_repo, base_image, run_dir):
    fixture, repo, task = median_repo
    config = search_config(fixture, SimParams(), strategy="tree", budget=2, seed=3)

    def outline(name):
        run_search(task, config, run_dir(name), repo_path=str(repo))
        tree = load(run_dir(name), task)
        return [
            (n.id, n.parent, n.stage, n.status, round(n.value, 9), n.artifacts.patch) for n in tree.nodes()
        ]

    first, second = outline("a"), outline("b")
    assert first == second
    assert len(first) >= 4  # at least one full chain
