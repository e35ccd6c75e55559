"""The judging entry point in a real container: identical submissions judged once, reward models that
fail, and the static reward of a whole patch read through git without touching the working tree."""

from __future__ import annotations

import pytest

from sweagent.model.base import LimitExceeded
from sweagent.task import Task
from tests.verifiers.conftest import GOOD, ISSUE, NOT_APPLYING, REGRESSING, REPRO, RecordingSandbox, ops_patch
from verifiers.cache import ResultCache
from verifiers.execution import ExecutionVerifier
from verifiers.patch_static import StaticPatchReward
from verifiers.pipeline import choose, choose_judged, judge_candidates
from verifiers.selection import SelectionConfig
from verifiers.types import Candidate, Score

pytestmark = pytest.mark.docker

TASK = Task(instance_id="calc-1", problem_statement=ISSUE)
GOOD_WITH_INDEX = GOOD.replace("--- a/calc/ops.py", "index 1111111..2222222 100644\n--- a/calc/ops.py")
UNDEFINED = ops_patch("    if b == 0:\n        return fallback\n    return a / b")


@pytest.fixture
def sandbox(calc_sandbox):
    from sweagent.sandbox.base import RepoState

    calc_sandbox.restore(RepoState(base_commit=calc_sandbox.base_commit, patch=""))
    return calc_sandbox


class Raising:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def score(self, task, candidate, evidence=None) -> Score:
        raise self.exc

    def score_partial(self, task, prefix, stage) -> Score:
        raise self.exc


def test_identical_submissions_are_judged_once(sandbox):
    recorder = RecordingSandbox(sandbox)
    verifier = ExecutionVerifier(recorder, cache=ResultCache())
    commands_before: list[int] = []
    cands = [
        Candidate(id="good", patch=GOOD, reproduction_script=REPRO),
        Candidate(id="good-from-another-tool", patch=GOOD_WITH_INDEX, reproduction_script=REPRO),
        Candidate(id="regress", patch=REGRESSING, reproduction_script=REPRO),
    ]
    judged = judge_candidates(
        TASK,
        cands,
        verifier,
        {"static": StaticPatchReward(recorder)},
        on_progress=lambda done, total, cid: commands_before.append(len(recorder.commands)),
    )
    assert [j.candidate.id for j in judged] == ["good", "good-from-another-tool", "regress"]
    assert commands_before[1] > 0 and commands_before[2] == commands_before[1]  # the copy ran nothing
    assert commands_before[3] > commands_before[2]  # the regressing patch is judged on its own
    assert [v.model_dump() for v in judged[1].verdicts] == [v.model_dump() for v in judged[0].verdicts]
    assert judged[1].scores == judged[0].scores
    assert judged[0].verdict("regression").passed is True and judged[2].verdict("regression").passed is False


def test_a_failing_reward_model_is_missing_evidence_but_a_spent_budget_stops(sandbox):
    cand = Candidate(id="good", patch=GOOD)
    selection, judged = choose(
        TASK, [cand], None, {"broken": Raising(RuntimeError("connection reset"))}, SelectionConfig()
    )
    assert judged[0].scores["broken"].failed and "connection reset" in judged[0].scores["broken"].explanation
    assert selection.chosen == "good"
    assert choose_judged(judged).chosen == "good"
    with pytest.raises(LimitExceeded):
        judge_candidates(TASK, [cand], None, {"rm": Raising(LimitExceeded("cost"))})


def test_static_reward_reads_both_sides_through_git_only(sandbox):
    sandbox.write_file("calc/ops.py", sandbox.read_file("calc/ops.py") + "# work in progress\n")
    before = sandbox.snapshot()
    reward = StaticPatchReward(sandbox)
    good = reward.score(TASK, Candidate(id="g", patch=GOOD))
    undefined = reward.score(TASK, Candidate(id="u", patch=UNDEFINED))
    not_applying = reward.score(TASK, Candidate(id="n", patch=NOT_APPLYING))
    assert good.value == 0.5 and "no change" in good.explanation
    assert undefined.value < 0.1 and "fallback" in undefined.explanation
    assert not_applying.failed and "does not apply" in not_applying.explanation
    assert reward.score(TASK, Candidate(id="e", patch="")).failed
    assert sandbox.snapshot().patch == before.patch  # the working tree (with its edit) is untouched
    assert sandbox.run("echo ${GIT_INDEX_FILE:-unset}").output.strip() == "unset"
