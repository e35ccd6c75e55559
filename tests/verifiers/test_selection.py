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


def sourced(item: Judged, n: int) -> Judged:
    """The same candidate submitted by n systems."""
    item.candidate.metadata["sources"] = [{"system": f"s{i}"} for i in range(n)]
    return item


def test_each_source_is_a_vote():
    items = [
        sourced(judged("a", FIX_A), 3),
        judged("b1", FIX_B),
        judged("b2", FIX_B.replace("if b", "if  b")),
    ]
    sel = select(items, SelectionConfig(primary="votes"))
    assert sel.chosen == "a"
    assert {r.id: r.votes for r in sel.ranking} == {"a": 3, "b1": 2, "b2": 2}


def test_score_mode_ranks_by_the_score_and_gives_every_candidate_a_reason():
    config = SelectionConfig(primary="score")
    items = [
        judged("b", FIX_B, reward=0.7),
        sourced(judged("a", FIX_A, reward=0.6), 2),
        judged("regress", FIX_B, reward=1.0, regression=False),
        judged("empty", ""),
    ]
    sel = select(items, config)
    rows = {r.id: r for r in sel.rows()}
    assert [r.id for r in sel.ranking] == sorted(
        (r.id for r in sel.ranking), key=lambda i: -rows[i].score
    )  # the rank follows the score
    # the documented formula: 0.5 for passing the filters + 0.5 x mean of (vote share, reward, reproduction)
    votes_total = 2 + 1 + 1  # every non-empty submission
    assert rows["a"].score == round(0.5 + 0.5 * (2 / votes_total + 0.6 + 0.5) / 3, 6)
    assert rows["regress"].score < min(rows["a"].score, rows["b"].score)  # failing a filter costs 0.5
    assert rows["empty"].score == 0.0
    assert sel.chosen == "a" and rows["a"].reason.startswith("chosen: ")
    assert (
        rows["b"].reason == f"ranked 2: lost to a on score ({rows['b'].score:.3f} vs {rows['a'].score:.3f})"
    )
    assert [r.id for r in sel.excluded] == ["regress", "empty"]
    assert rows["regress"].reason.startswith("excluded: regression failed (regressions)")
    assert rows["empty"].reason == "excluded: the patch is empty"


def repro_judged(cid: str, text: str, output: str) -> Judged:
    from verifiers.types import Evidence

    item = judged(cid, text)
    evidence = [
        Evidence(command="python repro.py", exit_code=1, output="Issue reproduced", label="base"),
        Evidence(command="python repro.py", exit_code=0, output=output, label="patched"),
    ]
    passed = "resolved" in output
    item.verdicts.append(
        Verdict.make("reproduction", passed, "passed" if passed else "failed", "", evidence=evidence)
    )
    return item


def test_behaviour_clusters_join_fixes_that_act_the_same_on_the_reproduction():
    items = [
        repro_judged("a", FIX_A, "took 0.51s\nIssue resolved"),
        repro_judged("b", FIX_B, "took 0.73s\nIssue resolved"),  # other text, same behaviour
        repro_judged("c", patch("    return 0"), "Issue reproduced"),
        judged("d", patch("    return 1")),  # no reproduction ran: joins nobody
        judged("e", patch("    return 2")),
    ]
    by_diff = select(items, SelectionConfig(primary="votes", reproduction="ignore"))
    assert len(by_diff.clusters) == 5 and all(r.votes == 1 for r in by_diff.ranking)
    by_behaviour = select(
        items, SelectionConfig(primary="votes", cluster_by="behaviour", reproduction="ignore")
    )
    assert sorted(map(sorted, by_behaviour.behaviour_clusters)) == [["a", "b"], ["c"], ["d"], ["e"]]
    assert {r.id: r.votes for r in by_behaviour.ranking} == {"a": 2, "b": 2, "c": 1, "d": 1, "e": 1}
    assert by_behaviour.chosen == "a"
    assert len(by_behaviour.clusters) == 5  # the diff clusters stay as they were
