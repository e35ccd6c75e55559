"""The tool interface: a name, a JSON schema the model sees, and `run` against a sandbox."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from sweagent.sandbox.base import CommandResult, Sandbox


@dataclass
class ToolResult:
    """An observation for the model; `submitted` ends the rollout."""

    observation: str
    submitted: bool = False
    error: bool = False


class ToolInputError(Exception):
    """The model called a tool with arguments that cannot work; the message is shown to the model."""


class Tool(ABC):
    name: str
    description: str
    parameters: dict[str, Any]

    @property
    def schema(self) -> dict[str, Any]:
        """OpenAI-style function schema (litellm translates it for other providers)."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }

    @abstractmethod
    def run(self, sandbox: Sandbox, args: dict[str, Any]) -> ToolResult:
        """Act in the sandbox and describe what happened."""


def format_command_result(result: CommandResult) -> str:
    """Concise observation: output, then exit code and notes only when they say something."""
    text = result.output.rstrip("\n")
    tail: list[str] = []
    if result.timed_out:
        tail.append("the command timed out and was stopped")
    elif result.exit_code not in (0, None):
        tail.append(f"exit code {result.exit_code}")
    tail.extend(result.notes)
    if tail:
        text += ("\n" if text else "") + "\n".join(f"[{t}]" for t in tail)
    return text if text else "[no output]"
