"""`swe-ttc select` output: `select/<instance_id>.json`, one per instance, as the select page shows it.

Keys read (everything else is ignored): instance_id, chosen, reason, candidates[] (a list, or an object
keyed by candidate id) with id, source / sources, patch, verdicts[], scores{}, cluster, rank, reason,
excluded_by; and ranking[] (rows of {id, rank, cluster, excluded_by, ...}) merged into the candidates
by id when the candidates lack them. A verdict is {check, status, passed, explanation}; a score is
{value, explanation} or a bare number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sweagent.inspector.diffs import patch_view
from sweagent.inspector.files import as_dict, as_list, cap_text, read_json

SELECT_DIR = "select"
_RANK_KEYS = ("rank", "cluster", "excluded_by", "reward", "votes")


def _sources(cand: dict[str, Any]) -> list[str]:
    raw = cand.get("sources", cand.get("source", as_dict(cand.get("metadata")).get("sources")))
    items = raw if isinstance(raw, list) else [raw] if raw else []
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append(
                " · ".join(str(item[k]) for k in ("system", "file", "entry") if item.get(k)) or str(item)
            )
        else:
            out.append(str(item))
    return out


def _candidate(cand: dict[str, Any], ranked: dict[str, Any], limit: int) -> dict[str, Any]:
    cand_id = str(cand.get("id", ""))
    row = {**as_dict(ranked.get(cand_id)), **{k: v for k, v in cand.items() if v is not None}}
    scores = {}
    for key, score in as_dict(row.get("scores")).items():
        score = score if isinstance(score, dict) else {"value": score}
        scores[str(key)] = {
            "value": score.get("value"),
            "explanation": cap_text(score.get("explanation"), limit),
        }
    return {
        "id": cand_id,
        "sources": _sources(row),
        "rank": row.get("rank"),
        "cluster": row.get("cluster"),
        "reason": cap_text(row.get("reason"), limit),
        "excluded_by": [str(x) for x in as_list(row.get("excluded_by"))],
        "verdicts": [
            {
                "check": str(v.get("check") or "?"),
                "status": str(v.get("status") or ""),
                "passed": v.get("passed"),
                "explanation": cap_text(v.get("explanation"), limit),
            }
            for v in map(as_dict, as_list(row.get("verdicts")))
        ],
        "scores": scores,
        "patch": patch_view(str(row.get("patch") or as_dict(row.get("candidate")).get("patch") or "")),
    }


def select_view(data: dict[str, Any], fallback_id: str, limit: int) -> dict[str, Any]:
    raw = data.get("candidates")
    if isinstance(raw, dict):
        raw = [{"id": key, **as_dict(value)} for key, value in raw.items()]
    ranked = {
        str(r.get("id")): {k: r[k] for k in _RANK_KEYS if k in r}
        for r in map(as_dict, as_list(data.get("ranking")))
    }
    candidates = [_candidate(as_dict(c), ranked, limit) for c in as_list(raw)]
    candidates.sort(key=lambda c: (c["rank"] is None, c["rank"] if isinstance(c["rank"], int) else 0))
    chosen = data.get("chosen")
    return {
        "id": str(data.get("instance_id") or fallback_id),
        "chosen": str(chosen) if chosen is not None else None,
        "reason": cap_text(data.get("reason"), limit),
        "candidates": candidates,
    }


def read_select(run_dir: Path, limit: int) -> dict[str, dict[str, Any]]:
    """instance id → select view, for every readable `select/*.json`."""
    out = {}
    for path in sorted((run_dir / SELECT_DIR).glob("*.json")):
        data = read_json(path)
        if isinstance(data, dict):
            view = select_view(data, path.stem, limit)
            out[view["id"]] = view
    return out
