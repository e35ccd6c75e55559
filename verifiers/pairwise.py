"""`PairwiseJudge`: which of two patches better resolves the issue, and tournaments over many.

Models prefer whichever patch they read first more often than chance, so by default each pair is
asked in both orders; a pair whose two answers disagree is a tie. A reply that is not "A" or "B" is
retried once with a reminder; if it still is not, that ordering counts as no answer (never an error).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any, Literal

from verifiers.render import evidence_text, issue_text, patch_text
from verifiers.types import Candidate, Verdict

if TYPE_CHECKING:
    from sweagent.task import Task

SYSTEM = "You compare changes to a software repository. You answer with one letter."
PROMPT = """\
<issue>
{issue}
</issue>

<patch_A>
{patch_a}
</patch_A>

<evidence_A>
{evidence_a}
</evidence_A>

<patch_B>
{patch_b}
</patch_B>

<evidence_B>
{evidence_b}
</evidence_B>

Which patch better resolves the issue? Answer A or B."""
REMINDER = "Reply with exactly one letter: A or B."
_CHOICE = re.compile(r"^[\W_]*(?:answer\s*[:\-]\s*)?(?:patch[\s_]*)?([AB])\b", re.IGNORECASE)


def parse_choice(text: str | None) -> Literal["A", "B"] | None:
    match = _CHOICE.match((text or "").strip())
    return match.group(1).upper() if match else None  # type: ignore[return-value]


class PairwiseJudge:
    """Compares two candidates with a `sweagent.model.Model`."""

    name = "pairwise_judge"

    def __init__(self, model: Any, both_orders: bool = True, max_tokens: int | None = 16) -> None:
        self.model = model
        self.both_orders = both_orders
        self.max_tokens = max_tokens

    def _ask(
        self, task: Task, first: Candidate, second: Candidate, evidence: dict[str, Sequence[Verdict]]
    ) -> tuple[str | None, list[str]]:
        from sweagent.model.base import ModelError

        prompt = PROMPT.format(
            issue=issue_text(task),
            patch_a=patch_text(first.patch, 8_000),
            evidence_a=evidence_text(evidence.get(first.id), 600),
            patch_b=patch_text(second.patch, 8_000),
            evidence_b=evidence_text(evidence.get(second.id), 600),
        )
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
        extra = {"max_tokens": self.max_tokens} if self.max_tokens else {}
        replies: list[str] = []
        try:
            response = self.model.query(messages, **extra)
            replies.append(response.content or "")
            choice = parse_choice(response.content)
            if choice is None:
                retry = [
                    *messages,
                    {"role": "assistant", "content": response.content or ""},
                    {"role": "user", "content": REMINDER},
                ]
                response = self.model.query(retry, **extra)
                replies.append(response.content or "")
                choice = parse_choice(response.content)
        except ModelError as exc:
            replies.append(f"(model failed: {exc})")
            return None, replies
        if choice is None:
            return None, replies
        return (first.id if choice == "A" else second.id), replies

    def compare(
        self, task: Task, a: Candidate, b: Candidate, evidence: dict[str, Sequence[Verdict]] | None = None
    ) -> tuple[str | None, str]:
        """(id of the better candidate, or None for a tie / no answer; why)."""
        task = task.public()
        evidence = evidence or {}
        first, replies = self._ask(task, a, b, evidence)
        if not self.both_orders:
            if first is None:
                return None, f"no A/B answer (replies: {replies!r})"
            return first, f"preferred {first} (one ordering)"
        second, replies2 = self._ask(task, b, a, evidence)
        if first is not None and first == second:
            return first, f"preferred {first} in both orderings"
        if first is None and second is None:
            return None, f"no A/B answer in either ordering (replies: {(replies + replies2)[-4:]!r})"
        if first is None or second is None:
            winner = first or second
            return winner, f"preferred {winner} in the one ordering that got an answer"
        return None, "tie: the preference flipped with the order of the patches"


@dataclass
class TournamentResult:
    """Ranking (best first), points per candidate, and each match's outcome."""

    ranking: list[str]
    points: dict[str, float]
    matches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def winner(self) -> str | None:
        return self.ranking[0] if self.ranking else None


def tournament(
    judge: PairwiseJudge,
    task: Task,
    candidates: Sequence[Candidate],
    mode: Literal["round_robin", "knockout"] = "round_robin",
    evidence: dict[str, Sequence[Verdict]] | None = None,
) -> TournamentResult:
    """Rank candidates by pairwise comparisons.

    round_robin: every pair once (n·(n−1)/2 comparisons); a win scores 1, a tie 0.5 each.
    knockout: winners advance (n−1 comparisons); a tie keeps the earlier candidate; a candidate's points
    are the rounds it won. Equal points keep the input order.
    """
    task = task.public()
    order = {c.id: i for i, c in enumerate(candidates)}
    points = {c.id: 0.0 for c in candidates}
    matches: list[dict[str, Any]] = []

    def play(a: Candidate, b: Candidate) -> str | None:
        winner, why = judge.compare(task, a, b, evidence)
        matches.append({"a": a.id, "b": b.id, "winner": winner, "explanation": why})
        return winner

    if mode == "round_robin":
        for a, b in combinations(candidates, 2):
            winner = play(a, b)
            if winner is None:
                points[a.id] += 0.5
                points[b.id] += 0.5
            else:
                points[winner] += 1.0
    elif mode == "knockout":
        alive = list(candidates)
        while len(alive) > 1:
            nxt = []
            for i in range(0, len(alive) - 1, 2):
                a, b = alive[i], alive[i + 1]
                winner = play(a, b) or a.id
                points[winner] += 1.0
                nxt.append(a if winner == a.id else b)
            if len(alive) % 2:
                nxt.append(alive[-1])
            alive = nxt
    else:
        raise ValueError(f"unknown tournament mode {mode!r}: use round_robin or knockout")
    ranking = sorted(points, key=lambda cid: (-points[cid], order[cid]))
    return TournamentResult(ranking=ranking, points=points, matches=matches)
