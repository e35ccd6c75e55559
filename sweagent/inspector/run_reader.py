"""A run folder read into the page's data: a summary parsed at load, and payloads parsed on demand.

Which pages a run gets follows from the files it holds (DESIGN.md, "Files a run leaves"):
`<id>/<id>.traj.json` → run and trajectory pages; `<id>/tree.json` → search tree pages;
`eval/report.json` and `eval/<id>/report.json` → eval columns and failing tests; `select/*.json` →
select pages; `stats.json`, `results.jsonl`, `sft.jsonl`, `rm_pairs.jsonl` → the synth page.

Keys read elsewhere than the views: `preds.json` ({id: {model_patch, model_name_or_path}}),
`exit_statuses.yaml` (instances_by_exit_status, not_started, errors), `config.yaml` (model.name,
search.strategy, search.budget), `eval/report.json` (resolved_ids, unresolved_ids, error_ids,
empty_patch_ids) and a trajectory's `stats` (steps, cost, input_tokens, output_tokens, tokens,
wall_seconds, search.{rollouts_spent, budget_rollouts}).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sweagent.errors import UserError
from sweagent.inspector.diffs import changed_lines, patch_view
from sweagent.inspector.files import (
    as_dict,
    as_float,
    as_int,
    as_list,
    load_trajectory,
    load_tree,
    read_json,
    read_yaml,
)
from sweagent.inspector.select_view import SELECT_DIR, read_select
from sweagent.inspector.synth_view import read_synth
from sweagent.inspector.trajectory_view import eval_view, trajectory_view, wall_seconds
from sweagent.inspector.tree_view import budget_marks, tree_view

UNFINISHED = "unfinished"  # no final trajectory yet: still running, or stopped before it ended
OUTPUT_LIMIT = 20_000  # characters of one observation, thought or log kept in the page (head and tail)
NOT_INSTANCE_DIRS = {"eval", SELECT_DIR, "nodes"}
EVAL_KEYS = {
    "resolved_ids": "resolved",
    "unresolved_ids": "unresolved",
    "error_ids": "error",
    "empty_patch_ids": "empty_patch",
}


@dataclass
class Options:
    """What goes into the page."""

    output_limit: int = OUTPUT_LIMIT
    node_trajectories: bool = True
    live: bool = False


@dataclass
class RunData:
    """`summary` is parsed when the page loads; each payload (already JSON) only when the user opens it."""

    summary: dict[str, Any]
    payloads: list[tuple[str, str]] = field(default_factory=list)  # (element id, JSON text)

    def add(self, element_id: str, payload: Any) -> str:
        self.payloads.append((element_id, script_json(payload)))
        return element_id


@dataclass
class InstanceRecord:
    """One instance's table row and the payloads its pages open (ids are unique within the run)."""

    row: dict[str, Any]
    payloads: list[tuple[str, str]] = field(default_factory=list)

    def add(self, element_id: str, payload: Any) -> str:
        self.payloads.append((element_id, script_json(payload)))
        return element_id


def script_json(value: Any) -> str:
    """JSON that cannot end its `<script>` element early (`</script>`, `<!--`): every `<` is escaped."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def instance_dirs(run_dir: Path) -> list[Path]:
    """Sub-folders that hold an instance: its trajectory, its tree, or a search still in progress."""
    out = []
    for d in sorted(p for p in run_dir.iterdir() if p.is_dir()):
        if d.name in NOT_INSTANCE_DIRS or d.name.startswith((".", "export-")):
            continue
        if (d / f"{d.name}.traj.json").is_file() or (d / "tree.json").is_file() or (d / "nodes").is_dir():
            out.append(d)
    return out


def eval_results(run_dir: Path) -> dict[str, str]:
    """instance id → resolved / unresolved / error / empty_patch, from the eval summary (or per-instance reports)."""
    report = as_dict(read_json(run_dir / "eval" / "report.json"))
    out = {str(iid): status for key, status in EVAL_KEYS.items() for iid in as_list(report.get(key))}
    if not out and (run_dir / "eval").is_dir():
        for path in sorted((run_dir / "eval").glob("*/report.json")):
            entry = as_dict(as_dict(read_json(path)).get(path.parent.name))
            if entry:
                out[path.parent.name] = str(
                    entry.get("status") or ("resolved" if entry.get("resolved") else "unresolved")
                )
    return out


def _instance_eval(run_dir: Path, iid: str, limit: int) -> dict[str, Any] | None:
    folder = run_dir / "eval" / iid
    report = read_json(folder / "report.json")
    if not isinstance(report, dict):
        return None
    try:
        log = (folder / "test_output.txt").read_text(encoding="utf-8", errors="replace")
    except OSError:
        log = None
    return eval_view(report, log, limit)


def _statuses(run_dir: Path) -> tuple[dict[str, str], set[str], dict[str, str]]:
    doc = as_dict(read_yaml(run_dir / "exit_statuses.yaml"))
    statuses = {
        str(iid): str(status)
        for status, ids in as_dict(doc.get("instances_by_exit_status")).items()
        for iid in as_list(ids)
    }
    errors = {str(k): str(v) for k, v in as_dict(doc.get("errors")).items()}
    return statuses, {str(i) for i in as_list(doc.get("not_started"))}, errors


def _row(iid: str) -> dict[str, Any]:
    return {
        "id": iid,
        "exit_status": None,
        "exit_detail": "",
        "steps": None,
        "tokens": None,
        "cost": None,
        "seconds": None,
        "eval": None,
        "patch_lines": None,
        "budget": None,
        "spent": None,
        "traj": None,
        "tree": None,
        "select": None,
        "marks": None,
        "stages": {},
    }


def _fill_from_trajectory(row: dict[str, Any], traj: dict[str, Any]) -> None:
    stats = as_dict(traj.get("stats"))
    steps = as_list(traj.get("steps"))
    search = as_dict(stats.get("search"))
    row["exit_status"] = traj.get("exit_status") or UNFINISHED
    row["exit_detail"] = str(traj.get("exit_detail") or "")[:300]
    row["steps"] = as_int(stats.get("steps"), len(steps))
    tokens = stats.get("tokens")
    row["tokens"] = (
        as_int(tokens)
        if tokens is not None
        else as_int(stats.get("input_tokens")) + as_int(stats.get("output_tokens"))
    )
    row["cost"] = round(as_float(stats.get("cost")), 6)
    row["seconds"] = wall_seconds(traj)
    row["patch_lines"] = changed_lines(str(traj.get("patch") or ""))
    if search:
        row["budget"] = as_float(search.get("budget_rollouts"))
        row["spent"] = as_float(search.get("rollouts_spent"))
    for step in steps:
        stage = str(as_dict(step).get("stage") or "")
        row["stages"][stage] = row["stages"].get(stage, 0) + 1


def _node_trajectories(
    folder: Path, view: dict[str, Any], record: InstanceRecord, prefix: str, opts: Options
) -> None:
    """Embed each node's stage trajectory (lazily) and note its payload id on the node."""
    root = folder.resolve()
    for k, node in enumerate(view["nodes"]):
        exp = node["expansion"]
        rel = exp and exp.get("trajectory")
        if not rel:
            continue
        path = (folder / rel).resolve()
        if root not in path.parents or not path.is_file():
            continue
        exp["payload"] = record.add(
            f"{prefix}n{k}", trajectory_view(load_trajectory(path), opts.output_limit)
        )


def read_instance(folder: Path, graded: bool, opts: Options) -> InstanceRecord:
    """The row and payloads of the instance in `folder` (payload ids start with a hash of its id)."""
    iid = folder.name
    record = InstanceRecord(_row(iid))
    row, prefix = record.row, "i" + hashlib.sha1(iid.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    traj_path = folder / f"{iid}.traj.json"
    evaluation = _instance_eval(folder.parent, iid, opts.output_limit) if graded else None
    if traj_path.is_file():
        traj = load_trajectory(traj_path)
        _fill_from_trajectory(row, traj)
        row["traj"] = record.add(f"{prefix}t", trajectory_view(traj, opts.output_limit, evaluation))
    else:
        row["exit_status"] = UNFINISHED
        row["exit_detail"] = "no trajectory yet"
    if (folder / "tree.json").is_file():
        view = tree_view(load_tree(folder / "tree.json"), opts.output_limit)
        if opts.node_trajectories:
            _node_trajectories(folder, view, record, prefix, opts)
        row["marks"] = budget_marks(view)
        row["budget"] = row["budget"] or view["budget"]
        row["spent"] = row["spent"] if row["spent"] is not None else view["spent"]
        row["tree"] = record.add(f"{prefix}g", view)
    elif (folder / "nodes").is_dir() and row["exit_status"] == UNFINISHED:
        row["exit_detail"] = (
            f"searching: {sum(1 for _ in (folder / 'nodes').glob('*.traj.json'))} expansions so far"
        )
    return record


def instance_key(folder: Path, graded: bool) -> tuple:
    """Changes when any file the instance's record is made from changes (for the live server's cache)."""
    files = [*folder.rglob("*"), *(folder.parent / "eval" / folder.name).glob("*")]
    stats = []
    for path in sorted(files):
        try:
            st = path.stat()
        except OSError:
            continue
        stats.append((str(path), st.st_size, st.st_mtime_ns))
    return (graded, tuple(stats))


def read_run(
    run_dir: str | Path,
    opts: Options | None = None,
    cache: dict[str, tuple[tuple, InstanceRecord]] | None = None,
) -> RunData:
    """Everything the page shows about `run_dir`; a UserError (one line) when it is no run folder.

    With `cache` (instance id → (file key, record)), instances whose files did not change are not read again.
    """
    opts = opts or Options()
    run_dir = Path(run_dir).expanduser()
    if not run_dir.is_dir():
        raise UserError(f"{run_dir} is not a folder: pass a run folder such as runs/<run_id>")
    data = RunData(summary={})
    config = as_dict(read_yaml(run_dir / "config.yaml"))
    preds = as_dict(read_json(run_dir / "preds.json"))
    statuses, not_started, errors = _statuses(run_dir)
    graded = eval_results(run_dir)
    selects = read_select(run_dir, opts.output_limit)
    synth = read_synth(run_dir)
    rows: dict[str, dict[str, Any]] = {}
    for folder in instance_dirs(run_dir):
        is_graded = folder.name in graded
        if cache is None:
            record = read_instance(folder, is_graded, opts)
        else:
            key = instance_key(folder, is_graded)
            cached = cache.get(folder.name)
            record = cached[1] if cached and cached[0] == key else read_instance(folder, is_graded, opts)
            cache[folder.name] = (key, record)
        rows[record.row["id"]] = dict(record.row)  # the cached record stays as read
        data.payloads.extend(record.payloads)
    for iid in {*preds, *statuses, *not_started, *graded, *selects} - set(rows):
        row = rows[iid] = _row(iid)
        row["exit_status"] = statuses.get(iid) or ("not started" if iid in not_started else None)
        row["exit_detail"] = errors.get(iid, "")
        patch = str(as_dict(preds.get(iid)).get("model_patch") or "")
        row["patch_lines"] = changed_lines(patch) if iid in preds else None
        evaluation = _instance_eval(run_dir, iid, opts.output_limit) if iid in graded else None
        if patch or evaluation:
            view = {
                "id": iid,
                "steps": [],
                "patch": patch_view(patch),
                "eval": evaluation,
                "exit_status": row["exit_status"],
                "no_trajectory": True,
            }
            row["traj"] = data.add(f"x{len(data.payloads)}", view)
    for iid, status in graded.items():
        rows[iid]["eval"] = status
    for iid, view in selects.items():
        rows[iid]["select"] = data.add(f"s{len(data.payloads)}", view)
        rows[iid]["select_summary"] = {
            "chosen": view["chosen"],
            "candidates": len(view["candidates"]),
            "reason": view["reason"][:300],
        }
    if not rows and synth is None:
        raise UserError(
            f"{run_dir} holds no trajectories, search trees, predictions, select or synth files: "
            "pass a folder written by swe-ttc solve, batch, select or synth"
        )
    search = as_dict(config.get("search"))
    data.summary = {
        "run": {
            "name": run_dir.resolve().name,
            "path": str(run_dir),
            "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "model": as_dict(config.get("model")).get("name")
            or next((p.get("model_name_or_path") for p in map(as_dict, preds.values())), None),
            "strategy": search.get("strategy"),
            "budget": search.get("budget"),
            "graded": bool(graded),
            "live": opts.live,
        },
        "instances": [rows[iid] for iid in sorted(rows)],
        "synth": synth,
    }
    return data
