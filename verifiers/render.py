"""Text that reward models read: the issue, a patch, execution evidence, a trajectory prefix.

Everything here is built from `task.public()` and the candidate, so nothing hidden can reach a prompt.
Long parts are capped (head and tail kept) so a prompt stays within a model's context.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from sweagent.stages import PROCESS_STAGES
from verifiers.types import Verdict, cap_output

if TYPE_CHECKING:
    from sweagent.task import Task

Stage = Literal["reproduce", "localize", "patch"]
STAGES: tuple[str, ...] = PROCESS_STAGES  # one vocabulary: sweagent.stages

STAGE_QUESTIONS: dict[str, str] = {
    "reproduce": "Does the agent's reproduction faithfully show the behaviour the issue describes?",
    "localize": "Has the agent found the code that is responsible for the issue?",
    "patch": "Does the agent's change resolve the issue without breaking other behaviour?",
}


def check_stage(stage: str) -> Stage:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}: use one of {', '.join(STAGES)}")
    return stage  # type: ignore[return-value]


def issue_text(task: Task, limit: int = 12_000) -> str:
    return cap_output(task.public().problem_statement.strip(), limit)


def patch_text(patch: str, limit: int = 16_000) -> str:
    return cap_output(patch.strip() or "(empty patch)", limit)


def evidence_text(verdicts: Sequence[Verdict] | None, limit: int = 1_500) -> str:
    """One paragraph per execution check: its status, explanation and the last command's output."""
    if not verdicts:
        return "(no execution evidence)"
    parts = []
    for v in verdicts:
        head = f"- {v.check}: {v.status} — {v.explanation}"
        runs = [e for e in v.evidence if e.label in ("base", "patched")]
        for e in runs:
            head += f"\n  [{e.label}] exit code {e.exit_code}{' (timed out)' if e.timed_out else ''}:\n"
            head += "  " + cap_output(e.output.strip(), limit).replace("\n", "\n  ")
        parts.append(head)
    return "\n".join(parts)


def _message_text(msg: dict[str, Any]) -> str:
    content = msg.get("content")
    if isinstance(content, list):
        content = "\n".join(str(c.get("text", "")) if isinstance(c, dict) else str(c) for c in content)
    text = str(content or "")
    calls = msg.get("tool_calls") or []
    for call in calls:
        fn = call.get("function", call) if isinstance(call, dict) else {}
        text += f"\n[action] {fn.get('name', '?')} {json.dumps(fn.get('arguments', ''))[:2000]}"
    return text


def trajectory_text(prefix: Any, limit: int = 20_000) -> str:
    """Render a trajectory prefix: a list of chat messages, or an object with `.messages` (a Trajectory).

    The first (system) message is left out: it is the agent's instructions, not its work.
    """
    messages = getattr(prefix, "messages", prefix)
    if not isinstance(messages, Sequence) or isinstance(messages, str):
        raise ValueError("a trajectory prefix is a list of chat messages or an object with .messages")
    lines = []
    for msg in messages:
        if not isinstance(msg, dict) or msg.get("role") == "system":
            continue
        lines.append(f"<{msg.get('role', '?')}>\n{_message_text(msg).strip()}\n</{msg.get('role', '?')}>")
    return cap_output("\n".join(lines) or "(no steps yet)", limit)
