"""`synth run`: K rollouts per task, each graded by execution, then filtered.

The three phases reuse the project's own machinery: sampling is a batch run whose instances are the
samples (`<task id>.s<k>`), so a rerun skips finished samples exactly as `batch` resumes; grading is
the SWE-bench evaluator (official log parsers and rules; a patch graded before is not graded again);
filtering reads the trajectories and grades and writes `results.jsonl` and `stats.json`.

Mined tasks (whose `repo` is a local repository) are solved in the base image with the repository
copied in at the base commit, and graded in an image built from the same copy (`synth.images`);
SWE-bench tasks use their instance images for both. The agent only ever sees `task.public()`.
With `--search` each sample is a search; the filters read its chosen path stage by stage from the
files the search saved (`synth.rollouts`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from sweagent.commands.rollout import rollout_function
from sweagent.config import RunConfig
from sweagent.errors import UserError
from sweagent.executors.base import Executor
from sweagent.io import atomic_write_json, atomic_write_text
from sweagent.swebench.batch import BatchOptions, BatchRunner, BatchSummary, load_final
from sweagent.swebench.dashboard import Dashboard
from sweagent.swebench.images import DEFAULT_NAMESPACE, instance_image
from sweagent.swebench.predictions import make_prediction
from sweagent.task import Task
from sweagent.trajectory import Trajectory, trajectory_path
from synth.config import FilterConfig
from synth.images import ensure_task_image, is_mined
from synth.results import SampleResult, dedup_and_balance, judge, write_results
from synth.rollouts import load_rollout
from synth.samples import (
    EVAL_DIR,
    RESULTS_FILE,
    RUN_FORMAT,
    SETTINGS_FILE,
    STATS_FILE,
    TASKS_FILE,
    check_run_format,
    sample_id,
    split_sample_id,
)
from synth.stats import run_stats


@dataclass
class SynthOptions:
    run_dir: Path
    samples: int
    workers: int = 1
    filters: FilterConfig = field(default_factory=FilterConfig)
    namespace: str | None = DEFAULT_NAMESPACE
    redo_existing: bool = False
    eval_timeout: float = 1800.0
    source: str = ""


def check_sources(tasks: list[Task]) -> None:
    """A task naming a local repository path that is gone cannot be run: say so before sampling."""
    for task in tasks:
        if task.repo.startswith(("/", "~", "./")) and not is_mined(task):
            raise UserError(
                f"task {task.instance_id} names repository {task.repo}, which is not a git repository here: "
                "mine the tasks again (`swe-ttc synth tasks`) or restore the repository"
            )


@dataclass(frozen=True)
class SampleSolver:
    """Solves one sample; a small picklable object, so a Ray worker on another node can run it.
    Per sample id: the local repository of a mined task, or the instance image of a SWE-bench task."""

    repos: dict[str, str]
    images: dict[str, str]

    def __call__(self, task: Task, config: RunConfig, run_dir: Path, **kwargs: Any) -> Trajectory:
        solve = rollout_function(config)
        repo = self.repos.get(task.instance_id)
        if repo is not None:
            return solve(task.model_copy(update={"image": None}), config, run_dir, repo_path=repo, **kwargs)
        # the batch runner named the image after the sample id; the task's own image is wanted
        image = self.images[task.instance_id]
        return solve(task.model_copy(update={"image": image}), config, run_dir, **kwargs)


class SynthRun:
    """Samples, grades and filters `tasks` into `options.run_dir` (on `executor`: default threads)."""

    def __init__(
        self,
        tasks: list[Task],
        rows: list[dict[str, Any]],
        config: RunConfig,
        options: SynthOptions,
        dashboard: Dashboard | None = None,
        on_graded: Callable[[Any], None] | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.tasks = tasks
        self.executor = executor
        self.rows = rows
        self.config = config
        self.options = options
        self.dashboard = dashboard or Dashboard(Console(stderr=True))  # quiet: notes only, on stderr
        self.on_graded = on_graded
        self.run_dir = Path(options.run_dir)
        check_sources(tasks)
        self.by_sample: dict[str, Task] = {
            sample_id(t.instance_id, k): t for t in tasks for k in range(options.samples)
        }
        self.timing: dict[str, float] = {}
        self.graded_now = 0

    # -- phase 1: sampling --------------------------------------------------------------------------

    def solver(self) -> SampleSolver:
        repos = {sid: t.repo for sid, t in self.by_sample.items() if is_mined(t)}
        images = {
            sid: instance_image(t, self.options.namespace)
            for sid, t in self.by_sample.items()
            if not is_mined(t)
        }
        return SampleSolver(repos, images)

    def sample(self) -> BatchSummary:
        samples = [task.model_copy(update={"instance_id": sid}) for sid, task in self.by_sample.items()]
        options = BatchOptions(
            run_dir=self.run_dir,
            workers=self.options.workers,
            redo_existing=self.options.redo_existing,
            namespace=self.options.namespace,
        )
        runner = BatchRunner(
            samples,
            self.config,
            options,
            solve=self.solver(),
            dashboard=self.dashboard,
            executor=self.executor,
        )
        return runner.run()

    # -- phase 2: grading ---------------------------------------------------------------------------

    def grading_tasks(self, client: Any, sample_ids: list[str]) -> dict[str, Task]:
        """Each sample as a gradable task (hidden fields kept: grading only), with its image."""
        images: dict[str, str] = {}
        out: dict[str, Task] = {}
        for sid in sample_ids:
            source = self.by_sample[sid]
            if is_mined(source):
                key = f"{source.repo}@{source.base_commit}"
                if key not in images:
                    images[key] = ensure_task_image(client, source, self.config.sandbox.image)
                image = images[key]
            else:
                image = instance_image(source, self.options.namespace)
            out[sid] = source.model_copy(update={"instance_id": sid, "image": image})
        return out

    def grade(self, finals: dict[str, Trajectory]) -> dict[str, Any]:
        from sweagent.swebench.containers import ContainerOptions
        from sweagent.swebench.evaluation import EvalOptions, Evaluator, summarize
        from sweagent.swebench.images import docker_client

        remote = self.executor is not None and self.executor.remote
        client = (
            None if remote and not any(map(is_mined, self.tasks)) else docker_client(self.options.workers)
        )
        preds = {sid: make_prediction(sid, self.config.model.name, t.patch) for sid, t in finals.items()}
        tasks = self.grading_tasks(client, sorted(finals))
        options = EvalOptions(
            eval_dir=self.run_dir / EVAL_DIR,
            run_id=self.run_dir.name,
            workers=self.options.workers,
            timeout=self.options.eval_timeout,
            namespace=self.options.namespace,
            container=ContainerOptions(
                network=self.config.sandbox.network, ca_bundle=self.config.sandbox.ca_bundle
            ),
        )

        def on_result(result: Any) -> None:
            if not result.reused:
                self.graded_now += 1
            if self.on_graded:
                self.on_graded(result)

        results = Evaluator(client, options, executor=self.executor).run(tasks, preds, on_result=on_result)
        atomic_write_json(
            self.run_dir / EVAL_DIR / "report.json", summarize(sorted(self.by_sample), preds, results)
        )
        return results

    # -- phase 3: filtering -------------------------------------------------------------------------

    def judge_all(self, finals: dict[str, Trajectory], grades: dict[str, Any]) -> list[SampleResult]:
        results = []
        for sid, traj in sorted(finals.items()):
            grade = grades.get(sid)
            path = trajectory_path(self.run_dir, sid)
            results.append(
                judge(
                    load_rollout(path, traj),
                    instance_id=self.by_sample[sid].instance_id,
                    sample=split_sample_id(sid)[1],
                    grade=grade.status if grade else None,
                    grade_detail=grade.detail if grade else "",
                    config=self.options.filters,
                    trajectory_file=str(path.relative_to(self.run_dir)),
                )
            )
        return dedup_and_balance(results, self.options.filters)

    def write_inputs(self) -> None:
        """The tasks (rows as given) and the settings, so `export` and a rerun know what this run was."""
        atomic_write_text(
            self.run_dir / TASKS_FILE, "".join(json.dumps(row, default=str) + "\n" for row in self.rows)
        )
        atomic_write_json(self.run_dir / SETTINGS_FILE, self.settings())

    def settings(self) -> dict[str, Any]:
        return {
            "format": RUN_FORMAT,
            "run_id": self.run_dir.name,
            "dataset": self.options.source,
            "model": self.config.model.name,
            "temperature": self.config.model.temperature,
            "samples_per_task": self.options.samples,
            "search": self.config.search.strategy if self.config.search else None,
            "filters": self.options.filters.model_dump(),
        }

    def run(self) -> dict[str, Any]:
        """All three phases; returns the stats document (also written to stats.json)."""
        check_run_format(self.run_dir)  # a folder of another version is left untouched
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.write_inputs()
        t0 = time.perf_counter()
        summary = self.sample()
        t1 = time.perf_counter()
        finals = {sid: t for sid, t in load_final(self.run_dir).items() if sid in self.by_sample}
        grades = self.grade(finals) if finals else {}
        t2 = time.perf_counter()
        results = self.judge_all(finals, grades)
        write_results(self.run_dir / RESULTS_FILE, results)
        grading_minutes = (t2 - t1) / 60
        self.timing = {
            "sampling_seconds": round(t1 - t0, 3),
            "grading_seconds": round(t2 - t1, 3),
            "graded_now": self.graded_now,
            "graded_per_minute": round(self.graded_now / grading_minutes, 2) if self.graded_now else None,
        }
        stats = run_stats(
            results,
            **self.settings(),
            not_finished=sorted(set(self.by_sample) - set(finals)),
            resumed_samples=len(summary.skipped_existing),
            timing=self.timing,
        )
        atomic_write_json(self.run_dir / STATS_FILE, stats)
        return stats
