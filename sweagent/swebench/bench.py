"""`swe-ttc bench batch`: batch throughput on the fixture dataset at 1 and 2 workers, plus eval timing.

The model is an instant scripted oracle (it applies each instance's gold patch through the editor
tool and submits), so the figures measure the framework: sandbox start, tools, trajectory and
preds writes, not a language model. Each fixture instance is run `--copies` times under distinct
ids so the pool has enough work to overlap. The eval part grades the 1-worker predictions and
splits each instance's wall time into image check, container start, patch, tests, grading, clean-up
(at 1 worker; the 2-worker wall time is the in-run comparison). With `--executor ray` the same
instances also run on one and two Ray worker nodes (`sweagent.executors.bench`).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import click

from sweagent.config import RunConfig
from sweagent.swebench.batch import BatchOptions, BatchRunner
from sweagent.swebench.dashboard import Dashboard
from sweagent.task import Task

PHASES = ("image", "container_start", "patch_apply", "tests", "grading", "cleanup", "total")


class _Quiet(Dashboard):
    """Collects what the live view would show, prints nothing (the bench prints one JSON object)."""

    def note(self, message: str) -> None:
        pass


def _copies(tasks: list[Task], copies: int) -> list[Task]:
    """`copies` variants of each task with distinct ids, all pointing at the original image."""
    from sweagent.swebench.images import instance_image

    out = []
    for k in range(copies):
        for task in tasks:
            out.append(
                task.model_copy(
                    update={"instance_id": f"{task.instance_id}.c{k}", "image": instance_image(task)}
                )
            )
    return out


class _Timed(BatchRunner):
    """Keeps each instance's outcome (with its timing) for the figures."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes: list = []

    def _record(self, outcome) -> None:
        self.outcomes.append(outcome)
        super()._record(outcome)


def _run(
    tasks: list[Task], workers: int, root: Path, executor=None, name: str = ""
) -> tuple[float, dict, list]:
    from sweagent.model.scripted import register_oracle

    for task in tasks:
        register_oracle(task.instance_id, task.patch)
    config = RunConfig.model_validate(
        {"model": {"name": "oracle/{instance_id}"}, "agent": {"localize_hint": False}}
    )
    options = BatchOptions(run_dir=root / (name or f"workers-{workers}"), workers=workers)
    start = time.perf_counter()
    runner = _Timed(tasks, config, options, dashboard=_Quiet(), executor=executor)
    summary = runner.run()
    return time.perf_counter() - start, summary.statuses, runner.outcomes


def _eval_timing(tasks: list[Task], preds_path: Path, root: Path) -> dict:
    from sweagent.swebench.evaluation import EvalOptions, Evaluator
    from sweagent.swebench.images import docker_client
    from sweagent.swebench.predictions import read_predictions

    preds = read_predictions(preds_path)
    by_id = {t.instance_id: t for t in tasks}
    walls, per_worker = {}, {}
    for workers in (1, 2):
        options = EvalOptions(
            eval_dir=root / f"eval-{workers}", run_id=f"bench-eval-{workers}", workers=workers
        )
        start = time.perf_counter()
        per_worker[workers] = Evaluator(docker_client(), options).run(by_id, preds)
        walls[workers] = time.perf_counter() - start
    results = per_worker[1]
    n = max(len(results), 1)
    mean = {p: round(sum(r.timing.get(p, 0.0) for r in results.values()) / n, 3) for p in PHASES}
    return {
        "instances": len(results),
        "resolved": sum(r.status == "resolved" for r in results.values()),
        "wall_seconds_1_worker": round(walls[1], 2),
        "wall_seconds_2_workers": round(walls[2], 2),
        "speedup_2_vs_1": round(walls[1] / walls[2], 2),
        "mean_seconds_per_instance_1_worker": mean,
    }


@click.command()
@click.option(
    "--copies", type=click.IntRange(min=1), default=2, show_default=True, help="runs of each fixture instance"
)
@click.option("--skip-eval", is_flag=True, help="measure batch throughput only")
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="ray: also run on 1 and 2 Ray worker nodes of a cluster started here",
)
def bench_batch(copies: int, skip_eval: bool, executor: str) -> None:
    """Fixture dataset at 1 and 2 workers (instances per minute, speed-up) and eval time per instance."""
    from sweagent.swebench.dataset import load_dataset
    from sweagent.swebench.fixtures import build

    with tempfile.TemporaryDirectory(prefix="swe-ttc-bench-batch-") as tmp:
        root = Path(tmp)
        build(root / "fixtures.jsonl")
        tasks = _copies(load_dataset(str(root / "fixtures.jsonl")).tasks(), copies)
        from sweagent.executors.bench import figures as run_figures

        figures = {}
        for workers in (1, 2):
            seconds, statuses, outcomes = _run(tasks, workers, root)
            submitted = sum(s == "submitted" for s in statuses.values())
            figures[workers] = run_figures(len(tasks), seconds, workers, outcomes, submitted)
        out = {
            "bench": "batch",
            "instances": len(tasks),
            "cpus": os.cpu_count(),
            "workers_1": figures[1],
            "workers_2": figures[2],
            "speedup_2_vs_1": round(
                figures[2]["instances_per_minute"] / figures[1]["instances_per_minute"], 2
            ),
        }
        if executor == "ray":
            from sweagent.executors.bench import ray_figures

            ray = ray_figures(lambda ex, name: _run(tasks, 1, root, ex, name), len(tasks), root)
            for nodes in (1, 2):
                local = figures[nodes]["instances_per_minute"]
                ray[f"nodes_{nodes}"]["vs_local_workers_same_count"] = round(
                    ray[f"nodes_{nodes}"]["instances_per_minute"] / local, 2
                )
                ray[f"nodes_{nodes}"]["ray_overhead_s_per_instance"] = round(
                    ray[f"nodes_{nodes}"]["overhead_s_per_instance"]
                    - figures[nodes]["overhead_s_per_instance"],
                    2,
                )
            out["ray"] = ray
        if not skip_eval:
            out["eval"] = _eval_timing(tasks, root / "workers-1" / "preds.json", root)
    click.echo(json.dumps(out, indent=2))
