"""One persistent bash driven over a byte stream: the command protocol, timeouts and output capping.

Docker and local sandboxes differ only in how bytes reach bash (a docker exec socket or a pipe), so
that part is a small `Transport`; everything else lives here once.

Protocol: each new bash first defines `__swe_ttc_done` (save `pwd` and `export -p` to two state
files, then print a marker line with the exit code), and each command is then sent as one line

    { eval '<command, single quotes escaped>'; } </dev/null 2>&1; __swe_ttc_done

using builtins only, so a command costs no extra process. stdin is /dev/null so a command cannot
read the protocol; `eval` turns a syntax error into exit code 2 instead of breaking the shell; the
marker (random per session) is printed from two halves so echoing the protocol (`set -x`) never
forges it. An EXIT trap prints the marker too, so `exit 3` reports 3 before the shell is replaced.
The state files let a restarted shell (after a timeout, `exit`, or a crash) resume in the same
directory with the same exported variables. Output is read as a stream: only a head and a tail of
at most `output_limit` characters are kept, however much a command prints.
"""

from __future__ import annotations

import re
import secrets
import shlex
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from sweagent.sandbox.base import CommandResult

# UTF-8 continuation bytes: a character count is the byte count minus these.
_CONTINUATION = bytes(range(0x80, 0xC0))
_CHUNK = 1 << 16


class SandboxError(RuntimeError):
    """A sandbox operation failed for a reason inside the sandbox (it stopped, git failed, ...)."""


class Transport(ABC):
    """A bidirectional byte stream to one bash process."""

    @abstractmethod
    def send(self, data: bytes) -> None:
        """Write all of `data` to the shell's stdin."""

    @abstractmethod
    def recv(self, timeout: float | None) -> bytes:
        """Return the next bytes of stdout/stderr; b"" when the stream ended.

        Raises TimeoutError when nothing arrived within `timeout` seconds."""

    @abstractmethod
    def kill(self) -> None:
        """Stop the shell and everything in its process group, now."""

    @abstractmethod
    def close(self) -> None:
        """Release the stream (the shell may already be dead); idempotent."""


def quote(text: str) -> str:
    """Single-quote `text` for bash (works for any content without NUL)."""
    return "'" + text.replace("'", "'\\''") + "'"


def _utf8_head(data: bytearray) -> bytes:
    """`data` without a trailing incomplete UTF-8 sequence."""
    end = len(data)
    i = end - 1
    while i >= 0 and end - i <= 4 and 0x80 <= data[i] < 0xC0:
        i -= 1
    if i >= 0 and data[i] >= 0xC0:
        need = 2 if data[i] < 0xE0 else 3 if data[i] < 0xF0 else 4
        if end - i < need:
            return bytes(data[:i])
    return bytes(data)


def _utf8_tail(data: bytearray) -> bytes:
    """`data` without leading UTF-8 continuation bytes (a character cut in half)."""
    i = 0
    while i < len(data) and i < 4 and 0x80 <= data[i] < 0xC0:
        i += 1
    return bytes(data[i:])


class OutputCollector:
    """Keeps the head and tail of a byte stream of any size in bounded memory.

    `limit` is in characters; `None` keeps everything (internal commands that need all bytes).
    Buffers are sized in bytes at 4 bytes per character so any UTF-8 text fits.
    """

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total_bytes = 0
        self.total_chars = 0
        self.dropped = False
        self.kept = 0
        if limit is not None:
            self.head_chars = limit // 2
            self.tail_chars = limit - self.head_chars
            self.head_cap = 4 * self.head_chars
            self.tail_cap = 4 * self.tail_chars

    def add(self, data: bytes) -> None:
        if not data:
            return
        self.total_bytes += len(data)
        if self.limit is None:
            self.head += data
            return
        self.total_chars += len(data.translate(None, _CONTINUATION))
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > 2 * self.tail_cap + _CHUNK:
                del self.tail[: len(self.tail) - self.tail_cap]
                self.dropped = True

    def raw(self) -> bytes:
        """Everything collected (only meaningful with `limit=None`)."""
        return bytes(self.head + self.tail)

    def text(self) -> tuple[str, int]:
        """The (possibly capped) output and how many characters were cut from its middle."""
        if self.limit is None:
            return self.raw().decode("utf-8", "replace"), 0
        if not self.dropped:
            full = (self.head + self.tail).decode("utf-8", "replace")
            if len(full) <= self.limit:
                return full, 0
            cut = len(full) - self.head_chars - self.tail_chars
            return self._join(
                full[: self.head_chars], full[-self.tail_chars :] if self.tail_chars else "", cut
            )
        head = _utf8_head(self.head).decode("utf-8", "replace")[: self.head_chars]
        tail = _utf8_tail(self.tail).decode("utf-8", "replace")
        tail = tail[-self.tail_chars :] if self.tail_chars else ""
        cut = max(self.total_chars - len(head) - len(tail), 1)
        return self._join(head, tail, cut)

    def _join(self, head: str, tail: str, cut: int) -> tuple[str, int]:
        self.kept = len(head) + len(tail)
        note = f"\n[... {cut} characters of output cut here ...]\n"
        return head + note + tail, cut


@dataclass
class _Outcome:
    collector: OutputCollector
    exit_code: int | None
    timed_out: bool = False
    shell_exited: bool = False
    shell_died: bool = False


CLOSE_POLL_SECONDS = 1.0
"""How long a read waits before looking whether the session was closed from another thread."""


class ShellSession:
    """A persistent bash behind a `Transport`, restarted transparently when it dies or times out.

    `start` opens a fresh transport (a new bash); `state_dir` is where (as the shell sees it) the
    cwd/env files live, ideally on tmpfs since every command rewrites them; `init_lines` run in each
    new shell before it enters `workdir` (e.g. sourcing an image's ~/.bashrc). Not for concurrent
    use from several threads at once: commands are serialised by a lock.
    """

    def __init__(
        self,
        start: Callable[[], Transport],
        *,
        workdir: str,
        state_dir: str = "/tmp",
        output_limit: int = 20_000,
        command_timeout: float = 120.0,
        startup_timeout: float = 60.0,
        init_lines: list[str] | None = None,
    ) -> None:
        self._start = start
        self.workdir = workdir
        self.output_limit = output_limit
        self.command_timeout = command_timeout
        self.startup_timeout = startup_timeout
        self.init_lines = list(init_lines or [])
        token = secrets.token_hex(8)
        self._halves = (f"__SWE_TTC_{token[:8]}", f"{token[8:]}__")
        marker = "".join(self._halves).encode()
        self._marker_re = re.compile(b"\n" + re.escape(marker) + rb" (-?\d+)( X)?\n")
        self._window = len(marker) + 32
        self._cwd_file = shlex.quote(f"{state_dir.rstrip('/')}/.swe_ttc_cwd")
        self._env_file = shlex.quote(f"{state_dir.rstrip('/')}/.swe_ttc_env")
        self._transport: Transport | None = None
        h1, h2 = self._halves
        # Defined in every new shell; after each command it saves cwd/env and prints the marker.
        self._done_function = (
            f"__swe_ttc_done() {{ __swe_ttc_rc=$?; {{ builtin pwd >{self._cwd_file}; "
            f"builtin export -p >{self._env_file}; "
            f"builtin printf '\\n%s%s %d\\n' {h1} {h2} $__swe_ttc_rc; }} 2>/dev/null; }}"
        )
        self._exit_trap = f"trap 'builtin printf \"\\n%s%s %d X\\n\" {h1} {h2} $?' EXIT"
        self._tail = "__swe_ttc_done\n"
        self.restarts = 0
        self._closed = False  # set by close(): a command cut short by it must not start a new shell
        self._lock = threading.Lock()  # one command at a time: the stream has no request ids
        self._open(restore=False)

    # -- lifecycle -------------------------------------------------------------------------------

    def _open(self, restore: bool) -> None:
        self._transport = self._start()
        lines = [
            self._done_function,
            self._exit_trap,
            "unset HISTFILE PROMPT_COMMAND; PS1=; PS2=",
            *self.init_lines,
        ]
        if restore:
            lines.append(f"[ -r {self._env_file} ] && builtin . {self._env_file} >/dev/null 2>&1")
            lines.append(f'[ -r {self._cwd_file} ] && builtin cd "$(< {self._cwd_file})" 2>/dev/null')
        else:
            lines.append(f"builtin cd {shlex.quote(self.workdir)}")
        script = "; ".join(f"{{ {line}; }}" for line in lines)
        outcome = self._exchange(
            f"{{ {script}; }} </dev/null >/dev/null 2>&1; " + self._tail, self.startup_timeout
        )
        if outcome.timed_out or outcome.shell_died or outcome.shell_exited:
            output, _ = outcome.collector.text()
            self.close()
            raise SandboxError(f"the sandbox shell did not start: {output.strip()[-300:] or 'no output'}")

    def restart(self) -> None:
        """Kill the current shell (and its process group) and start a new one in the same cwd/env."""
        if self._closed:  # closed from another thread (Ctrl-C clean-up) while a command ran
            raise SandboxError("the sandbox was closed while a command ran")
        if self._transport is not None:
            try:
                self._transport.kill()
            finally:
                self._transport.close()
                self._transport = None
        self.restarts += 1
        self._open(restore=True)

    def close(self, kill: bool = True) -> None:
        """Stop the shell (`kill=False` only drops the stream, when its host goes away anyway)."""
        self._closed = True
        if self._transport is not None:
            transport, self._transport = self._transport, None
            try:
                if kill:
                    transport.kill()
            finally:
                transport.close()

    @property
    def alive(self) -> bool:
        return self._transport is not None

    # -- commands --------------------------------------------------------------------------------

    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        """Run `command`; output capped at `output_limit` characters."""
        return self._execute(command, timeout, self.output_limit)[0]

    def run_raw(self, command: str, timeout: float | None = None) -> tuple[int | None, bytes, CommandResult]:
        """Run `command` keeping every byte of its output (for internal commands and file reads);
        the returned result's `output` is empty, the bytes are the second item."""
        result, raw = self._execute(command, timeout, None)
        return result.exit_code, raw, result

    def _execute(self, command: str, timeout: float | None, limit: int | None) -> tuple[CommandResult, bytes]:
        with self._lock:
            if self._transport is None:
                raise SandboxError("the sandbox is closed")
            return self._execute_locked(command, self.command_timeout if timeout is None else timeout, limit)

    def _execute_locked(self, command: str, timeout: float, limit: int | None) -> tuple[CommandResult, bytes]:
        started = time.monotonic()
        if "\0" in command:
            return CommandResult(command, "command contains a NUL byte; not run", 2, notes=["not run"]), b""
        line = "{ eval " + quote(command) + "; } </dev/null 2>&1; " + self._tail
        outcome = self._exchange(line, timeout, limit)
        output, cut = outcome.collector.text() if limit is not None else ("", 0)
        result = CommandResult(
            command=command,
            output=output,
            exit_code=outcome.exit_code,
            duration=time.monotonic() - started,
            timed_out=outcome.timed_out,
            truncated_chars=cut,
        )
        if cut:
            result.notes.append(
                f"output truncated: {cut} of {cut + outcome.collector.kept} characters cut from the middle "
                f"(limit {limit})"
            )
        if outcome.timed_out:
            self.restart()
            result.shell_restarted = True
            result.notes.append(
                f"command timed out after {timeout:g}s and was killed; the shell was restarted "
                "in the same directory with the same exported variables"
            )
        elif outcome.shell_exited or outcome.shell_died:
            self.restart()
            result.shell_restarted = True
            how = f"exited with code {outcome.exit_code}" if outcome.shell_exited else "died"
            result.notes.append(
                f"the shell {how}; a new shell was started in the last known directory with the same "
                "exported variables"
            )
        return result, outcome.collector.raw() if limit is None else b""

    def _exchange(self, line: str, timeout: float, limit: int | None = None) -> _Outcome:
        """Send one protocol line and stream the reply until the marker, EOF or the deadline."""
        transport = self._transport
        assert transport is not None
        collector = OutputCollector(limit)
        deadline = time.monotonic() + timeout
        try:
            transport.send(line.encode("utf-8", "surrogateescape"))
        except OSError:
            return _Outcome(collector, None, shell_died=True)
        pending = b""
        search = self._marker_re.search
        window = self._window
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                collector.add(pending)
                return _Outcome(collector, None, timed_out=True)
            if self._closed:  # closed from another thread: its socket may not wake a blocked read
                collector.add(pending)
                return _Outcome(collector, None, shell_died=True)
            try:
                chunk = transport.recv(min(remaining, CLOSE_POLL_SECONDS))
            except TimeoutError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                collector.add(pending)
                return _Outcome(collector, None, shell_died=True)
            data = pending + chunk if pending else chunk
            found = search(data)
            if found:
                collector.add(data[: found.start()])
                exited = found.group(2) is not None
                return _Outcome(collector, int(found.group(1)), shell_exited=exited)
            if len(data) > window:
                collector.add(data[:-window])
                pending = data[-window:]
            else:
                pending = data
