"""Turning one trajectory's conversation into training-record shapes.

The conversation is the exact message list the model saw (`Trajectory.messages`) cut after the last
assistant turn, with the tools it was offered (`Trajectory.tools`). Three renderings:

- `openai`: chat messages with native `tool_calls`; `arguments` are JSON strings, as OpenAI's
  fine-tuning API wants them, or objects (`arguments="object"`), as Hugging Face chat templates
  want them. Every `content` is a string; a message carries `tool_calls` only when it calls tools
  and `tool_call_id`/`name` only when it is a tool result, never a null key (chat templates test
  `'tool_calls' in message`).
- `sharegpt`: `conversations` of `{from, value}` turns (system / human / gpt / observation); a tool call
  is written into the gpt turn as `<tool_call>{"name": ..., "arguments": {...}}</tool_call>` after the
  thought, and the tools go in a top-level JSON string, as LLaMA-Factory's sharegpt format takes them.
- `text`: one plain transcript with role markers, the tool schemas first.

The development stage of each assistant turn comes from the trajectory's steps (one step per reply).
"""

from __future__ import annotations

import json
from typing import Any

from sweagent.trajectory import Trajectory

FORMATS = ("openai", "sharegpt", "text")
ARGUMENT_FORMS = ("string", "object")
SHAREGPT_ROLES = {"system": "system", "user": "human", "assistant": "gpt", "tool": "observation"}


def _text(content: Any) -> str:
    """Message content as one string (lists of parts are joined)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return str(content)


def _arguments(raw: Any, form: str = "string") -> str | dict[str, Any]:
    """Tool-call arguments as a JSON string or as an object (a string that is not a JSON object is
    kept under `raw`, so the object form is always an object)."""
    if form == "string":
        return raw if isinstance(raw, str) else json.dumps(raw or {}, ensure_ascii=False)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            return {"raw": raw}
    return raw if isinstance(raw, dict) else {"raw": raw}


def clean_messages(traj: Trajectory, arguments: str = "string", cut: bool = True) -> list[dict[str, Any]]:
    """The conversation in plain OpenAI form, up to and including the last assistant turn (with
    `cut`; else up to the last message, e.g. the answer to a stage's `submit`)."""
    names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for msg in traj.messages:
        role = msg.get("role")
        item: dict[str, Any] = {"role": role, "content": _text(msg.get("content"))}
        if role == "assistant" and msg.get("tool_calls"):
            calls = []
            for call in msg["tool_calls"]:
                fn = call.get("function") or {}
                calls.append(
                    {
                        "id": str(call.get("id") or ""),
                        "type": "function",
                        "function": {
                            "name": str(fn.get("name") or ""),
                            "arguments": _arguments(fn.get("arguments"), arguments),
                        },
                    }
                )
                names[calls[-1]["id"]] = calls[-1]["function"]["name"]
            item["tool_calls"] = calls
        if role == "tool":
            item["tool_call_id"] = str(msg.get("tool_call_id") or "")
            item["name"] = names.get(item["tool_call_id"], "")
        out.append(item)
    if not cut:
        return out
    last = max((i for i, m in enumerate(out) if m["role"] == "assistant"), default=-1)
    return out[: last + 1]


def assistant_stages(traj: Trajectory) -> list[str]:
    """The stage label of each assistant turn, in order (one trajectory step per model reply)."""
    return [step.stage for step in traj.steps]


def joined_conversation(
    conversations: list[list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Several conversations (the stages of a search path, each but the last uncut) as one
    well-formed conversation: the first keeps its system prompt; each later one's system prompt and
    opening messages become one user turn, so there is a single system message, at the start, and
    every tool call is answered before the next user turn. Cut after the last assistant turn."""
    out: list[dict[str, Any]] = []
    for n, messages in enumerate(conversations):
        if n == 0:
            out.extend(messages)
            continue
        opening, rest = split_prompt(messages)
        text = "\n\n".join(m["content"] for m in opening if m["content"])
        out.append({"role": "user", "content": text})
        out.extend(rest)
    last = max((i for i, m in enumerate(out) if m["role"] == "assistant"), default=-1)
    return out[: last + 1]


def split_prompt(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(messages before the first assistant turn, the rest)."""
    first = next((i for i, m in enumerate(messages) if m["role"] == "assistant"), len(messages))
    return messages[:first], messages[first:]


def _call_text(call: dict[str, Any]) -> str:
    fn = call["function"]
    try:
        arguments = json.loads(fn["arguments"])
    except (json.JSONDecodeError, TypeError):
        arguments = fn["arguments"]
    return (
        "<tool_call>"
        + json.dumps({"name": fn["name"], "arguments": arguments}, ensure_ascii=False)
        + "</tool_call>"
    )


def turn_text(message: dict[str, Any]) -> str:
    """An assistant turn as text: the thought, then each tool call."""
    parts = [message["content"]] if message["content"] else []
    parts += [_call_text(c) for c in message.get("tool_calls") or []]
    return "\n".join(parts)


def sharegpt_turns(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Non-system turns as ShareGPT `{from, value}`."""
    turns = []
    for m in messages:
        if m["role"] == "system":
            continue
        value = turn_text(m) if m["role"] == "assistant" else m["content"]
        turns.append({"from": SHAREGPT_ROLES.get(m["role"], m["role"]), "value": value})
    return turns


def system_text(messages: list[dict[str, Any]]) -> str:
    return "\n\n".join(m["content"] for m in messages if m["role"] == "system")


def transcript(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> str:
    """A plain-text rendering with `<|role|>` markers (the tool schemas first, when given)."""
    blocks = []
    if tools:
        blocks.append("<|tools|>\n" + json.dumps(tools, ensure_ascii=False))
    for m in messages:
        body = turn_text(m) if m["role"] == "assistant" else m["content"]
        blocks.append(f"<|{m['role']}|>\n{body}")
    return "\n".join(blocks) + "\n"
