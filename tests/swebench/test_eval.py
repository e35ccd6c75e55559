"""`swe-ttc eval` end to end on the fixture dataset: real containers, swebench's parsers and rules."""

from __future__ import annotations

import json
import re

import pytest

from sweagent.swebench.fixture_tasks import FIXTURE_TASKS
from sweagent.swebench.fixtures import breaking_patch, diff_for, make_repo
from tests.swebench.util import our_containers, read_json, run_cli, write_jsonl

pytestmark = pytest.mark.docker

CALC, TEXTKIT, INVENTORY = (t.instance_id for t in FIXTURE_TASKS)
SUMMARY_KEYS = {
    "total_instances", "submitted_instances", "completed_instances", "resolved_instances",
    "unresolved_instances", "empty_patch_instances", "error_instances", "resolved_ids",
    "unresolved_ids", "error_ids", "empty_patch_ids", "submitted_ids", "completed_ids",
}  # fmt: skip


def pred(iid: str, patch: str | None) -> dict:
    return {"instance_id": iid, "model_name_or_path": "test", "model_patch": patch}


def patch_with(tmp_path, iid: str, extra: dict[str, str]) -> str:
    """A patch for fixture `iid`: its reference fix with `extra` text appended to the named files."""
    task = next(t for t in FIXTURE_TASKS if t.instance_id == iid)
    repo = tmp_path / f"repo-{iid}"
    make_repo(task, repo)
    return diff_for(repo, {path: task.fix.get(path, task.files[path]) + text for path, text in extra.items()})


def eval_cli(dataset, tmp_path, run_id: str, *extra: str) -> tuple[int, dict]:
    code = run_cli(
        ["eval", "--dataset", str(dataset), "--output-dir", str(tmp_path), "--run-id", run_id, *extra]
    )
    report = tmp_path / run_id / "eval" / "report.json"
    return code, read_json(report) if report.exists() else {}


def instance_report(tmp_path, run_id: str, iid: str) -> dict:
    return read_json(tmp_path / run_id / "eval" / iid / "report.json")[iid]


def test_gold_resolves_every_fixture_then_reuses_results(
    fixture_dataset, fixture_rows, tmp_path, docker_client, capsys
):
    code, summary = eval_cli(fixture_dataset, tmp_path, "gold", "--gold", "--workers", "2")
    assert code == 0
    assert SUMMARY_KEYS <= set(summary)
    assert summary["resolved_ids"] == sorted(fixture_rows) and summary["resolved_instances"] == 3
    assert (
        summary["error_ids"] == [] and summary["unresolved_ids"] == [] and summary["completed_instances"] == 3
    )
    for iid, row in fixture_rows.items():
        folder = tmp_path / "gold" / "eval" / iid
        assert (folder / "patch.diff").read_text() == row["patch"]
        assert ">>>>> Start Test Output" in (folder / "test_output.txt").read_text()
        entry = instance_report(tmp_path, "gold", iid)
        assert entry["resolved"] is True and entry["patch_successfully_applied"] is True
        assert entry["tests_status"]["FAIL_TO_PASS"]["success"] == json.loads(row["FAIL_TO_PASS"])
        assert (
            entry["apply_attempts"][0]["command"] == "git apply --verbose"
            and entry["apply_attempts"][0]["exit_code"] == 0
        )
        assert {"container_start", "patch_apply", "tests", "total"} <= set(entry["timing"])
    out = capsys.readouterr().out
    assert "resolved 3/3 submitted" in out
    assert our_containers(docker_client, **{"swe-ttc.run": "eval.gold"}) == []

    first = (tmp_path / "gold" / "eval" / CALC / "report.json").stat().st_mtime_ns
    code, again = eval_cli(fixture_dataset, tmp_path, "gold", "--gold", "--instances", CALC)
    assert code == 0 and again["resolved_ids"] == [CALC] and again["total_instances"] == 1
    assert "earlier result" in capsys.readouterr().out
    assert (tmp_path / "gold" / "eval" / CALC / "report.json").stat().st_mtime_ns == first
    code, redone = eval_cli(fixture_dataset, tmp_path, "gold", "--gold", "--instances", CALC, "--redo")
    assert redone["resolved_ids"] == [CALC]
    assert (tmp_path / "gold" / "eval" / CALC / "report.json").stat().st_mtime_ns != first


def test_empty_breaking_unappliable_and_unknown_predictions(fixture_dataset, fixture_rows, tmp_path):
    task = {t.instance_id: t for t in FIXTURE_TASKS}
    unappliable = fixture_rows[INVENTORY]["patch"].replace(
        "-        self._items[name] =", "-        self.items[name] ="
    )
    preds = [
        pred(CALC, ""),
        pred(TEXTKIT, breaking_patch(task[TEXTKIT])),
        pred(INVENTORY, unappliable),
        pred("nope__nope-1", fixture_rows[CALC]["patch"]),
        pred("../evil", fixture_rows[CALC]["patch"]),
    ]
    path = write_jsonl(tmp_path / "preds.jsonl", preds)
    code, summary = eval_cli(fixture_dataset, tmp_path, "bad", "--predictions", str(path), "--workers", "2")
    assert code == 0
    assert summary["empty_patch_ids"] == [CALC] and summary["resolved_ids"] == []
    assert summary["unresolved_ids"] == [TEXTKIT]
    assert sorted(summary["error_ids"]) == sorted(["../evil", INVENTORY, "nope__nope-1"])
    assert summary["unknown_ids"] == sorted(["../evil", "nope__nope-1"])
    errors = summary["errors"]
    assert (
        errors[INVENTORY].startswith("patch does not apply")
        and "not in the dataset" in errors["nope__nope-1"]
    )
    assert "not a plain name" in errors["../evil"]
    assert all("\n" not in line for line in errors.values())
    assert not (tmp_path / "bad" / "evil").exists() and not (tmp_path / "evil").exists()

    broken = instance_report(tmp_path, "bad", TEXTKIT)
    assert broken["tests_status"]["PASS_TO_PASS"]["failure"] == ["tests/test_textkit.py::test_word_count"]
    assert broken["tests_status"]["FAIL_TO_PASS"]["failure"] == []
    assert "PASS_TO_PASS broken" in broken["detail"]
    attempts = instance_report(tmp_path, "bad", INVENTORY)["apply_attempts"]
    assert [a["command"].split(" -")[0] for a in attempts] == ["git apply", "git apply", "patch"]
    assert all(a["exit_code"] != 0 for a in attempts)
    assert instance_report(tmp_path, "bad", CALC)["status"] == "empty_patch"


def test_binary_outside_and_fuzzy_patches_without_network(fixture_dataset, fixture_rows, tmp_path):
    gold = fixture_rows[INVENTORY]["patch"]
    # no blob ids (so --3way cannot help) and a changed leading context line: only `patch --fuzz` applies it
    context = "\n         self._items[name] = self._items.get(name, 0) + qty\n"
    fuzzy = re.sub(r"^index .*\n", "", gold, flags=re.M).replace(
        context, context.rstrip("\n") + "  # edited\n", 1
    )
    assert fuzzy != gold
    binary = fixture_rows[CALC]["patch"] + (
        "diff --git a/logo.png b/logo.png\nnew file mode 100644\nindex 0000000..1234567\nBinary files /dev/null and b/logo.png differ\n"
    )
    outside = (
        fixture_rows[TEXTKIT]["patch"]
        .replace("a/textkit/slug.py", "a/../textkit/slug.py")
        .replace("b/textkit/slug.py", "b/../textkit/slug.py")
    )
    path = tmp_path / "preds.json"
    path.write_text(json.dumps([pred(CALC, binary), pred(TEXTKIT, outside), pred(INVENTORY, fuzzy)]))
    code, summary = eval_cli(
        fixture_dataset, tmp_path, "odd", "--predictions", str(path), "--network", "none"
    )
    assert code == 0
    assert summary["resolved_ids"] == [INVENTORY] and sorted(summary["error_ids"]) == sorted([CALC, TEXTKIT])
    assert "binary diff without content" in summary["errors"][CALC]
    assert "outside the repository" in summary["errors"][TEXTKIT]
    attempts = instance_report(tmp_path, "odd", INVENTORY)["apply_attempts"]
    assert [a["exit_code"] == 0 for a in attempts] == [False, False, True]
    assert attempts[-1]["command"].startswith("patch --batch") and "fuzz" in attempts[-1]["output"].lower()


def test_timeout_missing_image_and_ca_bundle(fixture_dataset, fixture_rows, tmp_path, docker_client):
    ghost = {**fixture_rows[CALC], "instance_id": "swe-ttc-fixtures__ghost-9"}
    no_repo = {**fixture_rows[CALC], "instance_id": "swe-ttc-fixtures__norepo-8", "repo": ""}
    dataset = write_jsonl(tmp_path / "with-ghost.jsonl", [*fixture_rows.values(), ghost, no_repo])
    sleepy = patch_with(tmp_path, CALC, {"calc/ops.py": "\n\nimport time\n\ntime.sleep(120)\n"})
    # resolves only if the CA bundle is mounted and the variables point at it
    ca_check = patch_with(
        tmp_path,
        TEXTKIT,
        {
            "textkit/slug.py": '\n\nimport os\n\nassert open(os.environ["SSL_CERT_FILE"]).read().startswith("-----BEGIN")\n'
        },
    )
    preds = {
        CALC: pred(CALC, sleepy),
        TEXTKIT: pred(TEXTKIT, ca_check),
        ghost["instance_id"]: pred(ghost["instance_id"], fixture_rows[CALC]["patch"]),
        no_repo["instance_id"]: pred(no_repo["instance_id"], fixture_rows[CALC]["patch"]),
    }
    path = tmp_path / "preds.json"
    path.write_text(json.dumps(preds))
    args = [
        "--predictions",
        str(path),
        "--timeout",
        "4",
        "--workers",
        "3",
        "--ca-bundle",
        "/etc/ssl/certs/ca-certificates.crt",
    ]
    code, summary = eval_cli(dataset, tmp_path, "edge", *args)
    assert code == 0
    assert "exceeded the 4 s timeout" in summary["errors"][CALC]
    assert "Timeout error" in (tmp_path / "edge" / "eval" / CALC / "test_output.txt").read_text()
    assert "could not be pulled" in summary["errors"][ghost["instance_id"]]
    assert summary["errors"][no_repo["instance_id"]] == "dataset row left out (missing repo)"
    assert summary["resolved_ids"] == [TEXTKIT], summary["errors"]
    assert our_containers(docker_client, **{"swe-ttc.run": "eval.edge"}) == []


def test_bad_predictions_file_is_one_line(fixture_dataset, tmp_path, capsys):
    path = tmp_path / "preds.json"
    path.write_text('[{"instance_id": "x"}]')
    code, _ = eval_cli(fixture_dataset, tmp_path, "broken", "--predictions", str(path))
    err = capsys.readouterr().err
    assert (
        code == 2
        and err.startswith("error: predictions file")
        and err.count("\n") == 1
        and "model_patch" in err
    )
    code, _ = eval_cli(fixture_dataset, tmp_path, "both", "--predictions", str(path), "--gold")
    assert code == 2 and "exactly one of" in capsys.readouterr().err


def test_ctrl_c_removes_eval_containers_and_keeps_no_result(
    fixture_dataset, fixture_rows, tmp_path, docker_client
):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    sleepy = patch_with(tmp_path, CALC, {"calc/ops.py": "\n\nimport time\n\ntime.sleep(120)\n"})
    path = tmp_path / "preds.json"
    path.write_text(json.dumps([pred(CALC, sleepy)]))
    args = [
        sys.executable,
        "-m",
        "sweagent.cli",
        "eval",
        "--dataset",
        str(fixture_dataset),
        "--predictions",
        str(path),
    ]
    args += ["--output-dir", str(tmp_path), "--run-id", "cut"]
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        args, cwd=root, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not our_containers(docker_client, **{"swe-ttc.pid": str(proc.pid), "swe-ttc.role": "eval"}):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    time.sleep(1.0)  # the tests are running (and sleeping)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert our_containers(docker_client, **{"swe-ttc.pid": str(proc.pid)}) == []
    report = tmp_path / "cut" / "eval" / CALC / "report.json"
    assert not report.exists() or read_json(report)[CALC]["status"] == "error"
