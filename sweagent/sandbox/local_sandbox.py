"""A sandbox on the host: a private clone of the repository and one persistent bash.

NOT isolated: commands run as the current user with full access to the machine and network. It
protects only the user's working tree (the agent works in a temp clone) and the user's secrets
(variables whose names look like credentials are not passed to the shell). Use it where Docker is
unavailable and you trust the model; use the Docker sandbox otherwise.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from sweagent.config import SandboxConfig
from sweagent.errors import UserError
from sweagent.sandbox import cleanup
from sweagent.sandbox.repo_copy import GIT_ENV, PreparedRepo, prepare_clone
from sweagent.sandbox.shell import ShellSession, Transport
from sweagent.sandbox.shell_sandbox import ShellSandbox

_SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL")
# Variables that would make bash or git run user code or read other repositories.
_DROPPED = {"BASH_ENV", "ENV", "PROMPT_COMMAND", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "CDPATH"}


def clean_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The host environment minus credentials and shell hooks, plus `extra`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not any(word in name.upper() for word in _SECRET_WORDS) and name not in _DROPPED
    }
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update({"PAGER": "cat", "GIT_PAGER": "cat", "MANPAGER": "cat", "TERM": "dumb"})
    env.update(extra or {})
    return env


def _fast_state_dir() -> str | None:
    """A private dir on tmpfs for the shell's per-command state files, when there is one.

    Each command rewrites two small files; on tmpfs that costs ~20 us, on a disk file system it can
    cost milliseconds under load (truncation goes through the journal)."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        try:
            return tempfile.mkdtemp(prefix="swe-ttc-state-", dir="/dev/shm")
        except OSError:
            return None
    return None


class LocalTransport(Transport):
    """bash as a child process in its own session; its pipes are the stream."""

    def __init__(self, cwd: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin.fileno()
        self._out = self.proc.stdout.fileno()
        self._poll = select.poll()
        self._poll.register(self._out, select.POLLIN | select.POLLHUP | select.POLLERR)

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._in, view)
            view = view[written:]

    def recv(self, timeout: float | None) -> bytes:
        if not self._poll.poll(None if timeout is None else max(0, int(timeout * 1000) + 1)):
            raise TimeoutError
        return os.read(self._out, 1 << 16)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()


class LocalSandbox(ShellSandbox):
    """A private clone of a host repository in a temp dir (the `workdir`), with a persistent bash."""

    def __init__(self, config: SandboxConfig, repo_path: str, commit: str | None = None) -> None:
        if shutil.which("bash") is None:
            raise UserError("the local sandbox needs bash on PATH: install bash or use `--sandbox docker`")
        self.config = config
        self._closed = False
        self._repo: PreparedRepo = prepare_clone(repo_path, commit, prefix="swe-ttc-local-")
        self.workdir = str(self._repo.path)
        self.base_commit = self._repo.commit
        self.scratch = str(self._repo.root / "scratch")
        Path(self.scratch).mkdir()
        self._state_dir = _fast_state_dir() or self.scratch
        cleanup.register(id(self), self.close)
        env = clean_environment({**GIT_ENV, **config.env})
        for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
            env.pop(name, None)  # the agent's own commits use git's normal identity rules
        try:
            self.shell = ShellSession(
                lambda: LocalTransport(self.workdir, env),
                workdir=self.workdir,
                state_dir=self._state_dir,
                output_limit=config.output_limit,
                command_timeout=config.command_timeout,
            )
            self.record_baseline()
        except BaseException:
            self.close()
            raise

    def read_bytes(self, path: str) -> bytes:
        target = Path(self.resolve(path))
        if target.is_dir():
            raise IsADirectoryError(f"{path} is a directory")
        return target.read_bytes()

    def write_bytes(self, path: str, data: bytes) -> None:
        target = Path(self.resolve(path))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        cleanup.unregister(id(self))
        shell = getattr(self, "shell", None)
        if shell is not None:
            shell.close()
        self._repo.cleanup()
        if self._state_dir != self.scratch:
            shutil.rmtree(self._state_dir, ignore_errors=True)

    @property
    def alive(self) -> bool:
        return not self._closed and super().alive
