"""The sandbox interface every rollout, verifier and search node runs commands through.

A sandbox holds one repository at `workdir` (by convention `/testbed`) checked out at a base commit.
When it starts it records the repository's state as it finds it, its baseline (an image's set-up may
have left untracked build output, edited config files, changed modes; see `sweagent.sandbox.baseline`).
`diff()` and `snapshot()` are relative to that baseline, so a patch holds only the work done in the
sandbox, and a snapshot restores later in the same warm sandbox or in a fresh one of the same image.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sweagent.sandbox.baseline import Baseline


@dataclass
class CommandResult:
    """What one command produced. `output` is stdout and stderr merged, capped (head and tail kept)."""

    command: str
    output: str
    exit_code: int | None
    duration: float = 0.0
    timed_out: bool = False
    truncated_chars: int = 0
    shell_restarted: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RepoState:
    """Repository state relative to the start state (baseline) of a sandbox at `base_commit`.

    `patch` is a binary-safe `git diff` from the start tree, new files included; it restores in any
    sandbox with the same start (same image and commit). `tree` is a git tree id valid inside the
    sandbox that wrote it (a fast path for warm restores). `baseline` is the start tree's id: a
    content hash, equal in every fresh sandbox of the same image and commit, so `restore` refuses a
    state from a different start instead of applying its patch to the wrong files. A state without
    it (written before baselines existed, or `RepoState(commit, "")` meaning "the start") is taken
    as relative to the restoring sandbox's own start.
    """

    base_commit: str
    patch: str
    tree: str | None = None
    baseline: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RepoState:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


class Sandbox(ABC):
    """A place to run shell commands against one repository. Use as a context manager."""

    workdir: str = "/testbed"
    base_commit: str = ""
    baseline: Baseline | None = None  # the state recorded at start; None where there is no git repository

    @abstractmethod
    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        """Run `command` in the persistent shell (cwd and exported env persist between calls)."""

    @abstractmethod
    def read_file(self, path: str) -> str:
        """Read a text file (absolute, or relative to workdir). Raises FileNotFoundError."""

    @abstractmethod
    def write_file(self, path: str, content: str) -> None:
        """Write a text file, creating parent directories."""

    @abstractmethod
    def diff(self, exclude_new: list[str] | None = None) -> str:
        """Patch of the repository against its start state, new files included, except build
        output, what was untracked at start, and scratch files: new files whose top-level name
        (a file at the repository root, or a new top-level folder) matches an `exclude_new` glob."""

    @abstractmethod
    def snapshot(self) -> RepoState:
        """Capture the repository state."""

    @abstractmethod
    def restore(self, state: RepoState) -> None:
        """Reset the repository to `state` (start state plus its patch); SandboxError when the state
        was taken at another commit or from another start state."""

    @abstractmethod
    def close(self) -> None:
        """Release everything (container removed); idempotent."""

    @property
    def alive(self) -> bool:
        return True

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
