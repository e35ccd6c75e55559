"""The executor interface with small jobs: what `local` and `ray` promise alike (files land in the run
folder, a spent budget starts nothing, a failing job is one line), and what only Ray has to do
(ship the driver's scripted models to the workers, keep one budget for all nodes, say where a job ran)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from sweagent.executors.base import Job, JobContext, Outcome, RunHooks
from sweagent.executors.local import LocalExecutor


def write_and_report(ctx: JobContext, name: str, text: str, hold: float = 0.0) -> dict:
    """A job: one file under the run folder, a progress event, and where it ran (after `hold` s)."""
    time.sleep(hold)
    (ctx.out_dir / name).mkdir(parents=True, exist_ok=True)
    (ctx.out_dir / name / "out.txt").write_text(text)
    ctx.emit({"instance_id": name, "stage": "written"})
    return {"pid": os.getpid(), "node": ctx.node, "dir": str(ctx.out_dir), "thread": threading.get_ident()}


def spend(ctx: JobContext, cost: float) -> float:
    return ctx.budget.add(cost)


def fail(ctx: JobContext) -> None:
    raise RuntimeError("broken job")


def scripted_actions(ctx: JobContext, name: str) -> int:
    """How many actions the replay script `name` has, as this process sees the registry."""
    from sweagent.model.scripted import REPLAY, ScriptedLLM

    return len(ScriptedLLM(REPLAY)._script(name)[0])


def _collect(executor, jobs, out_dir: Path, budget=None) -> tuple[dict[str, Outcome], list, list]:
    outcomes: dict[str, Outcome] = {}
    starts, events = [], []
    caller = threading.get_ident()

    def on_done(outcome: Outcome) -> None:
        assert threading.get_ident() == caller  # results come back in the calling thread
        assert outcome.key not in outcomes  # exactly once
        outcomes[outcome.key] = outcome

    hooks = RunHooks(on_done=on_done, on_start=lambda k, n: starts.append((k, n)), on_event=events.append)
    executor.run(jobs, out_dir, hooks, budget=budget)
    return outcomes, starts, events


def test_local_runs_jobs_in_threads_writing_the_run_folder(tmp_path):
    jobs = [Job(f"j{i}", write_and_report, (f"j{i}", f"text {i}")) for i in range(4)]
    outcomes, starts, events = _collect(LocalExecutor(2), jobs, tmp_path)
    assert sorted(outcomes) == ["j0", "j1", "j2", "j3"] and sorted(k for k, _ in starts) == sorted(outcomes)
    assert all(
        o.ok and o.value["pid"] == os.getpid() and o.value["dir"] == str(tmp_path) for o in outcomes.values()
    )
    assert (tmp_path / "j2" / "out.txt").read_text() == "text 2"
    assert sorted(e["instance_id"] for e in events) == sorted(outcomes)


def test_local_budget_failure_and_not_started(tmp_path):
    executor = LocalExecutor(1)
    budget = executor.budget(1.0)
    jobs = [Job("a", spend, (0.6,)), Job("b", spend, (0.6,)), Job("c", spend, (0.6,)), Job("d", fail)]
    outcomes, _, _ = _collect(executor, jobs, tmp_path, budget)
    assert outcomes["a"].value == pytest.approx(0.6) and outcomes["b"].value == pytest.approx(1.2)
    assert not outcomes["c"].started and not outcomes["d"].started  # the cap was reached before them
    outcomes, _, _ = _collect(executor, [Job("e", fail)], tmp_path)
    assert outcomes["e"].error == "internal error: RuntimeError: broken job" and not outcomes["e"].lost


@pytest.fixture(scope="module")
def ray_executor(ray_cluster):
    from sweagent.executors.ray_cluster import RayExecutor
    from tests.executors.conftest import no_driver

    with no_driver(), RayExecutor(address=ray_cluster.address, memory_per_instance=None) as executor:
        yield executor


@pytest.mark.ray
def test_ray_jobs_run_on_the_nodes_and_the_driver_writes_their_files(ray_executor, tmp_path):
    jobs = [Job(f"j{i}", write_and_report, (f"j{i}", f"text {i}", 2.0)) for i in range(4)]
    outcomes, starts, events = _collect(ray_executor, jobs, tmp_path / "run-a")
    assert sorted(outcomes) == ["j0", "j1", "j2", "j3"]
    assert {o.node for o in outcomes.values()} == {"head", "worker-1"}
    for key, outcome in outcomes.items():
        assert outcome.ok and outcome.value["pid"] != os.getpid() and outcome.attempts == 1
        scratch = Path(outcome.value["dir"])
        assert scratch.name == "run-a" and scratch != tmp_path / "run-a" and not scratch.exists()
        assert (tmp_path / "run-a" / key / "out.txt").read_text() == f"text {key[1]}"
        assert (key, outcome.node) in starts
        assert outcome.timing["submitted"] <= outcome.timing["started"] <= outcome.timing["delivered"]
    assert sorted(e["instance_id"] for e in events) == sorted(outcomes)


@pytest.mark.ray
def test_ray_shares_one_budget_across_nodes_and_reports_failures(ray_executor, tmp_path):
    budget = ray_executor.budget(1.0)
    jobs = [Job(f"s{i}", spend, (0.3,)) for i in range(2)]
    outcomes, _, _ = _collect(ray_executor, jobs, tmp_path, budget)
    assert sorted(o.value for o in outcomes.values()) == pytest.approx([0.3, 0.6])  # one total
    assert {o.node for o in outcomes.values()} <= {"head", "worker-1"}
    budget.add(0.5)  # the driver's spend counts too
    outcomes, _, _ = _collect(ray_executor, [Job("late", spend, (0.1,)), Job("bad", fail)], tmp_path, budget)
    assert not outcomes["late"].started and not outcomes["bad"].started and budget.exhausted
    outcomes, _, _ = _collect(ray_executor, [Job("bad", fail)], tmp_path)
    error = outcomes["bad"].error
    assert error.startswith("internal error on node ") and error.endswith("RuntimeError: broken job")


@pytest.mark.ray
def test_ray_workers_see_the_drivers_scripted_models(ray_executor, tmp_path):
    from sweagent.model.scripted import register_replay

    register_replay("carried", [{"tool": "bash", "args": {"command": "ls"}}] * 3)
    outcomes, _, _ = _collect(ray_executor, [Job("c", scripted_actions, ("carried",))], tmp_path)
    assert outcomes["c"].value == 3
