"""Model-facing types shared by the litellm model, the scripted providers and the agent loop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ToolCall:
    """One action the model asked for."""

    name: str
    arguments: dict[str, Any]
    id: str = ""


@dataclass
class ModelResponse:
    """One reply. `message` is the assistant message to append to the history verbatim."""

    content: str
    tool_calls: list[ToolCall]
    message: dict[str, Any]
    cost: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    duration: float = 0.0
    finish_reason: str | None = None
    # per generated token: {"token", "logprob", "top_logprobs": [{"token", "logprob"}]} when requested
    logprobs: list[dict[str, Any]] | None = None


@dataclass
class ModelStats:
    """Running totals for one task."""

    calls: int = 0
    cost: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    unpriced_calls: int = 0
    retries: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class LimitExceeded(Exception):
    """A step, cost, token or wall-time limit stops the run; `kind` names which."""

    def __init__(self, kind: str, detail: str = "") -> None:
        self.kind = kind
        super().__init__(f"{kind} limit reached" + (f": {detail}" if detail else ""))


class ModelError(Exception):
    """A model call failed for good (after retries, or not retryable); `kind` is a short label."""

    def __init__(self, kind: str, detail: str = "") -> None:
        self.kind = kind
        super().__init__(f"{kind}: {detail}" if detail else kind)
