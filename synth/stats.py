"""`stats.json`: acceptance rates per filter, per task and overall, with every rejection reason counted."""

from __future__ import annotations

from collections import Counter
from typing import Any

from synth.results import FILTERS, SampleResult


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def filter_stats(results: list[SampleResult]) -> dict[str, dict[str, Any]]:
    """Accuracy and complexity over every sample; dedup and balance over the samples that reach them."""
    out: dict[str, dict[str, Any]] = {}
    for name in FILTERS:
        if name in ("accuracy", "complexity"):
            checked = results
        elif name == "dedup":
            checked = [r for r in results if r.passes_quality]
        else:
            checked = [r for r in results if r.passes_quality and not r.filters["dedup"]]
        reasons = Counter(reason for r in checked for reason in r.filters[name])
        passed = sum(1 for r in checked if not r.filters[name])
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
        "per_task": task_stats(results),
        "grades": dict(Counter(str(r.grade) for r in results)),
        "exit_statuses": dict(Counter(str(r.exit_status) for r in results)),
    }
