"""Turning a model reply into one tool call, for models with and without native function calling.

Models without native tool calls act by ending each reply with exactly one function call written as

    <function=editor>
    <parameter=command>str_replace</parameter>
    <parameter=path>/testbed/a.py</parameter>
    <parameter=old_str>x = 1</parameter>
    <parameter=new_str>x = 2</parameter>
    </function>

Values are written literally (no quoting or escaping). A value may span several lines; one newline right
after `<parameter=NAME>` and one right before `</parameter>` are not part of the value. Integer parameters
are written as digits, arrays and objects as JSON (e.g. `<parameter=view_range>[1, 20]</parameter>`).
A missing final `</function>` is tolerated (stop sequences often cut it). As a shortcut, a fenced
```bash block (the last one in the reply, when no <function=...> call is present) runs that command
through the `bash` tool.

Every problem raises `FormatError` whose message tells the model what was wrong and how to write it
instead; the agent loop sends that message back as the observation.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema

from sweagent.model.base import ToolCall

__all__ = [
    "FORMAT_GUIDE",
    "FormatError",
    "describe_tools_for_text",
    "parse_text_actions",
    "parse_tool_calls",
    "render_text_action",
    "tool_error_replies",
]

FORMAT_GUIDE = """\
End each reply with exactly one function call in this format:

<function=FUNCTION_NAME>
<parameter=PARAMETER_NAME>value</parameter>
<parameter=OTHER_PARAMETER>
a value may span
several lines
</parameter>
</function>

Write values literally, without quotes or escaping. Write integers as digits and arrays as JSON, e.g.
<parameter=view_range>[1, 20]</parameter>. Shortcut: a fenced ```bash block (the last one in the reply)
runs that command with the bash function. Only one function call per reply."""

_FUNCTION_OPEN = re.compile(r"<function\s*=\s*([^>\s]*)\s*>")
_FUNCTION = re.compile(r"<function\s*=\s*([^>\s]*)\s*>(.*?)(?:</function>|\Z)", re.S)
_PARAM_OPEN = re.compile(r"<parameter\s*=")
_PARAM = re.compile(r"<parameter\s*=\s*([^>\s]*)\s*>(.*?)</parameter>", re.S)
_BASH_FENCE = re.compile(r"```(?:bash|sh)[ \t]*\n(.*?)```", re.S)


class FormatError(Exception):
    """A reply that holds no usable action; `str(err)` is written for the model to read and fix."""


def _spec(tool: dict[str, Any]) -> dict[str, Any]:
    """The function part of an OpenAI tool schema (accepts the bare function dict too)."""
    return tool.get("function", tool)


def _tool_map(tools: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {_spec(t)["name"]: _spec(t) for t in tools}


def _params(spec: dict[str, Any]) -> dict[str, Any]:
    return spec.get("parameters") or {"type": "object", "properties": {}}


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind


def _coerce(tool: str, name: str, raw: str, schema: dict[str, Any]) -> Any:
    """Turn a literal text value into the type the schema asks for."""
    kind = _type_of(schema)
    if kind == "string":
        return raw
    text = raw.strip()
    where = f"parameter `{name}` of `{tool}`"
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise FormatError(
                f"{where} must be an integer, got {text!r}: write digits only, e.g. 10"
            ) from None
    if kind == "number":
        try:
            return float(text)
        except ValueError:
            raise FormatError(f"{where} must be a number, got {text!r}: write e.g. 1.5") from None
    if kind == "boolean":
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise FormatError(f"{where} must be true or false, got {text!r}")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if kind == "array":
        if value is None and re.fullmatch(r"-?\d+(\s*,\s*-?\d+)*", text):
            value = [int(v) for v in text.split(",")]
        if not isinstance(value, list):
            raise FormatError(f"{where} must be a JSON array, got {text!r}: write it like [1, 20]")
        return value
    if kind == "object":
        if not isinstance(value, dict):
            raise FormatError(
                f'{where} must be a JSON object, got {text!r}: write it like {{"key": "value"}}'
            )
        return value
    return raw


def _validate(spec: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """Check names, required parameters and the JSON schema; coerce string values where a type is declared."""
    name = spec["name"]
    params = _params(spec)
    props: dict[str, Any] = params.get("properties", {})
    unknown = [k for k in args if k not in props]
    if unknown:
        allowed = ", ".join(props) or "none"
        raise FormatError(
            f"function `{name}` has no parameter `{unknown[0]}`; its parameters are: {allowed}. "
            "Use only those names."
        )
    missing = [k for k in params.get("required", []) if k not in args]
    if missing:
        names = ", ".join(f"`{m}`" for m in missing)
        example = "".join(f"<parameter={m}>...</parameter>" for m in missing)
        raise FormatError(f"function `{name}` is missing required parameter {names}: add {example}")
    out = {
        k: _coerce(name, k, v, props[k]) if isinstance(v, str) and _type_of(props[k]) != "string" else v
        for k, v in args.items()
    }
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(params).iter_errors(out))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "arguments"
        raise FormatError(f"function `{name}`, parameter `{where}`: {error.message}. Fix it and try again.")
    return out


def _unknown_tool(name: str, tools: dict[str, dict[str, Any]]) -> FormatError:
    return FormatError(
        f"unknown function `{name}`; the available functions are: {', '.join(tools)}. Call one of them."
    )


def _strip_value(raw: str) -> str:
    """Drop the one newline that follows the opening tag and the one that precedes the closing tag."""
    if raw.startswith("\n"):
        raw = raw[1:]
    if raw.endswith("\n"):
        raw = raw[:-1]
    return raw


def parse_text_actions(content: str, tools: list[dict[str, Any]]) -> list[ToolCall]:
    """The one action written in `content` (function format or a fenced bash block), validated."""
    available = _tool_map(tools)
    opens = _FUNCTION_OPEN.findall(content or "")
    if len(opens) > 1:
        raise FormatError(
            f"your reply holds {len(opens)} function calls ({', '.join(opens)}); write exactly one per reply "
            "and wait for its output before the next."
        )
    if not opens:
        fences = _BASH_FENCE.findall(content or "")
        if fences and "bash" in available:
            command = fences[-1].rstrip("\n")
            if not command.strip():
                raise FormatError("your ```bash block is empty: put the command to run inside it.")
            return [ToolCall("bash", _validate(available["bash"], {"command": command}))]
        raise FormatError(
            "your reply has no function call. "
            + FORMAT_GUIDE
            + f"\nAvailable functions: {', '.join(available)}."
        )
    match = _FUNCTION.search(content)
    assert match is not None  # an opening tag exists, and the closing tag is optional
    name, body = match.group(1), match.group(2)
    if name not in available:
        raise _unknown_tool(name, available)
    params = _PARAM.findall(body)
    if len(_PARAM_OPEN.findall(body)) != len(params):
        raise FormatError(
            f"a <parameter=...> in your `{name}` call is not closed: end every value with </parameter>."
        )
    args: dict[str, Any] = {}
    for key, raw in params:
        if key in args:
            raise FormatError(f"parameter `{key}` appears twice in your `{name}` call: give it once.")
        args[key] = _strip_value(raw)
    return [ToolCall(name, _validate(available[name], args))]


def _field(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def parse_tool_calls(raw_tool_calls: list[Any] | None, tools: list[dict[str, Any]]) -> list[ToolCall]:
    """The one native tool call of a reply (OpenAI format dicts or litellm objects), validated."""
    available = _tool_map(tools)
    calls = list(raw_tool_calls or [])
    if not calls:
        raise FormatError(
            f"your reply calls no tool; call exactly one of: {', '.join(available)} (use the tools interface)."
        )
    if len(calls) > 1:
        names = ", ".join(str(_field(_field(c, "function"), "name")) for c in calls)
        raise FormatError(
            f"your reply calls {len(calls)} tools ({names}); call exactly one per reply and wait for its output."
        )
    call = calls[0]
    function = _field(call, "function")
    name = _field(function, "name") or ""
    if name not in available:
        raise _unknown_tool(name, available)
    raw_args = _field(function, "arguments")
    if isinstance(raw_args, dict):
        args = raw_args
    else:
        try:
            args = json.loads(raw_args) if raw_args and str(raw_args).strip() else {}
        except json.JSONDecodeError as exc:
            raise FormatError(
                f"the arguments of your `{name}` call are not valid JSON ({exc.msg} at character {exc.pos}): "
                "send one JSON object with string values escaped."
            ) from None
        if not isinstance(args, dict):
            raise FormatError(
                f"the arguments of your `{name}` call must be a JSON object, not {type(args).__name__}."
            )
    return [ToolCall(name, _validate(available[name], args), id=_field(call, "id") or "")]


def _render_value(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = json.dumps(value)
    return f"\n{text}\n" if "\n" in text else text


def render_text_action(call: ToolCall) -> str:
    """The function-format text that `parse_text_actions` reads back as `call`."""
    params = "".join(f"<parameter={k}>{_render_value(v)}</parameter>\n" for k, v in call.arguments.items())
    return f"<function={call.name}>\n{params}</function>"


def describe_tools_for_text(tools: list[dict[str, Any]]) -> str:
    """System-prompt text: the action format and every function with its parameters."""
    lines = [FORMAT_GUIDE, "", "Available functions:"]
    for spec in _tool_map(tools).values():
        lines += ["", f"### {spec['name']}", (spec.get("description") or "").strip()]
        params = _params(spec)
        props: dict[str, Any] = params.get("properties", {})
        required = set(params.get("required", []))
        if not props:
            lines.append("No parameters.")
            continue
        lines.append("Parameters:")
        for key, schema in props.items():
            kind = _type_of(schema)
            if kind == "array" and "items" in schema:
                kind = f"array of {_type_of(schema['items'])}"
            tags = [kind, "required" if key in required else "optional"]
            if "enum" in schema:
                tags.append("one of: " + ", ".join(map(str, schema["enum"])))
            desc = (schema.get("description") or "").strip()
            lines.append(f"- {key} ({'; '.join(tags)})" + (f": {desc}" if desc else ""))
    return "\n".join(lines).strip() + "\n"


def tool_error_replies(message: dict[str, Any], error: str) -> list[dict[str, Any]]:
    """Tool messages answering every native tool call of `message` with `error`.

    Providers reject a history in which an assistant tool call has no matching tool message, so after a
    FormatError on a reply with tool calls, append these instead of a plain user message.
    """
    return [
        {"role": "tool", "tool_call_id": _field(call, "id"), "content": error}
        for call in message.get("tool_calls") or []
    ]
