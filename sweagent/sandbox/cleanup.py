"""Process-wide registry of live sandboxes, released on exit, Ctrl-C and SIGTERM.

Containers outlive the Python process unless removed explicitly, so every sandbox registers a
release callback here. The callbacks run at interpreter exit (atexit) and from SIGINT/SIGTERM
handlers that then chain to whatever handler was installed before (so Ctrl-C still raises
KeyboardInterrupt and SIGTERM still terminates). Entries are keyed by the creating process id so a
forked child never removes its parent's containers.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from collections.abc import Callable

_lock = threading.RLock()
_live: dict[int, tuple[int, Callable[[], None]]] = {}
_previous: dict[int, object] = {}
_atexit_done = False
_shutting_down = False
_signals_done = False


def register(key: int, release: Callable[[], None]) -> None:
    """Remember `release` (idempotent, safe to call twice) until `unregister(key)`."""
    with _lock:
        _live[key] = (os.getpid(), release)
    _install()


def unregister(key: int) -> None:
    with _lock:
        _live.pop(key, None)


def shutting_down() -> bool:
    """True once `release_all` has run: work must then finish synchronously, not in threads."""
    return _shutting_down


def release_all() -> None:
    """Release every sandbox this process created (in parallel: container removal is slow)."""
    global _shutting_down
    _shutting_down = True
    with _lock:
        mine = [release for pid, release in _live.values() if pid == os.getpid()]
        _live.clear()
    if not mine:
        return

    def _safe(release: Callable[[], None]) -> None:
        try:
            release()
        except Exception:  # noqa: BLE001 - best effort while shutting down
            pass

    if len(mine) == 1:
        _safe(mine[0])
        return
    # Plain threads, not an executor: executors refuse work once the interpreter is shutting down.
    threads = []
    for release in mine:
        try:
            thread = threading.Thread(target=_safe, args=(release,), daemon=True)
            thread.start()
            threads.append(thread)
        except RuntimeError:  # no new threads this late in shutdown: release in line
            _safe(release)
    for thread in threads:
        thread.join(timeout=60)


def _handler(signum: int, frame: object) -> None:
    release_all()
    previous = _previous.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)  # Python's default SIGINT handler raises KeyboardInterrupt here
        return
    if previous == signal.SIG_IGN:
        return
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install() -> None:
    """Install the atexit hook once, and the signal handlers once from the main thread
    (`signal.signal` works only there; a sandbox first opened in a worker thread still gets
    atexit, and the handlers as soon as any sandbox is opened from the main thread)."""
    global _atexit_done, _signals_done
    with _lock:
        if not _atexit_done:
            atexit.register(release_all)
            _atexit_done = True
        if _signals_done or threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            current = signal.getsignal(signum)
            if current is not _handler:
                _previous[signum] = current
                signal.signal(signum, _handler)
        _signals_done = True


def install_handlers() -> None:
    """Install the handlers now (call from the main thread before starting worker threads)."""
    _install()
