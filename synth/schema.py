"""Validating exported records against the documented JSON Schemas in `synth/schemas/`.

`sft.schema.json` and `rm_pairs.schema.json` define each format under `$defs/<format>`. Beyond what
JSON Schema can say, a record is also checked for what trainers rely on: every tool call's
`arguments` is (or decodes to) a JSON object, a system message only opens a conversation, every tool
result answers a call, a conversation ends with an assistant turn, and there is one stage label per
assistant turn.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from sweagent.errors import UserError

KINDS = ("sft", "rm_pairs")
FORMATS = ("openai", "sharegpt", "text")


class RecordError(ValueError):
    """A record does not match its schema; the message names the field."""


@cache
def load_schema(kind: str) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"unknown record kind {kind!r}: use one of {', '.join(KINDS)}")
    return json.loads(resources.files("synth").joinpath(f"schemas/{kind}.schema.json").read_text())


@cache
def _validator(kind: str, fmt: str) -> Draft202012Validator:
    schema = load_schema(kind)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    return Draft202012Validator({"$ref": f"#/$defs/{fmt}", "$defs": schema["$defs"]})


def _calls(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for m in messages for c in m.get("tool_calls") or []]


def _assistant_turns(turns: list[dict[str, Any]], fmt: str) -> int:
    key, value = ("role", "assistant") if fmt == "openai" else ("from", "gpt")
    return sum(1 for t in turns if t.get(key) == value)


def _check_conversation(turns: list[dict[str, Any]], stages: list[str], fmt: str, where: str) -> None:
    if fmt == "openai":
        for call in _calls(turns):
            args = call["function"]["arguments"]
            if isinstance(args, str):
                try:
                    args = json.loads(args)
                except json.JSONDecodeError:
                    raise RecordError(
                        f"{where}: tool call {call['id']!r} has arguments that are not JSON"
                    ) from None
            if not isinstance(args, dict):
                raise RecordError(
                    f"{where}: tool call {call['id']!r} has arguments that are not a JSON object"
                )
        systems = [i for i, t in enumerate(turns) if t.get("role") == "system"]
        if systems and systems != [0]:
            raise RecordError(f"{where}: a system message may only open the conversation")
        answered = {c["id"] for c in _calls(turns)}
        for turn in turns:
            if turn.get("role") == "tool" and turn.get("tool_call_id") not in answered:
                raise RecordError(
                    f"{where}: a tool result answers no tool call ({turn.get('tool_call_id')!r})"
                )
    last = turns[-1] if turns else {}
    if last.get("role", last.get("from")) not in ("assistant", "gpt"):
        raise RecordError(f"{where}: the conversation must end with an assistant turn")
    if len(stages) != _assistant_turns(turns, fmt):
        raise RecordError(
            f"{where}: {len(stages)} stage labels for {_assistant_turns(turns, fmt)} assistant turns"
        )


def validate_record(record: dict[str, Any], kind: str, fmt: str) -> dict[str, Any]:
    """Return `record` if it matches the `kind` schema in `fmt`; raise RecordError otherwise."""
    errors = sorted(_validator(kind, fmt).iter_errors(record), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "<record>"
        raise RecordError(f"{where}: {first.message[:200]}")
    meta = record["metadata"]
    if kind == "sft":
        turns = record.get("messages") or record.get("conversations")
        if turns is not None:
            _check_conversation(
                turns, meta["stages"], fmt, "messages" if fmt == "openai" else "conversations"
            )
    elif fmt != "text":
        _check_conversation(record["chosen"], meta["chosen_stages"], fmt, "chosen")
        _check_conversation(record["rejected"], meta["rejected_stages"], fmt, "rejected")
    return record


def validate_file(path: str | Path, kind: str, fmt: str) -> int:
    """Validate every line of a JSONL export; returns the record count, or one UserError line naming the first bad line."""
    p = Path(path)
    try:
        lines = p.read_text().splitlines()
    except OSError as exc:
        raise UserError(f"cannot read {p}: {exc.strerror or exc}") from None
    count = 0
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            validate_record(json.loads(line), kind, fmt)
        except json.JSONDecodeError:
            raise UserError(f"{p} line {n} is not JSON: re-export it with `swe-ttc synth export`") from None
        except RecordError as exc:
            raise UserError(f"{p} line {n} does not match the {kind} {fmt} schema ({exc})") from None
        count += 1
    return count
