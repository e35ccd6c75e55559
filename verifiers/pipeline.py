"""Judge many candidates of one task and pick one: the entry point search, synthesis and `select` call.

- `judge_candidates` runs the execution checks (in one sandbox, sharing a result cache) and every
  reward model on each candidate, giving `Judged` records. Candidates that are the same submission
  (same change by `patch_identity`, same reproduction script and trajectory) are judged once and
  share the result. A reward model that raises gives a failed `Score` (only a spent budget,
  `LimitExceeded`, propagates: the caller must stop).
- `judge_candidate` is the same for one candidate (a search judging nodes as they appear).
- `choose_judged` applies a `SelectionConfig` to records judged earlier (a search's final pick).
- `choose` is both: judge, then select.

Everything sees only `task.public()`. Reward models share one shape (`RewardModel`), so a served
RM, an LLM judge, the static reward or a test double are interchangeable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from verifiers.candidates import patch_identity
from verifiers.selection import Selection, SelectionConfig, select
from verifiers.types import Candidate, Judged, Score, Verdict

if TYPE_CHECKING:
    from sweagent.task import Task
    from verifiers.execution import ExecutionVerifier

Progress = Callable[[int, int, str], None]
"""Called as (candidates judged so far, total, id of the candidate being judged next or just done)."""


@runtime_checkable
class RewardModel(Protocol):
    """Outcome reward `score` and process reward `score_partial`; values in [0, 1] or a failed Score."""

    def score(self, task: Task, candidate: Candidate, evidence: Sequence[Verdict] | None = None) -> Score: ...

    def score_partial(self, task: Task, trajectory_prefix: Any, stage: str) -> Score: ...


def submission_key(candidate: Candidate) -> str:
    """Equal for candidates every verifier must judge alike: same change, script and trajectory."""
    messages = json.dumps(candidate.messages, sort_keys=True, default=str) if candidate.messages else ""
    parts = [
        patch_identity(candidate.patch),
        candidate.reproduction_script or "",
        candidate.reproduction_path or "",
        candidate.trajectory_path or "",
        messages,
    ]
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:24]


def _reward(
    name: str, model: RewardModel, task: Task, candidate: Candidate, verdicts: list[Verdict]
) -> Score:
    from sweagent.model.base import LimitExceeded

    try:
        return model.score(task, candidate, verdicts)
    except LimitExceeded:
        raise
    except Exception as exc:  # a reward model problem is missing evidence, not a failed candidate
        return Score.failure(name, f"the reward model could not run: {type(exc).__name__}: {exc}"[:500])


def judge_candidate(
    task: Task,
    candidate: Candidate,
    verifier: ExecutionVerifier | None = None,
    reward_models: Mapping[str, RewardModel] | None = None,
    reproduction_script: str | None = None,
) -> Judged:
    """Execution verdicts and reward scores of one candidate. Sees only `task.public()`."""
    task = task.public()
    verdicts = verifier.verify(task, candidate, reproduction_script) if verifier is not None else []
    scores = {
        name: _reward(name, rm, task, candidate, verdicts) for name, rm in (reward_models or {}).items()
    }
    return Judged(candidate=candidate, verdicts=verdicts, scores=scores)


def judge_candidates(
    task: Task,
    candidates: Sequence[Candidate],
    verifier: ExecutionVerifier | None = None,
    reward_models: Mapping[str, RewardModel] | None = None,
    reproduction_script: str | None = None,
    *,
    on_progress: Progress | None = None,
) -> list[Judged]:
    """Execution verdicts and reward scores for each candidate, in input order. Sees only `task.public()`."""
    task = task.public()
    done: dict[str, Judged] = {}
    out = []
    for n, candidate in enumerate(candidates):
        if on_progress:
            on_progress(n, len(candidates), candidate.id)
        key = submission_key(candidate)
        first = done.get(key)
        if first is None:
            first = done[key] = judge_candidate(task, candidate, verifier, reward_models, reproduction_script)
            out.append(first)
        else:
            out.append(
                Judged(
                    candidate=candidate,
                    verdicts=[v.model_copy(deep=True) for v in first.verdicts],
                    scores={k: s.model_copy(deep=True) for k, s in first.scores.items()},
                )
            )
    if on_progress and candidates:
        on_progress(len(candidates), len(candidates), candidates[-1].id)
    return out


def choose_judged(judged: Sequence[Judged], config: SelectionConfig | None = None) -> Selection:
    """Select among candidates judged earlier (e.g. as a search went along)."""
    return select(judged, config)


def choose(
    task: Task,
    candidates: Sequence[Candidate],
    verifier: ExecutionVerifier | None = None,
    reward_models: Mapping[str, RewardModel] | None = None,
    config: SelectionConfig | None = None,
    reproduction_script: str | None = None,
    *,
    on_progress: Progress | None = None,
) -> tuple[Selection, list[Judged]]:
    """Judge every candidate, then select one; returns the selection and the records behind it."""
    judged = judge_candidates(
        task, candidates, verifier, reward_models, reproduction_script, on_progress=on_progress
    )
    return choose_judged(judged, config), judged
