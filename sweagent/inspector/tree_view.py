"""A search tree (`tree.json`) as the tree page draws it, and the budget figures the run page plots.

Keys read from a `swe-ttc/search-tree@1` file: strategy; meta.{budget, stop_reason, selection.{chosen,
reason, ranking}, stats.search.{rollouts_spent, budget_rollouts, expansions}}; nodes[].{id, parent,
stage, depth, status, decision, picks, value, reward, verified, visits (optional), verdicts[].{check,
passed, status, score, explanation, evidence[].{label, command, exit_code, output, timed_out, duration}},
scores.<key>.{value, explanation, source}, artifacts.{summary, reproduction_path, reproduction_script,
reproduces_on_base, reproduction_output, locations, patch, verified_with}, expansion.{order, exit_status,
exit_detail, steps, input_tokens, output_tokens, cost, judge_cost, seconds, trajectory}}; edges.
Anything else in the file is ignored, so fields added later do no harm.
"""

from __future__ import annotations

from typing import Any

from sweagent.inspector.diffs import patch_view
from sweagent.inspector.files import as_dict, as_float, as_int, as_list, cap_text

DEFAULT_EXPANSION_COST = 1.0 / 3.0  # rollouts per stage expansion when the tree does not say


def verdict_summary(node: dict[str, Any]) -> str:
    """passed (every check passed), failed (one failed), open (no evidence either way) or none."""
    verdicts = [as_dict(v) for v in as_list(node.get("verdicts"))]
    if not verdicts:
        reproduces = as_dict(node.get("artifacts")).get("reproduces_on_base")
        return {True: "passed", False: "failed"}.get(reproduces, "none")
    passed = [v.get("passed") for v in verdicts]
    if any(p is False for p in passed):
        return "failed"
    if all(p is True for p in passed):
        return "passed"
    return "open"


def _verdict(v: dict[str, Any], limit: int) -> dict[str, Any]:
    evidence = [
        {
            "label": str(e.get("label") or ""),
            "command": cap_text(e.get("command"), limit),
            "exit_code": e.get("exit_code"),
            "output": cap_text(e.get("output"), limit),
            "timed_out": bool(e.get("timed_out")),
            "seconds": as_float(e.get("duration")),
        }
        for e in map(as_dict, as_list(v.get("evidence")))
    ]
    return {
        "check": str(v.get("check") or "?"),
        "status": str(v.get("status") or ""),
        "passed": v.get("passed"),
        "score": v.get("score"),
        "explanation": cap_text(v.get("explanation"), limit),
        "evidence": evidence,
    }


def _scores(scores: Any, limit: int) -> dict[str, dict[str, Any]]:
    out = {}
    for key, score in as_dict(scores).items():
        score = score if isinstance(score, dict) else {"value": score}
        out[str(key)] = {
            "value": score.get("value"),
            "explanation": cap_text(score.get("explanation"), limit),
            "source": str(score.get("source") or ""),
        }
    return out


def _artifacts(art: dict[str, Any], limit: int) -> dict[str, Any]:
    return {
        "summary": cap_text(art.get("summary"), limit),
        "reproduction_path": art.get("reproduction_path"),
        "reproduction_script": cap_text(art.get("reproduction_script"), limit),
        "reproduces_on_base": art.get("reproduces_on_base"),
        "reproduction_output": cap_text(art.get("reproduction_output"), limit),
        "locations": [str(x) for x in as_list(art.get("locations"))],
        "patch": patch_view(str(art.get("patch") or "")),
        "verified_with": art.get("verified_with"),
    }


def _expansion(exp: dict[str, Any], limit: int) -> dict[str, Any] | None:
    if not exp:
        return None
    return {
        "order": as_int(exp.get("order")),
        "exit_status": exp.get("exit_status"),
        "exit_detail": cap_text(exp.get("exit_detail"), limit),
        "steps": as_int(exp.get("steps")),
        "tokens": as_int(exp.get("input_tokens")) + as_int(exp.get("output_tokens")),
        "cost": as_float(exp.get("cost")) + as_float(exp.get("judge_cost")),
        "seconds": as_float(exp.get("seconds")),
        "trajectory": exp.get("trajectory"),
    }


def expansion_cost(tree: dict[str, Any]) -> float:
    """Rollouts one expansion costs, from the tree's own totals when it has them."""
    search = as_dict(as_dict(as_dict(tree.get("meta")).get("stats")).get("search"))
    spent, expansions = as_float(search.get("rollouts_spent")), as_int(search.get("expansions"))
    return spent / expansions if spent > 0 and expansions > 0 else DEFAULT_EXPANSION_COST


def chosen_id(tree: dict[str, Any]) -> str | None:
    meta = as_dict(tree.get("meta"))
    chosen = as_dict(meta.get("selection")).get("chosen")
    if chosen is None:
        chosen = as_dict(as_dict(meta.get("stats")).get("search")).get("chosen")
    return str(chosen) if chosen is not None else None


def tree_view(tree: dict[str, Any], limit: int) -> dict[str, Any]:
    """Nodes with everything the click panel shows, edges, the chosen path and the search's totals."""
    raw = [as_dict(n) for n in as_list(tree.get("nodes"))]
    parents = {str(n.get("id")): n.get("parent") for n in raw}
    children: dict[str, list[str]] = {}
    for node_id, parent in parents.items():
        if parent is not None:
            children.setdefault(str(parent), []).append(node_id)

    def subtree_size(node_id: str) -> int:
        todo, count = list(children.get(node_id, [])), 0
        while todo:
            count += 1
            todo.extend(children.get(todo.pop(), []))
        return count

    chosen = chosen_id(tree)
    path: set[str] = set()
    current = chosen if chosen in parents else None
    while current is not None:
        path.add(current)
        current = parents.get(current)
        current = str(current) if current is not None else None
    per_expansion = expansion_cost(tree)
    nodes = []
    for n in raw:
        node_id = str(n.get("id"))
        exp = _expansion(as_dict(n.get("expansion")), limit)
        visits = n.get("visits")
        nodes.append(
            {
                "id": node_id,
                "parent": parents[node_id],
                "stage": str(n.get("stage") or ""),
                "depth": as_int(n.get("depth")),
                "status": str(n.get("status") or "ok"),
                "verdict": verdict_summary(n),
                "verdicts": [_verdict(as_dict(v), limit) for v in as_list(n.get("verdicts"))],
                "scores": _scores(n.get("scores"), limit),
                "value": n.get("value"),
                "reward": n.get("reward"),
                "verified": bool(n.get("verified")),
                "decision": cap_text(n.get("decision"), limit),
                "picks": [cap_text(p, limit) for p in as_list(n.get("picks"))],
                "visits": as_int(visits)
                if visits is not None
                else subtree_size(node_id) + (parents[node_id] is not None),
                "budget_at": round((exp["order"] + 1) * per_expansion, 4) if exp else 0.0,
                "artifacts": _artifacts(as_dict(n.get("artifacts")), limit),
                "expansion": exp,
                "chosen": node_id == chosen,
                "on_path": node_id in path,
            }
        )
    meta = as_dict(tree.get("meta"))
    selection = as_dict(meta.get("selection"))
    search = as_dict(as_dict(meta.get("stats")).get("search"))
    return {
        "strategy": str(tree.get("strategy") or meta.get("strategy") or ""),
        "budget": as_float(search.get("budget_rollouts", meta.get("budget"))),
        "spent": as_float(search.get("rollouts_spent")),
        "stop_reason": str(meta.get("stop_reason") or search.get("stop_reason") or ""),
        "chosen": chosen,
        "selection_reason": cap_text(selection.get("reason"), limit),
        "ranking": [as_dict(r) for r in as_list(selection.get("ranking"))],
        "nodes": nodes,
        "edges": [[str(a), str(b)] for a, b in (e for e in as_list(tree.get("edges")) if len(e) == 2)],
    }


def budget_marks(view: dict[str, Any]) -> dict[str, Any]:
    """When (in rollouts) the search first had a candidate, a verified one, and the one it chose."""
    nodes = view["nodes"]
    candidates = [
        n for n in nodes if n["stage"] == "patch" and n["status"] == "ok" and n["artifacts"]["patch"]
    ]
    verified = [n for n in candidates if n["verified"]]
    chosen = [n for n in nodes if n["chosen"]]
    return {
        "candidate_at": min((n["budget_at"] for n in candidates), default=None),
        "verified_at": min((n["budget_at"] for n in verified), default=None),
        "chosen_at": chosen[0]["budget_at"] if chosen else None,
        "candidates": len(candidates),
        "nodes": len(nodes),
    }
