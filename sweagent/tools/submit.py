"""`submit`: end the rollout; the patch is the sandbox's diff against the base commit."""

from __future__ import annotations

from typing import Any

from sweagent.sandbox.base import Sandbox
from sweagent.tools.base import Tool, ToolResult


class SubmitTool(Tool):
    name = "submit"
    description = (
        "Submit your work when the fix is done and verified. The patch is taken from the repository's "
        "changes (reproduction scripts you created are left out)."
    )
    parameters = {"type": "object", "properties": {}, "required": []}

    def run(self, sandbox: Sandbox, args: dict[str, Any]) -> ToolResult:
        return ToolResult("Submitted.", submitted=True)
