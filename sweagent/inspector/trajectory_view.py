"""One trajectory (and its eval report) as the trajectory page needs it: steps, patch, grading.

Keys read from a `swe-ttc/trajectory@1` file: instance_id, model_name, problem_statement, steps[] (index,
stage, thought, action{tool, args}, observation, format_error, model_seconds, tool_seconds,
framework_seconds, input_tokens, output_tokens, cost), patch, exit_status, exit_detail, stats,
environment.search_node, environment.baseline (what the repository held at start), started_at,
finished_at. The exact messages are not embedded (the steps hold what a reader needs; the file in the
run folder holds the rest).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sweagent.inspector.diffs import patch_view
from sweagent.inspector.files import as_dict, as_float, as_int, as_list, cap_text

# Arguments short enough to show on the action's title line; the rest become blocks of their own.
_INLINE_ARGS = ("command", "path", "pattern", "kind", "view_range", "insert_line")
_INLINE_MAX = 160


def action_view(action: Any) -> dict[str, Any] | None:
    """{tool, call, blocks}: a one-line call (`bash: ls`, `editor view a.py`) and long arguments as blocks."""
    if not isinstance(action, dict):
        return None
    tool = str(action.get("tool") or "?")
    args = dict(as_dict(action.get("args")))
    blocks: list[list[str]] = []
    if tool == "bash" and isinstance(args.get("command"), str):
        command = args.pop("command")
        if "\n" in command or len(command) > _INLINE_MAX:
            blocks.append(["command", command])
            call = "bash"
        else:
            call = f"bash: {command}"
    else:
        inline = []
        for key in _INLINE_ARGS:
            value = args.get(key)
            if value is None:
                continue
            text = value if isinstance(value, str) else json.dumps(value)
            if "\n" not in text and len(text) <= _INLINE_MAX:
                inline.append(text if key in ("command", "path") else f"{key}={text}")
                args.pop(key)
        call = " ".join([tool, *inline])
    for key, value in args.items():
        text = value if isinstance(value, str) else json.dumps(value, indent=1, ensure_ascii=False)
        blocks.append([key, text])
    return {"tool": tool, "call": call, "blocks": blocks}


def step_view(step: dict[str, Any], output_limit: int) -> dict[str, Any]:
    return {
        "i": as_int(step.get("index")),
        "stage": str(step.get("stage") or ""),
        "thought": cap_text(step.get("thought"), output_limit),
        "action": action_view(step.get("action")),
        "obs": cap_text(step.get("observation"), output_limit),
        "format_error": bool(step.get("format_error")),
        "model_s": round(as_float(step.get("model_seconds")), 3),
        "tool_s": round(as_float(step.get("tool_seconds")), 3),
        "in_tok": as_int(step.get("input_tokens")),
        "out_tok": as_int(step.get("output_tokens")),
        "cost": as_float(step.get("cost")),
    }


def wall_seconds(traj: dict[str, Any]) -> float | None:
    """`stats.wall_seconds`, else finished_at − started_at; None when neither is known."""
    stats = as_dict(traj.get("stats"))
    if "wall_seconds" in stats:
        return round(as_float(stats["wall_seconds"]), 3)
    try:
        start = datetime.fromisoformat(str(traj["started_at"]))
        end = datetime.fromisoformat(str(traj["finished_at"]))
    except (KeyError, TypeError, ValueError):
        return None
    return round((end - start).total_seconds(), 3)


def eval_view(
    report: dict[str, Any] | None, test_output: str | None, output_limit: int
) -> dict[str, Any] | None:
    """An instance's eval report: status, detail, tests by category (failing ones listed) and the log's tail.

    Keys read from `eval/<id>/report.json` (`{<id>: {...}}`): status, detail, resolved,
    patch_successfully_applied, tests_status.{FAIL_TO_PASS,PASS_TO_PASS,...}.{success,failure}.
    """
    if not report:
        return None
    entry = next(iter(report.values()), None) if len(report) == 1 else None
    entry = as_dict(entry) if entry is not None else report
    tests = {}
    for category, result in as_dict(entry.get("tests_status")).items():
        result = as_dict(result)
        tests[category] = {
            "passed": len(as_list(result.get("success"))),
            "failing": [str(t) for t in as_list(result.get("failure"))],
        }
    status = entry.get("status") or ("resolved" if entry.get("resolved") else "unresolved")
    tail = ""
    if test_output:
        tail = test_output if len(test_output) <= output_limit else "…" + test_output[-output_limit:]
    return {
        "status": str(status),
        "detail": str(entry.get("detail") or ""),
        "applied": entry.get("patch_successfully_applied"),
        "tests": tests,
        "log_tail": tail,
    }


def baseline_view(environment: dict[str, Any]) -> dict[str, Any] | None:
    """What the repository already held when the run started (changed or untracked paths, not the
    agent's work and not in its patch): each kind's count and the paths the trajectory lists."""
    raw = as_dict(environment.get("baseline"))
    if not raw:
        return None
    counts = {str(k): as_int(v) for k, v in as_dict(raw.get("counts")).items()}
    paths = {kind: [str(p) for p in as_list(raw.get(kind))] for kind in counts}
    return {"counts": counts, "paths": paths}


def trajectory_view(
    traj: dict[str, Any], output_limit: int, evaluation: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The page's record of one trajectory (rendered by the page only when it is opened)."""
    steps = [step_view(as_dict(s), output_limit) for s in as_list(traj.get("steps"))]
    return {
        "id": str(traj.get("instance_id") or ""),
        "model": str(traj.get("model_name") or ""),
        "problem": cap_text(traj.get("problem_statement"), output_limit),
        "exit_status": traj.get("exit_status"),
        "exit_detail": cap_text(traj.get("exit_detail"), output_limit),
        "node": as_dict(traj.get("environment")).get("search_node"),
        "baseline": baseline_view(as_dict(traj.get("environment"))),
        "started_at": traj.get("started_at"),
        "finished_at": traj.get("finished_at"),
        "seconds": wall_seconds(traj),
        "steps": steps,
        "patch": patch_view(str(traj.get("patch") or "")),
        "eval": evaluation,
    }
