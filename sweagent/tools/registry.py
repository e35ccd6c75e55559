"""The default tool set, looked up by name."""

from __future__ import annotations

from sweagent.tools.base import Tool
from sweagent.tools.bash import BashTool
from sweagent.tools.editor import EditorTool
from sweagent.tools.search import SearchTool
from sweagent.tools.submit import SubmitTool


def default_tools(command_timeout: float | None = None) -> list[Tool]:
    """Fresh instances (the editor keeps per-rollout undo history)."""
    return [BashTool(command_timeout), EditorTool(), SearchTool(), SubmitTool()]
