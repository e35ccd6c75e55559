"""What goes wrong on a cluster: a node killed mid-run, Ctrl-C, a node without Docker, a missing image,
an address where no cluster is. Real Ray nodes on this machine, real containers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sweagent.model.scripted import register_oracle, register_replay
from sweagent.trajectory import Trajectory, trajectory_path
from tests.executors.util import (
    QUICK,
    batch,
    children,
    copies,
    dataset,
    exit_doc,
    parent_pid,
    ray_flags,
    raylet_pid,
    statuses,
)
from tests.swebench.util import our_containers, read_json, run_cli

pytestmark = [pytest.mark.docker, pytest.mark.ray]

ROOT = Path(__file__).resolve().parents[2]
STEP = {"thought": "Looking around.", "tool": "bash", "args": {"command": "ls"}}


def _kill_when_busy(cluster, node, docker_client, run_id: str, killed: list[int]) -> threading.Thread:
    """Kill `node` once one of its workers has a container of `run_id`: its raylet and services, then
    its worker processes (a raylet's children can outlive it for a moment and even finish a task)."""
    raylet = raylet_pid(node)

    def watch() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            for container in our_containers(docker_client, **{"swe-ttc.run": run_id}):
                pid = int((container.labels or {}).get("swe-ttc.pid", "0"))
                if parent_pid(pid) == raylet:
                    killed.append(pid)
                    time.sleep(1.0)  # mid-run: the agent is stepping
                    workers = children(raylet)
                    cluster.remove_node(node, allow_graceful=False)
                    for worker in workers:
                        try:
                            os.kill(worker, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    return
            time.sleep(0.1)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _each_once(run_dir: Path, ids: list[str]) -> None:
    """Every instance exactly once in preds.json and in exit_statuses.yaml."""
    assert sorted(read_json(run_dir / "preds.json")) == sorted(ids)
    listed = [iid for group in exit_doc(run_dir)["instances_by_exit_status"].values() for iid in group]
    assert sorted(listed) == sorted(ids)


def test_a_node_killed_mid_run_has_its_instances_retried_elsewhere(
    ray_cluster, extra_node, fixture_rows, tmp_path, docker_client
):
    rows = copies(list(fixture_rows.values()), 2)
    ids = [r["instance_id"] for r in rows]
    model = register_replay("kill-steps", [STEP] * 4, delay=1.0)
    doomed = extra_node("doomed")
    killed: list[int] = []
    watcher = _kill_when_busy(ray_cluster, doomed, docker_client, "node-killed", killed)
    data = dataset(tmp_path / "d.jsonl", rows)
    assert batch(data, tmp_path, "node-killed", model, *ray_flags(ray_cluster)) == 0
    watcher.join(timeout=5)
    assert killed, "no instance ever ran on the node meant to be killed"

    run_dir = tmp_path / "node-killed"
    _each_once(run_dir, ids)
    assert statuses(run_dir) == {iid: "submitted" for iid in ids}
    retried = exit_doc(run_dir)["retried"]
    assert retried and all(n >= 2 for n in retried.values())
    for iid in retried:  # finished on a node that is still there
        assert Trajectory.load(trajectory_path(run_dir, iid)).environment["node"] in ("head", "worker-1")
    # the killed worker's container was removed at the end of the run
    assert our_containers(docker_client, **{"swe-ttc.run": "node-killed"}) == []


def test_with_no_retries_a_lost_instance_is_recorded_then_rerun(
    ray_cluster, extra_node, fixture_rows, tmp_path, docker_client, capsys
):
    rows = copies(list(fixture_rows.values()), 1)
    ids = [r["instance_id"] for r in rows]
    model = register_replay("lost-steps", [STEP] * 4, delay=1.0)
    doomed = extra_node("doomed-2")
    killed: list[int] = []
    watcher = _kill_when_busy(ray_cluster, doomed, docker_client, "lost", killed)
    data = dataset(tmp_path / "d.jsonl", rows)
    flags = ray_flags(ray_cluster, "--ray-max-retries", "0")
    assert batch(data, tmp_path, "lost", model, *flags) == 0
    watcher.join(timeout=5)
    assert killed

    run_dir = tmp_path / "lost"
    _each_once(run_dir, ids)
    done = statuses(run_dir)
    lost = [iid for iid, status in done.items() if status == "error: lost"]
    assert len(lost) == 1 and all(done[i] == "submitted" for i in ids if i not in lost)
    detail = exit_doc(run_dir)["errors"][lost[0]]
    assert "lost with its worker or node after 1 attempt(s)" in detail and "doomed-2" in detail
    traj = Trajectory.load(trajectory_path(run_dir, lost[0]))
    assert traj.exit_status == "error: lost" and traj.environment["node"] == "doomed-2"
    assert read_json(run_dir / "preds.json")[lost[0]]["model_patch"] == ""

    stamps = {iid: trajectory_path(run_dir, iid).stat().st_mtime_ns for iid in ids}
    capsys.readouterr()
    assert batch(data, tmp_path, "lost", model, "--workers", "2") == 0  # resume: only the lost one runs
    assert "2 finished before (resumed)" in capsys.readouterr().out
    assert statuses(run_dir) == {iid: "submitted" for iid in ids}
    assert all(trajectory_path(run_dir, i).stat().st_mtime_ns == stamps[i] for i in ids if i != lost[0])
    _each_once(run_dir, ids)
    assert our_containers(docker_client, **{"swe-ttc.run": "lost"}) == []


def test_ctrl_c_cancels_the_ray_tasks_and_leaves_no_container(
    ray_cluster, fixture_dataset, fixture_rows, tmp_path, docker_client
):
    run_id = f"ray-int-{os.getpid()}"
    args = [sys.executable, "-m", "tests.swebench.batch_child", "--dataset", str(fixture_dataset)]
    args += ["--output-dir", str(tmp_path), "--run-id", run_id, *QUICK, *ray_flags(ray_cluster)]
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "REPLY_DELAY": "1.0"}
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and len(our_containers(docker_client, **{"swe-ttc.run": run_id})) < 2:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    assert len(our_containers(docker_client, **{"swe-ttc.run": run_id})) >= 2, "both nodes should be busy"
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    assert our_containers(docker_client, **{"swe-ttc.run": run_id}) == []

    run_dir = tmp_path / run_id
    preds = read_json(run_dir / "preds.json")
    for iid in fixture_rows:  # an instance cut short is neither final nor in preds.json
        path = trajectory_path(run_dir, iid)
        assert (path.exists() and Trajectory.load(path).is_final) == (iid in preds), iid
    assert len(preds) < len(fixture_rows)
    fast = register_replay("fast-after-ctrl-c", [STEP] * 2)
    assert batch(fixture_dataset, tmp_path, run_id, fast, "--workers", "2") == 0
    assert sorted(read_json(run_dir / "preds.json")) == sorted(fixture_rows)


def test_a_node_without_docker_or_image_fails_its_instances_and_names_itself(
    ray_cluster, extra_node, fixture_rows, tmp_path, capsys
):
    extra_node("nodocker", env_vars={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    rows = copies(list(fixture_rows.values()), 2)
    ghost = {**rows[0], "instance_id": "swe-ttc-fixtures__ghost-1", "image": "swe-ttc-test/absent:latest"}
    rows.append(ghost)
    for row in rows:
        register_oracle(f"nd-{row['instance_id']}", row["patch"])
    data = dataset(tmp_path / "d.jsonl", rows)
    assert batch(data, tmp_path, "nodocker", "oracle/nd-{instance_id}", *ray_flags(ray_cluster)) == 0
    run_dir = tmp_path / "nodocker"
    done, errors = statuses(run_dir), exit_doc(run_dir)["errors"]
    assert sorted(done) == sorted(r["instance_id"] for r in rows)  # the run went on to the end
    on_nodocker = [iid for iid, line in errors.items() if "on node nodocker:" in line]
    assert on_nodocker, "the node without Docker got no instance"
    assert all("cannot reach the Docker daemon" in errors[iid] for iid in on_nodocker)
    assert done[ghost["instance_id"]] == "error: setup" and "on node " in errors[ghost["instance_id"]]
    if ghost["instance_id"] not in on_nodocker:
        assert "swe-ttc-test/absent:latest" in errors[ghost["instance_id"]]
    good = [iid for iid in done if iid not in errors]
    assert good and all(done[iid] == "submitted" for iid in good)
    assert set(errors) == set(on_nodocker) | {ghost["instance_id"]}

    capsys.readouterr()
    args = ["eval", "--dataset", str(data), "--gold", "--output-dir", str(tmp_path), "--run-id", "nd-eval"]
    assert run_cli([*args, *ray_flags(ray_cluster)]) == 0
    report = read_json(tmp_path / "nd-eval" / "eval" / "report.json")
    assert report["resolved_ids"] and set(report["resolved_ids"]) | set(report["error_ids"]) == set(done)
    assert all("on node " in report["errors"][iid] for iid in report["error_ids"])


@pytest.mark.parametrize("address", ["127.0.0.1:9", "ray://127.0.0.1:9"])
def test_an_unreachable_address_is_one_line_at_once(address, fixture_dataset, tmp_path, capsys):
    started = time.monotonic()
    code = batch(
        fixture_dataset, tmp_path, "nowhere", "replay/x", "--executor", "ray", "--ray-address", address
    )
    err = capsys.readouterr().err
    assert code == 2 and time.monotonic() - started < 30
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"no Ray cluster answers at {address}" in err
    assert "ray start --head" in err and "drop --ray-address" in err
    assert not (tmp_path / "nowhere").exists()


def test_ray_flags_without_ray_executor_or_with_a_bad_size_are_one_line(fixture_dataset, tmp_path, capsys):
    assert batch(fixture_dataset, tmp_path, "x", "replay/x", "--ray-address", "auto") == 2
    assert "--ray-address needs --executor ray" in capsys.readouterr().err
    flags = ["--executor", "ray", "--ray-memory-per-instance", "lots"]
    assert batch(fixture_dataset, tmp_path, "x", "replay/x", *flags) == 2
    err = capsys.readouterr().err
    assert "--ray-memory-per-instance 'lots' is not a size" in err and err.count("\n") == 1
