"""The filters on hand-built trajectories: every complexity reason, accuracy, dedup, balance and stats."""

from __future__ import annotations

import json

import pytest

from sweagent.errors import UserError
from sweagent.trajectory import Action, Step, Trajectory
from synth.config import FilterConfig
from synth.filters import (
    accuracy_reasons,
    complexity_reasons,
    longest_repeat,
    measure,
    patch_size,
    process_reasons,
)
from synth.results import dedup_and_balance, judge
from synth.rollouts import load_rollout
from synth.stats import run_stats

SOURCE_PATCH = """diff --git a/pkg/mod.py b/pkg/mod.py
--- a/pkg/mod.py
+++ b/pkg/mod.py
@@ -1,2 +1,2 @@
 def f():
-    return 1
+    return 2
"""
TEST_PATCH = """diff --git a/tests/test_mod.py b/tests/test_mod.py
--- a/tests/test_mod.py
+++ b/tests/test_mod.py
@@ -1,2 +1,2 @@
 def test_f():
-    assert f() == 1
+    assert f() == 2
"""

LOOK = ("localize", "editor", {"command": "view", "path": "pkg/mod.py"})
REPRO = ("reproduce", "bash", {"command": "python3 reproduce_issue.py"})
EDIT = ("patch", "editor", {"command": "str_replace", "path": "pkg/mod.py", "old_str": "1", "new_str": "2"})
VERIFY = ("verify", "bash", {"command": "python -m pytest -q tests"})
SUBMIT = ("submit", "submit", {})
CLEAN = [LOOK, REPRO, EDIT, VERIFY, SUBMIT]


def make_traj(steps, *, patch=SOURCE_PATCH, status="submitted", tokens=(1000, 50), iid="t.s0") -> Trajectory:
    out = []
    for i, step in enumerate(steps):
        if step == "format_error":
            out.append(Step(index=i, stage="localize", format_error=True))
            continue
        stage, tool, args = step
        out.append(Step(index=i, stage=stage, action=Action(tool=tool, args=args)))
    if out:
        out[-1].input_tokens, out[-1].output_tokens = tokens
    return Trajectory(
        instance_id=iid,
        model_name="m",
        steps=out,
        patch=patch,
        exit_status=status,
        environment={"workdir": "/testbed"},
    )


def reasons(traj: Trajectory, **config) -> list[str]:
    return complexity_reasons(traj, FilterConfig(**config))


def test_a_clean_trajectory_passes():
    assert reasons(make_traj(CLEAN)) == []


@pytest.mark.parametrize(
    ("steps", "kwargs", "config", "expected"),
    [
        ([REPRO, EDIT], {}, {"require_verification": False}, ["too_few_steps"]),
        (CLEAN, {}, {"max_steps": 4}, ["too_many_steps"]),
        (CLEAN, {"tokens": (40_000, 100)}, {}, ["too_many_tokens"]),
        (CLEAN, {}, {"max_patch_lines": 1}, ["patch_too_large"]),
        (
            CLEAN,
            {"patch": SOURCE_PATCH + SOURCE_PATCH.replace("pkg/mod.py", "pkg/other.py")},
            {"max_patch_files": 1},
            ["too_many_patch_files"],
        ),
        ([LOOK, "format_error", REPRO, EDIT, VERIFY, SUBMIT], {}, {}, ["format_errors"]),
        ([LOOK, EDIT, VERIFY, SUBMIT], {}, {}, ["no_reproduction"]),
        (
            [LOOK, EDIT, REPRO, VERIFY, SUBMIT],
            {},
            {},
            ["no_reproduction"],
        ),  # a run after the edit is not a reproduction
        ([LOOK, REPRO, EDIT, SUBMIT], {}, {}, ["no_verification"]),
        (
            [LOOK, REPRO, EDIT, VERIFY, EDIT, SUBMIT],
            {},
            {},
            ["no_verification"],
        ),  # the last edit is unverified
        ([LOOK, LOOK, LOOK, REPRO, EDIT, VERIFY, SUBMIT], {}, {}, ["loop"]),
        (CLEAN, {"status": "submitted (limit)"}, {}, ["hit_limit"]),
        (CLEAN, {"status": "format_error"}, {}, ["not_submitted"]),
        (CLEAN, {"status": "error: model_timeout"}, {}, ["not_submitted"]),
        (CLEAN, {"patch": SOURCE_PATCH + TEST_PATCH}, {}, ["edits_tests"]),
    ],
)
def test_each_complexity_reason(steps, kwargs, config, expected):
    assert reasons(make_traj(steps, **kwargs), **config) == expected


def test_editing_a_test_file_is_caught_even_when_reverted():
    edit_test = (
        "verify",
        "editor",
        {"command": "str_replace", "path": "/testbed/tests/test_mod.py", "old_str": "a", "new_str": "b"},
    )
    assert reasons(make_traj([LOOK, REPRO, EDIT, edit_test, VERIFY, SUBMIT])) == ["edits_tests"]
    create_repro = (
        "reproduce",
        "editor",
        {"command": "create", "path": "reproduce_issue.py", "file_text": "x"},
    )
    assert reasons(make_traj([LOOK, create_repro, REPRO, EDIT, VERIFY, SUBMIT])) == []


def test_process_and_test_edit_checks_can_be_switched_off():
    traj = make_traj([LOOK, EDIT, SUBMIT], patch=SOURCE_PATCH + TEST_PATCH)
    assert reasons(traj) == ["no_reproduction", "no_verification", "edits_tests"]
    assert (
        reasons(traj, require_reproduction=False, require_verification=False, reject_test_edits=False) == []
    )


def test_repeats_count_only_consecutive_identical_actions():
    assert longest_repeat(make_traj([LOOK, REPRO, LOOK, REPRO, LOOK])) == 1
    assert longest_repeat(make_traj([LOOK, LOOK, REPRO])) == 2
    assert reasons(make_traj([LOOK, LOOK, REPRO, EDIT, VERIFY, SUBMIT])) == []
    assert reasons(make_traj([LOOK, LOOK, REPRO, EDIT, VERIFY, SUBMIT]), max_repeats=1) == ["loop"]


def test_patch_size_counts_changed_lines_and_files():
    size = patch_size(SOURCE_PATCH + TEST_PATCH)
    assert size.lines == 4 and size.files == ["pkg/mod.py", "tests/test_mod.py"]
    assert patch_size("").lines == 0


def test_accuracy_takes_the_graders_word():
    assert accuracy_reasons("resolved") == []
    assert accuracy_reasons("unresolved") == ["unresolved"]
    assert accuracy_reasons("empty_patch") == ["empty_patch"]
    assert accuracy_reasons("error") == ["grading_error"]
    assert accuracy_reasons(None) == ["not_graded"]


def _judged(traj: Trajectory, grade: str, sample: int, task: str = "t"):
    return judge(
        traj,
        instance_id=task,
        sample=sample,
        grade=grade,
        grade_detail="",
        config=FilterConfig(),
        trajectory_file="x",
    )


def test_dedup_keeps_the_shortest_of_equal_trajectories_and_balance_caps_each_task():
    long_twin = make_traj(CLEAN, tokens=(2000, 50), iid="t.s0")
    short_twin = make_traj(CLEAN, tokens=(1000, 50), iid="t.s1")
    other_path = make_traj([LOOK, LOOK, REPRO, EDIT, VERIFY, SUBMIT], iid="t.s2")
    unresolved = make_traj(CLEAN, iid="t.s3")
    elsewhere = make_traj(CLEAN, iid="u.s0")
    results = [
        _judged(long_twin, "resolved", 0),
        _judged(short_twin, "resolved", 1),
        _judged(other_path, "resolved", 2),
        _judged(unresolved, "unresolved", 3),
        _judged(elsewhere, "resolved", 0, task="u"),
    ]
    dedup_and_balance(results, FilterConfig(max_per_task=1))
    verdicts = {r.sample_id: (r.accepted, r.reasons) for r in results}
    assert verdicts == {
        "t.s0": (False, ["duplicate"]),
        "t.s1": (True, []),
        "t.s2": (False, ["over_cap"]),
        "t.s3": (False, ["unresolved"]),
        "u.s0": (True, []),
    }
    dedup_and_balance(results, FilterConfig(max_per_task=0))
    assert [r.sample_id for r in results if r.accepted] == ["t.s1", "t.s2", "u.s0"]

    stats = run_stats(results)
    assert stats["overall"] == {
        "resolved": 4,
        "resolve_rate": 0.8,
        "accepted": 3,
        "acceptance_rate": 0.6,
        "tasks_with_accepted": 2,
    }
    assert stats["filters"]["accuracy"] == {
        "checked": 5,
        "passed": 4,
        "rate": 0.8,
        "rejected": {"unresolved": 1},
    }
    assert stats["filters"]["dedup"] == {
        "checked": 4,
        "passed": 3,
        "rate": 0.75,
        "rejected": {"duplicate": 1},
    }
    assert stats["per_task"]["t"]["accepted"] == 2 and stats["per_task"]["t"]["samples"] == 4


def test_measured_facts_and_their_bounds():
    traj = make_traj([LOOK, REPRO, EDIT, VERIFY, VERIFY, SUBMIT], tokens=(900, 100))
    facts = measure(traj)
    assert (facts.steps, facts.files_touched, facts.patch_lines, facts.test_runs) == (6, 1, 2, 2)
    assert (facts.tokens, facts.conversations, facts.format_errors) == (1000, 1, 0)
    assert reasons(traj, min_test_runs=3, max_repeats=2) == ["too_few_test_runs"]
    assert reasons(traj, max_test_runs=1, max_repeats=2) == ["too_many_test_runs"]
    assert reasons(traj, max_repeats=2) == []
    assert measure(make_traj([LOOK, REPRO, EDIT, SUBMIT])).test_runs == 0  # a script is not a test run


def test_tasks_every_sample_solves_are_kept_out_of_sft_but_not_out_of_pairs():
    from synth.export import choose_pairs

    easy = [_judged(make_traj(CLEAN, iid=f"easy.s{k}"), "resolved", k, task="easy") for k in range(2)]
    mixed = [_judged(make_traj(CLEAN, iid="mixed.s0"), "resolved", 0, task="mixed")]
    mixed.append(_judged(make_traj([LOOK, EDIT, SUBMIT], iid="mixed.s1"), "unresolved", 1, task="mixed"))
    hard = [_judged(make_traj(CLEAN, iid=f"hard.s{k}"), "unresolved", k, task="hard") for k in range(2)]
    results = dedup_and_balance(easy + mixed + hard, FilterConfig())
    verdicts = {r.sample_id: (r.accepted, r.filters["difficulty"], r.solve_rate) for r in results}
    assert verdicts["easy.s0"] == (False, ["task_always_solved"], 1.0)
    assert verdicts["mixed.s0"] == (True, [], 0.5)
    assert verdicts["hard.s1"] == (False, ["task_never_solved"], 0.0)
    stats = run_stats(results)
    assert stats["solve_rates"] == {
        "always_solved": ["easy"],
        "sometimes_solved": ["mixed"],
        "never_solved": ["hard"],
    }
    assert stats["filters"]["difficulty"]["rejected"] == {"task_always_solved": 2, "task_never_solved": 2}
    assert [(c.sample_id, r.sample_id) for c, r in choose_pairs(results, 4)] == [("mixed.s0", "mixed.s1")]
    # an easy task's clean samples still serve as `chosen` when it has an unresolved sample elsewhere
    assert all(r.clean for r in easy)
    kept = dedup_and_balance(easy, FilterConfig(drop_always_solved=False))
    assert [r.accepted for r in kept] == [True, False]  # twins: the second is a duplicate


def _search_sample(tmp_path, *, reproduces: bool, verdict: bool | None):
    """A search sample's files as `synth run --search` leaves them: trajectory, tree.json, nodes/."""
    folder = tmp_path / "t.s0"
    (folder / "nodes").mkdir(parents=True)
    write = ("reproduce", "editor", {"command": "create", "path": "reproduce_issue.py", "file_text": "x"})
    parts = {
        "n1": ("reproduce", [write, SUBMIT]),  # the script is written, never run by the agent
        "n2": ("localize", [LOOK, SUBMIT]),
        "n3": ("patch", [EDIT, SUBMIT]),  # no verification run by the agent
    }
    nodes = [{"id": "n0", "parent": None, "stage": "root"}]
    parent = "n0"
    for node_id, (stage, steps) in parts.items():
        make_traj(steps, iid="t.s0").save(folder / "nodes" / f"{node_id}.traj.json")
        node = {
            "id": node_id,
            "parent": parent,
            "stage": stage,
            "expansion": {"trajectory": f"nodes/{node_id}.traj.json"},
        }
        if stage == "reproduce":
            node["artifacts"] = {"reproduces_on_base": reproduces}
        if stage == "patch" and verdict is not None:
            node["verdicts"] = [{"check": "reproduction", "passed": verdict}]
        nodes.append(node)
        parent = node_id
    (folder / "tree.json").write_text(json.dumps({"nodes": nodes}))
    joined = make_traj([s for _, steps in parts.values() for s in steps], iid="t.s0")
    for step in joined.steps:
        step.stage = "patch"  # how the search's own joined file labels every step: by node
    joined.environment["search"] = {"tree": "tree.json", "chosen": "n3"}
    joined.save(folder / "t.s0.traj.json")
    return folder / "t.s0.traj.json"


def test_a_search_path_is_read_stage_by_stage_with_its_own_evidence(tmp_path):
    rollout = load_rollout(_search_sample(tmp_path, reproduces=True, verdict=True))
    assert [p.stage for p in rollout.parts] == ["reproduce", "localize", "patch"]
    assert [s.stage for s in rollout.steps][:2] == ["reproduce", "submit"]  # the stages' own labels
    assert process_reasons(rollout) == []  # the search ran the script on the base and the candidate
    assert measure(rollout).conversations == 3
    assert process_reasons(Trajectory.load(tmp_path / "t.s0" / "t.s0.traj.json")) == [
        "no_reproduction",
        "no_verification",
    ]  # the joined file alone has no evidence
    assert process_reasons(load_rollout(_search_sample(tmp_path / "b", reproduces=False, verdict=False))) == [
        "no_reproduction",
        "no_verification",
    ]


def test_a_search_sample_without_its_tree_is_one_line(tmp_path):
    path = _search_sample(tmp_path, reproduces=True, verdict=True)
    (path.parent / "tree.json").unlink()
    with pytest.raises(UserError, match="cannot read the search tree .* rerun `swe-ttc synth run`"):
        load_rollout(path)
