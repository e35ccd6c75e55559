"""`synth export`: accepted trajectories as SFT records, and resolved/unresolved pairs for reward models.

SFT: one record per accepted sample (resolved, clean, of a task not every sample solves,
deduplicated, within the per-task cap); a search sample gives one record per stage conversation of
its chosen path (`metadata.stage`), each a well-formed conversation with one system prompt.
Reward-model pairs: for each task, a resolved trajectory (`chosen`: preferably one that passed the
complexity filter) against an unresolved one (`rejected`: graded `unresolved`, so its patch applied
and failed the tests), distinct by dedup key on both sides, at most `max_pairs_per_task` per task;
each pair carries both patches too, for patch-level reward models. A search sample's side of a pair
is its whole path joined into one conversation; both sides must start from the same prompt. Every
record is validated against its JSON Schema (`synth/schemas/`) before it is written; empty files are
never written. `arguments="object"` writes tool-call arguments as objects (Hugging Face chat
templates) instead of JSON strings (OpenAI's fine-tuning API).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sweagent.errors import UserError
from sweagent.io import atomic_write_json, atomic_write_text
from sweagent.trajectory import Trajectory
from synth.config import FilterConfig
from synth.filters import complexity_reasons
from synth.formats import (
    assistant_stages,
    clean_messages,
    joined_conversation,
    sharegpt_turns,
    split_prompt,
    system_text,
    transcript,
)
from synth.results import SampleResult, dedup_and_balance, read_results
from synth.rollouts import Rollout, load_rollout
from synth.samples import RESULTS_FILE, SETTINGS_FILE, STATS_FILE, require_run_dir
from synth.schema import validate_record
from synth.stats import filter_stats, solve_rates

SFT_FILE = "sft.jsonl"
PAIRS_FILE = "rm_pairs.jsonl"


@dataclass
class ExportResult:
    out_dir: Path
    sft: list[dict[str, Any]] = field(default_factory=list)
    pairs: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    skipped_pairs: int = 0  # pairs whose two sides start from different prompts


def _metadata(result: SampleResult, traj: Trajectory, run_id: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "instance_id": result.instance_id,
        "sample_id": result.sample_id,
        "model": traj.model_name,
        "exit_status": traj.exit_status or "",
        "grade": result.grade or "",
        "steps": result.steps,
        "tokens": result.tokens,
        "patch": traj.patch,
        "stages": assistant_stages(traj),
        "stage": "rollout",
        "solve_rate": result.solve_rate if result.solve_rate is not None else float(result.resolved),
        "facts": dict(result.facts),
    }


def sft_record(
    result: SampleResult,
    traj: Trajectory,
    fmt: str,
    run_id: str,
    arguments: str = "string",
    stage: str | None = None,
    patch: str | None = None,
) -> dict[str, Any]:
    """One conversation in `fmt`: a whole trajectory, or one `stage` of a search path."""
    messages = clean_messages(traj, arguments)
    meta = _metadata(result, traj, run_id)
    meta["stages"] = meta["stages"][: sum(1 for m in messages if m["role"] == "assistant")]
    record_id = result.sample_id
    if stage is not None:
        meta["stage"], meta["patch"] = stage, patch if patch is not None else traj.patch
        record_id = f"{result.sample_id}/{stage}"
    if fmt == "openai":
        return {"id": record_id, "messages": messages, "tools": traj.tools, "metadata": meta}
    if fmt == "sharegpt":
        return {
            "id": record_id,
            "system": system_text(messages),
            "tools": json.dumps(traj.tools, ensure_ascii=False),
            "conversations": sharegpt_turns(messages),
            "metadata": meta,
        }
    return {"id": record_id, "text": transcript(messages, traj.tools), "metadata": meta}


def sft_records(
    result: SampleResult, rollout: Rollout, fmt: str, run_id: str, arguments: str = "string"
) -> list[dict[str, Any]]:
    """A plain sample's record, or one record per stage conversation of a search sample's path."""
    if rollout.search is None:
        return [sft_record(result, rollout.trajectory, fmt, run_id, arguments)]
    return [
        sft_record(result, part.trajectory, fmt, run_id, arguments, part.stage or "stage", rollout.patch)
        for part in rollout.parts
        if any(m.get("role") == "assistant" for m in part.trajectory.messages)
    ]


def conversation(rollout: Rollout, arguments: str = "string") -> tuple[list[dict[str, Any]], list[str]]:
    """The rollout as one conversation with its assistant turns' stage labels (a search path joined)."""
    if rollout.search is None:
        messages = clean_messages(rollout.trajectory, arguments)
        turns = sum(1 for m in messages if m["role"] == "assistant")
        return messages, assistant_stages(rollout.trajectory)[:turns]
    parts = [p for p in rollout.parts if any(m.get("role") == "assistant" for m in p.trajectory.messages)]
    messages = joined_conversation(
        [clean_messages(p.trajectory, arguments, cut=n == len(parts) - 1) for n, p in enumerate(parts)]
    )
    stages: list[str] = []
    for part in parts:
        stages += assistant_stages(part.trajectory)
    return messages, stages[: sum(1 for m in messages if m["role"] == "assistant")]


def pair_record(
    chosen: tuple[SampleResult, Trajectory | Rollout],
    rejected: tuple[SampleResult, Trajectory | Rollout],
    fmt: str,
    run_id: str,
    arguments: str = "string",
) -> dict[str, Any]:
    """One preference pair in `fmt` (the prompt is the chosen side's system and issue messages)."""
    from synth.filters import as_rollout

    (c_res, c_sub), (r_res, r_sub) = chosen, rejected
    c_roll, r_roll = as_rollout(c_sub), as_rollout(r_sub)
    c_messages, c_stages = conversation(c_roll, arguments)
    r_messages, r_stages = conversation(r_roll, arguments)
    prompt, c_turns = split_prompt(c_messages)
    _, r_turns = split_prompt(r_messages)
    tools = c_roll.parts[0].trajectory.tools if c_roll.parts else c_roll.trajectory.tools
    record: dict[str, Any] = {"id": f"{c_res.sample_id}>{r_res.sample_id}", "instance_id": c_res.instance_id}
    if fmt == "openai":
        record.update(prompt=prompt, chosen=c_turns, rejected=r_turns, tools=tools)
    elif fmt == "sharegpt":
        record.update(
            system=system_text(prompt),
            tools=json.dumps(tools, ensure_ascii=False),
            conversations=sharegpt_turns(prompt),
            chosen=sharegpt_turns(c_turns),
            rejected=sharegpt_turns(r_turns),
        )
    else:
        record.update(
            prompt=transcript(prompt, tools), chosen=transcript(c_turns), rejected=transcript(r_turns)
        )
    record.update(
        chosen_patch=c_roll.patch,
        rejected_patch=r_roll.patch,
        metadata={
            "run_id": run_id,
            "chosen_sample": c_res.sample_id,
            "rejected_sample": r_res.sample_id,
            "chosen_grade": c_res.grade or "",
            "rejected_grade": r_res.grade or "",
            "rejected_detail": r_res.grade_detail,
            "chosen_stages": c_stages,
            "rejected_stages": r_stages,
            "solve_rate": c_res.solve_rate if c_res.solve_rate is not None else 0.0,
        },
    )
    return record


def same_prompt(a: Rollout, b: Rollout) -> bool:
    """Both rollouts start from the same messages (a pair is only meaningful then)."""
    return split_prompt(conversation(a)[0])[0] == split_prompt(conversation(b)[0])[0]


def _distinct(results: list[SampleResult]) -> list[SampleResult]:
    seen: set[str] = set()
    out = []
    for r in sorted(results, key=SampleResult.rank):
        if r.dedup_key not in seen:
            seen.add(r.dedup_key)
            out.append(r)
    return out


def choose_pairs(results: list[SampleResult], max_per_task: int) -> list[tuple[SampleResult, SampleResult]]:
    """(chosen, rejected) per task: clean resolved (else any resolved) against graded-unresolved samples."""
    pairs: list[tuple[SampleResult, SampleResult]] = []
    for iid in sorted({r.instance_id for r in results}):
        mine = [r for r in results if r.instance_id == iid]
        resolved = [r for r in mine if r.resolved]
        chosen = _distinct([r for r in resolved if r.clean]) or _distinct(resolved)
        rejected = _distinct([r for r in mine if r.grade == "unresolved"])
        task_pairs = [(c, r) for c in chosen for r in rejected]
        pairs += task_pairs[:max_per_task] if max_per_task else task_pairs
    return pairs


def _jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def export_run(
    run: str | Path,
    fmt: str,
    out_dir: str | Path | None = None,
    filters: FilterConfig | None = None,
    arguments: str = "string",
) -> ExportResult:
    """Write sft.jsonl, rm_pairs.jsonl and stats.json for `run` in `fmt`; UserError when nothing qualifies."""
    run_dir = require_run_dir(run)
    results = read_results(run_dir / RESULTS_FILE)
    settings = _read_json(run_dir / SETTINGS_FILE)
    run_filters = FilterConfig.model_validate(settings.get("filters", {}))
    config = filters or run_filters
    out = ExportResult(out_dir=Path(out_dir) if out_dir else run_dir / f"export-{fmt}")
    cache: dict[str, Rollout] = {}

    def load(result: SampleResult) -> Rollout:
        if result.sample_id not in cache:
            path = run_dir / result.trajectory
            try:
                traj = Trajectory.load(path)
            except (OSError, ValueError) as exc:
                raise UserError(f"cannot read trajectory {path} ({exc}): rerun `swe-ttc synth run`") from None
            cache[result.sample_id] = load_rollout(path, traj)
        return cache[result.sample_id]

    if config != run_filters:  # judge complexity, dedup and balance again under the new bounds
        for result in results:
            result.filters["complexity"] = complexity_reasons(load(result), config)
        dedup_and_balance(results, config)
    run_id = settings.get("run_id", run_dir.name)
    for result in sorted((r for r in results if r.accepted), key=lambda r: (r.instance_id, r.sample)):
        for record in sft_records(result, load(result), fmt, run_id, arguments):
            out.sft.append(validate_record(record, "sft", fmt))
    for chosen, rejected in choose_pairs(results, config.max_pairs_per_task):
        if not same_prompt(load(chosen), load(rejected)):
            out.skipped_pairs += 1
            continue
        record = pair_record((chosen, load(chosen)), (rejected, load(rejected)), fmt, run_id, arguments)
        out.pairs.append(validate_record(record, "rm_pairs", fmt))
    if not out.sft and not out.pairs:
        raise UserError(
            f"{run_dir} has no accepted trajectories and no resolved/unresolved pairs: {why_empty(results)}"
        )
    out.stats = export_stats(results, out, fmt, run_id)
    for name, records in ((SFT_FILE, out.sft), (PAIRS_FILE, out.pairs)):
        path = out.out_dir / name
        if records:
            atomic_write_text(path, _jsonl(records))
            out.written.append(path)
        elif path.exists():
            path.unlink()  # a stale file from an earlier export would contradict stats.json
    atomic_write_json(out.out_dir / STATS_FILE, out.stats)
    out.written.append(out.out_dir / STATS_FILE)
    return out


def why_empty(results: list[SampleResult]) -> str:
    """One clause: how many samples, and the most common reasons they were rejected."""
    if not results:
        return "the run finished no samples (rerun `swe-ttc synth run`)"
    reasons = Counter(reason for r in results for reason in r.reasons)
    top = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common(3))
    return f"{len(results)} samples, rejected for {top}; sample more (--samples) or relax the filters"


def export_stats(results: list[SampleResult], out: ExportResult, fmt: str, run_id: str) -> dict[str, Any]:
    per_task: dict[str, dict[str, Any]] = {}
    for r in results:
        row = per_task.setdefault(
            r.instance_id,
            {"samples": 0, "solve_rate": r.solve_rate, "sft": 0, "sft_samples": 0, "rm_pairs": 0},
        )
        row["samples"] += 1
    for record in out.sft:
        per_task[record["metadata"]["instance_id"]]["sft"] += 1
    for sample in {(r["metadata"]["instance_id"], r["metadata"]["sample_id"]) for r in out.sft}:
        per_task[sample[0]]["sft_samples"] += 1
    for record in out.pairs:
        per_task[record["instance_id"]]["rm_pairs"] += 1
    return {
        "run_id": run_id,
        "format": fmt,
        "sft_records": len(out.sft),
        "sft_samples": len({r["metadata"]["sample_id"] for r in out.sft}),
        "rm_pairs": len(out.pairs),
        "rm_pairs_skipped_different_prompts": out.skipped_pairs,
        "samples": len(results),
        "acceptance_rate": round(sum(r.accepted for r in results) / len(results), 4) if results else 0.0,
        "filters": filter_stats(results),
        "solve_rates": solve_rates(results),
        "per_task": per_task,
        "files": {SFT_FILE: bool(out.sft), PAIRS_FILE: bool(out.pairs)},
    }


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
