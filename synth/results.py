"""One line of `results.jsonl`: a sample, its grade, measured facts, and every filter's verdict.

The filters run in a fixed order of meaning (accuracy, complexity, difficulty, dedup, balance).
Accuracy and complexity are judged on every sample independently, so their rejection counts describe
the whole run. Difficulty is judged per task from its samples' solve rate (the share of its K samples
that resolved): with K >= 2, a task every sample resolves is `task_always_solved` (kept out of SFT by
default, still used for reward-model pairs) and one no sample resolves is `task_never_solved`.
Dedup and balance only see samples that passed the first three. `accepted` means all five passed.
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
    as_rollout,
    complexity_reasons,
    measure,
)
from synth.rollouts import Rollout
from verifiers.diffs import patch_key

FILTERS = ("accuracy", "complexity", "difficulty", "dedup", "balance")
DIFFICULTY_REASONS = ("task_always_solved", "task_never_solved")


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
    facts: dict[str, int] = Field(default_factory=dict, description="synth.filters.Facts of the rollout")
    solve_rate: float | None = Field(None, description="share of the task's samples that resolved")
    search: bool = Field(False, description="the rollout is a search path (one conversation per stage)")
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
    def clean(self) -> bool:
        """Resolved and within the complexity bounds (a preferred `chosen` side of a pair)."""
        return not self.filters["accuracy"] and not self.filters["complexity"]

    @property
    def passes_quality(self) -> bool:
        """Clean, of a task worth learning from: what dedup and balance choose among."""
        return self.clean and not self.filters.get("difficulty")

    def rank(self) -> tuple[int, int, int]:
        """Preference among equals: shorter conversations first, then fewer steps, then sample order."""
        return (self.tokens, self.steps, self.sample)


def dedup_key(subject: Trajectory | Rollout) -> str:
    """Normalised patch plus the action sequence: equal keys are near-duplicate trajectories."""
    rollout = as_rollout(subject)
    actions = "\n".join(action_signature(s) for s in rollout.steps)
    digest = hashlib.sha256(actions.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{patch_key(rollout.patch)}-{digest}"


def judge(
    subject: Trajectory | Rollout,
    *,
    instance_id: str,
    sample: int,
    grade: str | None,
    grade_detail: str,
    config: FilterConfig,
    trajectory_file: str,
) -> SampleResult:
    """A sample's accuracy and complexity verdicts (the rest come later, across samples)."""
    rollout = as_rollout(subject)
    traj = rollout.trajectory
    facts = measure(rollout)
    result = SampleResult(
        sample_id=traj.instance_id,
        instance_id=instance_id,
        sample=sample,
        exit_status=traj.exit_status,
        grade=grade,
        grade_detail=grade_detail,
        steps=facts.steps,
        tokens=facts.tokens,
        patch_lines=facts.patch_lines,
        patch_files=facts.files_touched,
        patch_key=patch_key(traj.patch) if traj.patch.strip() else "",
        dedup_key=dedup_key(rollout),
        facts=facts.to_dict(),
        search=rollout.search is not None,
        trajectory=trajectory_file,
    )
    result.filters["accuracy"] = accuracy_reasons(grade)
    result.filters["complexity"] = complexity_reasons(rollout, config)
    return result


def judge_difficulty(results: list[SampleResult], config: FilterConfig) -> list[SampleResult]:
    """Each sample's task solve rate, and the difficulty reasons of tasks all or none of whose samples resolved."""
    by_task: dict[str, list[SampleResult]] = {}
    for result in results:
        by_task.setdefault(result.instance_id, []).append(result)
    for group in by_task.values():
        rate = sum(r.resolved for r in group) / len(group)
        reasons: list[str] = []
        if len(group) >= 2 and rate == 1.0 and config.drop_always_solved:
            reasons = ["task_always_solved"]
        elif len(group) >= 2 and rate == 0.0:
            reasons = ["task_never_solved"]
        for result in group:
            result.solve_rate = round(rate, 4)
            result.filters["difficulty"] = list(reasons)
    return results


def dedup_and_balance(results: list[SampleResult], config: FilterConfig) -> list[SampleResult]:
    """Judge difficulty, collapse near-duplicates per task to the best one, then keep at most
    `max_per_task` per task."""
    judge_difficulty(results, config)
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
