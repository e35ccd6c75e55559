"""Predictions files: what `batch` writes and what `eval` (and the official harness) reads.

Three forms are read, as the official harness and sb-cli accept them: JSON Lines, a JSON list,
and a JSON object keyed by instance id (what `batch` writes as `preds.json`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from sweagent.errors import UserError
from sweagent.io import atomic_write_json, atomic_write_text

FIELDS_HINT = "each prediction needs instance_id, model_name_or_path and model_patch"
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+\-]*")


def is_safe_id(instance_id: str) -> bool:
    """Instance ids name folders (`runs/<run>/<id>/`): letters, digits and `_.+-` only, no `..`."""
    return bool(SAFE_ID.fullmatch(instance_id)) and ".." not in instance_id


def make_prediction(instance_id: str, model: str, patch: str | None) -> dict[str, Any]:
    return {"instance_id": instance_id, "model_name_or_path": model, "model_patch": patch or ""}


def _entries(path: Path, text: str) -> list[tuple[str, Any]]:
    """(where, entry) pairs; `where` names the line or key for error messages."""
    if path.suffix == ".jsonl":
        out = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                out.append((f"line {n}", json.loads(line)))
            except json.JSONDecodeError:
                raise UserError(
                    f"predictions file {path}: line {n} is not JSON ({FIELDS_HINT}, one per line)"
                ) from None
        return out
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"predictions file {path} is not valid JSON (line {exc.lineno}): {FIELDS_HINT}"
        ) from None
    if isinstance(data, list):
        return [(f"entry {n}", item) for n, item in enumerate(data, start=1)]
    if isinstance(data, dict):
        if "instance_id" in data and "model_patch" in data:
            return [("entry 1", data)]
        out = []
        for key, item in data.items():
            if isinstance(item, dict):
                item = {"instance_id": key, **item}
            out.append((f"key {key}", item))
        return out
    raise UserError(
        f"predictions file {path} must hold a list or an object keyed by instance id ({FIELDS_HINT})"
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        raise UserError(
            f"predictions file {path} does not exist: pass the preds.json a batch run wrote"
        ) from None
    except IsADirectoryError:
        raise UserError(f"predictions file {path} is a folder: pass the preds.json inside it") from None
    except UnicodeDecodeError:
        raise UserError(f"predictions file {path} is not text: {FIELDS_HINT}") from None
    except OSError as exc:
        raise UserError(f"cannot read predictions file {path}: {exc.strerror or exc}") from None


def read_prediction_entries(path: str | Path) -> list[tuple[str, dict[str, Any]]]:
    """Every entry of a predictions file in file order, as (where, prediction) pairs.

    Unlike `read_predictions`, an instance may appear several times (a .jsonl of samples); `where`
    names the line or key. Any malformed entry is one UserError naming the file and entry.
    """
    path = Path(path)
    out: list[tuple[str, dict[str, Any]]] = []
    for where, item in _entries(path, _read_text(path)):
        if not isinstance(item, dict):
            raise UserError(f"predictions file {path}: {where} is not an object ({FIELDS_HINT})")
        missing = [k for k in ("instance_id", "model_patch") if k not in item]
        if missing:
            raise UserError(f"predictions file {path}: {where} lacks {', '.join(missing)} ({FIELDS_HINT})")
        patch = item["model_patch"]
        if patch is not None and not isinstance(patch, str):
            raise UserError(f"predictions file {path}: {where} has a model_patch that is not a string")
        iid = str(item["instance_id"])
        out.append(
            (
                where,
                {
                    "instance_id": iid,
                    "model_name_or_path": str(item.get("model_name_or_path") or "unknown"),
                    "model_patch": patch,
                },
            )
        )
    if not out:
        raise UserError(f"predictions file {path} holds no predictions ({FIELDS_HINT})")
    return out


def read_predictions(path: str | Path) -> dict[str, dict[str, Any]]:
    """instance_id -> prediction (the last entry wins); any malformed entry is one UserError."""
    return {pred["instance_id"]: pred for _, pred in read_prediction_entries(path)}


def write_predictions(path: str | Path, preds: dict[str, dict[str, Any]]) -> None:
    """Write `preds.json` (object keyed by instance id) atomically, sorted for stable diffs."""
    atomic_write_json(path, {iid: preds[iid] for iid in sorted(preds)})


def write_exit_statuses(
    run_dir: str | Path,
    statuses: dict[str, str],
    costs: dict[str, float],
    errors: dict[str, str],
    **extra: Any,
) -> None:
    """`exit_statuses.yaml` of a run (batch, select): instances by status, total cost, then `extra`
    (e.g. not_started, retried) and one line per error, written atomically."""
    by_status: dict[str, list[str]] = {}
    for iid, status in sorted(statuses.items()):
        by_status.setdefault(status, []).append(iid)
    doc = {
        "instances_by_exit_status": by_status,
        "total_cost": round(sum(costs.values()), 6),
        **extra,
        "errors": {iid: errors[iid] for iid in sorted(errors)},
    }
    atomic_write_text(Path(run_dir) / "exit_statuses.yaml", yaml.safe_dump(doc, sort_keys=False))
