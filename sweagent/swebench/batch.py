"""Run many instances with a pool of worker threads and keep `preds.json` right at every moment.

Trajectories are the source of truth: each instance's `<run_dir>/<id>/<id>.traj.json` is written
atomically by the solve function, and on start `preds.json` is rebuilt from every trajectory with a
final exit status. So a batch killed at any moment (even SIGKILL) and rerun with the same run id
skips what finished, reruns the rest, and ends with each instance exactly once in `preds.json`.
Every later write (`preds.json`, `exit_statuses.yaml`) is a temp file + rename under one lock.

Where instances run is the executor's business (`sweagent.executors`: threads here, or Ray tasks
across machines); only this process writes the run folder either way.
A failing instance (crash, Docker error, missing image) becomes its exit status; the batch goes on.
An instance lost with its worker or node (after the executor's retries) is recorded as `error: lost`.
The run-wide cost cap stops new instances from starting; running ones finish.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sweagent.config import RunConfig
from sweagent.executors.base import LOST, Executor, Job, JobContext, Outcome, RunHooks
from sweagent.executors.local import LocalExecutor
from sweagent.io import atomic_write_text
from sweagent.swebench.dashboard import Dashboard, PlainDashboard
from sweagent.swebench.images import DEFAULT_NAMESPACE, instance_image
from sweagent.swebench.predictions import make_prediction, write_exit_statuses, write_predictions
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
RETRIED_ON_RESUME = (SETUP_ERROR, LOST)  # the instance never ran to an end: a rerun tries it again


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


@dataclass
class InstanceRun:
    """What one instance's job hands back to the driver."""

    status: str
    patch: str
    cost: float
    detail: str


def run_instance(ctx: JobContext, solve: SolveFn, task: Task, config: RunConfig) -> InstanceRun:
    """One instance, wherever the executor runs it: the trajectory goes under `ctx.out_dir`."""
    try:
        result = solve(task, config, ctx.out_dir, budget=ctx.budget, on_event=ctx.emit)
        status, patch, cost = str(result.exit_status or "error: no_status"), result.patch or "", _cost(result)
        detail = str(getattr(result, "exit_detail", "") or "")
        if ctx.node and isinstance(result, Trajectory):  # say where it ran (and where it failed)
            if status.startswith("error") and detail:
                detail = result.exit_detail = f"on node {ctx.node}: {detail}"
            result.environment["node"] = ctx.node
            result.save(trajectory_path(ctx.out_dir, task.instance_id))
    except Exception as exc:  # a bug in one instance must not stop the batch
        status, patch, cost = f"error: {type(exc).__name__}", "", 0.0
        detail = f"{type(exc).__name__}: {exc}" + (f" (on node {ctx.node})" if ctx.node else "")
    return InstanceRun(status, patch, cost, detail)


class BatchRunner:
    """Solve `tasks` into `options.run_dir` on `executor` (default: `options.workers` threads).

    `solve` must be picklable (a module-level function or a small dataclass) for remote executors."""

    def __init__(
        self,
        tasks: list[Task],
        config: RunConfig,
        options: BatchOptions,
        solve: SolveFn | None = None,
        dashboard: Dashboard | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.tasks = tasks
        self.config = config
        self.options = options
        self.solve = solve or default_solve()
        self.dashboard = dashboard or PlainDashboard()
        self.run_dir = Path(options.run_dir)
        self.executor = executor or LocalExecutor(options.workers)
        self.budget = self.executor.budget(options.run_cost_limit)
        self._lock = threading.Lock()
        self._interrupted = threading.Event()
        self._running: set[str] = set()
        self.retried: dict[str, int] = {}
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
        extra: dict[str, Any] = {"not_started": sorted(self.not_started)}
        if self.retried:  # rerun after their worker or node died
            extra["retried"] = {iid: self.retried[iid] for iid in sorted(self.retried)}
        errors = {iid: e for iid, e in self.errors.items() if iid in self.statuses}
        write_exit_statuses(self.run_dir, self.statuses, self.costs, errors, **extra)

    def _restore(self) -> list[str]:
        """Rebuild preds and statuses from final trajectories; returns ids of selected tasks already done.

        A setup failure (`error: setup`: a missing image, Docker down) or a lost instance (`error: lost`)
        does not count as done: it never ran to an end, so a rerun tries it again."""
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
        done = {iid for iid, traj in finals.items() if traj.exit_status not in RETRIED_ON_RESUME}
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

    def _job(self, task: Task) -> Job:
        # the agent gets the public view only: no gold patch, test patch or test lists
        public = task.public().model_copy(update={"image": instance_image(task, self.options.namespace)})
        return Job(task.instance_id, run_instance, (self.solve, public, self._config_for(task)))

    def _started(self, iid: str, node: str) -> None:
        with self._lock:
            self._running.add(iid)
        self.dashboard.started(iid, node)

    def _record(self, outcome: Outcome) -> None:
        """The driver's side of one finished instance: preds.json and exit_statuses.yaml, atomically."""
        iid = outcome.key
        if not outcome.started:
            with self._lock:
                self.not_started.append(iid)
            return
        if outcome.lost:
            status, patch, cost, detail = LOST, "", 0.0, outcome.error or "lost"
            self._save_lost(iid, detail, outcome.node)
        elif outcome.error:
            status, patch, cost, detail = "error: internal", "", 0.0, outcome.error
        else:
            run: InstanceRun = outcome.value
            status, patch, cost, detail = run.status, run.patch, run.cost, run.detail
        with self._lock:
            self._running.discard(iid)
            self.preds[iid] = make_prediction(iid, self.config.model.name, patch)
            self.statuses[iid] = status
            self.costs[iid] = cost
            self.errors.pop(iid, None)
            if status.startswith("error") and detail:
                self.errors[iid] = " ".join(detail.split())[:300]
            if outcome.attempts > 1:
                self.retried[iid] = outcome.attempts
            self._write_files()
        if iid in self.errors:
            self.dashboard.note(f"{iid}: {self.errors[iid]}")
        self.dashboard.finished(iid, status, cost)

    def _save_lost(self, iid: str, detail: str, node: str) -> None:
        """A trajectory that says the instance was lost, so it is on record (and a rerun retries it)."""
        traj = Trajectory(instance_id=iid, model_name=self.config.model.name)
        traj.exit_status, traj.exit_detail = LOST, detail
        if node:
            traj.environment["node"] = node
        traj.save(trajectory_path(self.run_dir, iid))

    # -- the run --------------------------------------------------------------------------------

    def _remove_leftovers(self) -> None:
        """Containers of a killed earlier attempt of this run (the sandbox labels them with the run
        folder name), on every node the executor runs on."""
        removed = self.executor.sweep(self.run_dir.name)
        if removed:
            self.dashboard.note(
                f"removed {removed} container(s) left by an earlier, killed attempt of this run"
            )

    def run(self) -> BatchSummary:
        """Run every selected task not finished before; Ctrl-C leaves no container and no false final status."""
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
        hooks = RunHooks(
            on_done=self._record,
            on_start=self._started,
            on_event=self.dashboard.event,
            stop=self._interrupted,
        )
        try:
            with self.dashboard:
                jobs = [self._job(task) for task in todo]
                self.executor.run(jobs, self.run_dir, hooks, budget=self.budget, run_label=self.run_dir.name)
        except BaseException:
            self._mark_cut()
            raise
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

    def _mark_cut(self) -> None:
        """After an interrupt: an instance that started but was not recorded is not done, whatever its
        trajectory says (its sandbox was removed under it), so a rerun does it again."""
        for iid in sorted(self._running):
            path = trajectory_path(self.run_dir, iid)
            try:
                traj = Trajectory.load(path)
            except (OSError, ValueError):
                continue
            traj.exit_status, traj.exit_detail = None, "interrupted"
            traj.save(path)
