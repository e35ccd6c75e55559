"""Rich tables for the synth commands: what was mined or dropped, and what each filter let through."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from synth.mine import REASONS, MineResult


def mine_table(result: MineResult) -> Table:
    table = Table(title=f"tasks mined from {result.repo}", title_justify="left")
    table.add_column("outcome")
    table.add_column("commits", justify="right")
    table.add_column("meaning")
    table.add_row("[green]mined[/]", str(len(result.rows)), "tests flip: FAIL_TO_PASS found")
    for reason, count in result.dropped.items():
        table.add_row(f"dropped: {reason}", str(count), REASONS.get(reason, ""))
    return table


def no_tasks_line(result: MineResult) -> str:
    """`0 tasks, because ...`: the reasons, most common first."""
    if not result.outcomes:
        return "0 tasks, because the history holds no commits in the selected range (check --since / --rev)"
    parts = [f"{n} {REASONS.get(reason, reason)}" for reason, n in result.dropped.items()]
    return f"0 tasks, because of {len(result.outcomes)} commits " + "; ".join(parts)


def filter_table(stats: dict[str, Any]) -> Table:
    table = Table(title="filters", title_justify="left")
    for column in ("filter", "checked", "passed", "rate", "rejected for"):
        table.add_column(column, justify="right" if column in ("checked", "passed", "rate") else "left")
    for name, row in stats["filters"].items():
        reasons = ", ".join(f"{reason} {n}" for reason, n in row["rejected"].items()) or "-"
        table.add_row(name, str(row["checked"]), str(row["passed"]), f"{row['rate']:.0%}", reasons)
    return table


def task_table(stats: dict[str, Any]) -> Table:
    table = Table(title="per task", title_justify="left")
    for column in ("task", "samples", "resolved", "solve rate", "clean", "accepted"):
        table.add_column(column, justify="left" if column == "task" else "right")
    for iid, row in stats["per_task"].items():
        note = {"always_solved": " (always)", "never_solved": " (never)"}.get(row.get("difficulty", ""), "")
        table.add_row(
            iid,
            str(row["samples"]),
            str(row["resolved"]),
            f"{row['resolve_rate']:.0%}{note}",
            str(row["passed_complexity"]),
            str(row["accepted"]),
        )
    return table
