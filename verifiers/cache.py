"""A result cache keyed by (repository state hash, command or test id).

Many candidates on one task share the base commit, so their base-state test and reproduction runs
are identical; identical patches (common when sampling) share everything. The cache is thread-safe,
computes each key once even under concurrent callers, and can persist to a JSON-lines file so a
later run on the same tasks starts warm.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


def state_hash(base_commit: str, patch: str = "", environment: str = "") -> str:
    """Identify a repository state: the base commit plus the patch on top, in a given environment (image)."""
    digest = hashlib.sha256()
    for part in (environment, base_commit, patch):
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
    return digest.hexdigest()[:24]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


class ResultCache:
    """Thread-safe memo of JSON-serialisable results; `path` (optional) appends each new result to disk."""

    def __init__(self, path: str | Path | None = None, enabled: bool = True) -> None:
        self.enabled = enabled
        self.path = Path(path) if path else None
        self.hits = 0
        self.misses = 0
        self._data: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        if self.path and self.path.exists():
            self._load()

    @staticmethod
    def key(state: str, what: str) -> str:
        return f"{state}|{what}"

    def _load(self) -> None:
        assert self.path is not None
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                self._data[row["key"]] = row["value"]
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line after a crash: skip it

    def get(self, state: str, what: str) -> Any | None:
        if not self.enabled:
            return None
        with self._lock:
            return self._data.get(self.key(state, what))

    def put(self, state: str, what: str, value: Any) -> None:
        if not self.enabled:
            return
        key = self.key(state, what)
        with self._lock:
            self._data[key] = value
            if self.path:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps({"key": key, "value": value}) + "\n")

    def get_or_compute(self, state: str, what: str, compute: Callable[[], Any]) -> tuple[Any, bool]:
        """Return (value, was_cached). Concurrent callers of one key wait for the first to compute it.

        `compute` may return None to mean "do not cache" (e.g. the sandbox failed); it is then retried next time.
        """
        if not self.enabled:
            return compute(), False
        key = self.key(state, what)
        with self._lock:
            if key in self._data:
                self.hits += 1
                return self._data[key], True
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._data:
                    self.hits += 1
                    return self._data[key], True
                self.misses += 1
            value = compute()
            if value is not None:
                self.put(state, what, value)
            return value, False

    def record(self, hits: int = 0, misses: int = 0) -> None:
        """Count lookups made with `get` (callers that batch several keys into one computation)."""
        with self._lock:
            self.hits += hits
            self.misses += misses

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"entries": len(self._data), "hits": self.hits, "misses": self.misses}

    def merge(self, other: ResultCache) -> None:
        """Take every entry of `other` this cache lacks (e.g. one a remote worker filled)."""
        with other._lock:
            entries = dict(other._data)
        with self._lock:
            new = {k: v for k, v in entries.items() if k not in self._data}
            self._data.update(new)
            if self.path and new:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.writelines(json.dumps({"key": k, "value": v}) + "\n" for k, v in new.items())

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0
