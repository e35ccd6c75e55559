"""Ctrl-C on a running `swe-ttc solve` leaves no container behind and exits 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from tests.helpers.repos import make_repo


def test_sigint_during_solve_removes_the_container(tmp_path, docker_client, base_image):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    script = tmp_path / "slow.json"
    script.write_text(json.dumps({"actions": [{"tool": "bash", "args": {"command": "sleep 600"}}]}))
    run_id = f"sigint-{os.getpid()}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sweagent.cli",
            "solve",
            "--repo",
            str(repo),
            "--issue",
            "x",
            "--model",
            f"replay/{script}",
            "--output-dir",
            str(tmp_path / "runs"),
            "--run-id",
            run_id,
            "--agent.localize_hint",
            "false",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )
    selector = {"label": [f"swe-ttc.run={run_id}"]}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not docker_client.containers.list(filters=selector):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    assert docker_client.containers.list(filters=selector), "the sandbox container never started"
    time.sleep(1.0)  # let the agent reach the long command
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    assert docker_client.containers.list(all=True, filters=selector) == []
    traj = json.loads(next((tmp_path / "runs" / run_id).glob("*/*.traj.json")).read_text())
    assert traj["exit_status"] is None and traj["exit_detail"] == "interrupted"
