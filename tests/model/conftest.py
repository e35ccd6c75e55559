"""Fixtures for the model layer: the tool contract the agent exposes, and a loopback OpenAI server."""

from __future__ import annotations

import pytest

from tests.helpers.openai_server import OpenAIServer


def _tool(name: str, description: str, properties: dict, required: list[str]) -> dict:
    params = {"type": "object", "properties": properties, "required": required}
    return {"type": "function", "function": {"name": name, "description": description, "parameters": params}}


TOOLS: list[dict] = [
    _tool(
        "bash",
        "Run a shell command in the repository.",
        {"command": {"type": "string", "description": "the command"}},
        ["command"],
    ),
    _tool(
        "editor",
        "View, create and edit files.",
        {
            "command": {"type": "string", "enum": ["view", "create", "str_replace", "insert", "undo_edit"]},
            "path": {"type": "string", "description": "absolute path"},
            "file_text": {"type": "string"},
            "old_str": {"type": "string"},
            "new_str": {"type": "string"},
            "insert_line": {"type": "integer"},
            "view_range": {"type": "array", "items": {"type": "integer"}},
        },
        ["command", "path"],
    ),
    _tool(
        "search",
        "Search the repository.",
        {
            "pattern": {"type": "string"},
            "kind": {"type": "string", "enum": ["text", "files"]},
            "path": {"type": "string"},
        },
        ["pattern"],
    ),
    _tool("submit", "Finish and submit the current changes.", {}, []),
]


@pytest.fixture
def tools() -> list[dict]:
    return [dict(t) for t in TOOLS]


@pytest.fixture
def server():
    with OpenAIServer() as srv:
        yield srv
