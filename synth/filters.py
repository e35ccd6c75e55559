"""Rejection filters: is a trajectory correct (accuracy) and worth learning from (complexity)?

Each filter returns the list of reasons it rejects a trajectory for (empty: it passes), so every
reason can be counted, not only the first. Accuracy uses the grader's verdict only. Complexity reads
the trajectory: its size (steps, conversation tokens, patch), its process (a reproduction run before
the first source edit and a verification run after the last one, by stage label and action), and
its faults (test files written, the same action repeated, a limit hit, malformed replies).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sweagent.stages import is_test_path
from sweagent.trajectory import Step, Trajectory
from synth.config import FilterConfig
from verifiers.diffs import PatchParseError, parse_patch, touched_files

ACCURACY_REASONS = ("unresolved", "empty_patch", "grading_error", "not_graded")
COMPLEXITY_REASONS = (
    "too_few_steps",
    "too_many_steps",
    "too_many_tokens",
    "patch_too_large",
    "too_many_patch_files",
    "format_errors",
    "no_reproduction",
    "no_verification",
    "edits_tests",
    "loop",
    "hit_limit",
    "not_submitted",
)
WRITES = ("create", "str_replace", "insert", "undo_edit")
_RUNS_CODE = re.compile(
    r"\b(python[0-9.]*|pytest|tox|nox|unittest|make\s+(test|check))\b|(^|\s)\./\S+\.(py|sh)\b"
)


def accuracy_reasons(grade: str | None) -> list[str]:
    """[] when the grader resolved the patch (FAIL_TO_PASS pass, PASS_TO_PASS hold)."""
    if grade == "resolved":
        return []
    if grade in ("unresolved", "empty_patch"):
        return [grade]
    if grade == "error":
        return ["grading_error"]
    return ["not_graded"]


@dataclass(frozen=True)
class PatchSize:
    lines: int
    files: list[str]


def patch_size(patch: str) -> PatchSize:
    """Changed lines (added + removed) and the files a patch touches; an unreadable patch counts as empty."""
    try:
        parsed = parse_patch(patch)
    except PatchParseError:
        return PatchSize(0, [])
    lines = sum(pf.added + pf.removed for pf in parsed)
    return PatchSize(lines, [f.path for f in touched_files(patch)])


def conversation_tokens(traj: Trajectory) -> int:
    """Tokens of the whole conversation: the last call's prompt plus its reply."""
    if not traj.steps:
        return 0
    last = traj.steps[-1]
    return last.input_tokens + last.output_tokens


def action_signature(step: Step) -> str:
    """The action with whitespace runs collapsed: equal signatures are the same action."""
    if step.action is None:
        return "<none>"
    args = json.dumps(step.action.args, sort_keys=True, ensure_ascii=False)
    return step.action.tool + " " + " ".join(args.split())


def longest_repeat(traj: Trajectory) -> int:
    """The longest run of the same action in consecutive steps."""
    best = run = 0
    previous = None
    for step in traj.steps:
        signature = action_signature(step)
        run = run + 1 if signature == previous and step.action is not None else 1
        previous = signature
        best = max(best, run)
    return best


def runs_code(step: Step) -> bool:
    """The step runs code or tests (a bash command calling python, pytest, ...)."""
    return (
        step.action is not None
        and step.action.tool == "bash"
        and bool(_RUNS_CODE.search(str(step.action.args.get("command", ""))))
    )


def _relative(path: str, workdir: str) -> str:
    prefix = workdir.rstrip("/") + "/"
    if path.startswith(prefix):
        return path[len(prefix) :]
    return path[2:] if path.startswith("./") else path


def is_source_edit(step: Step) -> bool:
    """An editor write labelled `patch` (the stage tracker gives reproduction scripts and tests other labels)."""
    action = step.action
    if step.stage != "patch" or action is None or action.tool != "editor":
        return False
    return action.args.get("command") in WRITES


def writes_tests(traj: Trajectory) -> bool:
    """The editor changed a test file, or the final patch touches one."""
    workdir = str(traj.environment.get("workdir") or "/testbed")
    for step in traj.steps:
        action = step.action
        if (
            action
            and action.tool == "editor"
            and action.args.get("command") in ("str_replace", "insert", "undo_edit")
        ):
            if is_test_path(_relative(str(action.args.get("path", "")), workdir)):
                return True
    try:
        return any(is_test_path(f.path) for f in touched_files(traj.patch))
    except PatchParseError:
        return False


def process_reasons(traj: Trajectory) -> list[str]:
    """Missing development steps: a reproduction before the first source edit, a verification after the last."""
    edits = [i for i, s in enumerate(traj.steps) if is_source_edit(s)]
    if not edits:
        edits = [i for i, s in enumerate(traj.steps) if s.stage == "patch"]
    first = edits[0] if edits else len(traj.steps)
    last = edits[-1] if edits else len(traj.steps)
    reasons = []
    if not any(s.stage == "reproduce" and runs_code(s) for s in traj.steps[:first]):
        reasons.append("no_reproduction")
    if not any(s.stage == "verify" and runs_code(s) for s in traj.steps[last + 1 :]):
        reasons.append("no_verification")
    return reasons


def complexity_reasons(traj: Trajectory, config: FilterConfig) -> list[str]:
    """Every complexity reason `traj` is rejected for, in COMPLEXITY_REASONS order."""
    found: set[str] = set()
    steps = len(traj.steps)
    if steps < config.min_steps:
        found.add("too_few_steps")
    if config.max_steps and steps > config.max_steps:
        found.add("too_many_steps")
    if config.max_tokens and conversation_tokens(traj) > config.max_tokens:
        found.add("too_many_tokens")
    size = patch_size(traj.patch)
    if config.max_patch_lines and size.lines > config.max_patch_lines:
        found.add("patch_too_large")
    if config.max_patch_files and len(size.files) > config.max_patch_files:
        found.add("too_many_patch_files")
    if sum(1 for s in traj.steps if s.format_error) > config.max_format_errors:
        found.add("format_errors")
    if config.require_reproduction or config.require_verification:
        process = set(process_reasons(traj))
        if config.require_reproduction:
            found |= process & {"no_reproduction"}
        if config.require_verification:
            found |= process & {"no_verification"}
    if config.reject_test_edits and writes_tests(traj):
        found.add("edits_tests")
    if longest_repeat(traj) > config.max_repeats:
        found.add("loop")
    status = traj.exit_status or ""
    if status == "submitted (limit)":
        found.add("hit_limit")
    elif status != "submitted":
        found.add("not_submitted")
    return [r for r in COMPLEXITY_REASONS if r in found]
