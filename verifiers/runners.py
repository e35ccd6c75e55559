"""How a repository runs its tests: the command, where outcomes are read from, which file each belongs to.

A `TestRunner` comes from the same per-repository specs `eval` uses (`sweagent/swebench/specs_py.yaml`
through `sweagent.swebench.specs`): Django runs `./tests/runtests.py --verbosity 2 ... <labels>`, SymPy
`bin/test -C --verbose <files>`, pytest projects `pytest -rA <files>`, and so on. Outcomes are read
with swebench's own log parser for the repository; where pytest is the runner, from its JUnit XML
report (the log parser is the fallback when no report was written). A repository the specs do not
know is run with pytest (JUnit XML), unless its layout shows it is Django or SymPy (a user's checkout
of either, known by `tests/runtests.py` or `bin/test`).

Commands run through the environment activation the spec's eval script uses (`source
/opt/miniconda3/bin/activate && conda activate testbed` when the image has it: the official SWE-bench
layout), in a subshell so the sandbox's own shell is left as it was, with all output sent to a log
file (the sandbox keeps only the head and tail of what a command prints).
"""

from __future__ import annotations

import re
import shlex
from typing import Literal

from pydantic import BaseModel, ConfigDict
from swebench.harness.constants import TestStatus
from swebench.harness.log_parsers import PARSER_REGISTRY

from sweagent.swebench.specs import CONDA_IF_PRESENT, log_parser_for, python_specs, repo_spec
from verifiers.junit import JUnitParseError, parse_junit

Outcome = Literal["passed", "failed", "error", "skipped"]
Layout = Literal["django", "sympy", "pytest"]
JUNIT = "junit"
UNATTRIBUTED = "(unattributed)"
LAYOUT_REPOS: dict[str, str] = {"django": "django/django", "sympy": "sympy/sympy"}
_STATUS: dict[str, Outcome] = {
    TestStatus.PASSED.value: "passed",
    TestStatus.FAILED.value: "failed",
    TestStatus.ERROR.value: "error",
    TestStatus.SKIPPED.value: "skipped",
    TestStatus.XFAIL.value: "skipped",  # failing as expected: neither a pass to keep nor a failure
}
_DJANGO_LABEL = re.compile(r"\(([\w.]+)\)\s*$")
_SYMPY_FILE = re.compile(r"^(\S+\.py)\[\d+\]")
_SYMPY_SUMMARY = re.compile(r"^(_{3,}|={3,}) ")
# SymPy ends each file's last result line with its verdict (`test_x ok    [OK]`), which swebench's parser
# does not expect: without this, the last test of every file would go unread.
_SYMPY_FILE_VERDICT = re.compile(r"\s+\[(OK|FAIL)\]\s*$")


class TestRunner(BaseModel):
    """One repository's way of running tests; `command` and `outcomes` are all a check needs."""

    model_config = ConfigDict(extra="forbid")
    __test__ = False  # not a pytest test class

    name: str  # "django", "sympy", "pytest" (a spec's pytest command) or "pytest-fallback"
    repo: str | None = None  # the spec's repository; None for the fallback
    spec_version: str | None = None
    test_cmd: str
    setup: list[str] = []  # the spec's eval_commands (locale exports, ...)
    parser: str  # a swebench parser name, or "junit"
    targets_as: Literal["paths", "django_labels"] = "paths"
    junit: bool = False  # add --junitxml and read the report

    @property
    def description(self) -> str:
        where = f"{self.repo} {self.spec_version}" if self.repo else "no spec for this repository"
        return f"{self.name} ({where}; outcomes read by {self.parser})"

    def targets(self, files: list[str]) -> list[str]:
        """What the command is given for `files`: paths, or Django test labels."""
        if self.targets_as == "django_labels":
            return [django_label(f) for f in files]
        return list(files)

    def test_command(self, files: list[str], junit_path: str | None = None) -> str:
        """The test command itself (what a user would type in the repository root)."""
        parts = [self.test_cmd]
        if self.junit and junit_path:
            parts.append(f"-o junit_family=xunit1 --junitxml={shlex.quote(junit_path)}")
        parts += [shlex.quote(t) for t in self.targets(files)]
        return " ".join(parts)

    def command(self, workdir: str, files: list[str], log_path: str, junit_path: str | None = None) -> str:
        """The full shell command: activation, setup, tests; all output to `log_path`; prints the exit code."""
        steps = [CONDA_IF_PRESENT, f"cd {shlex.quote(workdir)}", *self.setup]
        steps.append(f"PYTHONDONTWRITEBYTECODE=1 {self.test_command(files, junit_path)}")
        body = "; ".join(steps)
        return f'( {body} ) > {shlex.quote(log_path)} 2>&1; echo "swe-ttc-tests-exit=$?"'

    def outcomes(
        self, files: list[str], log: str, junit_xml: str | None = None
    ) -> dict[str, dict[str, Outcome]] | None:
        """{file: {test id: outcome}} for the files run (plus UNATTRIBUTED if some test has no file);
        None when nothing could be read (no report and no recognisable output)."""
        if self.junit and junit_xml:
            try:
                parsed = parse_junit(junit_xml)
            except JUnitParseError:
                parsed = None
            if parsed is not None:
                return {f: dict(parsed.get(f, {})) for f in files}
        if self.parser == JUNIT:
            return None
        if self.name == "sympy":
            found = self._sympy(files, log)
        else:
            found = self._by_test_id(files, log)
        return found if any(found.values()) else None

    # ---- attribution ---------------------------------------------------------------------------

    def _parse(self, log: str) -> dict[str, Outcome]:
        parser = PARSER_REGISTRY[self.parser]
        statuses = parser(log, _public_spec(self.repo or "", self.spec_version or ""))
        return {test: _STATUS[s] for test, s in statuses.items() if s in _STATUS}

    def _by_test_id(self, files: list[str], log: str) -> dict[str, dict[str, Outcome]]:
        out: dict[str, dict[str, Outcome]] = {f: {} for f in files}
        if self.targets_as == "django_labels":
            labels = {django_label(f): f for f in files}
            context = _django_context(log)
            parsed = self._parse(log)
            labelled = {t.split(" (", 1)[0] for t in parsed if _DJANGO_LABEL.search(t)}
            for test, outcome in parsed.items():
                if test in labelled:
                    continue  # `FAIL: test_x (...)` summary lines, read again without their label
                label = _DJANGO_LABEL.search(test)
                dotted = label.group(1) if label else context.get(test, "")
                file = _longest_prefix(dotted, labels)
                out.setdefault(file or UNATTRIBUTED, {})[test] = outcome
            return out
        for test, outcome in self._parse(log).items():
            path = test.split("::", 1)[0]
            file = path if path in out else next((f for f in files if path.endswith(f)), None)
            out.setdefault(file or UNATTRIBUTED, {})[test] = outcome
        return out

    def _sympy(self, files: list[str], log: str) -> dict[str, dict[str, Outcome]]:
        """SymPy prints `path.py[N]` before each file's results: parse each file's part on its own."""
        out: dict[str, dict[str, Outcome]] = {f: {} for f in files}
        current: str | None = None
        parts: dict[str, list[str]] = {}
        for line in log.splitlines():
            header = _SYMPY_FILE.match(line.strip())
            if header:
                current = header.group(1)
                parts.setdefault(current, [])
                continue
            if _SYMPY_SUMMARY.match(line.strip()):
                current = None  # the failure details and totals follow: they belong to no file
            if current is not None:
                parts[current].append(_SYMPY_FILE_VERDICT.sub("", line))
        for path, lines in parts.items():
            file = path if path in out else next((f for f in files if path.endswith(f)), UNATTRIBUTED)
            for test, outcome in self._parse("\n".join(lines)).items():
                out.setdefault(file, {})[f"{path}::{test}"] = outcome
        return out


def django_label(path: str) -> str:
    """`tests/utils_tests/test_http.py` -> `utils_tests.test_http` (what runtests.py is given)."""
    label = path[: -len(".py")] if path.endswith(".py") else path
    label = label[len("tests/") :] if label.startswith("tests/") else label
    return label.replace("/", ".")


def _longest_prefix(dotted: str, labels: dict[str, str]) -> str | None:
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        hit = labels.get(".".join(parts[:end]))
        if hit:
            return hit
    return None


def _django_context(log: str) -> dict[str, str]:
    """Tests shown by their docstring (`First line. ... ok`) get their label from the line before
    (`test_x (app.tests.Class.test_x)`), the way Django's verbose runner prints them."""
    context: dict[str, str] = {}
    previous = ""
    for line in log.splitlines():
        line = line.strip()
        if " ... " in line:
            name = line.split(" ... ", 1)[0]
            if not _DJANGO_LABEL.search(name):
                label = _DJANGO_LABEL.search(previous)
                if label:
                    context[name] = label.group(1)
        if line:
            previous = line
    return context


def _public_spec(repo: str, version: str):
    """The TestSpec a swebench parser is given: public fields only (no tests to pass, no patch)."""
    from swebench.types import TestSpec

    return TestSpec(
        instance_id="", image="", eval_script_list=[], repo=repo, version=version,
        FAIL_TO_PASS=[], PASS_TO_PASS=[],
    )  # fmt: skip


def _spec_for(repo: str, version: str | None) -> tuple[str, dict] | None:
    """The spec of `repo` at `version`; for an unknown version, the newest version the specs know."""
    spec = repo_spec(repo, version)
    if spec is not None:
        return str(version), spec
    versions = python_specs().get(repo)
    if not versions:
        return None
    newest = max(versions, key=_version_key)
    return newest, versions[newest]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)) or (0,)


def runner_for(
    repo: str, version: str | None = None, layout: Layout | None = None, python: str = "python3",
    pytest_args: list[str] | None = None,
) -> TestRunner:  # fmt: skip
    """The runner for a task's repository (its spec), else for the layout found in the sandbox, else pytest."""
    found = _spec_for(repo, version)
    if found is None and layout in LAYOUT_REPOS:
        repo = LAYOUT_REPOS[layout]
        found = _spec_for(repo, None)
    if found is None:
        args = " ".join(shlex.quote(a) for a in (pytest_args or []))
        return TestRunner(
            name="pytest-fallback",
            test_cmd=f"{python} -m pytest {args} --continue-on-collection-errors".replace("  ", " "),
            parser=JUNIT,
            junit=True,
        )
    spec_version, spec = found
    test_cmd = str(spec["test_cmd"] if isinstance(spec["test_cmd"], str) else " ".join(spec["test_cmd"]))
    parser = log_parser_for(repo)
    if repo == "django/django":
        name, targets_as, junit = "django", "django_labels", False
    elif repo == "sympy/sympy":
        name, targets_as, junit = "sympy", "paths", False
    else:
        name, targets_as, junit = test_cmd.split()[0], "paths", "pytest" in test_cmd.split()[0:3]
    if junit:
        test_cmd += " -p no:cacheprovider"
    return TestRunner(
        name=name,
        repo=repo,
        spec_version=spec_version,
        test_cmd=test_cmd,
        setup=[str(c) for c in spec.get("eval_commands", [])],
        parser=parser,
        targets_as=targets_as,
        junit=junit,
    )
