"""The `local` executor: a pool of threads in this process, on this machine's Docker engine."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from sweagent.executors.base import Budget, Executor, Job, JobContext, Outcome, RunHooks
from sweagent.model.budget import RunBudget
from sweagent.swebench.interrupts import drain, flag_on_interrupt


def _release(run_label: str | None) -> None:
    """Remove this process's sandboxes, and any container of the run it started but had not yet
    registered (one being created at the moment of the interrupt)."""
    from sweagent.sandbox import cleanup

    cleanup.release_all()
    if run_label:
        try:
            from sweagent.swebench.containers import remove_run_leftovers

            remove_run_leftovers(run_label, {os.getpid()})
        except Exception:  # no Docker: nothing of ours can be running either
            pass


class LocalExecutor(Executor):
    """Runs jobs on `workers` threads; the job function writes straight into the run folder."""

    name = "local"
    remote = False

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)

    def describe(self) -> str:
        return f"{self.workers} worker{'s' if self.workers != 1 else ''}"

    def budget(self, cost_limit: float) -> Budget:
        return RunBudget(cost_limit)

    def sweep(self, run_label: str) -> int:
        try:
            from sweagent.swebench.containers import remove_run_leftovers

            return remove_run_leftovers(run_label)
        except Exception:  # no Docker here: every instance will report it on its own
            return 0

    def run(
        self,
        jobs: Iterable[Job],
        out_dir: Path,
        hooks: RunHooks,
        *,
        budget: Budget | None = None,
        run_label: str | None = None,
    ) -> None:
        from sweagent.sandbox import cleanup

        stop = hooks.stop or threading.Event()
        ctx = JobContext(out_dir=Path(out_dir), node="", emit=hooks.on_event or _ignore, budget=budget)

        def call(job: Job) -> Outcome:
            if stop.is_set() or (budget is not None and budget.exhausted):
                return Outcome(job.key, started=False)
            if hooks.on_start:
                hooks.on_start(job.key, "")
            started = time.time()
            try:
                value = job.fn(ctx, *job.args)
            except Exception as exc:  # a bug in one job must not stop the others
                return Outcome(job.key, error=f"internal error: {type(exc).__name__}: {exc}"[:300])
            return Outcome(job.key, value=value, timing={"started": started, "finished": time.time()})

        cleanup.install_handlers()
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="job")
        futures: set[Future[Outcome]] = set()
        try:
            with flag_on_interrupt(stop):
                futures = {pool.submit(call, job) for job in jobs}
                pending = set(futures)
                while pending:
                    finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in finished:
                        hooks.on_done(future.result())
        except BaseException:
            # stop starting work, then remove the containers until every running job has wound down
            stop.set()
            drain(futures, lambda: _release(run_label))
            pool.shutdown(wait=True)
            raise
        pool.shutdown(wait=True)


def _ignore(event: dict) -> None:
    return None
