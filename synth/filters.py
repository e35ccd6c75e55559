"""Rejection filters: is a rollout correct (accuracy) and worth learning from (complexity)?

Each filter returns the list of reasons it rejects a rollout for (empty: it passes), so every
reason can be counted, not only the first. Accuracy uses the grader's verdict only. Complexity reads
measured facts of the rollout (`Facts`: steps, files touched, patch lines, test runs, tokens) against
the bounds in `FilterConfig`, its process (a reproduction run before the first source edit and a
verification run after the last one, by each step's own stage label and action, or the search's own
checks of its path), and its faults (test files written, the same action repeated, a limit hit,
malformed replies). A rollout is a plain trajectory or a search path (`synth.rollouts`).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

from sweagent.stages import is_test_path
from sweagent.trajectory import Step, Trajectory
from synth.config import FilterConfig
from synth.rollouts import Part, Rollout
from verifiers.diffs import PatchParseError, parse_patch, touched_files

ACCURACY_REASONS = ("unresolved", "empty_patch", "grading_error", "not_graded")
COMPLEXITY_REASONS = (
    "too_few_steps",
    "too_many_steps",
    "too_many_tokens",
    "patch_too_large",
    "too_many_patch_files",
    "too_few_test_runs",
    "too_many_test_runs",
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
# A test-suite run: pytest, unittest, Django's runtests.py / manage.py test, SymPy's bin/test, tox, ...
_RUNS_TESTS = re.compile(
    r"\b(pytest|py\.test|unittest|runtests(\.py)?|manage\.py\s+test|bin/test|tox|nox|make\s+(test|check))\b"
    r"|sympy\.testing"
)


def as_rollout(subject: Trajectory | Rollout) -> Rollout:
    """A plain trajectory as a one-conversation rollout (filters read rollouts)."""
    if isinstance(subject, Rollout):
        return subject
    return Rollout(subject.instance_id, subject, [Part(None, subject)])


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


def runs_tests(step: Step) -> bool:
    """The step runs a test suite (not only a script)."""
    return (
        step.action is not None
        and step.action.tool == "bash"
        and bool(_RUNS_TESTS.search(str(step.action.args.get("command", ""))))
    )


@dataclass(frozen=True)
class Facts:
    """What was measured of a rollout; the complexity bounds apply to these."""

    steps: int
    files_touched: int  # files the final patch changes
    patch_lines: int  # lines added + removed
    test_runs: int  # steps that ran a test suite
    tokens: int  # the longest conversation (last prompt + reply); a search path has one per stage
    total_tokens: int  # every call's prompt and reply, summed
    conversations: int
    format_errors: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def measure(subject: Trajectory | Rollout) -> Facts:
    rollout = as_rollout(subject)
    steps = rollout.steps
    size = patch_size(rollout.patch)
    return Facts(
        steps=len(steps),
        files_touched=len(size.files),
        patch_lines=size.lines,
        test_runs=sum(1 for s in steps if runs_tests(s)),
        tokens=max((conversation_tokens(p.trajectory) for p in rollout.parts), default=0),
        total_tokens=sum(s.input_tokens + s.output_tokens for s in steps),
        conversations=len(rollout.parts),
        format_errors=sum(1 for s in steps if s.format_error),
    )


def action_signature(step: Step) -> str:
    """The action with whitespace runs collapsed: equal signatures are the same action."""
    if step.action is None:
        return "<none>"
    args = json.dumps(step.action.args, sort_keys=True, ensure_ascii=False)
    return step.action.tool + " " + " ".join(args.split())


def longest_repeat(subject: Trajectory | Rollout) -> int:
    """The longest run of the same action in consecutive steps (within one conversation)."""
    best = 0
    for part in as_rollout(subject).parts:
        best = max(best, _longest_repeat(part.trajectory.steps))
    return best


def _longest_repeat(steps: list[Step]) -> int:
    best = run = 0
    previous = None
    for step in steps:
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


def writes_tests(subject: Trajectory | Rollout) -> bool:
    """The editor changed a test file, or the final patch touches one."""
    rollout = as_rollout(subject)
    traj = rollout.trajectory
    workdir = str(traj.environment.get("workdir") or "/testbed")
    for step in rollout.steps:
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


def process_reasons(subject: Trajectory | Rollout) -> list[str]:
    """Missing development steps: a reproduction before the first source edit, a verification after
    the last (by step labels and actions; for a search path, its own checks count too)."""
    rollout = as_rollout(subject)
    steps = rollout.steps
    edits = [i for i, s in enumerate(steps) if is_source_edit(s)]
    if not edits:
        edits = [i for i, s in enumerate(steps) if s.stage == "patch"]
    first = edits[0] if edits else len(steps)
    last = edits[-1] if edits else len(steps)
    evidence = rollout.search
    reasons = []
    reproduced = any(s.stage == "reproduce" and runs_code(s) for s in steps[:first])
    if not (reproduced or (evidence is not None and evidence.reproduced)):
        reasons.append("no_reproduction")
    verified = any(s.stage == "verify" and runs_code(s) for s in steps[last + 1 :])
    if not (verified or (evidence is not None and evidence.verified)):
        reasons.append("no_verification")
    return reasons


def complexity_reasons(subject: Trajectory | Rollout, config: FilterConfig) -> list[str]:
    """Every complexity reason the rollout is rejected for, in COMPLEXITY_REASONS order."""
    rollout = as_rollout(subject)
    traj = rollout.trajectory
    facts = measure(rollout)
    found: set[str] = set()
    if facts.steps < config.min_steps:
        found.add("too_few_steps")
    if config.max_steps and facts.steps > config.max_steps:
        found.add("too_many_steps")
    if config.max_tokens and facts.tokens > config.max_tokens:
        found.add("too_many_tokens")
    if config.max_patch_lines and facts.patch_lines > config.max_patch_lines:
        found.add("patch_too_large")
    if config.max_patch_files and facts.files_touched > config.max_patch_files:
        found.add("too_many_patch_files")
    if facts.test_runs < config.min_test_runs:
        found.add("too_few_test_runs")
    if config.max_test_runs and facts.test_runs > config.max_test_runs:
        found.add("too_many_test_runs")
    if facts.format_errors > config.max_format_errors:
        found.add("format_errors")
    if config.require_reproduction or config.require_verification:
        process = set(process_reasons(rollout))
        if config.require_reproduction:
            found |= process & {"no_reproduction"}
        if config.require_verification:
            found |= process & {"no_verification"}
    if config.reject_test_edits and writes_tests(rollout):
        found.add("edits_tests")
    if longest_repeat(rollout) > config.max_repeats:
        found.add("loop")
    # a search path: each stage conversation must have ended by its own submit (the search's final
    # status speaks of its budget and its verification threshold, which the evidence covers)
    statuses = [p.trajectory.exit_status or "" for p in rollout.parts] if rollout.search else []
    statuses = statuses or [traj.exit_status or ""]
    if "submitted (limit)" in statuses:
        found.add("hit_limit")
    elif any(status != "submitted" for status in statuses):
        found.add("not_submitted")
    return [r for r in COMPLEXITY_REASONS if r in found]
