"""What a batch run shows while it works.

On a terminal: a live `rich` view with the overall bar (done/total, running cost, ETA), one line per
running instance (its step and stage) and a table of exit statuses; on a cluster, each instance's
node and a table of nodes (running, done). Elsewhere (CI logs, pipes): one plain line per start,
stage change and finish, so logs stay readable.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table


class Dashboard:
    """Shared bookkeeping; subclasses decide how it is shown. All methods are thread-safe."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self.lock = threading.RLock()
        self.total = 0
        self.done = 0
        self.cost = 0.0
        self.running: dict[str, dict[str, Any]] = {}
        self.statuses: Counter[str] = Counter()
        self.done_on: Counter[str] = Counter()  # finished instances per node ("" when not on a cluster)

    def begin(self, total: int, done: int, statuses: dict[str, str], cost: float) -> None:
        with self.lock:
            self.total, self.done, self.cost = total, done, cost
            self.statuses = Counter(statuses.values())

    def started(self, instance_id: str, node: str = "") -> None:
        with self.lock:
            self.running[instance_id] = {
                "step": 0,
                "stage": "starting",
                "cost": 0.0,
                "since": time.monotonic(),
                "node": node,
            }

    def event(self, event: dict[str, Any]) -> None:
        with self.lock:
            line = self.running.get(event.get("instance_id", ""))
            if line is not None:
                for key in ("step", "stage", "cost"):
                    if event.get(key) is not None:
                        line[key] = event[key]

    def finished(self, instance_id: str, status: str, cost: float) -> None:
        with self.lock:
            line = self.running.pop(instance_id, None)
            if line is not None and line.get("node"):
                self.done_on[line["node"]] += 1
            self.done += 1
            self.cost += cost
            self.statuses[status] += 1

    def note(self, message: str) -> None:
        self.console.print(message, markup=False, highlight=False)

    def nodes(self) -> dict[str, tuple[int, int]]:
        """Per node: (running, done); empty when not on a cluster."""
        with self.lock:
            running = Counter(line["node"] for line in self.running.values() if line.get("node"))
            names = sorted(set(running) | set(self.done_on))
            return {node: (running[node], self.done_on[node]) for node in names}

    def __enter__(self) -> Dashboard:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class PlainDashboard(Dashboard):
    """One line per event, for logs that are not a terminal."""

    def started(self, instance_id: str, node: str = "") -> None:
        super().started(instance_id, node)
        where = f" on {node}" if node else ""
        self.console.print(f"start  {instance_id}{where}", highlight=False, markup=False)

    def event(self, event: dict[str, Any]) -> None:
        with self.lock:
            line = self.running.get(event.get("instance_id", ""))
            changed = line is not None and event.get("stage") not in (None, line["stage"], "done")
            super().event(event)
        if changed:
            self.console.print(
                f"stage  {event['instance_id']}: {event['stage']} (step {event.get('step', '?')})",
                highlight=False,
                markup=False,
            )

    def finished(self, instance_id: str, status: str, cost: float) -> None:
        with self.lock:
            line = self.running.get(instance_id, {})
            since, node = line.get("since", time.monotonic()), line.get("node")
            super().finished(instance_id, status, cost)
            done, total, run_cost = self.done, self.total, self.cost
        where = f" on {node}" if node else ""
        self.console.print(
            f"done   [{done}/{total}] {instance_id}: {status}{where} (cost ${cost:.4f}, {time.monotonic() - since:.1f} s; "
            f"run cost ${run_cost:.4f})",
            highlight=False,
            markup=False,
        )


class LiveDashboard(Dashboard):
    """The live terminal view."""

    def __init__(self, console: Console | None = None, title: str = "batch") -> None:
        super().__init__(console)
        self.progress = Progress(
            TextColumn(f"[bold]{escape(title)}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("cost ${task.fields[cost]:.4f}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
        )
        self.bar = self.progress.add_task("batch", total=1, cost=0.0)
        self.live = Live(self, console=self.console, refresh_per_second=4, transient=False)

    def begin(self, total: int, done: int, statuses: dict[str, str], cost: float) -> None:
        super().begin(total, done, statuses, cost)
        self.progress.reset(self.bar, total=max(total, 1), completed=done, cost=cost)

    def finished(self, instance_id: str, status: str, cost: float) -> None:
        super().finished(instance_id, status, cost)
        self.progress.update(self.bar, advance=1, cost=self.cost)

    def __rich__(self) -> Group:
        with self.lock:
            on_cluster = any(line.get("node") for line in self.running.values()) or bool(self.done_on)
            running = Table(title="running", expand=False, show_edge=False)
            for col in ("instance", "node", "step", "stage", "cost", "time"):
                if col != "node" or on_cluster:
                    running.add_column(col)
            now = time.monotonic()
            for iid, line in sorted(self.running.items()):
                cells = [escape(iid), escape(line.get("node") or "")] if on_cluster else [escape(iid)]
                running.add_row(
                    *cells,
                    str(line["step"]),
                    str(line["stage"]),
                    f"${line['cost']:.4f}",
                    f"{now - line['since']:.0f}s",
                )
            statuses = Table(title="exit statuses", expand=False, show_edge=False)
            statuses.add_column("status")
            statuses.add_column("count", justify="right")
            for status, count in self.statuses.most_common():
                statuses.add_row(escape(status), str(count))
        parts: list[Any] = [self.progress, running, statuses]
        nodes = self.nodes()
        if nodes:
            table = Table(title="nodes", expand=False, show_edge=False)
            for col in ("node", "running", "done"):
                table.add_column(col)
            for node, (busy, done) in nodes.items():
                table.add_row(escape(node), str(busy), str(done))
            parts.append(table)
        return Group(*parts)

    def __enter__(self) -> Dashboard:
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop()


def make_dashboard(console: Console | None = None, title: str = "batch") -> Dashboard:
    """Live view on a terminal (its bar labelled `title`), plain lines otherwise."""
    console = console or Console()
    return LiveDashboard(console, title) if console.is_terminal else PlainDashboard(console)
