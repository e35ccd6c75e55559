"""`swe-ttc batch` with the real `solve_task`, scripted models and the fixture images."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sweagent.model.scripted import register_oracle, register_replay
from sweagent.swebench.fixture_tasks import FIXTURE_TASKS
from sweagent.trajectory import Trajectory, trajectory_path
from tests.swebench.util import our_containers, read_json, run_cli, write_jsonl

pytestmark = pytest.mark.docker

IDS = sorted(t.instance_id for t in FIXTURE_TASKS)
ROOT = Path(__file__).resolve().parents[2]
QUICK = ["--agent.localize_hint", "false"]


def batch_cli(dataset, out: Path, run_id: str, model: str, *extra: str) -> int:
    return run_cli(
        [
            "batch",
            "--dataset",
            str(dataset),
            "--model",
            model,
            "--output-dir",
            str(out),
            "--run-id",
            run_id,
            *QUICK,
            *extra,
        ]
    )


def statuses(run_dir: Path) -> dict[str, str]:
    doc = yaml.safe_load((run_dir / "exit_statuses.yaml").read_text())
    return {iid: status for status, ids in doc["instances_by_exit_status"].items() for iid in ids}


def test_batch_then_eval_resolves_every_fixture(
    fixture_dataset, fixture_rows, tmp_path, docker_client, capsys
):
    for iid, row in fixture_rows.items():
        register_oracle(f"e2e-{iid}", row["patch"])
    code = batch_cli(
        fixture_dataset,
        tmp_path,
        "e2e",
        "oracle/e2e-{instance_id}",
        "--workers",
        "2",
        "--agent.step_limit",
        "9",
    )
    assert code == 0
    run_dir = tmp_path / "e2e"
    preds = read_json(run_dir / "preds.json")
    assert sorted(preds) == IDS
    assert all(
        p["model_patch"].startswith("diff --git") and p["model_name_or_path"] == "oracle/e2e-{instance_id}"
        for p in preds.values()
    )
    from swebench.harness.utils import get_predictions_from_file

    official = get_predictions_from_file(str(run_dir / "preds.json"), "unused", "test")
    assert sorted(p["instance_id"] for p in official) == IDS
    assert statuses(run_dir) == {iid: "submitted" for iid in IDS}
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["agent"]["step_limit"] == 9 and config["model"]["name"] == "oracle/e2e-{instance_id}"
    assert all(Trajectory.load(trajectory_path(run_dir, iid)).is_final for iid in IDS)
    out = capsys.readouterr().out
    assert "done   [3/3]" in out and "3/3 done: 3 submitted" in out
    assert our_containers(docker_client, **{"swe-ttc.run": "e2e"}) == []

    assert (
        run_cli(["eval", "--dataset", str(fixture_dataset), "--predictions", str(run_dir / "preds.json")])
        == 0
    )
    summary = read_json(run_dir / "eval" / "report.json")
    assert summary["resolved_ids"] == IDS and summary["error_ids"] == []


def test_resume_rebuilds_preds_and_redo_starts_over(fixture_dataset, fixture_rows, tmp_path, capsys):
    ghost = {**fixture_rows[IDS[0]], "instance_id": "swe-ttc-fixtures__ghost-9"}
    dataset = write_jsonl(tmp_path / "d.jsonl", [*fixture_rows.values(), ghost])
    model = register_replay("resume-echo", [{"thought": "t", "tool": "bash", "args": {"command": "echo hi"}}])
    config = tmp_path / "cfg.yaml"
    config.write_text("agent:\n  step_limit: 11\n  max_format_errors: 2\n")
    args = ["--workers", "2", "--config", str(config), "--agent.max_format_errors", "5"]
    assert batch_cli(dataset, tmp_path, "res", model, *args) == 0
    run_dir = tmp_path / "res"
    snapshot = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert snapshot["agent"]["step_limit"] == 11 and snapshot["agent"]["max_format_errors"] == 5
    first = statuses(run_dir)
    assert first == {**{iid: "submitted" for iid in IDS}, ghost["instance_id"]: "error: setup"}
    assert (
        "could not be pulled" in Trajectory.load(trajectory_path(run_dir, ghost["instance_id"])).exit_detail
    )
    stamps = {iid: trajectory_path(run_dir, iid).stat().st_mtime_ns for iid in [*IDS, ghost["instance_id"]]}

    trajectory_path(run_dir, IDS[1]).unlink()
    (run_dir / "preds.json").write_text("{garbage")  # whatever happened to it, trajectories are the truth
    capsys.readouterr()
    assert batch_cli(dataset, tmp_path, "res", model, "--workers", "2") == 0
    assert "2 finished before (resumed)" in capsys.readouterr().out  # the setup failure is retried
    assert sorted(read_json(run_dir / "preds.json")) == sorted([*IDS, ghost["instance_id"]])
    assert trajectory_path(run_dir, IDS[0]).stat().st_mtime_ns == stamps[IDS[0]]
    assert trajectory_path(run_dir, IDS[2]).stat().st_mtime_ns == stamps[IDS[2]]
    assert Trajectory.load(trajectory_path(run_dir, IDS[1])).is_final
    assert trajectory_path(run_dir, ghost["instance_id"]).stat().st_mtime_ns != stamps[ghost["instance_id"]]

    assert (
        batch_cli(dataset, tmp_path, "res", model, "--redo-existing", "--instances", ",".join(IDS[:2])) == 0
    )
    assert all(trajectory_path(run_dir, iid).stat().st_mtime_ns != stamps[iid] for iid in IDS[:2])
    assert trajectory_path(run_dir, IDS[2]).stat().st_mtime_ns == stamps[IDS[2]]
    assert sorted(read_json(run_dir / "preds.json")) == sorted([*IDS, ghost["instance_id"]])


def fast_model() -> str:
    """The child's script without its delay, for the rerun in this process."""
    from tests.swebench.batch_child import STEP

    return register_replay("fast-steps", [STEP] * 3)


def _child(dataset: Path, out: Path, run_id: str) -> subprocess.Popen:
    args = [
        sys.executable,
        "-m",
        "tests.swebench.batch_child",
        "--dataset",
        str(dataset),
        "--output-dir",
        str(out),
    ]
    args += ["--run-id", run_id, "--workers", "1", *QUICK]
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "REPLY_DELAY": "0.25"}
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for_preds(proc: subprocess.Popen, path: Path, count: int, limit: float = 90) -> dict:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if path.exists():
            preds = read_json(path)  # never a half-written file
            if len(preds) >= count:
                return preds
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"no {count} predictions in {limit} s: {proc.communicate()}")


def test_sigkill_then_rerun_has_every_instance_once(fixture_dataset, tmp_path, docker_client):
    proc = _child(fixture_dataset, tmp_path, "killed")
    run_dir = tmp_path / "killed"
    _wait_for_preds(proc, run_dir / "preds.json", 1)
    time.sleep(0.5)  # the next instance is under way
    proc.kill()
    proc.wait()
    left = our_containers(docker_client, **{"swe-ttc.pid": str(proc.pid)})
    assert batch_cli(fixture_dataset, tmp_path, "killed", fast_model()) == 0
    preds = read_json(run_dir / "preds.json")
    assert sorted(preds) == IDS
    assert all(Trajectory.load(trajectory_path(run_dir, iid)).is_final for iid in IDS)
    assert sorted(statuses(run_dir)) == IDS
    assert our_containers(docker_client, **{"swe-ttc.pid": str(proc.pid)}) == []
    assert left, "the killed batch should have left its running sandbox behind for the rerun to remove"


def test_ctrl_c_removes_containers_and_leaves_no_false_final_status(fixture_dataset, tmp_path, docker_client):
    proc = _child(fixture_dataset, tmp_path, "interrupted")
    run_dir = tmp_path / "interrupted"
    done = _wait_for_preds(proc, run_dir / "preds.json", 1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert our_containers(docker_client, **{"swe-ttc.pid": str(proc.pid)}) == []
    preds = read_json(run_dir / "preds.json")
    for iid in IDS:
        path = trajectory_path(run_dir, iid)
        final = path.exists() and Trajectory.load(path).is_final
        assert final == (iid in preds), iid  # an instance cut short is neither final nor in preds.json
    assert set(done) <= set(preds) and len(preds) < 3
    assert batch_cli(fixture_dataset, tmp_path, "interrupted", fast_model()) == 0
    assert sorted(read_json(run_dir / "preds.json")) == IDS


def test_run_cost_limit_stops_new_instances(fixture_dataset, tmp_path, monkeypatch, capsys):
    from tests.helpers.openai_server import OpenAIServer, Reply

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    def submit(_request):
        reply = Reply.tool_call("submit", {})
        reply.usage = {"prompt_tokens": 20_000, "completion_tokens": 2_000}
        return reply

    with OpenAIServer(handler=submit) as server:
        args = [
            "--api-base",
            server.url,
            "--run-cost-limit",
            "0.001",
            "--cost-limit",
            "0.5",
            "--workers",
            "1",
        ]
        code = batch_cli(fixture_dataset, tmp_path, "capped", "openai/gpt-4o-mini", *args)
    assert code == 0
    run_dir = tmp_path / "capped"
    doc = yaml.safe_load((run_dir / "exit_statuses.yaml").read_text())
    assert len(read_json(run_dir / "preds.json")) == 1 and len(doc["not_started"]) == 2
    assert doc["total_cost"] > 0.001
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["model"]["cost_limit"] == 0.5
    assert "2 not started (run cost limit reached)" in capsys.readouterr().out
