"""One line of `results.jsonl`: a sample, its grade, and every filter's verdict on it.

The filters run in a fixed order of meaning (accuracy, complexity, dedup, balance), but accuracy and
complexity are judged on every sample independently, so their rejection counts describe the whole
run; dedup and balance only see samples that passed both. `accepted` means all four passed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, Field

from sweagent.io import atomic_write_text
from sweagent.trajectory import Trajectory
from synth.config import FilterConfig
from synth.filters import (
    accuracy_reasons,
    action_signature,
    complexity_reasons,
    conversation_tokens,
    patch_size,
)
from verifiers.diffs import patch_key

FILTERS = ("accuracy", "complexity", "dedup", "balance")


class SampleResult(BaseModel):
    sample_id: str
    instance_id: str
    sample: int
    exit_status: str | None = None
    grade: str | None = Field(None, description="resolved, unresolved, empty_patch, error; None: not graded")
    grade_detail: str = ""
    steps: int = 0
    tokens: int = 0
    patch_lines: int = 0
    patch_files: int = 0
    patch_key: str = ""
    dedup_key: str = ""
    filters: dict[str, list[str]] = Field(default_factory=lambda: {name: [] for name in FILTERS})
    accepted: bool = False
    trajectory: str = ""

    @property
    def resolved(self) -> bool:
        return self.grade == "resolved"

    @property
    def reasons(self) -> list[str]:
        return [reason for name in FILTERS for reason in self.filters.get(name, [])]

    @property
    def passes_quality(self) -> bool:
        """Resolved and clean: what dedup and balance choose among."""
        return not self.filters["accuracy"] and not self.filters["complexity"]

    def rank(self) -> tuple[int, int, int]:
        """Preference among equals: shorter conversations first, then fewer steps, then sample order."""
        return (self.tokens, self.steps, self.sample)


def dedup_key(traj: Trajectory) -> str:
    """Normalised patch plus the action sequence: equal keys are near-duplicate trajectories."""
    actions = "\n".join(action_signature(s) for s in traj.steps)
    digest = hashlib.sha256(actions.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{patch_key(traj.patch)}-{digest}"


def judge(
    traj: Trajectory,
    *,
    instance_id: str,
    sample: int,
    grade: str | None,
    grade_detail: str,
    config: FilterConfig,
    trajectory_file: str,
) -> SampleResult:
    """A sample's accuracy and complexity verdicts (dedup and balance come later, across samples)."""
    size = patch_size(traj.patch)
    result = SampleResult(
        sample_id=traj.instance_id,
        instance_id=instance_id,
        sample=sample,
        exit_status=traj.exit_status,
        grade=grade,
        grade_detail=grade_detail,
        steps=len(traj.steps),
        tokens=conversation_tokens(traj),
        patch_lines=size.lines,
        patch_files=len(size.files),
        patch_key=patch_key(traj.patch) if traj.patch.strip() else "",
        dedup_key=dedup_key(traj),
        trajectory=trajectory_file,
    )
    result.filters["accuracy"] = accuracy_reasons(grade)
    result.filters["complexity"] = complexity_reasons(traj, config)
    return result


def dedup_and_balance(results: list[SampleResult], config: FilterConfig) -> list[SampleResult]:
    """Collapse near-duplicates per task to the best one, then keep at most `max_per_task` per task."""
    for result in results:
        result.filters["dedup"], result.filters["balance"] = [], []
    by_task: dict[str, list[SampleResult]] = {}
    for result in sorted((r for r in results if r.passes_quality), key=SampleResult.rank):
        by_task.setdefault(result.instance_id, []).append(result)
    for group in by_task.values():
        seen: set[str] = set()
        kept = 0
        for result in group:
            if result.dedup_key in seen:
                result.filters["dedup"] = ["duplicate"]
                continue
            seen.add(result.dedup_key)
            if config.max_per_task and kept >= config.max_per_task:
                result.filters["balance"] = ["over_cap"]
                continue
            kept += 1
    for result in results:
        result.accepted = (
            result.passes_quality and not result.filters["dedup"] and not result.filters["balance"]
        )
    return results


def write_results(path: Path, results: list[SampleResult]) -> None:
    ordered = sorted(results, key=lambda r: (r.instance_id, r.sample))
    atomic_write_text(path, "".join(r.model_dump_json() + "\n" for r in ordered))


def read_results(path: Path) -> list[SampleResult]:
    return [
        SampleResult.model_validate(json.loads(line))
        for line in path.read_text().splitlines()
        if line.strip()
    ]
