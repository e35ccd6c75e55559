"""Grading predictions the way the official SWE-bench harness does.

Per prediction: start the instance image, apply the model patch (`git apply -v`, then fallbacks
that tolerate fuzz; each attempt recorded), run the instance's eval script (which applies the test
patch and runs the tests), and let swebench grade the log (`get_eval_report`: the repository's log
parser, FAIL_TO_PASS all pass, PASS_TO_PASS all still pass). Results land in
`<eval_dir>/<instance_id>/{report.json,test_output.txt,patch.diff}` and a summary `report.json`
with the official summary's keys. A bad prediction is one line in its report; the run goes on.
Predictions are graded on an executor (`sweagent.executors`): threads here, or Ray tasks on other
machines, each grading in its own node's Docker engine; only this process writes the eval folder.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
from swebench.harness.docker_utils import exec_run_with_timeout
from swebench.harness.grading import get_eval_report

from sweagent.errors import UserError
from sweagent.executors.base import Executor, Job, JobContext, Outcome, RunHooks
from sweagent.io import atomic_write_json, atomic_write_text
from sweagent.swebench import containers
from sweagent.swebench.images import DEFAULT_NAMESPACE, docker_client, ensure_image, instance_image
from sweagent.swebench.patchcheck import check_patch
from sweagent.swebench.predictions import is_safe_id
from sweagent.swebench.specs import SpecError, grading_spec
from sweagent.task import Task

CONTAINER_PATCH = "/tmp/patch.diff"
APPLY_COMMANDS = [
    "git apply --verbose",
    "git apply --verbose --3way",
    "patch --batch --forward --fuzz=5 -p1 -i",
]
RESET_TREE = "git checkout -- . ; git clean -fdq"
OUTPUT_KEEP = 4000
STATUSES = ("resolved", "unresolved", "error", "empty_patch")


@dataclass
class EvalOptions:
    """Everything an eval run needs besides the predictions."""

    eval_dir: Path
    run_id: str
    workers: int = 4
    timeout: float = 1800.0
    namespace: str | None = DEFAULT_NAMESPACE
    pull_timeout: float = 600.0
    redo: bool = False
    container: containers.ContainerOptions = field(default_factory=containers.ContainerOptions)


@dataclass
class InstanceResult:
    """One prediction's outcome; `detail` is the one line shown for it."""

    instance_id: str
    status: str
    detail: str
    timing: dict[str, float] = field(default_factory=dict)
    reused: bool = False


def _short(text: str, keep: int = OUTPUT_KEEP) -> str:
    return text if len(text) <= keep else text[: keep // 2] + "\n[...]\n" + text[-keep // 2 :]


def _first_error(output: str) -> str:
    for line in output.splitlines():
        low = line.lower()
        if "error" in low or "fail" in low or "does not apply" in low or "hunk" in low:
            return " ".join(line.split())[:160]
    lines = [x for x in output.splitlines() if x.strip()]
    return " ".join(lines[-1].split())[:160] if lines else "no output"


class _Timer:
    def __init__(self) -> None:
        self.timing: dict[str, float] = {}
        self._start = time.perf_counter()

    def lap(self, name: str, since: float) -> float:
        now = time.perf_counter()
        self.timing[name] = round(self.timing.get(name, 0.0) + now - since, 4)
        return now

    def total(self) -> dict[str, float]:
        self.timing["total"] = round(time.perf_counter() - self._start, 4)
        return self.timing


def _apply_patch(container: Any) -> tuple[bool, list[dict[str, Any]]]:
    """Try each apply command on a clean tree; returns (applied, attempts)."""
    attempts: list[dict[str, Any]] = []
    for n, command in enumerate(APPLY_COMMANDS):
        if n:
            container.exec_run(["/bin/bash", "-c", RESET_TREE], workdir="/testbed")
        res = container.exec_run(f"{command} {CONTAINER_PATCH}", workdir="/testbed")
        output = res.output.decode("utf-8", errors="replace")
        attempts.append({"command": command, "exit_code": res.exit_code, "output": _short(output)})
        if res.exit_code == 0:
            return True, attempts
    check = container.exec_run(f"git apply --check --reverse {CONTAINER_PATCH}", workdir="/testbed")
    if check.exit_code == 0:
        attempts.append(
            {"command": "git apply --check --reverse", "exit_code": 0, "output": "already applied"}
        )
        return True, attempts
    return False, attempts


def grade_on_node(
    ctx: JobContext, options: EvalOptions, task: Task | None, pred: dict[str, Any], missing: str
) -> InstanceResult:
    """One prediction on whichever node a remote executor picked, in that node's Docker engine."""
    try:
        client = docker_client(1)
    except UserError as exc:
        return InstanceResult(pred["instance_id"], "error", f"on node {ctx.node}: {exc}")
    evaluator = Evaluator(client, dataclasses.replace(options, eval_dir=ctx.out_dir), node=ctx.node)
    try:
        return evaluator.evaluate_one(task, pred, missing)
    finally:
        client.close()


class Evaluator:
    """Grades predictions against tasks on an executor (default: `options.workers` threads).

    `client` is this machine's Docker engine; a remote executor needs none here (`None`)."""

    def __init__(
        self,
        client: docker.DockerClient | None,
        options: EvalOptions,
        executor: Executor | None = None,
        node: str = "",
    ) -> None:
        from sweagent.executors.local import LocalExecutor

        self.client = client
        self.options = options
        self.executor = executor or LocalExecutor(options.workers)
        self.node = node
        self.run_label = f"eval.{options.run_id}"[:120]
        self._interrupted = threading.Event()

    # -- one instance ---------------------------------------------------------------------------

    def _write(self, iid: str, report: dict[str, Any], result: InstanceResult) -> InstanceResult:
        if self._interrupted.is_set():  # its container may have been removed under it: not a result
            result = InstanceResult(iid, "error", "interrupted before grading finished", result.timing)
        if self.node:  # graded on a cluster: say where (an error may be that node's alone)
            report[iid]["node"] = self.node
            if result.status == "error":
                result.detail = f"on node {self.node}: {result.detail}"
        report[iid]["status"] = result.status
        report[iid]["detail"] = result.detail
        report[iid]["timing"] = result.timing
        atomic_write_json(self.options.eval_dir / iid / "report.json", report)
        return result

    def evaluate_one(self, task: Task | None, pred: dict[str, Any], missing: str = "") -> InstanceResult:
        """Grade one prediction; never raises for bad input or Docker trouble (returns an error result)."""
        iid = pred["instance_id"]
        patch = pred.get("model_patch")
        timer = _Timer()
        report: dict[str, Any] = {
            iid: {
                "patch_is_None": patch is None,
                "patch_exists": bool(patch),
                "patch_successfully_applied": False,
                "resolved": False,
            }
        }
        if not is_safe_id(iid):
            detail = "instance id is not a plain name (letters, digits, _.+- only): fix the predictions file"
            return InstanceResult(iid, "error", detail, timer.total())
        (self.options.eval_dir / iid / "report.json").unlink(
            missing_ok=True
        )  # never pair an old result with a new patch
        atomic_write_text(self.options.eval_dir / iid / "patch.diff", patch or "")
        if task is None:
            status, detail = (
                "error",
                missing or "instance id not in the dataset: check --dataset/--split or the id",
            )
        elif not patch or not patch.strip():
            status, detail = "empty_patch", "empty patch: nothing to grade"
        else:
            try:
                status, detail = self._run_in_container(task, pred, report[iid], timer)
            except Exception as exc:  # a bug (or a parser crash) must still leave a report line
                status, detail = (
                    "error",
                    f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())}"[:240],
                )
        return self._write(iid, report, InstanceResult(iid, status, detail, timer.total()))

    def _run_in_container(
        self, task: Task, pred: dict[str, Any], entry: dict[str, Any], timer: _Timer
    ) -> tuple[str, str]:
        """Image, container, patch, eval script, grading: (status, one-line detail)."""
        patch = pred["model_patch"]
        problem = check_patch(patch)
        if problem:
            return "error", problem
        try:
            image = instance_image(task, self.options.namespace)
            spec = grading_spec(task, image)
        except SpecError as exc:
            return "error", str(exc)
        t = time.perf_counter()
        try:
            ensure_image(self.client, image, self.options.pull_timeout)
        except UserError as exc:
            return "error", str(exc)
        t = timer.lap("image", t)
        container = None
        try:
            name = containers.container_name("eval", self.options.run_id, task.instance_id)
            if self._interrupted.is_set():
                return "error", "interrupted before grading finished"
            container = containers.start_container(
                self.client, image, name, self.options.container, self.run_label
            )
            t = timer.lap("container_start", t)
            if self._interrupted.is_set():
                return "error", "interrupted before grading finished"
            containers.put_text(container, CONTAINER_PATCH, patch if patch.endswith("\n") else patch + "\n")
            applied, entry["apply_attempts"] = _apply_patch(container)
            t = timer.lap("patch_apply", t)
            if not applied:
                return "error", f"patch does not apply ({_first_error(entry['apply_attempts'][0]['output'])})"
            containers.put_text(container, "/eval.sh", spec.eval_script, mode=0o755)
            output, timed_out, _ = exec_run_with_timeout(
                container, "/bin/bash /eval.sh", self.options.timeout
            )
            if timed_out:
                output += f"\n\nTimeout error: {self.options.timeout:g} seconds exceeded."
            log = self.options.eval_dir / task.instance_id / "test_output.txt"
            atomic_write_text(log, output)
            t = timer.lap("tests", t)
            if timed_out:
                return "error", f"tests exceeded the {self.options.timeout:g} s timeout: raise --timeout"
            entry.update(get_eval_report(spec, pred, str(log), include_tests_status=True)[task.instance_id])
            t = timer.lap("grading", t)
        except UserError as exc:
            return "error", str(exc)
        except docker.errors.DockerException as exc:
            return "error", f"docker error: {' '.join(str(exc).split())[:200]}"
        finally:
            if container is not None:
                t = time.perf_counter()
                containers.remove_quietly(container)
                timer.lap("cleanup", t)
        if entry["resolved"]:
            return "resolved", "FAIL_TO_PASS pass and PASS_TO_PASS still pass"
        return "unresolved", _unresolved_detail(entry)

    def _reusable(self, pred: dict[str, Any]) -> InstanceResult | None:
        """An earlier result for the same patch (errors are always retried, as the official harness does)."""
        if self.options.redo:
            return None
        iid = pred["instance_id"]
        out = self.options.eval_dir / iid
        try:
            old = json.loads((out / "report.json").read_text())[iid]
            same = (out / "patch.diff").read_text() == (pred.get("model_patch") or "")
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not same or old.get("status") not in ("resolved", "unresolved", "empty_patch"):
            return None
        return InstanceResult(iid, old["status"], old.get("detail", ""), old.get("timing", {}), reused=True)

    # -- many -----------------------------------------------------------------------------------

    def run(
        self,
        tasks: dict[str, Task],
        preds: dict[str, dict[str, Any]],
        on_result: Callable[[InstanceResult], None] | None = None,
        missing: dict[str, str] | None = None,
    ) -> dict[str, InstanceResult]:
        """Grade every prediction; Ctrl-C removes this run's containers before re-raising.
        `missing` gives the line for ids without a task (e.g. a dataset row that was left out)."""
        missing = missing or {}
        results: dict[str, InstanceResult] = {}
        todo = []
        for iid, pred in preds.items():
            old = self._reusable(pred)
            if old is not None:
                results[iid] = old
                if on_result:
                    on_result(old)
            else:
                todo.append(pred)

        def on_done(outcome: Outcome) -> None:
            result = outcome.value
            if outcome.error or result is None:  # lost with its node, or a bug: still one report line
                result = InstanceResult(outcome.key, "error", outcome.error or "not graded")
            results[outcome.key] = result
            if on_result:
                on_result(result)

        jobs = [self._job(tasks.get(p["instance_id"]), p, missing.get(p["instance_id"], "")) for p in todo]
        hooks = RunHooks(on_done=on_done, stop=self._interrupted)
        self.executor.run(jobs, self.options.eval_dir, hooks, run_label=self.run_label)
        return results

    def _job(self, task: Task | None, pred: dict[str, Any], missing: str) -> Job:
        iid = pred["instance_id"]
        if self.executor.remote:  # that node's engine; the options travel, this process's client does not
            return Job(iid, grade_on_node, (self.options, task, pred, missing))
        return Job(iid, self._grade_here, (task, pred, missing))

    def _grade_here(
        self, ctx: JobContext, task: Task | None, pred: dict[str, Any], missing: str
    ) -> InstanceResult:
        return self.evaluate_one(task, pred, missing)


def _unresolved_detail(entry: dict[str, Any]) -> str:
    if not entry.get("patch_successfully_applied"):
        reason = entry.get("infra_failure_reason")
        return "no test results in the log (test patch failed, tests errored or did not run)" + (
            f": {reason}" if reason else ""
        )
    status = entry.get("tests_status", {})
    f2p = status.get("FAIL_TO_PASS", {}).get("failure", [])
    p2p = status.get("PASS_TO_PASS", {}).get("failure", [])
    parts = []
    if f2p:
        parts.append(f"{len(f2p)} FAIL_TO_PASS still failing (e.g. {f2p[0]})")
    if p2p:
        parts.append(f"{len(p2p)} PASS_TO_PASS broken (e.g. {p2p[0]})")
    return "; ".join(parts) or "not resolved"


def summarize(
    dataset_ids: list[str], preds: dict[str, dict[str, Any]], results: dict[str, InstanceResult], **extra: Any
) -> dict[str, Any]:
    """The summary report: the official summary's keys (resolved_ids, error_ids, ...) plus one line per error."""
    by: dict[str, list[str]] = {s: sorted(i for i, r in results.items() if r.status == s) for s in STATUSES}
    completed = sorted(by["resolved"] + by["unresolved"])
    submitted = sorted(preds)
    known = set(dataset_ids)
    return {
        "total_instances": len(dataset_ids),
        "submitted_instances": len(submitted),
        "completed_instances": len(completed),
        "resolved_instances": len(by["resolved"]),
        "unresolved_instances": len(by["unresolved"]),
        "empty_patch_instances": len(by["empty_patch"]),
        "error_instances": len(by["error"]),
        "completed_ids": completed,
        "incomplete_ids": sorted(known - set(submitted)),
        "empty_patch_ids": by["empty_patch"],
        "submitted_ids": submitted,
        "resolved_ids": by["resolved"],
        "unresolved_ids": by["unresolved"],
        "error_ids": by["error"],
        "unknown_ids": sorted(set(submitted) - known),
        "errors": {i: results[i].detail for i in by["error"]},
        "schema_version": 2,
        **extra,
    }
