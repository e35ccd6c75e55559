"""The simulation states its accuracy and keeps to it: fixture properties by real execution, the reward
model's AUC, difficulty from the real solve-rate distribution."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from statistics import NormalDist

import litellm
import pytest

from simulation.difficulty import band, draw_rate, rollout_success, solve_rates, stage_rate
from simulation.model import (
    DEFAULT_AUC,
    Instance,
    SimParams,
    auc_from_accuracy,
    judge_p_yes,
    judge_question,
    register_instance,
    stage_actions,
)
from simulation.tasks import FIXTURES, Grader


def run_script(repo, script: str) -> str:
    path = repo / "reproduce_issue.py"
    path.write_text(script)
    proc = subprocess.run([sys.executable, str(path)], cwd=repo, capture_output=True, text=True, timeout=60)
    return (
        "reproduced"
        if "Issue reproduced" in proc.stdout
        else "resolved"
        if "Issue resolved" in proc.stdout
        else "?"
    )


def with_edit(src, dest, edit):
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".git"))
    if edit is not None:
        target = dest / edit.path
        text = target.read_text()
        assert edit.old in text
        target.write_text(text.replace(edit.old, edit.new, 1))
    return dest


def existing_tests_pass(repo) -> bool:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=repo,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"},
    )
    return proc.returncode == 0


@pytest.mark.parametrize("name", list(FIXTURES))
def test_fixture_scripts_and_edits_behave_as_documented_when_run(name, tmp_path):
    fixture = FIXTURES[name]
    repo, commit = fixture.make_repo(tmp_path / "repo")
    states = {
        kind: with_edit(repo, tmp_path / kind, fixture.edits.get(kind)) for kind in [*fixture.edits, "base"]
    }
    outcome = {
        (script, kind): run_script(states[kind], getattr(fixture, f"repro_{script}"))
        for script in ("right", "wrong", "misleading")
        for kind in states
    }
    # the right reproduction shows the bug and passes the right and the incomplete fix
    assert outcome[("right", "base")] == "reproduced"
    assert outcome[("right", "right")] == outcome[("right", "incomplete")] == "resolved"
    assert outcome[("right", "ineffective")] == outcome[("right", "decoy")] == "reproduced"
    # a detectable wrong one does not reproduce on the unchanged code
    assert outcome[("wrong", "base")] == "resolved"
    # a misleading one reproduces, but the right fix does not pass it
    assert (
        outcome[("misleading", "base")] == "reproduced" and outcome[("misleading", "right")] == "reproduced"
    )
    # incomplete: every existing test passes, the hidden test does not; regression breaks an existing test
    task = fixture.task(repo, commit)
    assert existing_tests_pass(states["incomplete"]) and existing_tests_pass(states["right"])
    assert not existing_tests_pass(states["regression"])
    grader = Grader()
    assert task.patch == fixture.gold_patch() and grader.resolved(fixture, repo, fixture.gold_patch())
    assert not grader.resolved(fixture, repo, fixture.patch_for("incomplete"))


def empirical_auc(positives: list[float], negatives: list[float]) -> float:
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


@pytest.mark.parametrize("auc", [0.6, 0.795, 0.95])
def test_reward_model_separates_right_from_wrong_work_at_the_stated_auc(auc):
    instance = Instance(FIXTURES["median"], SimParams(auc=auc, judge_consistency=0.5), 0.5)
    pos = [judge_p_yes(instance, f"i{i}", "outcome", True, "right", seed=i) for i in range(1500)]
    neg = [judge_p_yes(instance, f"i{i}", "outcome", False, "incomplete", seed=i) for i in range(1500)]
    assert empirical_auc(pos, neg) == pytest.approx(auc, abs=0.03)


def test_default_auc_is_the_published_accuracy_converted():
    assert DEFAULT_AUC == pytest.approx(auc_from_accuracy(0.72), abs=1e-3)
    # equal-variance binormal: accuracy Phi(d/2) at the best threshold, AUC Phi(d/sqrt 2)
    d = 2 * NormalDist().inv_cdf(0.72)
    assert DEFAULT_AUC == pytest.approx(NormalDist().cdf(d / 2**0.5), abs=1e-3)
    assert 0.78 < DEFAULT_AUC < 0.81


def test_the_judge_only_knows_what_the_prompt_shows():
    fixture = FIXTURES["slugify"]
    right = f"<patch>\n{fixture.gold_patch()}</patch>\nDoes this patch resolve the issue?"
    other = "<patch>\n+something else\n</patch>\nDoes this patch resolve the issue?"
    assert judge_question(fixture, right)[:2] == ("outcome", True)
    assert judge_question(fixture, other)[:2] == ("outcome", False)
    assert judge_question(fixture, "no question here") is None


def test_difficulty_comes_from_the_real_solve_rates():
    rates = solve_rates()
    assert len(rates) == 500 and 0.45 < sum(rates) / len(rates) < 0.6
    hard, medium, easy = band("hard"), band("medium"), band("easy")
    assert len(hard) + len(medium) + len(easy) == 500 and max(hard) <= min(medium) <= max(medium) <= min(easy)
    assert draw_rate("medium", "7") == draw_rate("medium", "7") and draw_rate("easy", "7") in easy
    for theta in (0.0, 0.05, 0.4, 0.9, 1.0):
        assert rollout_success(stage_rate(theta, 0.5, 0.1), 0.5, 0.1) == pytest.approx(theta, abs=1e-6)


@pytest.mark.parametrize("solve_rate", [0.2, 0.7])
def test_one_simulated_rollout_solves_at_the_instance_solve_rate(solve_rate):
    """Drawing the three stages as the provider does gives the right patch at the drawn rate."""
    fixture = FIXTURES["parse_bool"]
    instance = Instance(fixture, SimParams(), solve_rate)
    right = 0
    rng = random.Random(0)
    n = 3000
    for _ in range(n):
        seeds = [rng.getrandbits(31) for _ in range(3)]
        script = stage_actions(instance, "reproduce", seeds[0], "")[0]["args"]["file_text"]
        loc = stage_actions(instance, "localize", seeds[1], script)[-1]["args"]["summary"]
        edit = stage_actions(instance, "patch", seeds[2], script + loc)[0]["args"]["new_str"]
        right += edit == fixture.right.new
    assert right / n == pytest.approx(solve_rate, abs=0.03)


def test_the_provider_answers_judge_prompts_through_litellm():
    fixture = FIXTURES["median"]
    model = register_instance("unit-judge", fixture, SimParams(auc=0.9), 0.5)
    prompt = f"<patch>\n{fixture.gold_patch()}</patch>\nDoes this patch resolve the issue? Answer yes or no."
    reply = litellm.completion(
        model=model, messages=[{"role": "user", "content": prompt}], logprobs=True, seed=3
    )
    top = reply.choices[0].logprobs["content"][0]["top_logprobs"]
    assert {t["token"] for t in top} == {"yes", "no"}
    again = litellm.completion(model=model, messages=[{"role": "user", "content": prompt}], seed=3)
    assert (
        again.choices[0].message.content in ("yes", "no")
        and getattr(again.choices[0], "logprobs", None) is None
    )
