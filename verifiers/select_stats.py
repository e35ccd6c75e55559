"""The arithmetic of `bench select`: picking from random draws of candidates, AUC, bootstrap intervals.

Pure functions over plain data (no Docker, no files), so they are tested on their own.

- `InstanceData`: one instance's distinct candidates (their judged record, eval outcome and how many
  submissions stand behind each) and its submissions as a list of candidate indices.
- `pick(method, ...)`: which candidate a method takes from a drawn subset.
- `auc`: the probability that a random resolved candidate scores above a random unresolved one (ties
  count half; the Mann-Whitney statistic).
- `bootstrap_ci`: a percentile interval over instances resampled with replacement, which is the unit
  that varies when the benchmark is rerun on other tasks.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from verifiers.diffs import patch_key
from verifiers.selection import SelectionConfig, select
from verifiers.types import Judged

NEUTRAL = 0.5
VERDICT_CHECKS = ("apply", "regression", "reproduction")


@dataclass
class InstanceData:
    instance_id: str
    judged: list[Judged]  # one per distinct candidate, in pool order
    resolved: list[bool]
    submissions: list[int]  # candidate index of each submission (a multiset)
    full_scores: list[float]  # selection score of each candidate on the whole pool
    _memo: dict[tuple, int] = field(default_factory=dict, repr=False)

    @property
    def any_resolved(self) -> bool:
        return any(self.resolved)


def verifier_value(item: Judged, name: str) -> float:
    """One verifier's opinion of a candidate in [0, 1]; no evidence (None, not run, failed score) is 0.5."""
    if name in VERDICT_CHECKS:
        verdict = item.verdict(name)
        return NEUTRAL if verdict is None or verdict.passed is None else float(verdict.passed)
    score = item.scores.get(name)
    return NEUTRAL if score is None or score.value is None else float(score.value)


def _best(drawn: Sequence[int], value: Callable[[int], float], rng: random.Random) -> int:
    """The highest-valued drawn submission; ties at random among submissions (so no evidence = random)."""
    top = max(value(i) for i in drawn)
    return rng.choice([i for i in drawn if value(i) == top])


def pick_full(
    data: InstanceData, drawn: Sequence[int], config: SelectionConfig, rng: random.Random | None = None
) -> int | None:
    """The selection rule on the drawn submissions (votes = copies drawn). The rule breaks its last ties by
    input order; with `rng` the distinct candidates come in random order, so a tie is a coin flip rather
    than a win for whichever system's file was named first. Without it, pool order."""
    counts = Counter(drawn)
    order = sorted(counts)
    if rng is not None:
        rng.shuffle(order)
    key = tuple((i, counts[i]) for i in order)
    if key in data._memo:
        return data._memo[key]
    items = []
    for index in order:
        base = data.judged[index]
        candidate = base.candidate.model_copy(
            update={"metadata": {**base.candidate.metadata, "sources": [{}] * counts[index]}}
        )
        items.append(Judged(candidate=candidate, verdicts=base.verdicts, scores=base.scores))
    chosen = select(items, config).chosen
    by_id = {data.judged[i].candidate.id: i for i in counts}
    data._memo[key] = by_id[chosen] if chosen is not None else -1
    return None if data._memo[key] < 0 else data._memo[key]


def pick(
    method: str, data: InstanceData, drawn: Sequence[int], rng: random.Random, config: SelectionConfig
) -> int | None:
    """The candidate index `method` chooses from the drawn submissions (None: chooses nothing)."""
    if method == "random":
        return rng.choice(list(drawn))
    if method == "majority_vote":
        nonempty = [i for i in drawn if data.judged[i].candidate.patch.strip()]
        if not nonempty:
            return rng.choice(list(drawn))
        keys = {i: patch_key(data.judged[i].candidate.patch) for i in set(nonempty)}
        votes = Counter(keys[i] for i in nonempty)
        top = max(votes.values())
        winner = rng.choice(sorted(k for k, n in votes.items() if n == top))
        return rng.choice([i for i in nonempty if keys[i] == winner])
    if method == "full":
        return pick_full(data, drawn, config, rng)
    if method == "oracle":
        good = [i for i in drawn if data.resolved[i]]
        return good[0] if good else drawn[0]
    return _best(list(drawn), lambda i: verifier_value(data.judged[i], method), rng)


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """P(score of a resolved candidate > score of an unresolved one), ties half; None without both kinds."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not pos or not neg:
        return None
    ranked = sorted(pos + neg)
    # average ranks (1-based) for ties
    rank_of: dict[float, float] = {}
    i = 0
    while i < len(ranked):
        j = i
        while j + 1 < len(ranked) and ranked[j + 1] == ranked[i]:
            j += 1
        rank_of[ranked[i]] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = sum(rank_of[s] for s in pos)
    u = rank_sum - len(pos) * (len(pos) + 1) / 2
    return u / (len(pos) * len(neg))


def bootstrap_ci(
    units: Sequence[object],
    statistic: Callable[[Sequence[object]], float | None],
    rng: random.Random,
    reps: int = 1000,
    level: float = 0.95,
) -> list[float] | None:
    """Percentile interval of `statistic` over `units` resampled with replacement."""
    if not units:
        return None
    values = []
    for _ in range(reps):
        sample = [units[rng.randrange(len(units))] for _ in units]
        value = statistic(sample)
        if value is not None:
            values.append(value)
    if not values:
        return None
    values.sort()
    lo = values[int((1 - level) / 2 * (len(values) - 1))]
    hi = values[int((1 + level) / 2 * (len(values) - 1))]
    return [round(lo, 4), round(hi, 4)]


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
