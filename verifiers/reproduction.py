"""The reproduction-script protocol, and writing a script for an issue with a model.

Protocol. A reproduction script is a standalone Python file run from the repository root (with the
root on PYTHONPATH). It prints exactly one of these lines:

- `Issue reproduced`: the behaviour the issue describes happens;
- `Issue resolved`: the behaviour is gone and the code does what the issue asks;
- `Other issues`: something else went wrong (the script could not test the behaviour).

When several appear, the last one printed counts. A script that prints none is read by its exit
code as a fallback: 0 → resolved, non-zero → reproduced (an uncaught `AssertionError` is the usual
way such scripts fail), and a timeout → other issues. A script counts as evidence only if it
reproduces on the base commit; otherwise its verdict is `not_reproducing`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sweagent.task import Task

ReproOutcome = Literal["reproduced", "resolved", "other"]

MARKERS: dict[str, ReproOutcome] = {
    "Issue reproduced": "reproduced",
    "Issue resolved": "resolved",
    "Other issues": "other",
}
_MARKER_RE = re.compile("|".join(re.escape(m) for m in MARKERS))
_CODE_BLOCK = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)

GENERATE_PROMPT = """\
Write a standalone Python script that reproduces the issue below in this repository.

Rules:
- It is run from the repository root as `python reproduce_issue.py`; import the project's code directly.
- Print exactly `Issue reproduced` if the behaviour described in the issue happens,
  `Issue resolved` if the code behaves as the issue asks, and `Other issues` for any other problem
  (wrap the check in try/except so unexpected exceptions print `Other issues`).
- Keep it short and fast (a few seconds), with no network access and no extra dependencies.
- Reply with the script in one ```python code block and nothing else.

<issue>
{problem_statement}
</issue>
"""


def read_outcome(output: str, exit_code: int | None, timed_out: bool = False) -> tuple[ReproOutcome, str]:
    """Outcome of one run of a script and how it was read ('marker' or 'exit code')."""
    found = _MARKER_RE.findall(output or "")
    if found:
        return MARKERS[found[-1]], "marker"
    if timed_out or exit_code is None:
        return "other", "timeout"
    return ("resolved" if exit_code == 0 else "reproduced"), "exit code"


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
