"""`swe-ttc synth run` end to end: sampled rollouts in containers, graded in containers, filtered."""

from __future__ import annotations

import json

import pytest

from sweagent.trajectory import Trajectory
from synth.results import read_results
from tests.synth.conftest import SAMPLES, run_cli, synth_run_args

pytestmark = pytest.mark.docker


def _results(run):
    return {r.sample_id: r for r in read_results(run.run_dir / "results.jsonl")}


def test_every_sample_gets_the_verdicts_its_behaviour_deserves(synth_run):
    results = _results(synth_run)
    assert len(results) == 2 * SAMPLES
    by_behaviour: dict[tuple[str, str], list] = {}
    for sid, result in results.items():
        key = (synth_run.label_of[result.instance_id], synth_run.variant_of[sid])
        by_behaviour.setdefault(key, []).append(result)

    def only(label, behaviour):
        (result,) = by_behaviour[(label, behaviour)]
        return result

    assert (only("clamp_fix", "loop").grade, only("clamp_fix", "loop").reasons) == ("resolved", ["loop"])
    wrong = only("clamp_fix", "wrong")
    assert wrong.grade == "unresolved" and wrong.reasons == [
        "unresolved",
        "no_reproduction",
        "no_verification",
    ]
    assert "FAIL_TO_PASS still failing" in wrong.grade_detail
    dawdle = only("mean_fix", "dawdle")
    assert dawdle.exit_status == "submitted (limit)" and dawdle.steps == 12
    assert (dawdle.grade, dawdle.reasons) == ("resolved", ["hit_limit"])
    test_edit = only("mean_fix", "test_edit")
    assert (test_edit.grade, test_edit.reasons) == ("unresolved", ["unresolved", "edits_tests"])

    # two identical clean rollouts of the same task collapse to the first
    twins = sorted(by_behaviour[("clamp_fix", "clean")], key=lambda r: r.sample)
    assert [t.grade for t in twins] == ["resolved", "resolved"]
    assert twins[0].dedup_key == twins[1].dedup_key
    assert (twins[0].accepted, twins[1].reasons) == (True, ["duplicate"])
    # two different clean rollouts: the cap of one per task keeps the shorter conversation
    clean, alt = only("mean_fix", "clean"), only("mean_fix", "clean_alt")
    assert clean.dedup_key != alt.dedup_key and clean.patch_key == alt.patch_key
    kept, capped = sorted([clean, alt], key=lambda r: r.rank())
    assert (kept.accepted, capped.reasons) == (True, ["over_cap"])

    accepted = sorted(sid for sid, r in results.items() if r.accepted)
    assert accepted == sorted([twins[0].sample_id, kept.sample_id])


def test_stats_count_every_reason(synth_run):
    stats = json.loads((synth_run.run_dir / "stats.json").read_text())
    assert stats == synth_run.stats
    assert stats["samples"] == 8 and stats["tasks"] == 2 and stats["samples_per_task"] == SAMPLES
    assert stats["overall"]["resolved"] == 6 and stats["overall"]["accepted"] == 2
    assert stats["overall"]["acceptance_rate"] == 0.25
    filters = stats["filters"]
    assert filters["accuracy"] == {"checked": 8, "passed": 6, "rate": 0.75, "rejected": {"unresolved": 2}}
    assert filters["complexity"]["passed"] == 4
    assert filters["complexity"]["rejected"] == {
        "edits_tests": 1,
        "hit_limit": 1,
        "loop": 1,
        "no_reproduction": 1,
        "no_verification": 1,
    }
    assert filters["dedup"] == {"checked": 4, "passed": 3, "rate": 0.75, "rejected": {"duplicate": 1}}
    assert filters["balance"]["rejected"] == {"over_cap": 1}
    assert all(row["accepted"] == 1 and row["samples"] == 4 for row in stats["per_task"].values())


def test_run_folder_holds_trajectories_grades_and_predictions(synth_run):
    run_dir = synth_run.run_dir
    preds = json.loads((run_dir / "preds.json").read_text())
    assert sorted(preds) == sorted(synth_run.variant_of)
    report = json.loads((run_dir / "eval" / "report.json").read_text())
    assert report["resolved_instances"] == 6 and report["unresolved_instances"] == 2
    for sid in synth_run.variant_of:
        traj = Trajectory.load(run_dir / sid / f"{sid}.traj.json")
        assert traj.environment["image"] == "swe-ttc/base:bookworm"  # mined tasks: base image + repo copy
        assert (run_dir / "eval" / sid / "report.json").is_file()
        text = json.dumps(traj.messages)
        # the agent saw the failing behaviour, never the hidden test code, the fix or the fix's message
        assert "def test_clamp_high" not in text and "def test_mean_empty" not in text
        assert "FAIL_TO_PASS" not in text and "ignores the upper bound" not in text


def test_rerun_resumes_without_sampling_or_grading_again(synth_run):
    before = (synth_run.run_dir / "results.jsonl").read_text()
    args = synth_run_args(
        synth_run.run_dir.parent / "k4" / "tasks.jsonl", synth_run.model, synth_run.run_dir.parent, "k4"
    )
    code, stdout = run_cli(args)
    assert code == 0
    stats = json.loads(stdout)
    assert stats["resumed_samples"] == 8
    assert stats["timing"]["graded_now"] == 0
    assert (synth_run.run_dir / "results.jsonl").read_text() == before


def test_missing_dataset_is_one_line(tmp_path, capsys):
    code, _ = run_cli(["synth", "run", "--dataset", str(tmp_path / "nope.jsonl"), "--model", "replay/x"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "nope.jsonl does not exist" in err


def test_a_task_whose_repository_is_gone_is_one_line(mined, tmp_path, capsys):
    row = dict(mined.rows[0], repo=str(tmp_path / "moved-away"))
    dataset = tmp_path / "tasks.jsonl"
    dataset.write_text(json.dumps(row) + "\n")
    code, _ = run_cli(
        ["synth", "run", "--dataset", str(dataset), "--model", "replay/x", "--output-dir", str(tmp_path)]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "moved-away, which is not a git repository here" in err
