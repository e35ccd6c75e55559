"""Process-local registrations that travel with every job to the process that runs it.

Scripted models (`replay/...`, `oracle/...`, synth's `sampler/...`) are registered in the process that
starts a run; a job running in a Ray worker on another node would not find them there. A module with
such a registry calls `carry(export, restore)` once; a remote executor sends `export_all()` along
with the jobs and calls `restore_all` in the worker before the job. `restore` must be a module-level
function (it is sent by reference) and must merge, not replace, so it can run again and again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_carriers: list[tuple[Callable[[], Any], Callable[[Any], None]]] = []


def carry(export: Callable[[], Any], restore: Callable[[Any], None]) -> None:
    """Register a registry to carry: `export()` returns its picklable state, `restore(state)` merges it."""
    with _lock:
        if (export, restore) not in _carriers:
            _carriers.append((export, restore))


def export_all() -> list[tuple[Callable[[Any], None], Any]]:
    """(restore, state) for every carried registry that holds something."""
    with _lock:
        carriers = list(_carriers)
    out = []
    for export, restore in carriers:
        state = export()
        if state:
            out.append((restore, state))
    return out


def restore_all(items: list[tuple[Callable[[Any], None], Any]]) -> None:
    for restore, state in items:
        restore(state)
