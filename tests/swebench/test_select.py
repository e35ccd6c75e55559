"""`swe-ttc select` and `bench select` end to end: the fixture instances' images, three systems'
prediction files (sweagent.swebench.fixture_candidates), real containers, graded by `swe-ttc eval`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sweagent.swebench.fixture_candidates import task_diff, write_candidate_files
from sweagent.swebench.fixture_tasks import CALC, FIXTURE_TASKS, INVENTORY_TASK, SLUG_TASK
from tests.swebench.util import our_containers, read_json, run_cli, write_jsonl
from verifiers.candidates import patch_identity

pytestmark = pytest.mark.docker

IDS = sorted(t.instance_id for t in FIXTURE_TASKS)
ROOT = Path(__file__).resolve().parents[2]
CALC_ID, TEXTKIT_ID, INVENTORY_ID = CALC.instance_id, SLUG_TASK.instance_id, INVENTORY_TASK.instance_id


def select_cli(dataset, files, out: Path, run_id: str, *extra: str) -> int:
    return run_cli(
        [
            "select",
            "--dataset",
            str(dataset),
            "--candidates",
            *map(str, files),
            "--output-dir",
            str(out),
            "--run-id",
            run_id,
            *extra,
        ]
    )


def record(run_dir: Path, iid: str) -> dict:
    return read_json(run_dir / "select" / f"{iid}.json")


def by_system(rec: dict) -> dict[str, dict]:
    """system -> the candidate it submitted (the last one when it sent several)."""
    return {src["system"]: cand for cand in rec["candidates"] for src in cand["sources"]}


def eval_resolved(dataset, predictions: Path, out: Path, run_id: str) -> set[str]:
    assert (
        run_cli(
            [
                "eval",
                "--dataset",
                str(dataset),
                "--predictions",
                str(predictions),
                "--output-dir",
                str(out),
                "--run-id",
                run_id,
                "--workers",
                "2",
            ]
        )
        == 0
    )
    return set(read_json(out / run_id / "eval" / "report.json")["resolved_ids"])


@pytest.fixture(scope="module")
def candidate_files(tmp_path_factory) -> list[Path]:
    return write_candidate_files(tmp_path_factory.mktemp("candidates"))


@pytest.fixture(scope="module")
def select_run(fixture_dataset, candidate_files, tmp_path_factory, docker_client) -> Path:
    out = tmp_path_factory.mktemp("select-runs")
    assert select_cli(fixture_dataset, candidate_files, out, "sel", "--workers", "2") == 0
    return out / "sel"


@pytest.fixture(scope="module")
def any_resolved(fixture_dataset, candidate_files, tmp_path_factory) -> set[str]:
    """Instances where at least one system's submission resolves, by `swe-ttc eval` on each file
    (for a file with two entries for one instance eval keeps the last; system-c's calc entries, prose
    and an empty patch, both cannot resolve)."""
    out = tmp_path_factory.mktemp("file-evals")
    found: set[str] = set()
    for n, path in enumerate(candidate_files):
        found |= eval_resolved(fixture_dataset, path, out, f"file{n}")
    return found


def test_select_writes_a_choice_and_a_reason_for_every_candidate(select_run, candidate_files, docker_client):
    preds = read_json(select_run / "preds.json")
    assert sorted(preds) == IDS
    assert {p["model_name_or_path"] for p in preds.values()} == {"swe-ttc-select"}
    from swebench.harness.utils import get_predictions_from_file

    assert (
        sorted(
            p["instance_id"] for p in get_predictions_from_file(str(select_run / "preds.json"), "x", "test")
        )
        == IDS
    )
    submitted = {}
    for path in candidate_files:
        from sweagent.swebench.predictions import read_prediction_entries

        for _, pred in read_prediction_entries(path):
            submitted.setdefault(pred["instance_id"], []).append(pred["model_patch"])
    for iid in IDS:
        rec = record(select_run, iid)
        assert rec["status"] == "chosen" and rec["instance_id"] == iid
        # every submission is accounted for, in some candidate's sources
        assert sum(len(c["sources"]) for c in rec["candidates"]) == len(submitted[iid])
        assert {c["identity"] for c in rec["candidates"]} == {patch_identity(p) for p in submitted[iid]}
        outcomes = [c["outcome"] for c in rec["candidates"]]
        assert outcomes.count("chosen") == 1
        chosen = next(c for c in rec["candidates"] if c["outcome"] == "chosen")
        assert preds[iid]["model_patch"] == chosen["patch"] and rec["chosen"] == chosen["id"]
        for cand in rec["candidates"]:
            assert cand["reason"] and cand["verdicts"] and cand["sources"]
            assert {"file", "system", "entry"} <= set(cand["sources"][0])
            assert {v["check"] for v in cand["verdicts"]} <= {"apply", "regression", "reproduction"}
    textkit = by_system(record(select_run, TEXTKIT_ID))
    assert textkit["system-c"]["outcome"] == "excluded"  # written against a line the base lacks
    assert textkit["system-c"]["excluded_by"] == ["apply:does_not_apply"]
    assert "does not apply" in textkit["system-c"]["reason"]
    assert textkit["system-b"]["outcome"] == "excluded"  # breaks a test the base passes
    assert "test_word_count" in textkit["system-b"]["reason"]
    calc = record(select_run, CALC_ID)
    statuses = {
        c["verdicts"][0]["status"] for c in calc["candidates"] if c["sources"][0]["system"] == "system-c"
    }
    assert statuses == {"empty_patch", "malformed_patch"}
    inventory = by_system(record(select_run, INVENTORY_ID))
    assert inventory["system-a"] is inventory["system-c"]  # the same change, judged once, two votes
    assert inventory["system-a"]["votes"] == 2 and inventory["system-a"]["outcome"] == "chosen"
    assert "lost to" in inventory["system-b"]["reason"]
    config = yaml.safe_load((select_run / "config.yaml").read_text())
    assert config["inputs"]["candidates"] == [str(p) for p in candidate_files]
    assert config["sandbox"]["network"] == "none"  # other systems' patches run without network
    status_doc = yaml.safe_load((select_run / "exit_statuses.yaml").read_text())
    assert status_doc["instances_by_exit_status"] == {"chosen": IDS}
    assert our_containers(docker_client, **{"swe-ttc.run": "sel"}) == []


def test_chosen_patches_resolve_wherever_a_submission_did(
    select_run, any_resolved, fixture_dataset, tmp_path
):
    assert 0 < len(any_resolved) < len(IDS)  # the fixtures hold both kinds of instance
    assert CALC_ID not in any_resolved
    chosen = eval_resolved(fixture_dataset, select_run / "preds.json", tmp_path, "chosen")
    assert chosen == any_resolved


def test_rerun_resumes_and_judges_again_only_what_changed(
    select_run, candidate_files, fixture_dataset, tmp_path, capsys
):
    run_dir = tmp_path / "sel"
    shutil.copytree(select_run, run_dir)
    before = {iid: (run_dir / "select" / f"{iid}.json").read_bytes() for iid in IDS}
    capsys.readouterr()
    assert select_cli(fixture_dataset, candidate_files, tmp_path, "sel") == 0
    assert "3 done before (resumed)" in capsys.readouterr().out
    assert {iid: (run_dir / "select" / f"{iid}.json").read_bytes() for iid in IDS} == before
    # two more systems send the right fix for calc: only calc is judged again, and their votes win
    fix = task_diff(CALC, CALC.fix)
    extra = write_jsonl(
        tmp_path / "more.jsonl",
        [
            {"instance_id": CALC_ID, "model_name_or_path": name, "model_patch": fix}
            for name in ("sys-d", "sys-e")
        ],
    )
    assert select_cli(fixture_dataset, [*candidate_files, extra], tmp_path, "sel") == 0
    assert "2 done before (resumed)" in capsys.readouterr().out
    for iid in IDS:
        changed = (run_dir / "select" / f"{iid}.json").read_bytes() != before[iid]
        assert changed == (iid == CALC_ID), iid
    assert read_json(run_dir / "preds.json")[CALC_ID]["model_patch"] == fix
    chosen = next(c for c in record(run_dir, CALC_ID)["candidates"] if c["outcome"] == "chosen")
    assert [s["system"] for s in chosen["sources"]] == ["sys-d", "sys-e"] and chosen["votes"] == 2


def test_bad_input_is_reported_per_instance_and_the_others_go_on(
    fixture_dataset, fixture_rows, candidate_files, tmp_path, capsys
):
    # a dataset row whose image does not exist, and a candidate for an id the dataset lacks
    ghost = {
        **fixture_rows[CALC_ID],
        "instance_id": "swe-ttc-fixtures__ghost-9",
        "image": "swe-ttc-test/no-such-image:v0",
    }
    dataset = write_jsonl(tmp_path / "dataset.jsonl", [*fixture_rows.values(), ghost])
    hanging = task_diff(
        CALC, {"calc/ops.py": CALC.fix["calc/ops.py"].replace("return a + b", "while True:\n        pass")}
    )
    extra = write_jsonl(
        tmp_path / "odd.jsonl",
        [
            {"instance_id": "swe-ttc-fixtures__ghost-9", "model_patch": task_diff(CALC, CALC.fix)},
            {"instance_id": "nobody__missing-1", "model_patch": task_diff(CALC, CALC.fix)},
            {"instance_id": CALC_ID, "model_name_or_path": "hangs", "model_patch": hanging},
        ],
    )
    capsys.readouterr()
    args = ["--execution.test_timeout", "8", "--sandbox.pull_timeout", "10"]
    code = select_cli(dataset, [candidate_files[0], extra], tmp_path, "odd", *args)
    out = capsys.readouterr().out
    assert code == 0
    errors = yaml.safe_load((tmp_path / "odd" / "exit_statuses.yaml").read_text())["errors"]
    assert set(errors) == {"swe-ttc-fixtures__ghost-9", "nobody__missing-1"}
    assert "no-such-image" in errors["swe-ttc-fixtures__ghost-9"]
    assert "not in" in errors["nobody__missing-1"] and "--dataset" in errors["nobody__missing-1"]
    assert all("\n" not in line for line in errors.values())
    assert "error  nobody__missing-1" in out
    preds = read_json(tmp_path / "odd" / "preds.json")
    assert sorted(preds) == IDS  # the others went on
    hang = by_system(record(tmp_path / "odd", CALC_ID))["hangs"]
    regression = next(v for v in hang["verdicts"] if v["check"] == "regression")
    assert regression["status"] == "timed_out" and regression["passed"] is False
    assert any(e["timed_out"] for e in regression["evidence"])
    assert hang["outcome"] == "excluded" and "regression:timed_out" in hang["excluded_by"]
    # a rerun retries the errors (and only those)
    assert select_cli(dataset, [candidate_files[0], extra], tmp_path, "odd", *args) == 0
    assert "3 done before (resumed)" in capsys.readouterr().out


def test_a_file_that_is_not_predictions_is_one_line(fixture_dataset, candidate_files, tmp_path):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"total_instances": 3, "resolved_ids": []}))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sweagent.cli",
            "select",
            "--dataset",
            str(fixture_dataset),
            "--candidates",
            str(candidate_files[0]),
            str(report),
            "--output-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(report) in lines[0] and "total_instances is not an object" in lines[0]
    assert "Traceback" not in proc.stderr


# ---- interruption ------------------------------------------------------------------------------------


def slow_file(tmp_path: Path) -> Path:
    """An inventory candidate whose tests sleep: the second instance stays busy for a while."""
    source = INVENTORY_TASK.files["inventory.py"].replace(
        "    def count(self, name):\n",
        "    def count(self, name):\n        import time\n\n        time.sleep(120)\n",
    )
    patch = task_diff(INVENTORY_TASK, {"inventory.py": source})
    return write_jsonl(
        tmp_path / "slow.jsonl",
        [{"instance_id": INVENTORY_ID, "model_name_or_path": "slow", "model_patch": patch}],
    )


def _child(dataset, files, out: Path, run_id: str) -> subprocess.Popen:
    args = [
        sys.executable,
        "-m",
        "sweagent.cli",
        "select",
        "--dataset",
        str(dataset),
        "--candidates",
        *map(str, files),
    ]
    args += ["--output-dir", str(out), "--run-id", run_id, "--workers", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_until_judging_inventory(
    proc: subprocess.Popen, run_dir: Path, docker_client, limit: float = 150
) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        done = [p for p in (run_dir / "select").glob("*.json")] if (run_dir / "select").is_dir() else []
        if done and our_containers(docker_client, **{"swe-ttc.pid": str(proc.pid)}):
            time.sleep(3)  # the slow tests are running now
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"inventory was not reached in {limit} s: {proc.communicate()}")


def test_ctrl_c_then_kill_then_rerun_keeps_finished_instances(
    fixture_dataset, candidate_files, tmp_path, docker_client
):
    files = [*candidate_files, slow_file(tmp_path)]
    run_dir = tmp_path / "cut"
    proc = _child(fixture_dataset, files, tmp_path, "cut")
    _wait_until_judging_inventory(proc, run_dir, docker_client)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 130, err
    assert our_containers(docker_client, **{"swe-ttc.pid": str(proc.pid)}) == []
    kept = {CALC_ID: (run_dir / "select" / f"{CALC_ID}.json").read_bytes()}
    assert not (run_dir / "select" / f"{INVENTORY_ID}.json").exists()  # cut short: no record
    assert sorted(read_json(run_dir / "preds.json")) == sorted(kept)
    # the same again, killed outright: its container stays until the rerun removes it
    proc = _child(fixture_dataset, files, tmp_path, "cut")
    _wait_until_judging_inventory(proc, run_dir, docker_client)
    proc.kill()
    proc.wait()
    assert our_containers(docker_client, **{"swe-ttc.pid": str(proc.pid)})
    assert select_cli(fixture_dataset, candidate_files, tmp_path, "cut") == 0  # without the slow system
    assert our_containers(docker_client, **{"swe-ttc.pid": str(proc.pid)}) == []
    assert sorted(read_json(run_dir / "preds.json")) == IDS
    assert {iid: (run_dir / "select" / f"{iid}.json").read_bytes() for iid in kept} == kept


# ---- the benchmark -------------------------------------------------------------------------------------


def test_bench_select_agrees_with_eval(
    select_run, any_resolved, candidate_files, fixture_dataset, tmp_path, capsys
):
    # start from the select run's judging (same candidates, same settings: nothing is judged again)
    shutil.copytree(select_run, tmp_path / "bench" / "select-run")
    capsys.readouterr()
    code = run_cli(
        [
            "bench",
            "select",
            "--dataset",
            str(fixture_dataset),
            "--candidates",
            *map(str, candidate_files),
            "--output-dir",
            str(tmp_path),
            "--run-id",
            "bench",
            "--budgets",
            "1,2,8",
            "--draws",
            "40",
            "--workers",
            "2",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["instances"] == len(IDS) and report["instances_left_out"] == {}
    assert report["share_with_any_resolved"] == round(len(any_resolved) / len(IDS), 4)
    top = report["budgets"]["8"]["methods"]  # 8 >= every instance's submissions: all of them drawn
    assert top["oracle"]["resolved_rate"] == report["share_with_any_resolved"]
    chosen = eval_resolved(fixture_dataset, select_run / "preds.json", tmp_path, "chosen")
    assert top["full"]["resolved_rate"] == round(len(chosen) / len(IDS), 4)
    # random at budget 1 estimates the mean share of resolved submissions (computed from eval's grades)
    exact = []
    for iid in IDS:
        rec = record(select_run, iid)
        graded = []
        for cand in rec["candidates"]:
            status = read_json(tmp_path / "bench" / "grades" / cand["identity"] / iid / "report.json")[iid][
                "status"
            ]
            graded += [status == "resolved"] * len(cand["sources"])
        exact.append(sum(graded) / len(graded))
    one = report["budgets"]["1"]["methods"]
    assert abs(one["random"]["resolved_rate"] - sum(exact) / len(exact)) < 0.15
    assert len({m["resolved_rate"] for m in one.values()}) == 1  # one candidate: every method takes it
    for budget in report["budgets"].values():
        rates = {name: m["resolved_rate"] for name, m in budget["methods"].items()}
        assert all(rates[name] <= rates["oracle"] for name in rates)
        lo, hi = budget["methods"]["full"]["ci95"]
        assert lo <= rates["full"] <= hi
    assert set(report["auc"]) == {"apply", "regression", "reproduction", "static", "full_selection"}
    assert report["full_selection_auc"] == report["auc"]["full_selection"]["auc"]
    assert 0.5 < report["full_selection_auc"] <= 1.0
    assert report["systems_alone"]["system-b"]["resolved_rate"] == 0.0  # every system-b patch is wrong


REPRODUCES = (
    'from calc import divide\n\nprint("Issue resolved" if divide(7, 2) == 3.5 else "Issue reproduced")\n'
)
WRONG_EXPECTATION = (
    "from calc import add\n\nprint('Issue resolved' if add(2, 3) == 5 else 'Issue reproduced')\n"
)


@pytest.mark.parametrize("script", [REPRODUCES, WRONG_EXPECTATION], ids=["reproduces", "does-not"])
def test_a_written_reproduction_is_used_only_when_it_reproduces_on_the_base(
    script, fixture_dataset, candidate_files, tmp_path
):
    """`--reproduction.model` (a replayed reply through litellm) writes the script; on calc, system-a
    fixes mean() only and system-b fixes divide() (and breaks add)."""
    reply = tmp_path / "writer.json"
    reply.write_text(json.dumps([{"raw": f"Here it is:\n```python\n{script}```\n"}]))
    extra = ["--instances", CALC_ID, "--reproduction.model", f"replay/{reply}"]
    assert select_cli(fixture_dataset, candidate_files, tmp_path, "repro", *extra) == 0
    rec = record(tmp_path / "repro", CALC_ID)
    tried = rec["reproduction"]["tried"]
    assert [t["source"] for t in tried] == ["generated:0"]  # the same reply twice is tried once
    verdicts = {
        system: {v["check"]: v for v in cand.get("verdicts", [])} for system, cand in by_system(rec).items()
    }
    if script == REPRODUCES:
        assert tried[0]["base_outcome"] == "reproduced" and rec["reproduction_script"] == script
        assert verdicts["system-a"]["reproduction"]["passed"] is False  # divide() still truncates
        assert verdicts["system-b"]["reproduction"]["passed"] is True
    else:
        assert tried[0]["base_outcome"] == "resolved" and rec["reproduction_script"] is None
        for by_check in verdicts.values():
            assert by_check.get("reproduction", {}).get("passed") is None  # no evidence either way
