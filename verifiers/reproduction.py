"""The reproduction-script protocol, its four outcomes, and writing a script for an issue with a model.

Protocol. A reproduction script is a standalone Python file run from the repository root (with the
root on PYTHONPATH, in the image's test environment). It prints exactly one of these lines:

- `Issue reproduced`: the behaviour the issue describes happens;
- `Issue resolved`: the behaviour is gone and the code does what the issue asks;
- `Other issues`: something else went wrong (the script could not test the behaviour).

When several appear, the last one printed counts. A script that prints none is read by how it ended:
exit 0 -> resolved; an uncaught exception -> reproduced (an `AssertionError` is the usual way such
scripts fail), except a crash for a reason unrelated to the issue -> other: an exception in
`UNRELATED_ERRORS` (ImportError, SyntaxError in the script, Django's ImproperlyConfigured, a NameError
from a typo, ...) that the issue text does not name, death by a signal, or a timeout.

Outcomes of the reproduction check (a verdict's `outcome`): the script on the base commit either
reproduces the issue (then the patched run decides: **resolved** or **reproduces**), or **does not
reproduce** it, or gives **no evidence** (crashed for an unrelated reason). Only a script that
reproduces on the base is evidence, and only such a script may be lent to judge other candidates.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from sweagent.task import Task

ReproOutcome = Literal["reproduced", "resolved", "other"]
ReproductionOutcome = Literal["reproduces", "does_not_reproduce", "resolved", "no_evidence"]

MARKERS: dict[str, ReproOutcome] = {
    "Issue reproduced": "reproduced",
    "Issue resolved": "resolved",
    "Other issues": "other",
}
# Crashes that say the script could not test anything: its imports, its own syntax, the framework's set-up.
UNRELATED_ERRORS = (
    "ModuleNotFoundError",
    "ImportError",
    "SyntaxError",
    "IndentationError",
    "TabError",
    "NameError",
    "ImproperlyConfigured",
    "AppRegistryNotReady",
)
_MARKER_RE = re.compile("|".join(re.escape(m) for m in MARKERS))
_CODE_BLOCK = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)
# The exception line Python prints last for an uncaught exception: `pkg.mod.SomeError: message`.
_EXCEPTION_LINE = re.compile(
    r"^(?:[A-Za-z_][\w]*\.)*([A-Za-z_]\w*(?:Error|Exception|Configured|NotReady|Exit))\b(?::|$)"
)

GENERATE_PROMPT = """\
Write a standalone Python script that reproduces the issue below in this repository.

Rules:
- It is run from the repository root as `python reproduce_issue.py`; import the project's code directly.
  If the project needs set-up before use (e.g. Django's `settings.configure()` and `django.setup()`),
  do it in the script.
- Print exactly `Issue reproduced` if the behaviour described in the issue happens,
  `Issue resolved` if the code behaves as the issue asks, and `Other issues` for any other problem
  (wrap the check in try/except so unexpected exceptions print `Other issues`).
- Keep it short and fast (a few seconds), with no network access and no extra dependencies.
- Reply with the script in one ```python code block and nothing else.

<issue>
{problem_statement}
</issue>
"""


class SharedReproduction(BaseModel):
    """The script every candidate of a task is judged with, where it came from, and what was tried."""

    script: str | None = Field(None, description="a script that reproduces the issue on the base commit")
    source: str | None = Field(None, description="`candidate:<id>` or `generated:<n>`")
    tried: list[dict[str, Any]] = Field(default_factory=list)


def crash_of(output: str) -> str | None:
    """The name of the last exception Python reported in `output` (None if there is none)."""
    found = None
    for line in (output or "").splitlines():
        match = _EXCEPTION_LINE.match(line)
        if match:
            found = match.group(1)
    return found


def read_outcome(
    output: str,
    exit_code: int | None,
    timed_out: bool = False,
    issue: str = "",
    unrelated: tuple[str, ...] | list[str] = UNRELATED_ERRORS,
) -> tuple[ReproOutcome, str]:
    """Outcome of one run of a script and how it was read ('marker', 'exit code', or why it is 'other')."""
    found = _MARKER_RE.findall(output or "")
    if found:
        return MARKERS[found[-1]], "marker"
    if timed_out or exit_code is None:
        return "other", "timeout"
    if exit_code == 0:
        return "resolved", "exit code"
    if exit_code >= 128:
        return "other", f"killed by signal {exit_code - 128}"
    crash = crash_of(output)
    if crash and crash in unrelated and not re.search(rf"\b{re.escape(crash)}\b", issue or ""):
        return "other", f"unrelated {crash}"
    return "reproduced", "exit code"


def outcome_on_base(run: ReproOutcome) -> ReproductionOutcome:
    """What a base run says about the script: it reproduces (evidence), does not, or gives no evidence."""
    return {"reproduced": "reproduces", "resolved": "does_not_reproduce", "other": "no_evidence"}[run]


def extract_script(reply: str) -> str | None:
    """The Python code in a model reply: the longest fenced block, else the reply if it parses as Python."""
    blocks = [b.strip() for b in _CODE_BLOCK.findall(reply or "")]
    if blocks:
        return max(blocks, key=len) + "\n"
    text = (reply or "").strip()
    if not text:
        return None
    try:
        compile(text, "<reply>", "exec")
    except SyntaxError:
        return None
    return text + "\n"


def generate_reproduction(task: Task, model, attempts: int = 2) -> str | None:
    """Ask `model` (a `sweagent.model.Model`) for a reproduction script following the protocol.

    Sees only `task.public()`. Returns None when no reply held a script (or the model failed), so the
    reproduction check reports `no_tests` rather than crashing.
    """
    from sweagent.model.base import ModelError

    public = task.public()
    messages = [
        {"role": "user", "content": GENERATE_PROMPT.format(problem_statement=public.problem_statement)}
    ]
    for _ in range(max(1, attempts)):
        try:
            response = model.query(messages)
        except ModelError:
            return None
        script = extract_script(response.content)
        if script:
            return script
        messages = messages + [
            response.message,
            {"role": "user", "content": "Reply with the whole script in one ```python code block."},
        ]
    return None


def generate_reproductions(task: Task, model, count: int):
    """Up to `count` scripts from independent samples (Agentless-style: the caller runs each on the
    base commit and keeps one that reproduces). A generator, so sampling stops once one is kept."""
    for _ in range(count):
        script = generate_reproduction(task, model)
        if script is None:
            return
        yield script
