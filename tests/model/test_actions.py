"""Text action format and native tool-call parsing."""

from __future__ import annotations

import json

import pytest

from sweagent.actions import (
    FORMAT_GUIDE,
    FormatError,
    describe_tools_for_text,
    parse_text_actions,
    parse_tool_calls,
    render_text_action,
    tool_error_replies,
)
from sweagent.model.base import ToolCall

EDIT = """I will fix the constant.

<function=editor>
<parameter=command>str_replace</parameter>
<parameter=path>/testbed/a.py</parameter>
<parameter=old_str>
def f():
    x = 1
</parameter>
<parameter=new_str>
def f():
    x = 2
</parameter>
</function>
"""


def test_function_call_with_multiline_values(tools):
    [call] = parse_text_actions(EDIT, tools)
    assert call.name == "editor"
    assert call.arguments == {
        "command": "str_replace",
        "path": "/testbed/a.py",
        "old_str": "def f():\n    x = 1",
        "new_str": "def f():\n    x = 2",
    }


def test_integer_and_array_values_are_parsed(tools):
    text = (
        "<function=editor>\n<parameter=command>view</parameter>\n<parameter=path>/testbed/a.py</parameter>\n"
        "<parameter=view_range>[1, 20]</parameter>\n</function>"
    )
    assert parse_text_actions(text, tools)[0].arguments["view_range"] == [1, 20]
    text = text.replace("view_range>[1, 20]", "view_range>3, 9")
    assert parse_text_actions(text, tools)[0].arguments["view_range"] == [3, 9]
    insert = "<function=editor><parameter=command>insert</parameter><parameter=path>/p</parameter><parameter=insert_line> 5 </parameter><parameter=new_str>y</parameter></function>"
    assert parse_text_actions(insert, tools)[0].arguments["insert_line"] == 5


def test_missing_closing_function_tag_is_tolerated(tools):
    [call] = parse_text_actions("Listing.\n<function=bash>\n<parameter=command>ls</parameter>\n", tools)
    assert call == ToolCall("bash", {"command": "ls"})


def test_missing_required_parameter_names_it(tools):
    text = "<function=editor>\n<parameter=command>view</parameter>\n</function>"
    with pytest.raises(FormatError) as err:
        parse_text_actions(text, tools)
    assert "missing required parameter `path`" in str(err.value)
    assert "<parameter=path>" in str(err.value)


def test_unknown_tool_lists_available(tools):
    with pytest.raises(FormatError) as err:
        parse_text_actions("<function=python>\n<parameter=code>1</parameter>\n</function>", tools)
    msg = str(err.value)
    assert "unknown function `python`" in msg
    for name in ("bash", "editor", "search", "submit"):
        assert name in msg


def test_two_actions_ask_for_one(tools):
    text = (
        "<function=bash>\n<parameter=command>ls</parameter>\n</function>\n"
        "<function=bash>\n<parameter=command>pwd</parameter>\n</function>"
    )
    with pytest.raises(FormatError, match="exactly one"):
        parse_text_actions(text, tools)


def test_fenced_bash_block_is_the_bash_tool(tools):
    text = "First I try:\n```bash\necho old\n```\nNo, better:\n```bash\ncd /testbed && pytest -x\n```\n"
    assert parse_text_actions(text, tools) == [ToolCall("bash", {"command": "cd /testbed && pytest -x"})]


def test_fenced_bash_needs_a_bash_tool(tools):
    without_bash = [t for t in tools if t["function"]["name"] != "bash"]
    with pytest.raises(FormatError, match="no function call"):
        parse_text_actions("```bash\nls\n```", without_bash)


def test_function_call_wins_over_fences_in_the_thought(tools):
    text = "Example:\n```bash\nrm -rf /\n```\n<function=bash>\n<parameter=command>ls</parameter>\n</function>"
    assert parse_text_actions(text, tools) == [ToolCall("bash", {"command": "ls"})]


def test_no_action_explains_the_format(tools):
    with pytest.raises(FormatError) as err:
        parse_text_actions("I think the bug is in a.py.", tools)
    assert FORMAT_GUIDE in str(err.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("<function=bash>\n<parameter=command>ls\n</function>", "not closed"),
        (
            "<function=bash><parameter=command>ls</parameter><parameter=command>pwd</parameter></function>",
            "twice",
        ),
        ("<function=bash><parameter=cmd>ls</parameter></function>", "no parameter `cmd`"),
        (
            "<function=editor><parameter=command>delete</parameter><parameter=path>/a</parameter></function>",
            "is not one of",
        ),
        (
            "<function=editor><parameter=command>insert</parameter><parameter=path>/a</parameter><parameter=insert_line>top</parameter></function>",
            "must be an integer",
        ),
        (
            "<function=editor><parameter=command>view</parameter><parameter=path>/a</parameter><parameter=view_range>first lines</parameter></function>",
            "JSON array",
        ),
        ("```bash\n\n```", "empty"),
    ],
)
def test_bad_text_actions(tools, text, needle):
    with pytest.raises(FormatError, match=needle):
        parse_text_actions(text, tools)


@pytest.mark.parametrize(
    "args",
    [
        {"command": "create", "path": "/t/a.py", "file_text": "line 1\nline 2\n"},
        {"command": "str_replace", "path": "/t/a.py", "old_str": "\n\nx\n", "new_str": ""},
        {"command": "str_replace", "path": "/t/a.py", "old_str": "\n", "new_str": "  indented"},
        {"command": "view", "path": "/t/a.py", "view_range": [10, -1]},
        {"command": "insert", "path": "/t/a.py", "insert_line": 0, "new_str": "import os"},
    ],
)
def test_render_then_parse_is_identity(tools, args):
    call = ToolCall("editor", args)
    assert parse_text_actions("Thought.\n\n" + render_text_action(call), tools) == [call]


def test_native_call_parsed_and_coerced(tools):
    raw = [
        {
            "id": "call_7",
            "type": "function",
            "function": {
                "name": "editor",
                "arguments": json.dumps({"command": "view", "path": "/a", "view_range": "[1, 5]"}),
            },
        }
    ]
    assert parse_tool_calls(raw, tools) == [
        ToolCall("editor", {"command": "view", "path": "/a", "view_range": [1, 5]}, "call_7")
    ]


def test_native_call_without_arguments(tools):
    raw = [{"id": "c", "type": "function", "function": {"name": "submit", "arguments": ""}}]
    assert parse_tool_calls(raw, tools) == [ToolCall("submit", {}, "c")]


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ([{"id": "a", "function": {"name": "bash", "arguments": '{"command": "ls'}}], "not valid JSON"),
        ([{"id": "a", "function": {"name": "bash", "arguments": "[1]"}}], "must be a JSON object"),
        ([{"id": "a", "function": {"name": "shell", "arguments": "{}"}}], "unknown function `shell`"),
        (
            [{"id": "a", "function": {"name": "bash", "arguments": "{}"}}],
            "missing required parameter `command`",
        ),
        (
            [
                {"id": "a", "function": {"name": "bash", "arguments": '{"command": "ls"}'}},
                {"id": "b", "function": {"name": "bash", "arguments": '{"command": "pwd"}'}},
            ],
            "exactly one",
        ),
        ([], "calls no tool"),
    ],
)
def test_bad_native_calls(tools, raw, needle):
    with pytest.raises(FormatError, match=needle):
        parse_tool_calls(raw, tools)


def test_description_lists_tools_and_parameters(tools):
    text = describe_tools_for_text(tools)
    assert "<function=FUNCTION_NAME>" in text
    for spec in (t["function"] for t in tools):
        assert f"### {spec['name']}" in text
        for param in spec["parameters"]["properties"]:
            assert f"- {param} (" in text
    assert "- path (string; required)" in text
    assert "- view_range (array of integer; optional)" in text
    assert "one of: view, create, str_replace, insert, undo_edit" in text


def test_tool_error_replies_answer_every_call():
    message = {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"id": "x1", "function": {"name": "a"}}, {"id": "x2", "function": {"name": "b"}}],
    }
    replies = tool_error_replies(message, "call one tool")
    assert [(r["role"], r["tool_call_id"], r["content"]) for r in replies] == [
        ("tool", "x1", "call one tool"),
        ("tool", "x2", "call one tool"),
    ]
