"""Synth runs: which sampled trajectories were kept or rejected, and why, with the counts of `stats.json`.

Files read: `stats.json` (shown as it is: samples, tasks, overall, filters.<name>.{checked, passed,
rate, rejected}, sft_records, rm_pairs, acceptance_rate), `results.jsonl` (sample_id, instance_id,
grade, grade_detail, filters.<name>[reasons], accepted), and `sft.jsonl` / `rm_pairs.jsonl` (only
metadata.sample_id, metadata.chosen_sample and metadata.rejected_sample, to mark what was exported).
They are looked for in the run folder and in its `export-*` folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sweagent.inspector.files import as_dict, as_list, read_json, read_jsonl

STATS_FILE, RESULTS_FILE, SFT_FILE, PAIRS_FILE = "stats.json", "results.jsonl", "sft.jsonl", "rm_pairs.jsonl"


def synth_files(run_dir: Path) -> list[Path]:
    """Folders holding synth files: the run folder first, then its exports."""
    return [d for d in [run_dir, *sorted(run_dir.glob("export-*"))] if d.is_dir()]


def is_synth(run_dir: Path) -> bool:
    names = (STATS_FILE, RESULTS_FILE, SFT_FILE, PAIRS_FILE)
    return any((d / name).is_file() for d in synth_files(run_dir) for name in names)


def read_synth(run_dir: Path) -> dict[str, Any] | None:
    if not is_synth(run_dir):
        return None
    stats = {}
    for folder in synth_files(run_dir):
        data = read_json(folder / STATS_FILE)
        if isinstance(data, dict):
            stats[str(folder.relative_to(run_dir)) if folder != run_dir else "."] = data
    exported: dict[str, list[str]] = {}
    counts = {SFT_FILE: 0, PAIRS_FILE: 0}
    for folder in synth_files(run_dir):
        for record in read_jsonl(folder / SFT_FILE):
            counts[SFT_FILE] += 1
            sample = as_dict(record.get("metadata")).get("sample_id")
            exported.setdefault(str(sample), []).append("sft")
        for record in read_jsonl(folder / PAIRS_FILE):
            counts[PAIRS_FILE] += 1
            meta = as_dict(record.get("metadata"))
            for side in ("chosen", "rejected"):
                if meta.get(f"{side}_sample"):
                    exported.setdefault(str(meta[f"{side}_sample"]), []).append(f"pair: {side}")
    samples = []
    for row in read_jsonl(run_dir / RESULTS_FILE):
        sample_id = str(row.get("sample_id") or "")
        reasons = [
            f"{name}: {reason}"
            for name, found in as_dict(row.get("filters")).items()
            for reason in as_list(found)
        ]
        samples.append(
            {
                "id": sample_id,
                "task": str(row.get("instance_id") or ""),
                "grade": row.get("grade"),
                "grade_detail": str(row.get("grade_detail") or ""),
                "kept": bool(row.get("accepted")),
                "reasons": reasons,
                "exported": sorted(set(exported.get(sample_id, []))),
            }
        )
    return {"stats": stats, "counts": counts, "samples": samples}
