"""Selection rules: execution filters, reward ranking, clustering and majority votes, with reasons."""

from __future__ import annotations

import json

from verifiers.selection import SelectionConfig, select
from verifiers.types import Candidate, Judged, Score, Verdict


def patch(new_line: str, context: str = " x = 0\n") -> str:
    return "--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,2 @@\n" + context + "-    return a / b\n" + f"+{new_line}\n"


FIX_A = patch("    return None if b == 0 else a / b")
FIX_A_REFORMATTED = patch("    return None if b==0 else a/b", context=" y = 1\n")
FIX_B = patch("    return a / b if b else None")


def judged(cid, text, reward=None, apply=True, regression=True, repro=None) -> Judged:
    verdicts = [
        Verdict.make("apply", apply, "passed" if apply else "does_not_apply", ""),
        Verdict.make("regression", regression, "passed" if regression else "regressions", ""),
    ]
    if repro is not None:
        verdicts.append(Verdict.make("reproduction", repro, "passed" if repro else "failed", ""))
    scores = {"judge": Score(value=reward)} if reward is not None else {}
    return Judged(candidate=Candidate(id=cid, patch=text), verdicts=verdicts, scores=scores)


def test_filters_then_ranks_by_reward():
    items = [
        judged("broken", FIX_B, reward=0.99, apply=False),
        judged("regress", FIX_B, reward=0.95, regression=False),
        judged("good", FIX_A, reward=0.6),
        judged("better", FIX_B, reward=0.8),
    ]
    sel = select(items)
    assert sel.chosen == "better"
    assert [r.id for r in sel.ranking] == ["better", "good"]
    assert "2 of 4 candidates passed the execution filters" in sel.reason
    assert "better" in sel.reason and "reward 0.800" in sel.reason
    json.dumps(sel.model_dump(mode="json"))


def test_clusters_equivalent_patches_and_breaks_reward_ties_by_votes():
    items = [
        judged("b1", FIX_B, reward=0.81),
        judged("a1", FIX_A, reward=0.80),
        judged("a2", FIX_A_REFORMATTED, reward=0.79),
    ]
    sel = select(items)
    assert sorted(map(sorted, sel.clusters)) == [["a1", "a2"], ["b1"]]
    assert sel.chosen == "a1"  # rewards within tolerance: the two-vote cluster wins
    assert "tied on the primary key" in sel.reason
    strict = select(items, SelectionConfig(tie_tolerance=0.0))
    assert strict.chosen == "b1"


def test_majority_vote_as_primary_key():
    items = [
        judged("b1", FIX_B, reward=0.9),
        judged("a1", FIX_A, reward=0.2),
        judged("a2", FIX_A_REFORMATTED),
    ]
    sel = select(items, SelectionConfig(primary="votes"))
    assert sel.chosen == "a1"
    assert next(r for r in sel.ranking if r.id == "a2").reward is None


def test_reproduction_prefer_and_require():
    items = [judged("a", FIX_A, reward=0.7, repro=False), judged("b", FIX_B, reward=0.7, repro=True)]
    assert select(items).chosen == "b"  # prefer: equal rewards, the reproduced fix ranks first
    assert select(items, SelectionConfig(reproduction="ignore")).chosen == "a"
    required = select(items, SelectionConfig(reproduction="require"))
    assert [r.id for r in required.ranking] == ["b"]


def test_failed_scores_are_ignored_and_unscored_rank_last():
    items = [
        Judged(candidate=Candidate(id="failed", patch=FIX_A), scores={"rm": Score.failure("rm", "down")}),
        judged("scored", FIX_B, reward=0.1),
    ]
    sel = select(items)
    assert sel.chosen == "scored"


def test_nothing_passes_filters():
    items = [judged("x", FIX_A, apply=False, reward=0.5), judged("y", "", reward=0.9)]
    fallback = select(items)
    assert fallback.chosen == "x"  # the fallback ranks every non-empty patch
    assert "no candidate passed the execution filters" in fallback.reason
    none = select(items, SelectionConfig(fallback="none"))
    assert none.chosen is None
    assert {r.id: r.excluded_by for r in none.ranking} == {
        "x": ["apply:does_not_apply"],
        "y": ["empty patch"],
    }
    assert select([]).chosen is None
    assert select([judged("empty", "", reward=1.0)]).chosen is None
