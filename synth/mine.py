"""Mining SWE-bench-format tasks from a repository's history.

A candidate commit (see `synth.history`) becomes a task when its tests flip: the task's eval script
(the one grading will run: it applies the test patch and runs the touched test files with
`pytest -rA`) is run in a sandbox twice, at the parent commit without and with the gold patch, and
SWE-bench's own log reader (`get_logs_eval`, the pytest log parser) turns each log into test
statuses. FAIL_TO_PASS are the tests that pass only with the fix, PASS_TO_PASS those that pass both
times. One sandbox (the base image with the repository copied in) serves every candidate: the
repository is checked out at each parent in turn.

The problem statement describes the bug, not the fix (`synth.issue_text`): by default it is written
from the failing tests' output at the parent, with an issue writer model from the same evidence, and
from the commit message only when asked (`issue_from="commit"`). `problem_statement_source` in the
row says which.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swebench.harness.grading import get_logs_eval, test_passed

from sweagent.config import SandboxConfig
from sweagent.errors import UserError
from sweagent.sandbox.base import Sandbox
from sweagent.sandbox.factory import open_sandbox
from sweagent.sandbox.shell import SandboxError, quote
from sweagent.swebench.specs import DEFAULT_PARSER, build_eval_script, grading_spec
from sweagent.task import Task
from synth.config import MineConfig
from synth.history import Commit, diff, list_commits, skip_reason
from synth.issue_text import IssueWriter, statement_from_tests

EVAL_SCRIPT = "/tmp/synth_eval.sh"
EVAL_LOG = "/tmp/synth_eval.log"
GOLD_PATCH = "/tmp/synth_gold.diff"
MINED_EVAL_TYPE = "pass_and_fail"

REASONS = {
    "root_commit": "the first commit (no parent to start from)",
    "no_changes": "changes no files",
    "docs_only": "changes neither source nor tests",
    "tests_only": "changes tests only",
    "code_only": "changes source without tests",
    "binary_files": "changes binary files",
    "too_many_files": "touches too many files",
    "patch_does_not_apply": "its source diff does not apply to its parent",
    "tests_cannot_run": "its tests do not run (collection errors, timeouts, missing dependencies)",
    "tests_cannot_run_on_base": "its tests give no results at the parent (timeout, broken setup)",
    "tests_did_not_flip": "no test fails before the change and passes after it",
}


@dataclass
class Outcome:
    """What mining made of one commit: a task row, or the reason it was dropped."""

    sha: str
    subject: str
    row: dict[str, Any] | None = None
    reason: str | None = None
    detail: str = ""


@dataclass
class MineResult:
    repo: str
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [o.row for o in self.outcomes if o.row is not None]

    @property
    def dropped(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in self.outcomes:
            if o.reason:
                counts[o.reason] = counts.get(o.reason, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def summary(self) -> dict[str, Any]:
        minutes = self.seconds / 60 if self.seconds else 0.0
        return {
            "repo": self.repo,
            "commits": len(self.outcomes),
            "mined": len(self.rows),
            "dropped": self.dropped,
            "seconds": round(self.seconds, 3),
            "tasks_per_minute": round(len(self.rows) / minutes, 2) if minutes else None,
            "tasks": [o.row["instance_id"] for o in self.outcomes if o.row],
        }


def instance_id_for(repo: Path, sha: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", repo.resolve().name).strip("_.") or "repo"
    return f"{name}-{sha[:8]}"


def make_row(repo: Path, commit: Commit, test_patch: str, gold_patch: str) -> dict[str, Any]:
    """The task as a SWE-bench row (FAIL_TO_PASS / PASS_TO_PASS filled in after the test runs)."""
    base = commit.parent or ""
    repo_label = str(repo.resolve())
    return {
        "instance_id": instance_id_for(repo, commit.sha),
        "repo": repo_label,
        "base_commit": base,
        "patch": gold_patch,
        "test_patch": test_patch,
        "problem_statement": "",
        "problem_statement_source": "",
        "hints_text": "",
        "created_at": commit.date,
        "version": None,
        "environment_setup_commit": base,
        "FAIL_TO_PASS": "[]",
        "PASS_TO_PASS": "[]",
        "log_parser": DEFAULT_PARSER,
        "eval_type": MINED_EVAL_TYPE,
        "eval_script": build_eval_script(repo_label, None, base, test_patch),
        "source_commit": commit.sha,
    }


class TestRunner:
    """Runs a row's eval script in one sandbox and reads the log with swebench's parser."""

    def __init__(self, sandbox: Sandbox, timeout: float) -> None:
        self.sandbox = sandbox
        self.timeout = timeout

    def checkout(self, commit: str) -> None:
        result = self.sandbox.run(f"git checkout -q -f {quote(commit)} && git clean -fdxq", timeout=120)
        if not result.ok:
            raise RuntimeError(f"cannot check out {commit[:12]}: {result.output.strip()[-200:]}")

    def apply(self, patch: str) -> str | None:
        """Apply `patch` to the work tree; returns git's complaint when it does not apply."""
        self.sandbox.write_file(GOLD_PATCH, patch)
        result = self.sandbox.run(f"git apply {GOLD_PATCH}", timeout=120)
        return None if result.ok else (result.output.strip().splitlines() or ["git apply failed"])[-1]

    def statuses(self, row: dict[str, Any]) -> tuple[dict[str, str], bool, str, str]:
        """(test -> status, whether the log holds a test run, a note, the log) for the tree as it is."""
        self.sandbox.write_file(EVAL_SCRIPT, row["eval_script"])
        run = self.sandbox.run(f"bash {EVAL_SCRIPT} > {EVAL_LOG} 2>&1", timeout=self.timeout)
        if run.timed_out:
            return {}, False, f"tests exceeded {self.timeout:g} s", ""
        log = self.sandbox.read_file(EVAL_LOG)
        spec = grading_spec(Task.from_swebench(row), image="synth-mining")
        with tempfile.NamedTemporaryFile("w", suffix=".log", encoding="utf-8") as handle:
            handle.write(log)
            handle.flush()
            status_map, found = get_logs_eval(spec, handle.name)
        return status_map, found, "" if found else "no test results in the log", log


def flipped(before: dict[str, str], after: dict[str, str]) -> tuple[list[str], list[str]]:
    """(FAIL_TO_PASS, PASS_TO_PASS) in SWE-bench's sense, with swebench's idea of "passed"."""
    f2p = sorted(t for t in after if test_passed(t, after) and not test_passed(t, before))
    p2p = sorted(t for t in after if test_passed(t, after) and test_passed(t, before))
    return f2p, p2p


def write_statement(
    row: dict[str, Any], commit: Commit, f2p: list[str], log: str, issue_from: str, writer: IssueWriter | None
) -> None:
    """Fill the row's problem statement and record where it came from."""
    if issue_from == "commit":
        row["problem_statement"], row["problem_statement_source"] = commit.problem_statement(), "commit"
    elif writer is not None:
        try:
            row["problem_statement"] = writer.write(f2p, log)
            row["problem_statement_source"], row["issue_writer"] = "model", writer.name
        except UserError as exc:  # one failed call costs this statement, not the mined task
            row["problem_statement"], row["problem_statement_source"] = (
                statement_from_tests(f2p, log),
                "tests",
            )
            row["issue_writer_error"] = str(exc)
    else:
        row["problem_statement"], row["problem_statement_source"] = statement_from_tests(f2p, log), "tests"


def examine(
    runner: TestRunner,
    repo: Path,
    commit: Commit,
    issue_from: str = "tests",
    writer: IssueWriter | None = None,
) -> Outcome:
    """Run one candidate's tests before and after its change."""
    outcome = Outcome(sha=commit.sha, subject=commit.subject)
    base = commit.parent or ""
    row = make_row(
        repo,
        commit,
        diff(repo, base, commit.sha, commit.test_files),
        diff(repo, base, commit.sha, commit.other_files),
    )
    runner.checkout(base)
    before, ran_before, note_before, before_log = runner.statuses(row)
    if not ran_before:
        outcome.reason, outcome.detail = "tests_cannot_run_on_base", note_before
        return outcome
    runner.checkout(base)
    problem = runner.apply(row["patch"])
    if problem:
        outcome.reason, outcome.detail = "patch_does_not_apply", problem
        return outcome
    after, found, note, _ = runner.statuses(row)
    ran = {t: s for t, s in after.items() if s in ("PASSED", "FAILED", "XFAIL", "SKIPPED")}
    if not found or not ran:
        outcome.reason = "tests_cannot_run"
        outcome.detail = note or "only errors: " + ", ".join(sorted(after)[:3])
        return outcome
    f2p, p2p = flipped(before, after)
    if not f2p:
        outcome.reason, outcome.detail = "tests_did_not_flip", f"{len(p2p)} pass before and after"
        return outcome
    row["FAIL_TO_PASS"], row["PASS_TO_PASS"] = json.dumps(f2p), json.dumps(p2p)
    write_statement(row, commit, f2p, before_log, issue_from, writer)
    outcome.row = row
    return outcome


def mine(
    repo: str | Path,
    sandbox_config: SandboxConfig,
    config: MineConfig | None = None,
    *,
    since: str | None = None,
    max_tasks: int | None = None,
    rev: str = "HEAD",
    on_outcome: Callable[[Outcome], None] | None = None,
    issue_writer: IssueWriter | None = None,
) -> MineResult:
    """Mine tasks from `repo` (newest first) until `max_tasks` are found or the history ends.

    A range in which no commit changes a test is bad input (nothing there can become a task):
    a UserError before any test runs."""
    config = config or MineConfig()
    started = time.perf_counter()
    path = Path(repo).expanduser().resolve()
    result = MineResult(repo=str(path))
    commits = list_commits(path, rev=rev, since=since, merges=config.merges)
    if len(commits) == 1 and commits[0].parent is None and since is None:
        raise UserError(
            f"{path} has a single commit, so no history to mine: tasks come from commits that change "
            "code and tests after an earlier commit"
        )
    if commits and not any(c.test_files for c in commits):
        span = f"since {since}" if since else f"in the history of {rev}"
        raise UserError(
            f"no commit {span} of {path} changes a test file ({len(commits)} commits): tasks need a change "
            "that adds or fixes a test; pick another range (--since / --rev) or repository"
        )
    candidates = []
    for commit in commits:
        reason = skip_reason(commit, config)
        if reason:
            result.outcomes.append(Outcome(commit.sha, commit.subject, reason=reason))
            if on_outcome:
                on_outcome(result.outcomes[-1])
        else:
            candidates.append(commit)
    if candidates and max_tasks != 0:
        with open_sandbox(sandbox_config, repo_path=str(path), commit=rev, run_label="synth-mine") as sandbox:
            runner = TestRunner(sandbox, config.test_timeout)
            for commit in candidates:
                if max_tasks is not None and len(result.rows) >= max_tasks:
                    break
                try:
                    outcome = examine(runner, path, commit, config.issue_from, issue_writer)
                except (RuntimeError, SandboxError) as exc:  # the container failed us on this commit
                    outcome = Outcome(
                        commit.sha, commit.subject, reason="tests_cannot_run", detail=str(exc)[:200]
                    )
                result.outcomes.append(outcome)
                if on_outcome:
                    on_outcome(result.outcomes[-1])
    order = {c.sha: i for i, c in enumerate(commits)}
    result.outcomes.sort(key=lambda o: order.get(o.sha, 0))
    result.seconds = time.perf_counter() - started
    return result
