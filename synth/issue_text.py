"""Problem statements for mined tasks that describe the bug, not its fix.

A fix commit's message says what was changed ("Limit clamp() to the upper bound"), which is the
answer. Instead, the statement is written from what the failing tests show when they run on the
base commit: which tests fail, the statement that fails, the error, and the expected vs actual
values, in the style of a bug report (`statement_from_tests`). With a model (`IssueWriter`), the
model writes the report from the same evidence: the failing test ids and their output. Neither
ever sees the gold patch, the diff or the commit message.

The evidence comes from pytest's `-rA` log (the mining eval script's output): each failure section
`____ test_name ____` holds the test's source up to the failing line (`>`), the error lines (`E`)
and the location lines (`path:line: ErrorType`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sweagent.config import ModelConfig
from sweagent.errors import UserError

SOURCES = ("tests", "model", "commit")
_HEADER = re.compile(r"^_{3,} (?P<name>.+?) _{3,}$")
_SECTION = re.compile(r"^={3,} (?P<title>[A-Za-z ]+?) ={3,}$")
_LOCATION = re.compile(r"^(?P<path>[^\s:]+\.py):(?P<line>\d+): (?P<error>\w[\w.]*)?$")
_COMPARISON = re.compile(r"^assert (?P<actual>.+?) (?P<op>==|!=|is not|is|in|not in) (?P<expected>.+)$")
_PYTEST_HINT = re.compile(r"^(Use -v to get more diff|Full diff:|Omitting \d+ identical items)")
DETAILED = 3  # failing tests described in full; the rest are listed by id
MAX_EXCERPT = 3000  # characters of raw test output a model sees per failing test


@dataclass
class Failure:
    """What pytest printed for one failing test."""

    test_id: str
    statement: str = ""  # the line of the test that failed
    errors: list[str] = field(default_factory=list)  # the `E` lines of the innermost frame
    error_type: str = ""
    raised_at: str = ""  # `path:line` where the error was raised, when not in the test
    excerpt: str = ""  # the section as printed, for a model

    @property
    def comparison(self) -> tuple[str, str] | None:
        """(actual, expected) when the failure is an `assert a == b` pytest could evaluate."""
        for line in self.errors:
            match = _COMPARISON.match(line)
            if match and match.group("op") == "==":
                return match.group("actual"), match.group("expected")
        return None


def _short_name(test_id: str) -> str:
    """How pytest heads a failure section: `Class.test_name[param]` for `path::Class::test_name[param]`."""
    return ".".join(test_id.split("::")[1:]) or test_id


def failure_sections(log: str) -> dict[str, list[str]]:
    """Failure (and error) sections of a pytest log, by header name."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    inside = False
    for line in log.splitlines():
        title = _SECTION.match(line)
        if title:
            inside = title.group("title") in ("FAILURES", "ERRORS")
            current = None
            continue
        if not inside:
            continue
        header = _HEADER.match(line)
        if header:
            name = header.group("name").removeprefix("ERROR at setup of ").removeprefix("ERROR collecting ")
            current = sections.setdefault(name, [])
            continue
        if current is not None:
            current.append(line)
    return sections


def read_failure(test_id: str, lines: list[str]) -> Failure:
    failure = Failure(test_id=test_id, excerpt="\n".join(lines).strip()[:MAX_EXCERPT])
    test_file = test_id.split("::")[0]
    frames: list[list[str]] = [[]]
    for line in lines:
        if line.startswith("_ _ _"):
            frames.append([])
        else:
            frames[-1].append(line)
    first = next((ln for ln in frames[0] if ln.startswith(">")), "")
    failure.statement = first[1:].strip()
    for frame in reversed(frames):
        errors = [ln[1:].strip() for ln in frame if ln.startswith("E ")]
        if errors:
            failure.errors = [e for e in errors if e and not _PYTEST_HINT.match(e)][:8]
            break
    for line in reversed(lines):
        match = _LOCATION.match(line.strip())
        if match:
            failure.error_type = match.group("error") or ""
            if match.group("path") != test_file:
                failure.raised_at = f"{match.group('path')}:{match.group('line')}"
            break
    if not failure.error_type and failure.errors:
        failure.error_type = failure.errors[0].split(":")[0] if ":" in failure.errors[0] else ""
    return failure


def failures(log: str, test_ids: list[str]) -> list[Failure]:
    """The failure of each of `test_ids` as the log shows it (a test without a section: id only)."""
    sections = failure_sections(log)
    out = []
    for test_id in test_ids:
        lines = sections.get(_short_name(test_id)) or sections.get(test_id.split("::")[-1])
        if lines is None:
            lines = next((ls for name, ls in sections.items() if test_id.split("::")[0] in name), [])
        out.append(read_failure(test_id, lines))
    return out


def _title(failure: Failure) -> str:
    statement = failure.statement.removeprefix("assert ").strip()
    if failure.error_type and failure.error_type != "AssertionError":
        error = next((e for e in failure.errors if e.startswith(failure.error_type)), failure.error_type)
        where = f"`{statement}`" if statement else f"`{failure.test_id}`"
        return f"{where} raises {error}"[:140]
    comparison = failure.comparison
    if comparison and statement:
        return f"`{statement}` is false: got {comparison[0]}, expected {comparison[1]}"[:140]
    return f"`{statement or failure.test_id}` does not hold"[:140]


def _describe(failure: Failure) -> str:
    parts = [f"`{failure.test_id}` fails."]
    if failure.statement:
        parts.append(f"The failing line:\n\n    {failure.statement}")
    if failure.errors:
        body = "\n".join(f"    {e}" for e in failure.errors)
        where = f" (raised at {failure.raised_at})" if failure.raised_at else ""
        parts.append(f"What happens{where}:\n\n{body}")
    comparison = failure.comparison
    if comparison:
        parts.append(f"Expected: `{comparison[1]}`\nActual: `{comparison[0]}`")
    elif failure.error_type and failure.error_type != "AssertionError":
        if failure.statement.startswith("assert "):
            parts.append(f"Expected: `{failure.statement[7:]}` holds, without a {failure.error_type}.")
        else:
            parts.append(f"Expected: no {failure.error_type}.")
    return "\n\n".join(parts)


def statement_from_tests(f2p: list[str], log: str) -> str:
    """A bug report from the failing tests' output on the base commit."""
    found = failures(log, f2p)
    if not found:
        raise ValueError("a statement needs at least one failing test")
    title = _title(found[0])
    count = f"{len(found)} test fails" if len(found) == 1 else f"{len(found)} tests fail"
    blocks = [
        title,
        f"Running the test suite, {count} on the current code.",
        *map(_describe, found[:DETAILED]),
    ]
    if len(found) > DETAILED:
        blocks.append("Also failing:\n" + "\n".join(f"- `{f.test_id}`" for f in found[DETAILED:]))
    return "\n\n".join(blocks) + "\n"


WRITER_SYSTEM = """You write GitHub issues for a Python project. You are given tests that fail on the \
current code and what they print. Write the issue a user would file: a one-line title, then a short \
description of the wrong behaviour (what was called, what was expected, what happened instead) with a \
minimal example. Describe symptoms only: do not guess at the cause, and do not propose or hint at a \
fix. Reply with the issue text only."""


def writer_prompt(f2p: list[str], log: str) -> list[dict[str, str]]:
    """The issue writer's messages: failing test ids and each failure's output, nothing else."""
    found = failures(log, f2p)
    blocks = ["These tests fail on the current code:", "\n".join(f"- {t}" for t in f2p)]
    for failure in found[:DETAILED]:
        blocks.append(f"Output of {failure.test_id}:\n```\n{failure.excerpt or '(no output captured)'}\n```")
    return [{"role": "system", "content": WRITER_SYSTEM}, {"role": "user", "content": "\n\n".join(blocks)}]


class IssueWriter:
    """Problem statements written by a model (any litellm name) from the failing tests' evidence."""

    def __init__(self, name: str, api_base: str | None = None) -> None:
        from sweagent.model.litellm_model import Model, check_model_usable

        config = ModelConfig(name=name, api_base=api_base, temperature=0.0, cost_limit=0.0, retries=2)
        check_model_usable(config)
        self.name = name
        self.model = Model(config)

    def write(self, f2p: list[str], log: str) -> str:
        from sweagent.model.base import LimitExceeded, ModelError

        try:
            reply = self.model.query(writer_prompt(f2p, log))
        except (ModelError, LimitExceeded) as exc:
            raise UserError(
                f"the issue writer {self.name} failed: {str(exc).splitlines()[0][:200]}"
            ) from None
        text = reply.content.strip()
        if not text:
            raise UserError(f"the issue writer {self.name} returned an empty reply")
        return text + "\n"
