"""How instances are scheduled: the one interface batch, eval, synth and select run their work through.

A run hands the executor `Job`s (a key, a module-level function, its arguments) and gets one `Outcome`
per job back, in the calling thread, through `on_done`. A job function is called as
`fn(ctx, *args)`: it writes its files under `ctx.out_dir`, reports progress through `ctx.emit`, and
charges model spend to `ctx.budget`. Where the job runs is the executor's business:

- `local`: a thread pool in this process; `ctx.out_dir` is the run folder itself.
- `ray`: a Ray task on whichever node has room; `ctx.out_dir` is a scratch folder on that node with
  the run folder's name (containers are labelled with it), and the files the job wrote travel back
  with its result and are written by the driver (atomically), so only the driver touches the run folder.

Either way a job that cannot start because the run's budget is spent comes back as
`Outcome(started=False)`, and a job whose process or node died comes back as `Outcome(lost=True)`
once its retries are used up: every job is accounted for exactly once.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

LOST = "error: lost"


class Budget(Protocol):
    """What a model needs of the run-wide cost cap (`sweagent.model.budget.RunBudget` and its Ray twin)."""

    cost_limit: float

    def add(self, cost: float) -> float: ...

    @property
    def spent(self) -> float: ...

    @property
    def exhausted(self) -> bool: ...


@dataclass
class JobContext:
    """What a running job knows about where it runs."""

    out_dir: Path
    node: str
    emit: Callable[[dict[str, Any]], None]
    budget: Budget | None = None
    remote: bool = False


@dataclass
class Job:
    """One unit of work; `fn(ctx, *args)` must be a module-level function (or picklable callable)
    for executors that run it in another process."""

    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()


@dataclass
class Outcome:
    """What became of one job: `value` when it ran to the end, else `error` (one line)."""

    key: str
    value: Any = None
    error: str | None = None
    node: str = ""
    started: bool = True
    lost: bool = False
    attempts: int = 1
    timing: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.started and self.error is None


@dataclass
class RunHooks:
    """Callbacks of one `Executor.run`. `on_done` is called in the thread that called `run`;
    `on_start` and `on_event` may come from worker threads (the local executor), so they must be
    thread-safe."""

    on_done: Callable[[Outcome], None]
    on_start: Callable[[str, str], None] | None = None
    on_event: Callable[[dict[str, Any]], None] | None = None
    stop: threading.Event | None = None


class Executor(ABC):
    """Schedules jobs; `run` blocks until every job has an outcome, and on Ctrl-C stops the work,
    removes the run's containers wherever they run, and re-raises."""

    name: str = ""
    remote: bool = False

    @abstractmethod
    def budget(self, cost_limit: float) -> Budget:
        """A run-wide cost cap shared by every job of this executor, wherever it runs."""

    @abstractmethod
    def run(
        self,
        jobs: Iterable[Job],
        out_dir: Path,
        hooks: RunHooks,
        *,
        budget: Budget | None = None,
        run_label: str | None = None,
    ) -> None:
        """Run `jobs`, writing into `out_dir`; a job does not start once `budget` is exhausted.
        `run_label` names the run's containers (label `swe-ttc.run`) to remove after an interrupt."""

    @abstractmethod
    def sweep(self, run_label: str) -> int:
        """Remove containers of `run_label` left by killed processes, on every node; returns how many."""

    def describe(self) -> str:
        """A few words for the start-of-run line, e.g. `4 workers` or `ray: 3 nodes, 12 CPUs`."""
        return self.name

    def close(self) -> None:  # noqa: B027 - most executors hold nothing
        """Release what the executor holds (a Ray connection it opened)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
