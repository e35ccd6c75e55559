"""Evidence for a node: artifacts read from the sandbox, execution checks and reward scores.

Runs in the worker that expanded the node, in the node's sandbox state; everything here sees only the
public task. Failures of an evaluator (a judge that does not answer, a check that cannot run) become
missing scores or `error` verdicts, never a failed search.
"""

from __future__ import annotations

import fnmatch
import posixpath
import shlex
from typing import Any

import unidiff

from search.tree import Artifacts
from sweagent.model.base import LimitExceeded
from sweagent.sandbox.base import RepoState, Sandbox
from sweagent.stages import is_test_path
from sweagent.task import Task
from sweagent.trajectory import Trajectory
from verifiers.diffs import PatchParseError, touched_files
from verifiers.execution import ExecutionVerifier
from verifiers.pipeline import judge_candidate
from verifiers.reproduction import outcome_on_base, read_outcome
from verifiers.static import static_score
from verifiers.types import Candidate, Score, Verdict, cap_output

REPRO_TIMEOUT = 120.0


def added_files(patch: str) -> list[str]:
    """Paths of files a patch creates."""
    try:
        return [pf.path for pf in unidiff.PatchSet(patch) if pf.is_added_file]
    except unidiff.UnidiffParseError:
        return []


def find_reproduction(state: RepoState, traj: Trajectory, globs: list[str]) -> str | None:
    """The reproduction script a reproduce stage left: a new .py file, preferring the one it ran last."""
    created = [p for p in added_files(state.patch) if p.endswith(".py")]
    if not created:
        return None
    ran = [
        str(step.action.args.get("command", ""))
        for step in traj.steps
        if step.action is not None and step.action.tool == "bash"
    ]
    for command in reversed(ran):
        for path in created:
            if posixpath.basename(path) in command:
                return path
    named = [p for p in created if any(fnmatch.fnmatch(posixpath.basename(p), g) for g in globs)]
    return (named or created)[0]


def run_reproduction_on_base(
    sandbox: Sandbox,
    script: str,
    script_path: str,
    state: RepoState,
    python: str = "python3",
    issue: str = "",
) -> tuple[bool | None, str]:
    """Does `script` reproduce the issue on the base commit? True only then (the script is evidence and
    may be lent to other branches); False when it ran and did not; None when it gave no evidence
    (crashed for an unrelated reason, e.g. an ImportError the `issue` does not name, or timed out).

    The script runs from a scratch path with the repository root on PYTHONPATH. When the stage changed
    more than the script itself, it runs in the base state and the sandbox is put back into `state`.
    """
    source_changed = any(p != script_path for p in _changed_paths(state.patch))
    if source_changed:
        sandbox.restore(RepoState(base_commit=state.base_commit, patch=""))
    try:
        scratch = getattr(sandbox, "scratch", "/tmp")
        path = posixpath.join(scratch, "swe_ttc_repro_check.py")
        sandbox.write_file(path, script)
        wd = shlex.quote(sandbox.workdir)
        result = sandbox.run(
            f"cd {wd} && PYTHONPATH={wd} PYTHONDONTWRITEBYTECODE=1 {python} {shlex.quote(path)}",
            timeout=REPRO_TIMEOUT,
        )
    finally:
        if source_changed:
            sandbox.restore(state)
    outcome = outcome_on_base(read_outcome(result.output, result.exit_code, result.timed_out, issue)[0])
    reproduces = {"reproduces": True, "does_not_reproduce": False}.get(outcome)  # no_evidence: None
    return reproduces, cap_output(result.output.strip(), 1500)


def _changed_paths(patch: str) -> list[str]:
    try:
        return [f.path for f in touched_files(patch)]
    except PatchParseError:
        return []


def locations(traj: Trajectory, exclude: list[str], workdir: str) -> list[str]:
    """Source files a localize stage read or searched, most recent first, tests and scripts left out."""
    seen: list[str] = []
    for step in reversed(traj.steps):
        if step.action is None:
            continue
        args = step.action.args
        path = ""
        if step.action.tool == "editor" and args.get("command") == "view":
            path = str(args.get("path", ""))
        elif step.action.tool == "search" and args.get("path"):
            path = str(args.get("path"))
        path = _relative(path, workdir)
        if (
            not path
            or is_test_path(path)
            or any(fnmatch.fnmatch(posixpath.basename(path), g) for g in exclude)
        ):
            continue
        if path not in seen:
            seen.append(path)
    return seen


def _relative(path: str, workdir: str) -> str:
    if path.startswith(workdir.rstrip("/") + "/"):
        return path[len(workdir.rstrip("/")) + 1 :]
    return path.removeprefix("./")


def submitted_summary(traj: Trajectory) -> str:
    for step in reversed(traj.steps):
        if step.action is not None and step.action.tool == "submit":
            return str(step.action.args.get("summary", "")).strip()
    return ""


def static_reward(sandbox: Sandbox, patch: str) -> Score | None:
    """pyflakes delta of the files a patch touches (start content vs the sandbox's current content)."""
    try:
        files = [f.path for f in touched_files(patch) if f.path.endswith(".py")]
    except PatchParseError:
        return None
    before: dict[str, str | None] = {}
    after: dict[str, str | None] = {}
    baseline = getattr(sandbox, "baseline", None)  # the sandbox's start state, which the patch is relative to
    base = shlex.quote(baseline.tree if baseline is not None else sandbox.base_commit)
    for path in files:
        shown = sandbox.run(
            f"cd {shlex.quote(sandbox.workdir)} && git show {base}:{shlex.quote(path)}", timeout=60
        )
        before[path] = shown.output if shown.ok else None
        try:
            after[path] = sandbox.read_file(path)
        except (FileNotFoundError, IsADirectoryError):
            after[path] = None
    return static_score(before, after)


def judged(judge: Any, call: str, *args: Any) -> Score | None:
    """A judge score, None when the judge is off, a failed Score when it could not run.

    A spent budget (`LimitExceeded`) is a failed score too: the search's own caps then stop it.
    """
    if judge is None:
        return None
    try:
        return getattr(judge, call)(*args)
    except (LimitExceeded, Exception) as exc:  # a reward model problem is missing evidence, not a failed node
        return Score.failure("llm_judge", f"the judge could not run: {type(exc).__name__}: {exc}"[:500])


def verify_candidate(
    verifier: ExecutionVerifier, task: Task, node_id: str, artifacts: Artifacts, script: str | None
) -> list[Verdict]:
    """The execution checks of a patch (the sandbox ends where it started)."""
    candidate = Candidate(id=node_id, patch=artifacts.patch, reproduction_script=script)
    return judge_candidate(task, candidate, verifier, reproduction_script=script).verdicts
