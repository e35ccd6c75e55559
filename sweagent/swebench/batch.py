"""Run many instances with a pool of worker threads and keep `preds.json` right at every moment.

Trajectories are the source of truth: each instance's `<run_dir>/<id>/<id>.traj.json` is written
atomically by the solve function, and on start `preds.json` is rebuilt from every trajectory with a
final exit status. So a batch killed at any moment (even SIGKILL) and rerun with the same run id
skips what finished, reruns the rest, and ends with each instance exactly once in `preds.json`.
Every later write (`preds.json`, `exit_statuses.yaml`) is a temp file + rename under one lock.

A failing instance (crash, Docker error, missing image) becomes its exit status; the batch goes on.
The run-wide cost cap (`RunBudget`) stops new instances from starting; running ones finish.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from sweagent.config import RunConfig
from sweagent.io import atomic_write_text
from sweagent.model.budget import RunBudget
from sweagent.swebench.dashboard import Dashboard, PlainDashboard
from sweagent.swebench.images import DEFAULT_NAMESPACE, instance_image
from sweagent.swebench.interrupts import drain, flag_on_interrupt
from sweagent.swebench.predictions import make_prediction, write_predictions
from sweagent.task import Task
from sweagent.trajectory import Trajectory, trajectory_path

INSTANCE_PLACEHOLDER = "{instance_id}"


class SolveResult(Protocol):
    exit_status: str | None
    patch: str
    stats: dict[str, Any]


SolveFn = Callable[..., SolveResult]


@dataclass
class BatchOptions:
    run_dir: Path
    workers: int = 1
    redo_existing: bool = False
    namespace: str | None = DEFAULT_NAMESPACE
    run_cost_limit: float = 0.0
    check_images: bool = True  # warn once when an instance image holds commits after its base


@dataclass
class BatchSummary:
    """What a batch did; `statuses` covers every selected instance that has a final status."""

    run_dir: Path
    statuses: dict[str, str] = field(default_factory=dict)
    skipped_existing: list[str] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)
    total_cost: float = 0.0
    budget_exhausted: bool = False


def default_solve() -> SolveFn:
    from sweagent.runner import solve_task

    return solve_task


SETUP_ERROR = "error: setup"


def load_final(run_dir: Path) -> dict[str, Trajectory]:
    """Every trajectory in `run_dir` with a final exit status (unreadable files count as not final)."""
    out: dict[str, Trajectory] = {}
    if not run_dir.is_dir():
        return out
    for sub in sorted(p for p in run_dir.iterdir() if p.is_dir()):
        path = trajectory_path(run_dir, sub.name)
        if not path.is_file():
            continue
        try:
            traj = Trajectory.load(path)
        except (OSError, ValueError):
            continue
        if traj.is_final and traj.instance_id == sub.name:
            out[sub.name] = traj
    return out


def _cost(result: SolveResult) -> float:
    try:
        return float((result.stats or {}).get("cost", 0.0) or 0.0)
    except (TypeError, ValueError):
        return 0.0


class BatchRunner:
    """Solve `tasks` into `options.run_dir` with `options.workers` threads."""

    def __init__(
        self,
        tasks: list[Task],
        config: RunConfig,
        options: BatchOptions,
        solve: SolveFn | None = None,
        dashboard: Dashboard | None = None,
    ) -> None:
        self.tasks = tasks
        self.config = config
        self.options = options
        self.solve = solve or default_solve()
        self.dashboard = dashboard or PlainDashboard()
        self.run_dir = Path(options.run_dir)
        self.budget = RunBudget(options.run_cost_limit)
        self._lock = threading.Lock()
        self._interrupted = threading.Event()
        self._cut: set[str] = set()
        self.preds: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, str] = {}
        self.costs: dict[str, float] = {}
        self.not_started: list[str] = []
        self.errors: dict[str, str] = {}
        self._image_check: threading.Thread | None = None

    # -- files ----------------------------------------------------------------------------------

    def _write_files(self) -> None:
        """preds.json and exit_statuses.yaml, atomically (caller holds the lock)."""
        write_predictions(self.run_dir / "preds.json", self.preds)
        by_status: dict[str, list[str]] = {}
        for iid, status in sorted(self.statuses.items()):
            by_status.setdefault(status, []).append(iid)
        doc = {
            "instances_by_exit_status": by_status,
            "total_cost": round(sum(self.costs.values()), 6),
            "not_started": sorted(self.not_started),
            "errors": {iid: self.errors[iid] for iid in sorted(self.errors) if iid in self.statuses},
        }
        atomic_write_text(self.run_dir / "exit_statuses.yaml", yaml.safe_dump(doc, sort_keys=False))

    def _restore(self) -> list[str]:
        """Rebuild preds and statuses from final trajectories; returns ids of selected tasks already done.

        A setup failure (`error: setup`: a missing image, Docker down) does not count as done: that
        instance never started, so a rerun tries it again once the environment is fixed."""
        finals = load_final(self.run_dir)
        selected = {t.instance_id for t in self.tasks}
        if self.options.redo_existing:
            finals = {iid: t for iid, t in finals.items() if iid not in selected}
        for iid, traj in finals.items():
            self.preds[iid] = make_prediction(iid, self.config.model.name, traj.patch)
            self.statuses[iid] = str(traj.exit_status)
            self.costs[iid] = _cost(traj)
            if self.statuses[iid].startswith("error") and traj.exit_detail:
                self.errors[iid] = " ".join(traj.exit_detail.split())[:300]
        done = {iid for iid, traj in finals.items() if traj.exit_status != SETUP_ERROR}
        return sorted(selected & done)

    # -- one instance ---------------------------------------------------------------------------

    def _config_for(self, task: Task) -> RunConfig:
        name = self.config.model.name
        if INSTANCE_PLACEHOLDER not in name:
            return self.config
        model = self.config.model.model_copy(
            update={"name": name.replace(INSTANCE_PLACEHOLDER, task.instance_id)}
        )
        return self.config.model_copy(update={"model": model})

    def _job(self, task: Task) -> None:
        iid = task.instance_id
        if self._interrupted.is_set() or self.budget.exhausted:
            with self._lock:
                self.not_started.append(iid)
            return
        self.dashboard.started(iid)
        # the agent gets the public view only: no gold patch, test patch or test lists
        task = task.public().model_copy(update={"image": instance_image(task, self.options.namespace)})
        try:
            result = self.solve(
                task, self._config_for(task), self.run_dir, budget=self.budget, on_event=self.dashboard.event
            )
            status, patch, cost = (
                str(result.exit_status or "error: no_status"),
                result.patch or "",
                _cost(result),
            )
            detail = str(getattr(result, "exit_detail", "") or "")
        except Exception as exc:  # a bug in one instance must not stop the batch
            status, patch, cost = f"error: {type(exc).__name__}", "", 0.0
            detail = f"{type(exc).__name__}: {exc}"
        with self._lock:
            if self._interrupted.is_set():
                self._cut.add(iid)
                return
            self.preds[iid] = make_prediction(iid, self.config.model.name, patch)
            self.statuses[iid] = status
            self.costs[iid] = cost
            self.errors.pop(iid, None)
            if status.startswith("error") and detail:
                self.errors[iid] = " ".join(detail.split())[:300]
            self._write_files()
        if iid in self.errors:
            self.dashboard.note(f"{iid}: {self.errors[iid]}")
        self.dashboard.finished(iid, status, cost)

    # -- the run --------------------------------------------------------------------------------

    def _remove_leftovers(self) -> None:
        """Containers of a killed earlier attempt of this run (the sandbox labels them with the run folder name)."""
        try:
            from sweagent.swebench.containers import remove_dead_leftovers
            from sweagent.swebench.images import docker_client

            removed = remove_dead_leftovers(docker_client(), self.run_dir.name)
        except Exception:  # no Docker here: every instance will report it on its own
            return
        if removed:
            self.dashboard.note(
                f"removed {removed} container(s) left by an earlier, killed attempt of this run"
            )

    def run(self) -> BatchSummary:
        """Run every selected task not finished before; Ctrl-C leaves no container and no false final status."""
        from sweagent.sandbox import cleanup

        self.run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.run_dir / "config.yaml", self.config.snapshot_yaml())
        self._remove_leftovers()
        done = self._restore()
        prior = sum(self.costs.values())
        if prior:
            self.budget.add(prior)
        with self._lock:
            self._write_files()
        todo = [t for t in self.tasks if t.instance_id not in set(done)]
        selected = {t.instance_id for t in self.tasks}
        self.dashboard.begin(
            len(self.tasks), len(done), {i: s for i, s in self.statuses.items() if i in selected}, prior
        )
        self._check_images(todo)
        cleanup.install_handlers()
        pool = ThreadPoolExecutor(max_workers=max(1, self.options.workers), thread_name_prefix="batch")
        futures: set[Future[None]] = set()
        try:
            with flag_on_interrupt(self._interrupted), self.dashboard:
                futures = {pool.submit(self._job, task) for task in todo}
                pending = set(futures)
                while pending:
                    finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in finished:
                        future.result()
        except BaseException:
            self._interrupt(pool, futures)
            raise
        pool.shutdown(wait=True)
        if self._image_check is not None:
            self._image_check.join(timeout=30)  # long done in a real run; a short one waits for its warning
        with self._lock:
            self._write_files()  # also records the instances the cost cap kept from starting
        return BatchSummary(
            run_dir=self.run_dir,
            statuses={i: s for i, s in self.statuses.items() if i in selected},
            skipped_existing=done,
            not_started=sorted(self.not_started),
            total_cost=sum(self.costs.values()),
            budget_exhausted=self.budget.exhausted,
        )

    def _check_images(self, todo: list[Task]) -> None:
        """Warn once per run, from a background thread, when the first instance image present here
        holds commits after its base commit (an agent could read the fix in it)."""
        if not (todo and self.options.check_images):
            return
        from sweagent.swebench.image_check import warn_once_in_background

        candidates = [(instance_image(t, self.options.namespace), t.base_commit or None) for t in todo[:8]]
        self._image_check = warn_once_in_background(candidates, self.dashboard.note)

    def _interrupt(self, pool: ThreadPoolExecutor, futures: set[Future[None]]) -> None:
        """Stop starting work, remove the sandboxes (also ones being opened right now) until every
        running instance has wound down, and mark those trajectories unfinished so a rerun does them."""
        from sweagent.sandbox import cleanup

        self._interrupted.set()
        drain(futures, cleanup.release_all)
        pool.shutdown(wait=True)
        for iid in sorted(self._cut):
            path = trajectory_path(self.run_dir, iid)
            try:
                traj = Trajectory.load(path)
            except (OSError, ValueError):
                continue
            traj.exit_status, traj.exit_detail = None, "interrupted"
            traj.save(path)
