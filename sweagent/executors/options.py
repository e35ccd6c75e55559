"""The executor flags shared by every command that runs many instances (batch, eval, synth run, select).

@click.command()
@executor_options
def cmd(**opts): ...
    with executor_from_options(opts, workers=opts["workers"]) as executor: ...
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import click

from sweagent.errors import UserError
from sweagent.executors.base import Executor

EXECUTORS = ("local", "ray")


def executor_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --executor and the --ray-* flags to a click command."""
    options = [
        click.option(
            "--executor",
            type=click.Choice(EXECUTORS),
            default="local",
            show_default=True,
            help="where instances run: threads here (--workers) or tasks on a Ray cluster",
        ),
        click.option(
            "--ray-address",
            help="Ray cluster to run on: auto, HEAD_IP:6379 or ray://HEAD_IP:10001 "
            "(default: start a Ray instance on this machine)",
        ),
        click.option(
            "--ray-cpus-per-instance",
            type=click.FloatRange(min=0, min_open=True),
            default=1.0,
            show_default=True,
            help="CPUs Ray reserves for each instance",
        ),
        click.option(
            "--ray-memory-per-instance",
            default="4g",
            show_default=True,
            help="memory Ray reserves for each instance (e.g. 4g, 512m; 0: none)",
        ),
        click.option(
            "--ray-max-retries",
            type=click.IntRange(min=0),
            default=3,
            show_default=True,
            help="reruns of an instance whose worker or node died before it is recorded as `error: lost`",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def parse_memory(text: str) -> int:
    """Bytes in `4g`, `512m`, `1073741824` (Docker's notation); 0 for no reservation."""
    from docker.utils import parse_bytes

    try:
        return int(parse_bytes(str(text).strip().lower() or "0"))
    except Exception:
        raise UserError(
            f"--ray-memory-per-instance {text!r} is not a size: write e.g. 4g, 512m or 0"
        ) from None


def executor_from_options(opts: dict[str, Any], workers: int = 1) -> Executor:
    """The executor the flags ask for; connecting to Ray happens here, so a bad address fails first.
    A Ray instance started here (no --ray-address) gets room for `workers` instances at once."""
    kind = opts.get("executor") or "local"
    if kind == "local":
        if opts.get("ray_address"):
            raise UserError("--ray-address needs --executor ray: add it, or drop --ray-address")
        from sweagent.executors.local import LocalExecutor

        return LocalExecutor(workers)
    from sweagent.executors.ray_cluster import RayExecutor

    cpus = float(opts.get("ray_cpus_per_instance") or 1.0)
    return RayExecutor(
        address=opts.get("ray_address") or None,
        cpus_per_instance=cpus,
        memory_per_instance=parse_memory(opts.get("ray_memory_per_instance") or "0"),
        max_retries=int(opts.get("ray_max_retries", 3)),
        local_cpus=math.ceil(max(1, workers) * cpus),  # a local instance runs --workers at once
    )
