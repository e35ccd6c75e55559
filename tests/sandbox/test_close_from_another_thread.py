"""Closing a sandbox (as Ctrl-C clean-up does, from the main thread) wakes a worker blocked in a command."""

from __future__ import annotations

import threading
import time

from sweagent.config import SandboxConfig
from sweagent.sandbox.factory import open_sandbox
from tests.helpers.repos import make_repo


def test_close_wakes_a_thread_waiting_for_command_output(tmp_path, base_image):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    box = open_sandbox(SandboxConfig(network="none", command_timeout=300), repo_path=str(repo))
    outcome: list[object] = []

    def worker() -> None:
        try:
            outcome.append(box.run("sleep 120"))
        except Exception as exc:  # the sandbox went away under the command: an error is the right answer
            outcome.append(exc)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    time.sleep(1.0)
    started = time.monotonic()
    box.close()
    thread.join(timeout=20)
    assert not thread.is_alive(), "the worker is still blocked after close()"
    assert time.monotonic() - started < 20 and outcome
