"""`bash`: run a command in the sandbox's persistent shell."""

from __future__ import annotations

from typing import Any

from sweagent.sandbox.base import Sandbox
from sweagent.tools.base import Tool, ToolInputError, ToolResult, format_command_result

INTERACTIVE = ("vim", "vi", "nano", "emacs", "less", "more", "top", "htop")


class BashTool(Tool):
    name = "bash"
    description = (
        "Run a bash command in the repository's sandbox. The shell persists between calls (working "
        "directory and exported variables are kept). Interactive programs are not supported; long output "
        "is shortened, so filter it (grep, head, tail)."
    )
    parameters = {
        "type": "object",
        "properties": {"command": {"type": "string", "description": "the command to run"}},
        "required": ["command"],
    }

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = timeout

    def run(self, sandbox: Sandbox, args: dict[str, Any]) -> ToolResult:
        command = str(args.get("command", "")).strip()
        if not command:
            raise ToolInputError("bash needs a non-empty `command`")
        if command.split()[0] in INTERACTIVE:
            raise ToolInputError(
                f"`{command.split()[0]}` is interactive and cannot run here; use the editor tool or cat/sed"
            )
        result = sandbox.run(command, timeout=self.timeout)
        return ToolResult(format_command_result(result), error=not result.ok)
