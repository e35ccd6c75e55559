"""`swe-ttc batch/eval --executor ray` on a real two-node Ray cluster, with the fixture images."""

from __future__ import annotations

import json

import pytest

from sweagent.model.scripted import register_oracle
from sweagent.trajectory import Trajectory, trajectory_path
from tests.executors.util import batch, copies, dataset, exit_doc, ray_flags, statuses
from tests.swebench.util import our_containers, read_json, run_cli

pytestmark = [pytest.mark.docker, pytest.mark.ray]


def _files(root) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _oracles(rows: dict, prefix: str) -> str:
    for iid, row in rows.items():
        register_oracle(f"{prefix}-{iid}", row["patch"])
    return f"oracle/{prefix}-{{instance_id}}"


def test_ray_batch_gives_the_local_predictions_and_resumes(
    ray_cluster, fixture_dataset, fixture_rows, tmp_path, capsys, docker_client
):
    model = _oracles(fixture_rows, "same")
    assert batch(fixture_dataset, tmp_path, "local", model, "--workers", "2") == 0
    capsys.readouterr()
    assert batch(fixture_dataset, tmp_path, "on-ray", model, *ray_flags(ray_cluster)) == 0
    out = capsys.readouterr().out
    local, remote = tmp_path / "local", tmp_path / "on-ray"

    ids = sorted(fixture_rows)
    assert read_json(remote / "preds.json") == read_json(local / "preds.json")
    assert sorted(read_json(remote / "preds.json")) == ids
    assert statuses(remote) == statuses(local) == {iid: "submitted" for iid in ids}
    assert "ray (" in out and "2 node(s)" in out
    nodes = set()
    for iid in ids:
        traj = Trajectory.load(trajectory_path(remote, iid))
        assert traj.is_final and traj.patch == Trajectory.load(trajectory_path(local, iid)).patch
        nodes.add(traj.environment["node"])
        assert f"start  {iid} on {traj.environment['node']}" in out  # the dashboard names the node
    assert nodes == {"head", "worker-1"}  # one CPU each: two instances at once, one per node
    # the driver wrote the same files a local run writes, no more (no temp or scratch files)
    assert _files(remote) == _files(local)
    assert f"{ids[0]}/{ids[0]}.traj.json" in _files(remote)
    assert our_containers(docker_client, **{"swe-ttc.run": "on-ray"}) == []

    stamps = {iid: trajectory_path(remote, iid).stat().st_mtime_ns for iid in ids}
    assert batch(fixture_dataset, tmp_path, "on-ray", model, *ray_flags(ray_cluster)) == 0
    assert "3 finished before (resumed)" in capsys.readouterr().out
    assert {iid: trajectory_path(remote, iid).stat().st_mtime_ns for iid in ids} == stamps
    assert "retried" not in exit_doc(remote)


def test_ray_eval_grades_like_local(ray_cluster, fixture_dataset, fixture_rows, tmp_path, capsys):
    args = ["eval", "--dataset", str(fixture_dataset), "--gold", "--output-dir", str(tmp_path)]
    assert run_cli([*args, "--run-id", "ev-local", "--workers", "2"]) == 0
    assert run_cli([*args, "--run-id", "ev-ray", *ray_flags(ray_cluster)]) == 0
    capsys.readouterr()
    local = read_json(tmp_path / "ev-local" / "eval" / "report.json")
    remote = read_json(tmp_path / "ev-ray" / "eval" / "report.json")
    keys = ("resolved_ids", "unresolved_ids", "error_ids", "empty_patch_ids", "completed_ids")
    assert {k: remote[k] for k in keys} == {k: local[k] for k in keys}
    assert remote["resolved_ids"] == sorted(fixture_rows)
    for iid in fixture_rows:
        one = json.loads((tmp_path / "ev-ray" / "eval" / iid / "report.json").read_text())[iid]
        assert one["node"] in ("head", "worker-1") and one["resolved"] is True
        log = (tmp_path / "ev-ray" / "eval" / iid / "test_output.txt").read_text()
        assert ">>>>> Start Test Output" in log  # the node's test log came back to the driver


CALL_COST = 0.0042  # gpt-4o-mini at 20,000 prompt + 2,000 completion tokens (litellm's price map)


def test_cost_caps_hold_across_nodes(ray_cluster, fixture_rows, tmp_path, monkeypatch, capsys):
    """Each node's models charge one shared run budget: the run cap stops new instances cluster-wide,
    and the per-instance cap stops each instance wherever it runs."""
    from tests.helpers.openai_server import OpenAIServer, Reply

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    def look(_request):
        reply = Reply.tool_call("bash", {"command": "ls"})
        reply.usage = {"prompt_tokens": 20_000, "completion_tokens": 2_000}
        return reply

    rows = copies(list(fixture_rows.values()), 2)
    data = dataset(tmp_path / "d.jsonl", rows)
    with OpenAIServer(handler=look) as server:
        caps = ["--api-base", server.url, "--cost-limit", "0.006", "--run-cost-limit", "0.012"]
        code = batch(data, tmp_path, "capped", "openai/gpt-4o-mini", *caps, *ray_flags(ray_cluster))
    assert code == 0
    run_dir = tmp_path / "capped"
    doc = exit_doc(run_dir)
    ran = read_json(run_dir / "preds.json")
    assert doc["not_started"] and len(ran) + len(doc["not_started"]) == len(rows)
    # every call is checked against the shared total first: at most one call per node past the cap
    assert 0.012 <= doc["total_cost"] <= 0.012 + 2 * CALL_COST + 1e-9
    for iid in ran:
        traj = Trajectory.load(trajectory_path(run_dir, iid))
        assert traj.exit_status == "submitted (limit)"
        assert traj.stats["cost"] <= 0.006 + CALL_COST + 1e-9  # the per-instance cap
    out = capsys.readouterr().out
    assert f"{len(doc['not_started'])} not started (run cost limit reached)" in out


def test_synth_run_on_ray_grades_each_sample_like_local(ray_cluster, docker_client, base_image, tmp_path):
    from sweagent.swebench.fixtures import build
    from synth.results import read_results
    from synth.scripted import choose, register_sampler
    from tests.synth.conftest import QUICK as SYNTH_QUICK
    from tests.synth.conftest import run_cli as synth_cli
    from tests.synth.test_swebench_tasks import CALC, calc_variants

    data = tmp_path / "fixtures.jsonl"
    build(data, client=docker_client, base_image=base_image)
    model = register_sampler("ray-rows", {CALC: calc_variants()})
    args = ["synth", "run", "--dataset", str(data), "--instances", CALC, "--samples", "2", "--model", model]
    args += ["--output-dir", str(tmp_path), "--run-id", "synth-ray", *SYNTH_QUICK, "--json"]
    code, stdout = synth_cli([*args, *ray_flags(ray_cluster)])
    assert code == 0, stdout
    run_dir = tmp_path / "synth-ray"
    results = {r.sample_id: r for r in read_results(run_dir / "results.jsonl")}
    assert sorted(results) == [f"{CALC}.s0", f"{CALC}.s1"]
    for sid, result in results.items():  # the same verdicts the local run gives (tests/synth)
        behaviour = choose("ray-rows", sid, 0.8).label
        expected = ("resolved", True) if behaviour == "fix" else ("unresolved", False)
        assert (result.grade, result.accepted) == expected
        assert Trajectory.load(run_dir / result.trajectory).environment["node"] in ("head", "worker-1")
        grade = read_json(run_dir / "eval" / sid / "report.json")[sid]
        assert grade["node"] in ("head", "worker-1")


def test_ray_select_chooses_like_local_and_keeps_the_nodes_cache(
    ray_cluster, fixture_dataset, tmp_path, docker_client
):
    from sweagent.swebench.fixture_candidates import write_candidate_files
    from sweagent.swebench.fixture_tasks import CALC, SLUG_TASK

    files = [str(p) for p in write_candidate_files(tmp_path / "cands")]
    ids = sorted([CALC.instance_id, SLUG_TASK.instance_id])
    args = [
        "select",
        "--dataset",
        str(fixture_dataset),
        "--candidates",
        *files,
        "--output-dir",
        str(tmp_path),
    ]
    args += ["--instances", ",".join(ids)]
    assert run_cli([*args, "--run-id", "local", "--workers", "2"]) == 0
    assert run_cli([*args, "--run-id", "on-ray", *ray_flags(ray_cluster)]) == 0
    local, remote = tmp_path / "local", tmp_path / "on-ray"

    assert read_json(remote / "preds.json") == read_json(local / "preds.json")
    assert sorted(read_json(remote / "preds.json")) == ids
    for iid in ids:
        here, there = (
            read_json(local / "select" / f"{iid}.json"),
            read_json(remote / "select" / f"{iid}.json"),
        )
        assert there["status"] == here["status"] and there["chosen"] == here["chosen"]
        ranks = [(c["id"], c.get("rank"), c.get("excluded_by")) for c in there["candidates"]]
        assert ranks == [(c["id"], c.get("rank"), c.get("excluded_by")) for c in here["candidates"]]
    # the nodes' cache entries joined the run's cache; no per-node file is left behind
    assert _files(remote) == _files(local)
    keys = [
        {json.loads(line)["key"] for line in (run / "cache.jsonl").read_text().splitlines()}
        for run in (local, remote)
    ]
    assert keys[0] and keys[1] == keys[0]
    assert our_containers(docker_client, **{"swe-ttc.run": "on-ray"}) == []
