"""Execution checks: run a candidate patch in a sandbox and report what happened, with evidence.

Three checks, each a `Verdict`:

- `apply`: the patch applies to the base commit (`git apply --check`) and every Python file it
  leaves compiles (`python -m py_compile`);
- `reproduction`: a reproduction script (see `verifiers.reproduction` for its protocol and its four
  outcomes) reproduces the issue on the base commit and not on the patched code; a script that does
  not reproduce, or crashes on the base for an unrelated reason, is no evidence either way;
- `regression`: the repository's existing tests related to the changed files (`verifiers.scan_tests`)
  run on base and patched code with the repository's own runner (`verifiers.runners`: Django's
  runtests.py, SymPy's bin/test, pytest, ... from the specs `eval` uses); tests that passed before and
  fail after are regressions once a re-run on both states confirms it (otherwise they are listed as
  flaky).

Commands run through the image's environment activation (the official SWE-bench layout's conda env
`testbed`, when present). Every check leaves the sandbox in the state it found it (snapshot, then
restore at the end; nothing is moved at all when every result comes from the cache). Results are
cached by (repository state hash, runner, test file or script), so many candidates on one task run
the base tests once.
"""

from __future__ import annotations

import json
import shlex
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sweagent.swebench.specs import CONDA_IF_PRESENT
from verifiers import scan_tests
from verifiers.cache import ResultCache, state_hash, text_hash
from verifiers.diffs import PatchParseError, python_files_after, touched_files
from verifiers.reproduction import (
    UNRELATED_ERRORS,
    SharedReproduction,
    generate_reproductions,
    read_outcome,
)
from verifiers.runners import UNATTRIBUTED, TestRunner, runner_for
from verifiers.types import Candidate, Evidence, Verdict, cap_output

if TYPE_CHECKING:
    from sweagent.sandbox.base import CommandResult, RepoState, Sandbox
    from sweagent.task import Task

EXIT_MARK = "swe-ttc-tests-exit="


class ExecutionConfig(BaseModel):
    """How execution checks run."""

    model_config = ConfigDict(extra="forbid")

    python: str = Field("python3", description="Python interpreter inside the sandbox")
    apply_timeout: float = 60.0
    reproduction_timeout: float = 120.0
    test_timeout: float = Field(600.0, description="seconds for one test command over the selected tests")
    selection_timeout: float = Field(120.0, description="seconds for finding the related tests")
    max_test_files: int = Field(
        20, description="related test files (Django: test modules) run at most (0 = all)"
    )
    max_test_bytes: int = Field(
        200_000,
        ge=0,
        description="test source run at most, in bytes, beyond the best-ranked file (0 = no limit): "
        "bounds the run's time where one file can hold a thousand tests",
    )
    import_depth: int = Field(1, ge=0, description="steps of imports between a test and a changed module")
    runner: Literal["auto", "pytest"] = Field(
        "auto",
        description="auto: the repository's own test runner from the specs eval uses (pytest for a "
        "repository they do not know); pytest: always pytest",
    )
    flaky_reruns: int = Field(
        1, ge=0, description="re-runs on both states of a test that passed on the base and fails on the patch"
    )
    unrelated_errors: list[str] = Field(
        default_factory=lambda: list(UNRELATED_ERRORS),
        description="exceptions that make a reproduction script's crash on the base no evidence "
        "(unless the issue names them)",
    )
    generate_reproduction: int = Field(
        0,
        ge=0,
        description="scripts to ask the model for when no candidate's script reproduces the issue (0 = never)",
    )
    output_cap: int = 4_000
    pytest_args: list[str] = Field(default_factory=lambda: ["-p", "no:cacheprovider", "-q", "--tb=short"])
    checks: list[str] = Field(default_factory=lambda: ["apply", "reproduction", "regression"])


class _StateGuard:
    """Moves the sandbox between base and patched states; puts back the starting state on exit.

    The starting state is captured lazily, so a check answered entirely from the cache never touches
    the sandbox.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.start: RepoState | None = None
        self.current: str | None = None  # None = the starting state

    def _leave_start(self) -> None:
        if self.start is None:
            self.start = self.sandbox.snapshot()

    def to_base(self) -> None:
        from sweagent.sandbox.base import RepoState

        if self.current == "base":
            return
        self._leave_start()
        self.current = "moving"  # if restore fails halfway, finish() still puts the start back
        self.sandbox.restore(RepoState(base_commit=self.sandbox.base_commit, patch=""))
        self.current = "base"

    def mark(self, label: str) -> None:
        self.current = label

    def finish(self) -> None:
        if self.start is not None and self.current is not None:
            self.sandbox.restore(self.start)
        self.start, self.current = None, None


class ExecutionVerifier:
    """Runs execution checks for candidates of one task in one sandbox (repo at `sandbox.workdir`).

    One verifier per sandbox (a sandbox runs one command at a time); verifiers on other sandboxes or
    threads may share one `ResultCache`.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        config: ExecutionConfig | None = None,
        cache: ResultCache | None = None,
        task: Task | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.config = config or ExecutionConfig()
        self.cache = cache if cache is not None else ResultCache()
        self.task = task.public() if task is not None else None  # repository and issue; set by verify()
        scratch_root = str(getattr(sandbox, "scratch", "") or "/tmp").rstrip("/")
        self.scratch = f"{scratch_root}/swe-ttc-verify-{uuid.uuid4().hex[:8]}"
        self._guard: _StateGuard | None = None
        self._depth = 0
        self._env = str(getattr(sandbox, "image", "") or "") + "|" + sandbox.workdir

    # ---- state handling -------------------------------------------------------------------------

    @contextmanager
    def _preserved(self) -> Iterator[_StateGuard]:
        if self._guard is None:
            self._guard = _StateGuard(self.sandbox)
        self._depth += 1
        try:
            yield self._guard
        finally:
            self._depth -= 1
            if self._depth == 0:
                guard, self._guard = self._guard, None
                guard.finish()

    def _state(self, patch: str = "") -> str:
        return state_hash(self.sandbox.base_commit, patch, self._env)

    def _run(self, command: str, timeout: float, label: str = "") -> tuple[CommandResult, Evidence]:
        result = self.sandbox.run(command, timeout=timeout)
        evidence = Evidence(
            command=command,
            exit_code=result.exit_code,
            output=cap_output(result.output, self.config.output_cap),
            timed_out=result.timed_out,
            duration=round(result.duration, 3),
            label=label,
        )
        return result, evidence

    def _cd(self, command: str) -> str:
        return f"cd {shlex.quote(self.sandbox.workdir)} && {command}"

    def _in_env(self, command: str) -> str:
        """`command` at the repository root in the image's test environment (a subshell, so the
        activation does not stay in the sandbox's shell)."""
        return f"( {CONDA_IF_PRESENT}; {self._cd(command)} )"

    def _to_patched(self, guard: _StateGuard, patch: str) -> tuple[bool, Evidence]:
        """Base commit plus `patch`, applied with `git apply` (after `--check`)."""
        guard.to_base()
        patch_file = f"{self.scratch}/{text_hash(patch)}.patch"
        self.sandbox.write_file(patch_file, patch if patch.endswith("\n") else patch + "\n")
        quoted = shlex.quote(patch_file)
        result, evidence = self._run(
            self._cd(f"git apply --check -v {quoted} && git apply {quoted}"),
            self.config.apply_timeout,
            "apply",
        )
        guard.mark(f"patched:{text_hash(patch)}" if result.ok else "unknown")
        return result.ok, evidence

    # ---- apply + compile ------------------------------------------------------------------------

    def check_apply(self, candidate: Candidate) -> Verdict:
        """Does the patch apply to the base commit, and do the Python files it touches compile?"""
        try:
            files = python_files_after(candidate.patch)
        except PatchParseError as exc:
            status = "empty_patch" if not candidate.patch.strip() else "malformed_patch"
            return Verdict.make("apply", False, status, str(exc))
        cached, hit = self.cache.get_or_compute(
            self._state(candidate.patch),
            "apply+compile",
            lambda: self._apply_uncached(candidate.patch, files),
        )
        if cached is None:
            return Verdict.make("apply", None, "error", "the sandbox failed while applying the patch")
        verdict = Verdict.model_validate(cached)
        if hit:
            for ev in verdict.evidence:
                ev.cached = True
        return verdict

    def _apply_uncached(self, patch: str, files: list[str]) -> dict[str, Any] | None:
        with self._preserved() as guard:
            applied, apply_ev = self._to_patched(guard, patch)
            if apply_ev.timed_out:
                return Verdict.make(
                    "apply", None, "timed_out", "git apply timed out", evidence=[apply_ev]
                ).model_dump()
            if not applied:
                return Verdict.make(
                    "apply",
                    False,
                    "does_not_apply",
                    "the patch does not apply to the base commit",
                    evidence=[apply_ev],
                ).model_dump()
            if not files:
                return Verdict.make(
                    "apply",
                    True,
                    "passed",
                    "the patch applies; it touches no Python files",
                    evidence=[apply_ev],
                ).model_dump()
            quoted = " ".join(shlex.quote(f) for f in files)
            env = f"PYTHONPYCACHEPREFIX={shlex.quote(self.scratch + '/pycache')} PYTHONDONTWRITEBYTECODE=1"
            result, compile_ev = self._run(
                self._in_env(f"{env} {self.config.python} -m py_compile {quoted}"),
                self.config.apply_timeout,
                "compile",
            )
            evidence = [apply_ev, compile_ev]
            if result.timed_out:
                return Verdict.make(
                    "apply", None, "timed_out", "py_compile timed out", evidence=evidence
                ).model_dump()
            if not result.ok:
                return Verdict.make(
                    "apply",
                    False,
                    "does_not_compile",
                    f"the patch applies but a touched Python file does not compile ({len(files)} checked)",
                    evidence=evidence,
                    details={"files": files},
                ).model_dump()
            return Verdict.make(
                "apply",
                True,
                "passed",
                f"the patch applies and {len(files)} touched Python file(s) compile",
                evidence=evidence,
                details={"files": files},
            ).model_dump()

    # ---- reproduction ---------------------------------------------------------------------------

    def _script_of(self, candidate: Candidate) -> str | None:
        if candidate.reproduction_script:
            return candidate.reproduction_script
        if candidate.reproduction_path:
            try:
                return self.sandbox.read_file(candidate.reproduction_path)
            except (FileNotFoundError, OSError):
                return None
        return None

    def _issue(self) -> str:
        return self.task.problem_statement if self.task is not None else ""

    def _run_script(self, guard: _StateGuard, script: str, patch: str, label: str) -> dict[str, Any] | None:
        """Run the script in the base (patch == "") or patched state; a cacheable dict, or None."""

        def compute() -> dict[str, Any] | None:
            if patch:
                applied, apply_ev = self._to_patched(guard, patch)
                if not applied:
                    return {"outcome": "other", "read_by": "apply", "evidence": apply_ev.model_dump()}
            else:
                guard.to_base()
            script_file = f"{self.scratch}/repro_{text_hash(script)}.py"
            self.sandbox.write_file(script_file, script)
            wd = shlex.quote(self.sandbox.workdir)
            command = self._in_env(
                f"PYTHONPATH={wd}${{PYTHONPATH:+:$PYTHONPATH}} PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 "
                f"{self.config.python} {shlex.quote(script_file)}"
            )
            result, evidence = self._run(command, self.config.reproduction_timeout, label)
            outcome, read_by = read_outcome(
                result.output, result.exit_code, result.timed_out, self._issue(), self.config.unrelated_errors
            )
            return {"outcome": outcome, "read_by": read_by, "evidence": evidence.model_dump()}

        key = f"repro:{text_hash(script)}:{text_hash(self._issue() + repr(self.config.unrelated_errors))}"
        value, hit = self.cache.get_or_compute(self._state(patch), key, compute)
        if value is not None and hit:
            value = {**value, "evidence": {**value["evidence"], "cached": True}}
        return value

    def script_on_base(self, script: str) -> dict[str, Any] | None:
        """How `script` runs on the base commit: {"outcome", "read_by", "evidence"} (cached), or None."""
        with self._preserved() as guard:
            return self._run_script(guard, script, "", "base")

    def check_reproduction(self, candidate: Candidate, script: str | None = None) -> Verdict:
        """Reproduces on base, and not on patched? `script` (e.g. a generated one) overrides the candidate's.

        `details["outcome"]` is one of four (see `verifiers.reproduction`): `no_evidence` and
        `does_not_reproduce` (the script says nothing about the patch: `passed` is None), `resolved`
        (passed) and `reproduces` (failed).
        """
        script = script or self._script_of(candidate)
        if not script or not script.strip():
            return Verdict.make("reproduction", None, "no_tests", "no reproduction script to run")
        if not candidate.patch.strip():
            return Verdict.make("reproduction", False, "empty_patch", "the patch is empty")
        with self._preserved() as guard:
            base = self._run_script(guard, script, "", "base")
            if base is None:
                return Verdict.make("reproduction", None, "error", "the sandbox failed running the script")
            base_ev = Evidence.model_validate(base["evidence"])
            details = {"base_outcome": base["outcome"], "read_by": base["read_by"]}
            if base["outcome"] == "other":
                details["outcome"] = "no_evidence"
                return Verdict.make(
                    "reproduction",
                    None,
                    "no_evidence",
                    f"the script crashed on the base commit for a reason unrelated to the issue ({base['read_by']}); "
                    "not counted as evidence",
                    evidence=[base_ev],
                    details=details,
                )
            if base["outcome"] != "reproduced":
                details["outcome"] = "does_not_reproduce"
                return Verdict.make(
                    "reproduction",
                    None,
                    "not_reproducing",
                    f"the script does not reproduce the issue on the base commit (outcome: {base['outcome']}, "
                    f"read by {base['read_by']}); not counted as evidence",
                    evidence=[base_ev],
                    details=details,
                )
            patched = self._run_script(guard, script, candidate.patch, "patched")
        if patched is None:
            return Verdict.make("reproduction", None, "error", "the sandbox failed running the script")
        evidence = [base_ev, Evidence.model_validate(patched["evidence"])]
        details.update(patched_outcome=patched["outcome"], patched_read_by=patched["read_by"])
        outcome = patched["outcome"]
        details["outcome"] = "resolved" if outcome == "resolved" else "reproduces"
        if patched["read_by"] == "apply":
            return Verdict.make(
                "reproduction", False, "does_not_apply", "the patch does not apply", evidence=evidence
            )
        if outcome == "resolved":
            return Verdict.make(
                "reproduction",
                True,
                "passed",
                "reproduced on base, resolved on patched code",
                evidence=evidence,
                details=details,
            )
        if outcome == "reproduced":
            return Verdict.make(
                "reproduction",
                False,
                "failed",
                "the issue still reproduces on the patched code",
                evidence=evidence,
                details=details,
            )
        status = "timed_out" if evidence[-1].timed_out else "other_issues"
        return Verdict.make(
            "reproduction",
            False,
            status,
            f"the script reproduced the issue on the base commit but fails on the patched code ({patched['read_by']})",
            evidence=evidence,
            details=details,
        )

    def shared_reproduction(
        self, task: Task, candidates: list[Candidate], model: Any = None
    ) -> SharedReproduction:
        """The script to judge every candidate of a task with: the first candidate's script that
        reproduces the issue on the base commit; when none does and `generate_reproduction` > 0,
        one of that many scripts `model` writes from the public task (Agentless-style), kept only if
        it reproduces. Only a reproducing script is returned (`script` is None otherwise)."""
        self.task = task.public()
        tried: list[dict[str, Any]] = []
        seen: set[str] = set()

        def attempt(script: str | None, source: str) -> SharedReproduction | None:
            if not script or not script.strip() or script in seen:
                return None
            seen.add(script)
            run = self.script_on_base(script)
            outcome = "error" if run is None else run["outcome"]
            tried.append({"source": source, "base_outcome": outcome, "read_by": (run or {}).get("read_by")})
            if outcome == "reproduced":
                return SharedReproduction(script=script, source=source, tried=tried)
            return None

        for candidate in candidates:
            found = attempt(self._script_of(candidate), f"candidate:{candidate.id}")
            if found:
                return found
        if model is not None and self.config.generate_reproduction > 0:
            for i, script in enumerate(
                generate_reproductions(self.task, model, self.config.generate_reproduction)
            ):
                found = attempt(script, f"generated:{i}")
                if found:
                    return found
        return SharedReproduction(script=None, source=None, tried=tried)

    # ---- regression tests ------------------------------------------------------------------------

    def related_tests(self, changed: list[str]) -> dict[str, Any]:
        """Existing test files related to `changed` (on the base commit), with the reason for each and
        the repository's test layout."""
        source = Path(scan_tests.__file__).read_text()
        bounds = [self.config.max_test_files, self.config.import_depth, self.config.max_test_bytes]
        key = "select:" + text_hash(json.dumps([sorted(changed), bounds, text_hash(source)]))

        def compute() -> dict[str, Any] | None:
            with self._preserved() as guard:
                guard.to_base()
                scanner = f"{self.scratch}/scan_tests.py"
                self.sandbox.write_file(scanner, source)
                args = " ".join(shlex.quote(c) for c in changed)
                result, _ = self._run(
                    self._in_env(
                        f"{self.config.python} {shlex.quote(scanner)} --max-bytes={self.config.max_test_bytes} "
                        f". {self.config.max_test_files} "
                        f"{self.config.import_depth} {args}"
                    ),
                    self.config.selection_timeout,
                )
            parts = result.output.split(scan_tests.MARK)
            if len(parts) < 3:
                return None
            return json.loads(parts[1])

        value, _ = self.cache.get_or_compute(self._state(""), key, compute)
        return value or {"tests": [], "reasons": {}, "error": "test selection failed"}

    def runner(self, layout: str | None = None) -> TestRunner:
        """The test runner for this task's repository (or the layout found in the sandbox)."""
        repo = self.task.repo if self.task is not None else ""
        version = self.task.version if self.task is not None else None
        if self.config.runner == "pytest":
            repo, version, layout = "", None, None
        return runner_for(repo, version, layout, self.config.python, self.config.pytest_args)  # type: ignore[arg-type]

    def _run_tests(
        self, runner: TestRunner, files: list[str], label: str
    ) -> tuple[dict[str, dict[str, str]] | None, Evidence]:
        """One run of the runner over `files` in the sandbox's current state (uncached)."""
        tag = uuid.uuid4().hex[:8]
        log = f"{self.scratch}/tests_{tag}.log"
        junit = f"{self.scratch}/junit_{tag}.xml" if runner.junit else None
        command = runner.command(self.sandbox.workdir, files, log, junit)
        # the log goes to the scratch folder, which nothing else may have made yet when every earlier
        # step was answered from the cache (a resumed run): without it the command fails at once
        self.sandbox.run(f"mkdir -p {shlex.quote(self.scratch)}", timeout=30)
        result, evidence = self._run(command, self.config.test_timeout, label)
        try:
            log_text = self.sandbox.read_file(log)
        except (FileNotFoundError, OSError):
            log_text = ""
        junit_text = None
        if junit:
            try:
                junit_text = self.sandbox.read_file(junit)
            except (FileNotFoundError, OSError):
                junit_text = None
        self.sandbox.run(f"rm -f {shlex.quote(log)} {shlex.quote(junit or log)}", timeout=30)
        exit_code = None
        if EXIT_MARK in result.output:
            tail = result.output.rsplit(EXIT_MARK, 1)[1].split()
            exit_code = int(tail[0]) if tail and tail[0].isdigit() else None
        evidence = evidence.model_copy(
            update={"output": cap_output(log_text, self.config.output_cap), "exit_code": exit_code}
        )
        if result.timed_out:
            return None, evidence
        return runner.outcomes(files, log_text, junit_text), evidence

    def _runner_key(self, runner: TestRunner) -> str:
        return f"tests:{runner.name}:{text_hash(runner.model_dump_json())}"

    def _tests_in_state(
        self, guard: _StateGuard, runner: TestRunner, files: list[str], patch: str, label: str
    ) -> tuple[dict[str, dict[str, str]] | None, list[Evidence]]:
        """Per-file outcomes in one state; only files missing from the cache are run (in one command)."""
        state = self._state(patch)
        prefix = self._runner_key(runner)
        outcomes: dict[str, dict[str, str]] = {}
        evidence: list[Evidence] = []
        missing = []
        for f in files:
            hit = self.cache.get(state, f"{prefix}:{f}")
            if hit is None:
                missing.append(f)
                continue
            outcomes[f] = hit["outcomes"]
            ev = Evidence.model_validate({**hit["evidence"], "cached": True})
            if ev not in evidence:
                evidence.append(ev)
        if self.cache.enabled:
            self.cache.record(hits=len(files) - len(missing), misses=len(missing))
        if not missing:
            return outcomes, evidence
        # a run of these files that timed out in this state is not run again under the same bound: on
        # the base commit every candidate would otherwise wait out the whole timeout once more
        timed_out_key = f"{prefix}:timed-out:{self.config.test_timeout:g}:{text_hash(json.dumps(missing))}"
        hung = self.cache.get(state, timed_out_key)
        if hung is not None:
            evidence.append(Evidence.model_validate({**hung["evidence"], "cached": True}))
            return None, evidence
        if not self._move(guard, patch, evidence):
            return None, evidence
        ran, ev = self._run_tests(runner, missing, label)
        evidence.append(ev)
        if ran is None:
            if ev.timed_out:
                self.cache.put(state, timed_out_key, {"evidence": ev.model_dump()})
            return None, evidence
        for f in missing:
            outcomes[f] = ran.get(f, {})
            self.cache.put(state, f"{prefix}:{f}", {"outcomes": outcomes[f], "evidence": ev.model_dump()})
        if ran.get(UNATTRIBUTED):
            outcomes[UNATTRIBUTED] = ran[UNATTRIBUTED]  # not cached: it belongs to this set of files only
        return outcomes, evidence

    def _move(self, guard: _StateGuard, patch: str, evidence: list[Evidence]) -> bool:
        """Put the sandbox in the base (patch == "") or patched state; False if the patch does not apply."""
        if not patch:
            guard.to_base()
            return True
        applied, apply_ev = self._to_patched(guard, patch)
        if not applied:
            evidence.append(apply_ev)
        return applied

    def check_regressions(self, candidate: Candidate) -> Verdict:
        """Do existing related tests that pass on the base commit still pass with the patch?"""
        try:
            changed = [f.path for f in touched_files(candidate.patch)]
        except PatchParseError as exc:
            status = "empty_patch" if not candidate.patch.strip() else "malformed_patch"
            return Verdict.make("regression", False, status, str(exc))
        with self._preserved() as guard:
            selection = self.related_tests(changed)
            files = selection.get("tests", [])
            runner = self.runner(selection.get("layout"))
            details: dict[str, Any] = {
                "test_files": selection.get("reasons", {}),
                "runner": {
                    "name": runner.name,
                    "repo": runner.repo,
                    "spec_version": runner.spec_version,
                    "parser": runner.parser,
                    "command": runner.test_command(files),
                },
                "selection": {
                    "layout": selection.get("layout"),
                    "dropped": selection.get("dropped", 0),
                    "max_test_files": self.config.max_test_files,
                    "max_test_bytes": self.config.max_test_bytes,
                    "bytes": selection.get("bytes"),
                    "targets": runner.targets(files),
                },
            }
            if not files:
                why = selection.get("error", "no existing tests relate to the changed files")
                return Verdict.make("regression", None, "no_tests", why, details=details)
            before, base_ev = self._tests_in_state(guard, runner, files, "", "base")
            if before is None:
                timed = any(e.timed_out for e in base_ev)
                return Verdict.make(
                    "regression",
                    None,
                    "timed_out" if timed else "error",
                    "the tests "
                    + (
                        f"timed out (after {self.config.test_timeout:g} s)"
                        if timed
                        else f"gave no results {runner.parser} could read"
                    )
                    + " on the base commit",
                    evidence=base_ev,
                    details=details,
                )
            after, patched_ev = self._tests_in_state(guard, runner, files, candidate.patch, "patched")
            evidence = base_ev + patched_ev
            if after is None:
                timed = any(e.timed_out for e in patched_ev)
                status = (
                    "timed_out"
                    if timed
                    else "does_not_apply"
                    if patched_ev[-1].label == "apply"
                    else "failed"
                )
                why = {
                    "timed_out": "the related tests hang on the patched code (they finished on the base commit)",
                    "does_not_apply": "the patch does not apply",
                    "failed": f"the related tests gave no results {runner.parser} could read on the patched code",
                }[status]
                return Verdict.make("regression", False, status, why, evidence=evidence, details=details)
            broken = _broken(before, after)
            flaky: dict[str, dict[str, list[str]]] = {}
            if broken and self.config.flaky_reruns:
                broken, flaky = self._confirm(
                    guard, runner, files, candidate.patch, before, after, broken, evidence
                )
        return _verdict(before, after, broken, flaky, evidence, details)

    def _confirm(
        self,
        guard: _StateGuard,
        runner: TestRunner,
        files: list[str],
        patch: str,
        before: dict[str, dict[str, str]],
        after: dict[str, dict[str, str]],
        broken: list[str],
        evidence: list[Evidence],
    ) -> tuple[list[str], dict[str, dict[str, list[str]]]]:
        """Re-run the files holding `broken` tests on both states (`flaky_reruns` times, uncached): a test
        is a regression only if it passes on every base run and fails on every patched run."""
        old, new = _flat(before), _flat(after)
        suspects = set(broken)
        where = sorted(
            {f for f, tests in after.items() if suspects & set(tests)}
            | {f for f, tests in before.items() if suspects & set(tests)} - {UNATTRIBUTED}
        )
        history = {t: {"base": [old.get(t, "missing")], "patched": [new.get(t, "missing")]} for t in broken}
        for round_ in range(self.config.flaky_reruns):
            for state, patch_ in (("base", ""), ("patched", patch)):
                if not self._move(guard, patch_, evidence):
                    return broken, {}
                ran, ev = self._run_tests(runner, where or files, f"{state}-rerun-{round_ + 1}")
                evidence.append(ev)
                outcomes = _flat(ran or {})
                for t in broken:
                    history[t][state].append(outcomes.get(t, "missing") if ran is not None else "no result")
        confirmed = [
            t
            for t in broken
            if all(o == "passed" for o in history[t]["base"])
            and all(o in ("failed", "error", "missing") for o in history[t]["patched"])
        ]
        flaky = {t: history[t] for t in broken if t not in confirmed}
        return confirmed, flaky

    # ---- everything --------------------------------------------------------------------------------

    def verify(
        self, task: Task, candidate: Candidate, reproduction_script: str | None = None
    ) -> list[Verdict]:
        """Run the configured checks; the sandbox ends where it started. Sees only `task.public()`:
        the repository and version choose the test runner, the issue text tells a reproduction
        script's unrelated crash from the one the issue describes."""
        self.task = task.public()
        verdicts: list[Verdict] = []
        with self._preserved():
            for check in self.config.checks:
                try:
                    if check == "apply":
                        verdicts.append(self.check_apply(candidate))
                    elif check == "reproduction":
                        verdicts.append(self.check_reproduction(candidate, reproduction_script))
                    elif check == "regression":
                        verdicts.append(self.check_regressions(candidate))
                except Exception as exc:  # the sandbox died mid-check: report it, do not blame the patch
                    verdicts.append(Verdict.make(check, None, "error", f"the check could not run: {exc}"))
                if check == "apply" and verdicts[-1].passed is False:
                    break  # nothing else can run on a patch that does not apply or compile
        return verdicts


def _flat(per_file: dict[str, dict[str, str]]) -> dict[str, str]:
    return {t: o for tests in per_file.values() for t, o in tests.items()}


def _broken(before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]) -> list[str]:
    """Tests that passed on the base commit and fail, error or are gone on the patched code."""
    old, new = _flat(before), _flat(after)
    return sorted(
        t for t, o in old.items() if o == "passed" and new.get(t, "missing") in ("failed", "error", "missing")
    )


def _verdict(
    before: dict[str, dict[str, str]],
    after: dict[str, dict[str, str]],
    broken: list[str],
    flaky: dict[str, dict[str, list[str]]],
    evidence: list[Evidence],
    details: dict[str, Any],
) -> Verdict:
    old, new = _flat(before), _flat(after)
    fixed = sorted(t for t, o in old.items() if o in ("failed", "error") and new.get(t) == "passed")
    details.update(
        passed_before=sum(o == "passed" for o in old.values()),
        passed_after=sum(o == "passed" for o in new.values()),
        regressions={t: new.get(t, "missing") for t in broken},
        flaky=flaky,
        fixed=fixed,
    )
    flaky_note = f"; {len(flaky)} flaky test(s) not counted: {', '.join(list(flaky)[:3])}" if flaky else ""
    if broken:
        return Verdict.make(
            "regression",
            False,
            "regressions",
            f"{len(broken)} test(s) that passed on the base commit fail on the patched code: "
            f"{', '.join(broken[:5])}{flaky_note}",
            evidence=evidence,
            details=details,
        )
    if not any(o == "passed" for o in old.values()):
        return Verdict.make(
            "regression",
            None,
            "no_tests",
            "no related test passes on the base commit",
            evidence=evidence,
            details=details,
        )
    return Verdict.make(
        "regression",
        True,
        "passed",
        f"all {details['passed_before'] - len(flaky)} related test(s) passing on the base commit still pass"
        + flaky_note,
        evidence=evidence,
        details=details,
    )
