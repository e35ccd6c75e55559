"""The sandbox interface every rollout, verifier and search node runs commands through.

A sandbox holds one repository at `workdir` (by convention `/testbed`) checked out at a base commit.
`snapshot()` captures the repository state (tracked changes and untracked files against the base
commit) so a search node can be restored later in the same warm sandbox or a fresh one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field


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
    """Repository state relative to `base_commit`.

    `patch` is a binary-safe `git diff` including untracked files; it restores anywhere.
    `tree` is a git tree id valid inside the sandbox that wrote it (a fast path for warm restores).
    """

    base_commit: str
    patch: str
    tree: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RepoState:
        return cls(**data)


class Sandbox(ABC):
    """A place to run shell commands against one repository. Use as a context manager."""

    workdir: str = "/testbed"
    base_commit: str = ""

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
        """Patch of the repository against the base commit, untracked files included,
        leaving out new files whose name matches one of the `exclude_new` globs."""

    @abstractmethod
    def snapshot(self) -> RepoState:
        """Capture the repository state."""

    @abstractmethod
    def restore(self, state: RepoState) -> None:
        """Reset the repository to `state` (base commit plus its patch)."""

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
