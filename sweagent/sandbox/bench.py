"""`swe-ttc bench sandbox`: round-trip time of a trivial command through our persistent shell vs a
fresh `docker exec` per command, in the same container and the same run (plus the local sandbox).

Targets: persistent shell median <= 1 ms and >= 50x faster than docker exec.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import click

from sweagent.config import DEFAULT_IMAGE, SandboxConfig
from sweagent.sandbox.repo_copy import GIT_ENV


def _timings(call: Callable[[], object], n: int, warmup: int = 5) -> dict[str, float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 4),
        "p95_ms": round(samples[min(len(samples) - 1, int(0.95 * len(samples)))], 4),
        "n": n,
    }


def _tiny_repo(root: Path) -> Path:
    env = {**os.environ, **GIT_ENV}
    root.mkdir()
    (root / "README.md").write_text("bench\n")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    return root


def _checked(sandbox) -> Callable[[], object]:
    def call() -> None:
        result = sandbox.run("true")
        if result.exit_code != 0:
            raise click.ClickException(f"`true` failed in the sandbox: {result.output!r}")

    return call


@click.command("sandbox")
@click.option("--n", default=200, show_default=True, help="commands timed per method")
@click.option("--image", default=DEFAULT_IMAGE, show_default=True, help="image to start the container from")
def bench_sandbox(n: int, image: str) -> None:
    """Time N trivial commands: persistent shell, docker exec per command, local sandbox."""
    from sweagent.sandbox.docker_sandbox import DockerSandbox
    from sweagent.sandbox.local_sandbox import LocalSandbox

    config = SandboxConfig(image=image)
    with tempfile.TemporaryDirectory(prefix="swe-ttc-bench-") as tmp:
        repo = _tiny_repo(Path(tmp) / "repo")
        with DockerSandbox(config, repo_path=str(repo), run_label="bench-sandbox") as sandbox:
            ours = _timings(_checked(sandbox), n)
            container = sandbox.container
            exec_per_command = _timings(lambda: container.exec_run(["true"]), n)
        with LocalSandbox(config.model_copy(update={"kind": "local"}), str(repo)) as local:
            local_shell = _timings(_checked(local), n)
    ratio = exec_per_command["median_ms"] / ours["median_ms"] if ours["median_ms"] else float("inf")
    report = {
        "bench": "sandbox",
        "image": image,
        "command": "true",
        "persistent_shell": ours,
        "docker_exec_per_command": exec_per_command,
        "local_shell": local_shell,
        "speedup_median": round(ratio, 1),
        "targets": {
            "persistent_median_le_1ms": ours["median_ms"] <= 1.0,
            "speedup_ge_50x": ratio >= 50,
        },
    }
    click.echo(json.dumps(report, indent=2))
