"""`stats.json`: acceptance rates per filter, per task and overall, with every rejection reason counted,
the tasks by solve rate (always, never, sometimes solved), and the measured facts of the samples."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from synth.results import FILTERS, SampleResult


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def filter_stats(results: list[SampleResult]) -> dict[str, dict[str, Any]]:
    """Accuracy and complexity over every sample; dedup and balance over the samples that reach them."""
    out: dict[str, dict[str, Any]] = {}
    for name in FILTERS:
        if name in ("accuracy", "complexity", "difficulty"):
            checked = results
        elif name == "dedup":
            checked = [r for r in results if r.passes_quality]
        else:
            checked = [r for r in results if r.passes_quality and not r.filters["dedup"]]
        reasons = Counter(reason for r in checked for reason in r.filters.get(name, []))
        passed = sum(1 for r in checked if not r.filters.get(name))
        out[name] = {
            "checked": len(checked),
            "passed": passed,
            "rate": _rate(passed, len(checked)),
            "rejected": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        }
    return out


def task_stats(results: list[SampleResult]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for iid in sorted({r.instance_id for r in results}):
        mine = [r for r in results if r.instance_id == iid]
        resolved = sum(r.resolved for r in mine)
        accepted = sum(r.accepted for r in mine)
        out[iid] = {
            "samples": len(mine),
            "resolved": resolved,
            "passed_complexity": sum(1 for r in mine if not r.filters["complexity"]),
            "accepted": accepted,
            "resolve_rate": _rate(resolved, len(mine)),
            "acceptance_rate": _rate(accepted, len(mine)),
            "difficulty": _difficulty(resolved, len(mine)),
        }
    return out


def _difficulty(resolved: int, samples: int) -> str:
    if samples < 2:
        return "unknown (one sample)"
    return "always_solved" if resolved == samples else "never_solved" if resolved == 0 else "sometimes_solved"


def solve_rates(results: list[SampleResult]) -> dict[str, list[str]]:
    """Task ids by how many of their samples resolved (with one sample per task nothing is known)."""
    out: dict[str, list[str]] = {"always_solved": [], "sometimes_solved": [], "never_solved": []}
    for iid, row in task_stats(results).items():
        out.setdefault(row["difficulty"], []).append(iid)
    return out


def fact_summary(results: list[SampleResult]) -> dict[str, dict[str, float]]:
    """Median and maximum of each measured fact, over all samples and over the accepted ones."""
    out: dict[str, dict[str, float]] = {}
    for group, members in (("all", results), ("accepted", [r for r in results if r.accepted])):
        names = sorted({k for r in members for k in r.facts})
        out[group] = {
            f"{name}_{how}": round(fn([r.facts.get(name, 0) for r in members]), 2)
            for name in names
            for how, fn in (("median", statistics.median), ("max", max))
        }
    return out


def run_stats(results: list[SampleResult], **extra: Any) -> dict[str, Any]:
    """The whole stats document (extra keys, e.g. the run's settings, are added at the top)."""
    accepted = sum(r.accepted for r in results)
    resolved = sum(r.resolved for r in results)
    return {
        **extra,
        "samples": len(results),
        "tasks": len({r.instance_id for r in results}),
        "overall": {
            "resolved": resolved,
            "resolve_rate": _rate(resolved, len(results)),
            "accepted": accepted,
            "acceptance_rate": _rate(accepted, len(results)),
            "tasks_with_accepted": len({r.instance_id for r in results if r.accepted}),
        },
        "filters": filter_stats(results),
        "solve_rates": solve_rates(results),
        "facts": fact_summary(results),
        "per_task": task_stats(results),
        "grades": dict(Counter(str(r.grade) for r in results)),
        "exit_statuses": dict(Counter(str(r.exit_status) for r in results)),
    }
