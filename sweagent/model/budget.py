"""`RunBudget`: one cost cap shared by every task of a run (e.g. all workers of a batch).

Each `Model` of the run holds the same `RunBudget`; a model checks `exhausted` before a call and adds
the call's cost after it, so the run stops starting new calls once the cap is reached.
"""

from __future__ import annotations

import threading


class RunBudget:
    """Thread-safe running total of spend against `cost_limit` (USD; 0 means no limit)."""

    def __init__(self, cost_limit: float = 0.0) -> None:
        if cost_limit < 0:
            raise ValueError("cost_limit must be >= 0")
        self.cost_limit = cost_limit
        self._spent = 0.0
        self._calls = 0
        self._lock = threading.Lock()

    def add(self, cost: float) -> float:
        """Record one call's cost; return the new total."""
        with self._lock:
            self._spent += cost
            self._calls += 1
            return self._spent

    @property
    def spent(self) -> float:
        with self._lock:
            return self._spent

    @property
    def calls(self) -> int:
        with self._lock:
            return self._calls

    @property
    def exhausted(self) -> bool:
        with self._lock:
            return self.cost_limit > 0 and self._spent >= self.cost_limit

    def __repr__(self) -> str:
        return f"RunBudget(cost_limit={self.cost_limit}, spent={self.spent:.4f})"
