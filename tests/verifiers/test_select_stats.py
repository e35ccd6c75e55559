"""The arithmetic of `bench select`: AUC, bootstrap intervals, and what each method picks from a draw."""

from __future__ import annotations

import itertools
import random

from verifiers.select_stats import InstanceData, auc, bootstrap_ci, mean, pick, pick_full
from verifiers.selection import SelectionConfig
from verifiers.types import Candidate, Judged, Score, Verdict


def brute_auc(scores, labels):
    pairs = [
        (p, n)
        for (p, yp), (n, yn) in itertools.product(zip(scores, labels, strict=True), repeat=2)
        if yp and not yn
    ]
    return sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs) / len(pairs)


def test_auc_is_the_pairwise_probability_with_ties_half():
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(2, 12)
        scores = [rng.choice([0.0, 0.25, 0.5, 0.5, 1.0]) for _ in range(n)]
        labels = [rng.random() < 0.5 for _ in range(n)]
        if all(labels) or not any(labels):
            assert auc(scores, labels) is None
            continue
        assert abs(auc(scores, labels) - brute_auc(scores, labels)) < 1e-12


def test_bootstrap_interval_brackets_the_mean():
    rng = random.Random(1)
    values = [rng.random() for _ in range(40)]
    lo, hi = bootstrap_ci(values, mean, random.Random(2))
    assert lo <= mean(values) <= hi and hi - lo < 0.5
    assert bootstrap_ci([0.3] * 10, mean, random.Random(3)) == [0.3, 0.3]
    assert bootstrap_ci([], mean, random.Random(3)) is None


def cand(cid: str, patch: str, apply: bool | None = True, static: float | None = None) -> Judged:
    verdicts = [Verdict.make("apply", apply, "passed" if apply else "does_not_apply", "")]
    scores = {"static": Score(value=static)} if static is not None else {}
    return Judged(
        candidate=Candidate(id=cid, patch=patch, metadata={"sources": [{}]}), verdicts=verdicts, scores=scores
    )


def diff(body: str) -> str:
    return f"--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-x = 0\n+{body}\n"


def instance() -> InstanceData:
    judged = [
        cand("right", diff("x = 1"), static=0.4),
        cand("wrong", diff("x = 2"), static=0.6),
        cand("broken", diff("x = 3"), apply=False, static=0.5),
        cand("empty", ""),
    ]
    return InstanceData(
        instance_id="i",
        judged=judged,
        resolved=[True, False, False, False],
        submissions=[0, 0, 0, 1, 2, 3, 3, 3, 3],  # three systems sent `right`, four sent nothing
        full_scores=[0.8, 0.7, 0.2, 0.0],
    )


def test_each_method_picks_by_its_own_signal():
    data, rng, config = instance(), random.Random(0), SelectionConfig(primary="score")
    everything = data.submissions
    assert pick("oracle", data, everything, rng, config) == 0
    assert pick("oracle", data, [1, 2], rng, config) in (1, 2)
    assert pick("majority_vote", data, everything, rng, config) == 0  # empties do not vote
    assert pick("static", data, everything, rng, config) == 1
    assert pick("full", data, everything, rng, config) == 0
    assert pick("full", data, [1, 2, 3], rng, config) == 1  # `broken` fails apply, `empty` is empty
    assert pick_full(data, [3, 3], config) is None
    # apply alone cannot tell right from wrong: ties go to a random drawn submission
    seen = {pick("apply", data, [0, 1, 2], rng, config) for _ in range(50)}
    assert seen == {0, 1}
    # a signal with no evidence anywhere is a random pick among submissions, duplicates included
    picks = [pick("reproduction", data, everything, rng, config) for _ in range(3000)]
    assert abs(picks.count(3) / 3000 - 4 / 9) < 0.05
