"""Index cache keyed by (repository identity, commit): an in-memory LRU and an optional disk cache.

An agent localises once per task but may ask again (another issue wording, a sub-question); the CLI
runs in a fresh process each time, which is what the disk cache (pickles under
`~/.cache/swe-ttc/localize`) is for. Entries are written atomically (temp file + rename); a corrupt or
unreadable entry is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from sweagent.localize.index import RepoIndex

FORMAT_VERSION = 3  # bump when RepoIndex changes shape: older pickles are rebuilt


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "swe-ttc" / "localize"


class IndexCache:
    """LRU of built indexes, optionally backed by a directory of pickles."""

    def __init__(self, capacity: int = 4) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, RepoIndex] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_build(
        self, key: str, build: Callable[[], RepoIndex], disk_dir: Path | None = None
    ) -> tuple[RepoIndex, str]:
        """The index for `key` and where it came from: "memory", "disk" or "built"."""
        with self._lock:
            index = self._items.get(key)
            if index is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return index, "memory"
        source = "built"
        index = _load(disk_dir, key) if disk_dir is not None else None
        if index is not None:
            source = "disk"
        else:
            self.misses += 1
            index = build()
            if disk_dir is not None:
                _store(disk_dir, key, index)
        self.put(key, index)
        return index, source

    def put(self, key: str, index: RepoIndex) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            self._items[key] = index
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _path(disk_dir: Path, key: str) -> Path:
    digest = hashlib.sha256(f"{FORMAT_VERSION}:{key}".encode()).hexdigest()[:32]
    return disk_dir / f"{digest}.pkl"


def _load(disk_dir: Path, key: str) -> RepoIndex | None:
    path = _path(disk_dir, key)
    try:
        with path.open("rb") as fh:
            stored_key, index = pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception:  # corrupt, truncated or from an incompatible version: rebuild
        return None
    return index if stored_key == key and isinstance(index, RepoIndex) else None


def _store(disk_dir: Path, key: str, index: RepoIndex) -> None:
    tmp = None
    try:
        disk_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=disk_dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump((key, index), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, _path(disk_dir, key))
        tmp = None
    except OSError:
        pass  # a cache that cannot be written only costs time
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
