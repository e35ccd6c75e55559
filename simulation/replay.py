"""`ReplaySandbox`: the benchmark's fast execution mode, every result taken from a real run.

The search benchmark runs thousands of searches on a few fixture repositories, where the same command
meets the same files again and again. A replay sandbox keeps the repository's files in memory; the
first time a command meets a given state (files in the repository, files in the scratch folder,
working directory) it runs for real, on the host, in a private clone (a `LocalSandbox`); the output,
exit code, measured duration and the files it left are stored, and every later identical
(state, command) is answered from that store. So results are exactly those of real execution, and the
sandbox-seconds a search is charged are the measured ones, whether a result came from the store or not.

What differs from a container: commands run on the host (no isolation, the host's Python), and shell
state other than the working directory (exported variables) is not replayed. The sandbox shows the
same paths a Docker sandbox does (`/testbed`, a scratch folder under `/tmp`) and maps them to the host
clone, so stored results are shared by every replay sandbox of one repository. It is a sandbox like
any other to the code under test: the search, the agent and the verifiers run unchanged on it.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sweagent.config import SandboxConfig
from sweagent.sandbox.base import CommandResult, RepoState, Sandbox
from sweagent.sandbox.local_sandbox import LocalSandbox
from sweagent.sandbox.shell import quote

VIRTUAL_WORKDIR = "/testbed"
VIRTUAL_SCRATCH = "/tmp/swe-ttc-scratch"
_INTERNAL = ".swe_ttc"  # the local sandbox's own temp files in its scratch folder
_SCRATCH_PATH = re.compile(re.escape(VIRTUAL_SCRATCH) + r"/[^\s'\"<>|;&]+")


@dataclass
class Outcome:
    """A real run's result and the state it left."""

    output: str
    exit_code: int | None
    duration: float
    timed_out: bool
    files: Files
    scratch: dict[str, bytes | None]  # what the command changed in the scratch folder (None: removed)
    cwd: str
    named: list[str] = field(default_factory=list)  # the scratch paths the command named, in order


@dataclass
class ReplayStore:
    """Real results shared by every replay sandbox over one repository (thread-safe)."""

    runs: dict[str, Outcome] = field(default_factory=dict)
    diffs: dict[str, str] = field(default_factory=dict)
    patches: dict[str, Files] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0
    real_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


Files = dict[str, "bytes | None"]  # path -> content; None: a base file that was deleted


def _digest(files: Files) -> str:
    h = hashlib.sha256()
    for path in sorted(files):
        data = files[path]
        h.update(path.encode("utf-8", "surrogateescape") + b"\0")
        h.update(b"-" if data is None else hashlib.sha256(data).digest())
    return h.hexdigest()


class ReplaySandbox(Sandbox):
    """A sandbox whose commands run for real once per (state, command) and are replayed afterwards."""

    image = "replay"

    def __init__(self, config: SandboxConfig, repo_path: str, commit: str | None, store: ReplayStore) -> None:
        self.real = LocalSandbox(config.model_copy(update={"kind": "local"}), repo_path, commit)
        self.config = config
        self.store = store
        self.workdir = VIRTUAL_WORKDIR
        self.scratch = VIRTUAL_SCRATCH
        self.base_commit = self.real.base_commit
        self._real_workdir = self.real.workdir.rstrip("/")
        self._real_scratch = self.real.scratch.rstrip("/")
        self.base_files = self._read_base()
        self.files: Files = {}  # repository files that differ from the base commit
        self.outside: dict[str, bytes] = {}  # files in the scratch folder (virtual absolute paths)
        self.cwd = VIRTUAL_WORKDIR
        self._real_state: str | None = None  # the state the host clone holds (None: unknown)
        self._closed = False

    # -- paths ---------------------------------------------------------------------------------------
    def _to_real(self, text: str) -> str:
        return text.replace(VIRTUAL_SCRATCH, self._real_scratch).replace(VIRTUAL_WORKDIR, self._real_workdir)

    def _to_virtual(self, text: str) -> str:
        return text.replace(self._real_scratch, VIRTUAL_SCRATCH).replace(self._real_workdir, VIRTUAL_WORKDIR)

    def _where(self, path: str) -> tuple[str, str]:
        """('repo', relative path) or ('scratch', virtual absolute path)."""
        full = posixpath.normpath(posixpath.join(self.workdir, path))
        if full == VIRTUAL_WORKDIR or full.startswith(VIRTUAL_WORKDIR + "/"):
            return "repo", full[len(VIRTUAL_WORKDIR) + 1 :]
        if full.startswith(VIRTUAL_SCRATCH + "/"):
            return "scratch", full
        raise PermissionError(f"{path}: a replay sandbox holds only {VIRTUAL_WORKDIR} and {VIRTUAL_SCRATCH}")

    def _read_base(self) -> dict[str, bytes]:
        listing = self.real.run("git ls-files -z", timeout=60).output
        root = Path(self._real_workdir)
        return {
            name: (root / name).read_bytes()
            for name in listing.split("\0")
            if name and (root / name).is_file()
        }

    # -- state ---------------------------------------------------------------------------------------
    def _state_key(self) -> str:
        return f"{_digest(self.files)}|{_digest(self.outside)}|{self.cwd}"

    def _named(self, command: str) -> list[str]:
        """The scratch paths a command names, in order of first appearance."""
        return list(dict.fromkeys(_SCRATCH_PATH.findall(command)))

    def _run_key(self, command: str, timeout: float | None) -> str:
        """What a command's result depends on: the repository, the scratch files it names, the cwd.

        A named scratch path counts by its content (or as absent), not its name: verifiers name their
        files at random. Scratch files a command does not name (earlier candidates' patch files) cannot
        change its result; keying on them, or on names, would make every state new."""
        for i, path in enumerate(self._named(command)):
            data = self.outside.get(path)
            if data is not None:
                tag = hashlib.sha256(data).hexdigest()[:16]
            else:
                prefix = path.rstrip("/") + "/"
                tag = "folder" if any(p.startswith(prefix) for p in self.outside) else "absent"
            command = command.replace(path, f"<scratch {i}: {tag}>")
        return hashlib.sha256(f"{_digest(self.files)}|{self.cwd}\n{timeout}\n{command}".encode()).hexdigest()

    def _materialise(self) -> None:
        """Make the host clone hold this sandbox's state (files, scratch folder, working directory)."""
        key = self._state_key()
        if self._real_state == key:
            return
        self._real_state = None
        self.real.restore(RepoState(base_commit=self.base_commit, patch=""))
        for rel, data in self.files.items():
            if data is None:
                (Path(self._real_workdir) / rel).unlink(missing_ok=True)
            else:
                self.real.write_bytes(rel, data)
        scratch = Path(self._real_scratch)
        for path in sorted(scratch.rglob("*"), reverse=True):
            if path.name.startswith(_INTERNAL):
                continue
            path.unlink() if path.is_file() or path.is_symlink() else path.rmdir()
        for virtual, data in self.outside.items():
            target = Path(self._to_real(virtual))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        self.real.run(f"cd {quote(self._to_real(self.cwd))}", timeout=30)
        self._real_state = key

    def _read_back(self) -> tuple[Files, dict[str, bytes], str]:
        """The host clone's files (those differing from the base), scratch files and working directory."""
        status = self.real.run(
            "cd . && git status --porcelain=v1 -z --untracked-files=all --no-renames", timeout=60
        )
        root = Path(self._real_workdir)
        files: Files = {}
        for entry in status.output.split("\0"):
            if len(entry) < 4:
                continue
            rel = entry[3:]
            path = root / rel
            if path.is_file():
                data = path.read_bytes()
                if self.base_files.get(rel) != data:
                    files[rel] = data
            elif rel in self.base_files:
                files[rel] = None  # deleted
        scratch: dict[str, bytes] = {}
        for path in Path(self._real_scratch).rglob("*"):
            if path.is_file() and not any(part.startswith(_INTERNAL) for part in path.parts):
                scratch[self._to_virtual(str(path))] = path.read_bytes()
        cwd = self._to_virtual(self.real.run("pwd", timeout=30).output.strip() or self._real_workdir)
        return files, scratch, cwd

    # -- the Sandbox interface -------------------------------------------------------------------------
    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        key = self._run_key(command, timeout)
        named = self._named(command)
        with self.store.lock:
            outcome = self.store.runs.get(key)
        if outcome is None:
            t0 = time.perf_counter()
            self._materialise()
            result = self.real.run(self._to_real(command), timeout)
            files, scratch, cwd = self._read_back()
            changed: dict[str, bytes | None] = {p: d for p, d in scratch.items() if self.outside.get(p) != d}
            changed.update({p: None for p in self.outside if p not in scratch})
            outcome = Outcome(
                self._to_virtual(result.output),
                result.exit_code,
                result.duration,
                result.timed_out,
                files,
                changed,
                cwd,
                named,
            )
            with self.store.lock:
                self.store.runs[key] = outcome
                self.store.misses += 1
                self.store.real_seconds += time.perf_counter() - t0
            self.files, self.outside, self.cwd = dict(files), dict(scratch), cwd
            self._real_state = self._state_key()
        else:
            with self.store.lock:
                self.store.hits += 1
            self.files, self.cwd = dict(outcome.files), outcome.cwd
            renamed = dict(zip(outcome.named, named, strict=False))
            for path, data in outcome.scratch.items():
                path = renamed.get(path, path)
                if data is None:
                    self.outside.pop(path, None)
                else:
                    self.outside[path] = data
            output = outcome.output
            for old, new in renamed.items():
                output = output.replace(old, new)
            outcome = Outcome(
                output, outcome.exit_code, outcome.duration, outcome.timed_out, {}, {}, outcome.cwd
            )
        return CommandResult(
            command=command,
            output=outcome.output,
            exit_code=outcome.exit_code,
            duration=outcome.duration,
            timed_out=outcome.timed_out,
        )

    def read_file(self, path: str) -> str:
        where, key = self._where(path)
        if where == "scratch":
            if key in self.outside:
                return self.outside[key].decode("utf-8", "replace")
            raise FileNotFoundError(path)
        data = self.files.get(key)
        if data is not None:
            return data.decode("utf-8", "replace")
        if key in self.base_files and key not in self.files:
            return self.base_files[key].decode("utf-8", "replace")
        prefix = key.rstrip("/") + "/"
        if not key or any(p.startswith(prefix) for p in [*self.base_files, *self.files]):
            raise IsADirectoryError(f"{path} is a directory")
        raise FileNotFoundError(path)

    def write_file(self, path: str, content: str) -> None:
        where, key = self._where(path)
        data = content.encode("utf-8", "surrogateescape")
        if where == "scratch":
            self.outside[key] = data
        elif self.base_files.get(key) == data:
            self.files.pop(key, None)
        else:
            self.files[key] = data

    def diff(self, exclude_new: list[str] | None = None) -> str:
        key = f"{_digest(self.files)}|{exclude_new}"
        with self.store.lock:
            patch = self.store.diffs.get(key)
        if patch is None:
            self._materialise()
            patch = self.real.diff(exclude_new)
            with self.store.lock:
                self.store.diffs[key] = patch
        return patch

    def snapshot(self) -> RepoState:
        patch = self.diff()
        with self.store.lock:
            self.store.patches.setdefault(patch, dict(self.files))
        return RepoState(base_commit=self.base_commit, patch=patch)

    def restore(self, state: RepoState) -> None:
        with self.store.lock:
            files = self.store.patches.get(state.patch)
        if files is None:
            self._real_state = None
            self.real.restore(RepoState(base_commit=state.base_commit, patch=state.patch))
            files, _, _ = self._read_back()
            with self.store.lock:
                self.store.patches[state.patch] = dict(files)
            self.files = dict(files)
            self._real_state = None
        else:
            self.files = dict(files)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.real.close()

    @property
    def alive(self) -> bool:
        return not self._closed and self.real.alive


def replay_opener(store_for: dict[str, ReplayStore]):
    """An `open_sandbox`-shaped function for `SandboxPool`: replay sandboxes, one store per repository."""
    lock = threading.Lock()

    def opener(config: SandboxConfig, *, repo_path: str | None, commit: str | None, **_: object) -> Sandbox:
        assert repo_path is not None, "a replay sandbox needs a host repository"
        with lock:
            store = store_for.setdefault(os.path.abspath(repo_path), ReplayStore())
        return ReplaySandbox(config, repo_path, commit, store)

    return opener
