"""Judge many candidates of one task and pick one: the entry point search and synthesis call.

`judge_candidates` runs the execution checks (in one sandbox, sharing a result cache) and every
reward model on each candidate, giving `Judged` records; `choose` applies a `SelectionConfig`.
Reward models share one shape (`RewardModel`), so a served RM, an LLM judge or a test double are
interchangeable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from verifiers.selection import Selection, SelectionConfig, select
from verifiers.types import Candidate, Judged, Score, Verdict

if TYPE_CHECKING:
    from sweagent.task import Task
    from verifiers.execution import ExecutionVerifier


@runtime_checkable
class RewardModel(Protocol):
    """Outcome reward `score` and process reward `score_partial`; values in [0, 1] or a failed Score."""

    def score(self, task: Task, candidate: Candidate, evidence: Sequence[Verdict] | None = None) -> Score: ...

    def score_partial(self, task: Task, trajectory_prefix: Any, stage: str) -> Score: ...


def judge_candidates(
    task: Task,
    candidates: Sequence[Candidate],
    verifier: ExecutionVerifier | None = None,
    reward_models: Mapping[str, RewardModel] | None = None,
    reproduction_script: str | None = None,
) -> list[Judged]:
    """Execution verdicts and reward scores for each candidate. Sees only `task.public()`."""
    task = task.public()
    out = []
    for candidate in candidates:
        verdicts = verifier.verify(task, candidate, reproduction_script) if verifier is not None else []
        scores = {name: rm.score(task, candidate, verdicts) for name, rm in (reward_models or {}).items()}
        out.append(Judged(candidate=candidate, verdicts=verdicts, scores=scores))
    return out


def choose(
    task: Task,
    candidates: Sequence[Candidate],
    verifier: ExecutionVerifier | None = None,
    reward_models: Mapping[str, RewardModel] | None = None,
    config: SelectionConfig | None = None,
    reproduction_script: str | None = None,
) -> tuple[Selection, list[Judged]]:
    """Judge every candidate, then select one; returns the selection and the records behind it."""
    judged = judge_candidates(task, candidates, verifier, reward_models, reproduction_script)
    return select(judged, config), judged
