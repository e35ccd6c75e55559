"""`swe-ttc batch/eval --executor ray` on a real two-node Ray cluster, with the fixture images."""

from __future__ import annotations

import json

import pytest

from sweagent.model.scripted import register_oracle
from sweagent.trajectory import Trajectory, trajectory_path
from tests.executors.util import batch, exit_doc, ray_flags, statuses
from tests.swebench.util import our_containers, read_json, run_cli

pytestmark = pytest.mark.docker


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
