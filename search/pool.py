"""A small pool of warm sandboxes, one per concurrent expansion, replaced when one dies.

Forking a node is `restore(state)` in a warm sandbox: in the sandbox that took the snapshot it is a
`git read-tree` of the saved tree id; in another one the state's patch is applied to the sandbox's
start state (the same in every sandbox of the pool's image and commit). Either way no container starts and no earlier stage is redone. A sandbox that stops
answering (its container was killed, its shell cannot be restarted) is closed and replaced by a
fresh one, into which the next node's state is restored from its patch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sweagent.config import SandboxConfig
from sweagent.sandbox.base import CommandResult, RepoState, Sandbox
from sweagent.sandbox.factory import open_sandbox
from sweagent.sandbox.shell import quote
from verifiers.cache import ResultCache
from verifiers.execution import ExecutionConfig, ExecutionVerifier

Opener = Callable[..., Sandbox]  # `open_sandbox`'s shape: (config, *, repo_path, commit, image, run_label)


class MeteredSandbox(Sandbox):
    """A sandbox that adds up the seconds its commands took (`seconds`), for cost accounting.

    Everything else is the wrapped sandbox's: attributes and methods are passed through.
    """

    def __init__(self, inner: Sandbox) -> None:
        object.__setattr__(self, "inner", inner)
        object.__setattr__(self, "seconds", 0.0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "seconds":
            object.__setattr__(self, name, value)
        else:
            setattr(self.inner, name, value)

    @property
    def workdir(self) -> str:  # type: ignore[override]
        return self.inner.workdir

    @property
    def base_commit(self) -> str:  # type: ignore[override]
        return self.inner.base_commit

    @property
    def baseline(self) -> Any:  # type: ignore[override]
        """The wrapped sandbox's start state (a class attribute on `Sandbox`, so not reached by __getattr__)."""
        return self.inner.baseline

    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        result = self.inner.run(command, timeout)
        object.__setattr__(self, "seconds", self.seconds + float(result.duration or 0.0))
        return result

    def read_file(self, path: str) -> str:
        return self.inner.read_file(path)

    def write_file(self, path: str, content: str) -> None:
        self.inner.write_file(path, content)

    def diff(self, exclude_new: list[str] | None = None) -> str:
        return self.inner.diff(exclude_new)

    def snapshot(self) -> RepoState:
        return self.inner.snapshot()

    def restore(self, state: RepoState) -> None:
        self.inner.restore(state)

    def close(self) -> None:
        self.inner.close()

    @property
    def alive(self) -> bool:
        return self.inner.alive


@dataclass
class Slot:
    """One warm sandbox and the execution verifier bound to it."""

    index: int
    sandbox: MeteredSandbox | None = None
    verifier: ExecutionVerifier | None = None
    generation: int = 0
    open_seconds: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"sandbox{self.index}.{self.generation}"


class SandboxPool:
    """`size` sandboxes over one repository, opened on first use; `close()` releases them all."""

    def __init__(
        self,
        config: SandboxConfig,
        *,
        size: int,
        repo_path: str | None,
        commit: str | None,
        image: str | None,
        run_label: str | None,
        execution: ExecutionConfig,
        cache: ResultCache | None = None,
        opener: Opener | None = None,
    ) -> None:
        # no bytecode files: node states stay small and candidates free of build noise
        self.config = config.model_copy(update={"env": {"PYTHONDONTWRITEBYTECODE": "1", **config.env}})
        self.repo_path = repo_path
        self.commit = commit
        self.image = image
        self.run_label = run_label
        self.execution = execution
        self.cache = cache if cache is not None else ResultCache()
        self.opener: Opener = opener or open_sandbox
        self.slots = [Slot(i) for i in range(size)]
        self.replacements = 0
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------------
    def open(self, slot: Slot) -> Sandbox:
        """Open (or reopen) the slot's sandbox; setup errors (UserError) propagate."""
        t0 = time.perf_counter()
        sandbox = self.opener(
            self.config,
            repo_path=self.repo_path,
            commit=self.commit,
            image=self.image,
            run_label=self.run_label,
        )
        slot.open_seconds.append(time.perf_counter() - t0)
        slot.sandbox = metered = MeteredSandbox(sandbox)
        slot.verifier = ExecutionVerifier(metered, self.execution, self.cache)
        slot.generation += 1
        if self.commit is None:
            self.commit = sandbox.base_commit  # every sandbox of the pool starts at the same commit
        return sandbox

    def ensure(self, slot: Slot) -> bool:
        """Make the slot's sandbox usable; True when a new sandbox had to be opened."""
        if slot.sandbox is not None and healthy(slot.sandbox):
            return False
        if slot.sandbox is not None:
            self.discard(slot)
            with self._lock:
                self.replacements += 1
        self.open(slot)
        return True

    def discard(self, slot: Slot) -> None:
        sandbox, slot.sandbox, slot.verifier = slot.sandbox, None, None
        if sandbox is not None:
            try:
                sandbox.close()
            except Exception:  # a dead container may refuse even to be removed; the cleanup hook retries
                pass

    def close(self) -> None:
        for slot in self.slots:
            self.discard(slot)

    def reset_cache(self) -> None:
        """Forget every cached verification result (a pool reused for another task's search starts cold)."""
        self.cache = ResultCache()
        for slot in self.slots:
            if slot.verifier is not None:
                slot.verifier.cache = self.cache

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- forking -----------------------------------------------------------------------------------
    def fork(self, slot: Slot, state: RepoState) -> tuple[float, str, bool]:
        """Put the slot's sandbox into `state`: (seconds, how, replaced).

        `how` is `warm` (restored in a running sandbox) or `fresh` (a new sandbox had to be opened
        first, because the old one died or could not restore).
        """
        t0 = time.perf_counter()  # includes the health probe, and opening a sandbox when one is needed
        replaced = self.ensure(slot)
        assert slot.sandbox is not None
        try:
            self._restore(slot.sandbox, state)
            return time.perf_counter() - t0, "fresh" if replaced else "warm", replaced
        except Exception:
            if replaced:
                raise
        # the sandbox broke while restoring: replace it once and restore from the patch
        self.discard(slot)
        with self._lock:
            self.replacements += 1
        t0 = time.perf_counter()
        self.open(slot)
        assert slot.sandbox is not None
        self._restore(slot.sandbox, state)
        return time.perf_counter() - t0, "fresh", True

    @staticmethod
    def _restore(sandbox: Sandbox, state: RepoState) -> None:
        """The node's files, and a shell back at the repository root (a stage may have cd'd away)."""
        sandbox.restore(state)
        sandbox.run(f"cd {quote(sandbox.workdir)}", timeout=30)


def healthy(sandbox: Sandbox) -> bool:
    """Alive and answering a trivial command."""
    try:
        return sandbox.alive and sandbox.run("true", timeout=30).ok
    except Exception:
        return False
