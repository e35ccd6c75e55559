"""BatchRunner plumbing with a stand-in solve function: isolation, the answer kept hidden, files."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import yaml

from sweagent.config import RunConfig
from sweagent.swebench.batch import BatchOptions, BatchRunner
from sweagent.swebench.dashboard import PlainDashboard
from sweagent.task import Task
from tests.swebench.util import read_json


@dataclass
class Result:
    exit_status: str | None
    patch: str = ""
    stats: dict = field(default_factory=lambda: {"cost": 0.25})


def tasks(n: int) -> list[Task]:
    return [
        Task(
            instance_id=f"o__r-{i}",
            repo="o/r",
            problem_statement="p",
            patch="GOLD",
            test_patch="TESTS",
            FAIL_TO_PASS=["t"],
        )
        for i in range(n)
    ]


def test_crash_is_an_exit_status_and_the_agent_never_sees_the_answer(tmp_path, capsys):
    seen: list[tuple[Task, str]] = []
    lock = threading.Lock()

    def solve(task, config, run_dir, *, budget=None, on_event=None):
        with lock:
            seen.append((task, config.model.name))
        if task.instance_id == "o__r-1":
            raise RuntimeError("sandbox exploded")
        on_event({"instance_id": task.instance_id, "step": 1, "stage": "edit", "cost": 0.1})
        return Result("submitted", patch=f"diff for {task.instance_id}")

    config = RunConfig.model_validate({"model": {"name": "replay/{instance_id}"}})
    options = BatchOptions(run_dir=tmp_path / "run", workers=2, namespace="ns")
    summary = BatchRunner(tasks(4), config, options, solve=solve, dashboard=PlainDashboard()).run()

    assert summary.statuses == {
        "o__r-0": "submitted",
        "o__r-1": "error: RuntimeError",
        "o__r-2": "submitted",
        "o__r-3": "submitted",
    }
    assert summary.total_cost == 0.75
    preds = read_json(tmp_path / "run" / "preds.json")
    assert preds["o__r-1"]["model_patch"] == "" and preds["o__r-2"]["model_patch"] == "diff for o__r-2"
    assert all(p["model_name_or_path"] == "replay/{instance_id}" for p in preds.values())
    doc = yaml.safe_load((tmp_path / "run" / "exit_statuses.yaml").read_text())
    assert doc["instances_by_exit_status"]["error: RuntimeError"] == ["o__r-1"] and doc["total_cost"] == 0.75
    assert doc["errors"] == {"o__r-1": "RuntimeError: sandbox exploded"}
    assert sorted(name for _, name in seen) == [f"replay/o__r-{i}" for i in range(4)]
    for task, _ in seen:
        assert not task.has_hidden  # public view only: no gold patch, test patch or test lists
        assert task.image == f"ns/sweb.eval.x86_64.{task.instance_id.replace('__', '_1776_')}:latest"
    out = capsys.readouterr().out
    assert "sandbox exploded" in out and "stage  o__r-0: edit (step 1)" in out
