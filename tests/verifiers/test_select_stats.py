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


def test_measure_reports_every_method_per_budget_and_an_oracle_that_is_a_ceiling():
    from types import SimpleNamespace

    from verifiers.select_bench import aucs, measure

    judged_right = instance()
    for item, value in zip(judged_right.judged, (0.9, 0.2, 0.4, 0.1), strict=True):
        item.scores["judge"] = Score(value=value)
    hopeless = instance()
    hopeless.resolved = [False] * 4
    data = [judged_right, hopeless]
    config = SimpleNamespace(selection=SelectionConfig(primary="score"))
    methods = ["random", "majority_vote", "apply", "static", "judge", "full", "oracle"]
    out = measure(data, methods, [1, 9], draws=30, seed=4, config=config)
    for budget in out.values():
        rates = {m: v["resolved_rate"] for m, v in budget["methods"].items()}
        assert set(rates) == set(methods)
        assert all(rates[m] <= rates["oracle"] for m in methods)
    everything = out["9"]["methods"]
    assert everything["oracle"]["resolved_rate"] == 0.5  # one of the two instances has a right candidate
    assert everything["judge"]["resolved_rate"] == 0.5 and everything["full"]["resolved_rate"] == 0.5
    exact = (3 / 9 + 0) / 2  # budget 1: the share of right submissions, averaged over instances
    assert abs(out["1"]["methods"]["random"]["resolved_rate"] - exact) < 0.12
    assert out["9"]["full_minus_random"]["difference"] > 0
    found = aucs(data, ["apply", "judge"], seed=4)
    assert found["judge"]["auc"] == 1.0
    pooled = [(inst.full_scores[i], inst.resolved[i]) for inst in data for i in range(4)]
    assert found["full_selection"]["auc"] == round(brute_auc(*zip(*pooled, strict=True)), 4)


def test_full_selection_breaks_a_tie_at_random_not_by_file_order():
    # the fix and a wrong fix of the same size with the same verdicts and one vote each: the rule cannot
    # tell them apart, so over many draws each should be picked about half the time
    judged = [cand("right", diff("x = 1")), cand("wrong", diff("x = 2"))]
    data = InstanceData("i", judged, resolved=[True, False], submissions=[0, 1], full_scores=[0.7, 0.7])
    rng = random.Random(5)
    picks = [pick("full", data, [0, 1], rng, SelectionConfig()) for _ in range(400)]
    assert 0.4 < picks.count(0) / len(picks) < 0.6
    assert (
        pick_full(data, [0, 1], SelectionConfig()) == 0
    )  # without a generator: pool order, as `select` does
