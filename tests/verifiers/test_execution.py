"""Execution checks in a real container on a small repository with an issue."""

from __future__ import annotations

import pytest

from sweagent.task import Task
from tests.verifiers.conftest import (
    GOOD,
    GOOD_REFORMATTED,
    HANGS_TESTS,
    ISSUE,
    NON_REPRODUCING,
    NOT_APPLYING,
    NOT_COMPILING,
    REGRESSING,
    REPRO,
    RecordingSandbox,
)
from verifiers.cache import ResultCache
from verifiers.execution import ExecutionConfig, ExecutionVerifier
from verifiers.types import Candidate

pytestmark = pytest.mark.docker

TASK = Task(instance_id="calc-1", problem_statement=ISSUE)


@pytest.fixture
def sandbox(calc_sandbox):
    """The shared container, with a check that every test leaves its state as found."""
    from sweagent.sandbox.base import RepoState

    calc_sandbox.restore(RepoState(base_commit=calc_sandbox.base_commit, patch=""))
    calc_sandbox.write_file("scratch_note.txt", "agent's untracked work\n")  # a non-base starting state
    before = calc_sandbox.snapshot()
    yield calc_sandbox
    after = calc_sandbox.snapshot()
    assert after.patch == before.patch, "a check did not restore the sandbox state"


def by_check(verdicts):
    return {v.check: v for v in verdicts}


def test_correct_patch_passes_every_check(sandbox):
    verifier = ExecutionVerifier(sandbox)
    verdicts = by_check(verifier.verify(TASK, Candidate(id="good", patch=GOOD, reproduction_script=REPRO)))
    assert verdicts["apply"].passed is True and verdicts["apply"].details["files"] == ["calc/ops.py"]
    repro = verdicts["reproduction"]
    assert repro.passed is True, repro.explanation
    assert repro.details["base_outcome"] == "reproduced" and repro.details["patched_outcome"] == "resolved"
    assert [e.label for e in repro.evidence] == ["base", "patched"]
    assert "Issue reproduced" in repro.evidence[0].output and "Issue resolved" in repro.evidence[1].output
    regression = verdicts["regression"]
    assert regression.passed is True, regression.explanation
    # related by import (test_ops imports calc.ops) and by name (test_ops.py); test_misc is unrelated
    assert set(regression.details["test_files"]) == {"tests/test_ops.py", "tests/test_fmt.py"}
    assert regression.details["passed_before"] == regression.details["passed_after"] == 3
    assert any("--junitxml" in e.command for e in regression.evidence)


def test_patch_that_breaks_an_existing_test(sandbox):
    verdicts = by_check(
        ExecutionVerifier(sandbox).verify(
            TASK, Candidate(id="r", patch=REGRESSING, reproduction_script=REPRO)
        )
    )
    assert verdicts["apply"].passed is True
    assert verdicts["reproduction"].passed is True  # it does fix the issue...
    regression = verdicts["regression"]
    assert regression.passed is False and regression.status == "regressions"  # ...but breaks test_divide
    assert regression.details["regressions"] == {"tests/test_ops.py::test_divide": "failed"}


def test_a_regression_judged_again_from_the_cache_is_still_confirmed(sandbox):
    # a resumed run: base and patched outcomes come from the cache, only the flaky re-runs execute
    cache = ResultCache()
    first = ExecutionVerifier(sandbox, cache=cache).check_regressions(Candidate(id="r", patch=REGRESSING))
    assert first.status == "regressions"
    again = ExecutionVerifier(sandbox, cache=cache).check_regressions(Candidate(id="r", patch=REGRESSING))
    assert [e.cached for e in again.evidence[:2]] == [True, True]
    reruns = [e for e in again.evidence if "rerun" in e.label]
    assert [e.label for e in reruns] == ["base-rerun-1", "patched-rerun-1"]
    assert all(" passed in " in e.output for e in reruns)  # pytest ran: the log was written
    assert again.passed is False and again.status == "regressions" and again.details["flaky"] == {}
    assert again.details["regressions"] == {"tests/test_ops.py::test_divide": "failed"}


def test_patch_that_does_not_compile(sandbox):
    verdicts = ExecutionVerifier(sandbox).verify(
        TASK, Candidate(id="nc", patch=NOT_COMPILING, reproduction_script=REPRO)
    )
    assert [v.check for v in verdicts] == ["apply"]  # nothing else runs on a broken patch
    [apply] = verdicts
    assert apply.passed is False and apply.status == "does_not_compile"
    assert apply.evidence[-1].exit_code != 0 and "SyntaxError" in apply.evidence[-1].output


@pytest.mark.parametrize(
    ("patch", "status"),
    [(NOT_APPLYING, "does_not_apply"), ("", "empty_patch"), ("not a diff at all\n", "malformed_patch")],
)
def test_bad_patches(sandbox, patch, status):
    verifier = ExecutionVerifier(sandbox)
    apply = verifier.check_apply(Candidate(id="bad", patch=patch))
    assert apply.passed is False and apply.status == status
    if status == "does_not_apply":
        assert "git apply --check" in apply.evidence[0].command and apply.evidence[0].exit_code != 0
    assert verifier.check_regressions(Candidate(id="bad", patch=patch)).passed is False


def test_script_that_does_not_reproduce_is_not_evidence(sandbox):
    verdict = ExecutionVerifier(sandbox).check_reproduction(
        Candidate(id="g", patch=GOOD, reproduction_script=NON_REPRODUCING)
    )
    assert verdict.passed is None and verdict.status == "not_reproducing"
    assert verdict.score is None and verdict.details["base_outcome"] == "resolved"
    assert len(verdict.evidence) == 1  # the patched code is not even run


def test_reproduction_read_from_the_sandbox_and_exit_code_fallback(sandbox):
    # an agent-written script left in the work tree, without markers: an AssertionError means "reproduced"
    sandbox.write_file("reproduce_div.py", "from calc.ops import divide\nassert divide(1, 0) is None\n")
    try:
        verdict = ExecutionVerifier(sandbox).check_reproduction(
            Candidate(id="g", patch=GOOD, reproduction_path="reproduce_div.py")
        )
    finally:
        sandbox.run("rm -f reproduce_div.py")
    assert verdict.passed is True and verdict.details["read_by"] == "exit code"
    none = ExecutionVerifier(sandbox).check_reproduction(Candidate(id="g", patch=GOOD))
    assert none.passed is None and none.status == "no_tests"


def test_tests_that_timed_out_in_a_state_are_not_waited_for_again(sandbox):
    # the same path serves the base commit, where every candidate would otherwise wait out the bound again
    # (SymPy's stats tests can outlast it on a loaded machine)
    cache = ResultCache()
    ExecutionVerifier(sandbox, cache=cache).check_regressions(Candidate(id="good", patch=GOOD))  # base runs
    bounded = ExecutionVerifier(sandbox, ExecutionConfig(test_timeout=3), cache)
    first = bounded.check_regressions(Candidate(id="hang", patch=HANGS_TESTS))
    assert first.status == "timed_out" and first.evidence[-1].timed_out and not first.evidence[-1].cached
    again = bounded.check_regressions(Candidate(id="hang-again", patch=HANGS_TESTS))
    assert again.status == "timed_out" and again.passed is False
    assert (
        again.evidence[-1].timed_out and again.evidence[-1].cached and again.evidence[-1].label == "patched"
    )
    assert again.evidence[-1].command == first.evidence[-1].command
    # a longer bound runs them again
    longer = ExecutionVerifier(sandbox, ExecutionConfig(test_timeout=4), cache)
    third = longer.check_regressions(Candidate(id="hang-longer", patch=HANGS_TESTS))
    assert third.status == "timed_out" and not third.evidence[-1].cached


def test_hanging_tests_time_out_with_evidence(sandbox):
    cache = ResultCache()
    ExecutionVerifier(sandbox, cache=cache).check_regressions(Candidate(id="good", patch=GOOD))  # base runs
    verifier = ExecutionVerifier(sandbox, ExecutionConfig(test_timeout=3, reproduction_timeout=2), cache)
    regression = verifier.check_regressions(Candidate(id="hang", patch=HANGS_TESTS))
    assert regression.passed is False and regression.status == "timed_out"
    assert regression.evidence[-1].timed_out and regression.evidence[-1].label == "patched"
    assert "--junitxml" in regression.evidence[-1].command  # the command that hung is recorded
    hang_script = "while True:\n    pass\n"
    repro = verifier.check_reproduction(Candidate(id="g", patch=GOOD, reproduction_script=hang_script))
    assert repro.status == "no_evidence" and repro.outcome == "no_evidence" and repro.evidence[0].timed_out
    assert repro.passed is None and not repro.reproduces_on_base
    # the sandbox is usable afterwards
    assert sandbox.run("echo alive", timeout=10).output.strip() == "alive"


def test_cache_reuses_base_runs_and_identical_patches(sandbox):
    cache = ResultCache()
    recorder = RecordingSandbox(sandbox)
    verifier = ExecutionVerifier(recorder, cache=cache)
    first = verifier.verify(TASK, Candidate(id="a", patch=GOOD, reproduction_script=REPRO))
    n_first = len(recorder.commands)
    # a reformatted copy of the same fix: the base runs (tests, reproduction, selection) come from the cache
    recorder.commands.clear()
    second = verifier.verify(TASK, Candidate(id="b", patch=GOOD_REFORMATTED, reproduction_script=REPRO))
    pytest_runs = [c for c in recorder.commands if "-m pytest" in c]
    assert len(pytest_runs) == 1 and len(recorder.commands) < n_first
    assert all(v.passed for v in second)
    base_ev = [e for v in second for e in v.evidence if e.label == "base"]
    assert base_ev and all(e.cached for e in base_ev)
    # the identical patch again: everything is cached and the sandbox is not touched at all
    recorder.commands.clear()
    third = verifier.verify(TASK, Candidate(id="c", patch=GOOD, reproduction_script=REPRO))
    assert recorder.commands == []
    assert [v.passed for v in third] == [v.passed for v in first]
    assert cache.stats()["hits"] > 0


def test_choose_filters_by_execution_and_votes_among_fixes(sandbox, judge_llm, judge_model):
    from verifiers.judge import JudgeConfig, LLMJudge
    from verifiers.pipeline import RewardModel, choose

    judge_llm.default = "yes"  # the judge likes everything: execution evidence must decide
    judge = LLMJudge(judge_model, JudgeConfig(k=1))
    assert isinstance(judge, RewardModel)
    cands = [
        Candidate(id="regress", patch=REGRESSING, reproduction_script=REPRO),
        Candidate(id="broken", patch=NOT_COMPILING, reproduction_script=REPRO),
        Candidate(id="good", patch=GOOD, reproduction_script=REPRO),
        Candidate(id="good-again", patch=GOOD_REFORMATTED, reproduction_script=REPRO),
    ]
    selection, judged = choose(TASK, cands, ExecutionVerifier(sandbox), {"judge": judge})
    assert selection.chosen == "good"
    assert [r.id for r in selection.ranking] == ["good", "good-again"]
    assert selection.clusters == [["good", "good-again"]]
    assert "2 of 4 candidates passed the execution filters" in selection.reason
    assert all(j.scores["judge"].value == 1.0 for j in judged)


def test_unrelated_crash_is_no_evidence_and_the_search_lends_only_reproducing_scripts(sandbox):
    from search.evaluate import run_reproduction_on_base
    from sweagent.sandbox.base import RepoState

    crash = "from calc.opz import divide\n\ndivide(1, 0)\n"  # a typo: ModuleNotFoundError, not the issue
    verdict = ExecutionVerifier(sandbox).verify(
        TASK, Candidate(id="c", patch=GOOD, reproduction_script=crash)
    )
    repro = by_check(verdict)["reproduction"]
    assert repro.passed is None and repro.outcome == "no_evidence" and not repro.reproduces_on_base
    assert "unrelated ModuleNotFoundError" in repro.explanation
    here = RepoState(base_commit=sandbox.base_commit, patch="")
    assert run_reproduction_on_base(sandbox, crash, "r.py", here)[0] is None  # never lent to other branches
    assert run_reproduction_on_base(sandbox, NON_REPRODUCING, "r.py", here)[0] is False
    assert run_reproduction_on_base(sandbox, REPRO, "r.py", here)[0] is True
