"""Ctrl-C and SIGTERM for worker pools: first mark the run interrupted, then stop it.

Stopping removes the run's containers, which makes every running instance fail. Setting the flag
before anything is removed lets the pool tell "cut short by the user" from "finished", so no
interrupted instance is recorded as done (a rerun does it again).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, wait
from contextlib import contextmanager
from typing import Any


@contextmanager
def flag_on_interrupt(flag: threading.Event) -> Iterator[None]:
    """While active (main thread only), SIGINT/SIGTERM set `flag`, then raise KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        flag.set()
        raise KeyboardInterrupt

    previous: dict[int, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def drain(futures: Iterable[Future[Any]], release: Callable[[], None], poll: float = 0.2) -> None:
    """After an interrupt: wait for the running futures, calling `release` (remove containers) until
    they are all done, so a container a worker was starting just then cannot outlive the run."""
    for future in futures:
        future.cancel()
    pending = {f for f in futures if not f.done()}
    while pending:
        release()
        _, pending = wait(pending, timeout=poll)
    release()
