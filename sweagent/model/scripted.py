"""Scripted models, registered as litellm custom providers so they run through litellm's real code path.

- `replay/<name>` replays actions registered with `register_replay(name, actions)`; `replay/<file.yaml>`
  (or `.json`) loads `{"actions": [...]}` from a file. An action is `{"thought": str, "tool": str,
  "args": dict}` or `{"raw": str}` (a reply sent verbatim, e.g. to provoke a format error).
- `oracle/<name>` applies a unified diff registered with `register_oracle(name, patch)` through the editor
  tool (a `str_replace` per hunk, `create` for new files, `bash rm` for deleted ones), then submits.

The step is the number of assistant messages in the request, so a provider holds no per-run state and
is safe under retries and forked histories. Past the end of a script the model calls `submit`. With
tools passed natively the reply is a tool call (the thought as content); without tools it is the thought
followed by the action in the text format of `sweagent.actions`. Usage is reported as characters // 4 of
prompt and reply, with no price. Replies are instant unless a `delay` is registered.

Tool contract emitted: `bash{command}`, `editor{command: view|create|str_replace|insert|undo_edit, path,
file_text, old_str, new_str, insert_line, view_range}`, `search{pattern, kind, path}`, `submit{}`.
`insert` puts `new_str` (lines, without a final newline) after line `insert_line` (0 = top of file).
"""

from __future__ import annotations

import json
import os
import posixpath
import shlex
import threading
import time
from pathlib import Path
from typing import Any

import unidiff
import yaml
from unidiff.constants import LINE_TYPE_NO_NEWLINE

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
import litellm  # noqa: E402
from litellm import CustomLLM  # noqa: E402
from litellm.llms.custom_llm import CustomLLMError  # noqa: E402
from litellm.types.utils import Message, Usage  # noqa: E402

from sweagent.actions import render_text_action  # noqa: E402
from sweagent.errors import UserError  # noqa: E402
from sweagent.executors.carry import carry  # noqa: E402
from sweagent.model.base import ToolCall  # noqa: E402

REPLAY = "replay"
ORACLE = "oracle"
PREFIXES = (f"{REPLAY}/", f"{ORACLE}/")
SCRIPT_SUFFIXES = (".yaml", ".yml", ".json")
SUBMIT: dict[str, Any] = {"thought": "The work is done; submitting.", "tool": "submit", "args": {}}

_lock = threading.Lock()
_scripts: dict[tuple[str, str], tuple[list[dict[str, Any]], float]] = {}
_files: dict[str, tuple[float, list[dict[str, Any]]]] = {}


def is_scripted(model_name: str) -> bool:
    """True for model names served by the providers in this module."""
    return model_name.startswith(PREFIXES)


def _check_actions(actions: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(actions, list):
        raise UserError(f"{where}: actions must be a list of {{thought, tool, args}} or {{raw}} entries")
    for i, action in enumerate(actions):
        ok = isinstance(action, dict) and (
            isinstance(action.get("raw"), str)
            or (isinstance(action.get("tool"), str) and isinstance(action.get("args", {}), dict))
        )
        if not ok:
            raise UserError(
                f"{where}: action {i} must be {{thought, tool, args}} or {{raw: text}}, got {action!r}"
            )
    return actions


def register_replay(name: str, actions: list[dict[str, Any]], delay: float = 0.0) -> str:
    """Make `replay/<name>` replay `actions`; `delay` seconds per reply simulates latency. Returns the model name."""
    with _lock:
        _scripts[(REPLAY, name)] = (_check_actions(actions, f"replay script {name!r}"), delay)
    return f"{REPLAY}/{name}"


def register_oracle(name: str, patch_text: str, root: str = "/testbed", delay: float = 0.0) -> str:
    """Make `oracle/<name>` apply `patch_text` under `root` and submit. Returns the model name."""
    actions = oracle_actions(patch_text, root)
    with _lock:
        _scripts[(ORACLE, name)] = (actions, delay)
    return f"{ORACLE}/{name}"


def _export_scripts() -> dict[tuple[str, str], tuple[list[dict[str, Any]], float]]:
    with _lock:
        return dict(_scripts)


def _restore_scripts(scripts: dict[tuple[str, str], tuple[list[dict[str, Any]], float]]) -> None:
    with _lock:
        _scripts.update(scripts)


carry(_export_scripts, _restore_scripts)  # registered scripts reach jobs running in other processes


def load_script(path: str | Path) -> list[dict[str, Any]]:
    """Actions of a YAML/JSON script file (`{"actions": [...]}` or a bare list), cached until it changes."""
    p = Path(path)
    try:
        mtime = p.stat().st_mtime
    except OSError:
        raise UserError(f"replay script {p} not found: pass an existing .yaml or .json file") from None
    key = str(p.resolve())
    with _lock:
        cached = _files.get(key)
    if cached and cached[0] == mtime:
        return cached[1]
    try:
        data = json.loads(p.read_text()) if p.suffix == ".json" else yaml.safe_load(p.read_text())
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise UserError(
            f"replay script {p} cannot be parsed ({type(exc).__name__}): fix its syntax"
        ) from None
    actions = _check_actions(data.get("actions") if isinstance(data, dict) else data, f"replay script {p}")
    with _lock:
        _files[key] = (mtime, actions)
    return actions


def _strip_prefix(path: str) -> str:
    return path[2:] if path.startswith(("a/", "b/")) else path


def _hunk_texts(hunk: unidiff.Hunk) -> tuple[str, str]:
    """(old, new) text of a hunk; a line followed by `\\ No newline at end of file` loses its newline."""
    old: list[str] = []
    new: list[str] = []
    lines = list(hunk)
    for i, line in enumerate(lines):
        if line.line_type == LINE_TYPE_NO_NEWLINE:
            continue
        value = line.value
        if i + 1 < len(lines) and lines[i + 1].line_type == LINE_TYPE_NO_NEWLINE:
            value = value[:-1] if value.endswith("\n") else value
        if not line.is_added:
            old.append(value)
        if not line.is_removed:
            new.append(value)
    return "".join(old), "".join(new)


def _edit(thought: str, **args: Any) -> dict[str, Any]:
    return {"thought": thought, "tool": "editor", "args": args}


def oracle_actions(patch_text: str, root: str = "/testbed") -> list[dict[str, Any]]:
    """The editor/bash actions that turn the original tree into the patched one, ending with submit."""
    try:
        patch = unidiff.PatchSet(patch_text)
    except unidiff.UnidiffParseError as exc:
        raise UserError(f"oracle patch is not a unified diff ({exc}): pass `git diff` output") from None
    actions: list[dict[str, Any]] = []
    for pf in patch:
        rel = _strip_prefix(pf.target_file if not pf.is_removed_file else pf.source_file)
        path = posixpath.join(root, rel)
        if pf.is_binary_file:
            raise UserError(f"oracle patch changes binary file {rel}: the editor cannot write it")
        if pf.is_removed_file:
            actions.append(
                {
                    "thought": f"Delete {rel}.",
                    "tool": "bash",
                    "args": {"command": f"rm -f -- {shlex.quote(path)}"},
                }
            )
            continue
        if pf.is_added_file:
            text = "".join(_hunk_texts(h)[1] for h in pf)
            actions.append(_edit(f"Create {rel}.", command="create", path=path, file_text=text))
            continue
        if pf.is_rename:
            src = posixpath.join(root, _strip_prefix(pf.source_file))
            move = f"mkdir -p {shlex.quote(posixpath.dirname(path))} && mv -- {shlex.quote(src)} {shlex.quote(path)}"
            actions.append({"thought": f"Rename to {rel}.", "tool": "bash", "args": {"command": move}})
        for i, hunk in enumerate(pf, 1):
            old, new = _hunk_texts(hunk)
            thought = f"Edit {rel} (hunk {i} of {len(pf)})."
            if old:
                actions.append(_edit(thought, command="str_replace", path=path, old_str=old, new_str=new))
            else:
                lines = new[:-1] if new.endswith("\n") else new
                actions.append(
                    _edit(
                        thought, command="insert", path=path, insert_line=hunk.target_start - 1, new_str=lines
                    )
                )
    actions.append(
        {"thought": "All changes of the patch are in place; submitting.", "tool": "submit", "args": {}}
    )
    return actions


def action_reply(action: dict[str, Any], step: int, native: bool) -> tuple[str | None, list[dict] | None]:
    """What a scripted action `{"thought", "tool", "args"}` becomes: a native tool call (thought as
    content), or the text action format for models without tool calling."""
    thought = action.get("thought") or ""
    if native:
        arguments = json.dumps(action.get("args", {}))
        call = {
            "id": f"call_{step}",
            "type": "function",
            "function": {"name": action["tool"], "arguments": arguments},
        }
        return thought or None, [call]
    rendered = render_text_action(ToolCall(action["tool"], action.get("args", {})))
    return (f"{thought}\n\n{rendered}" if thought else rendered), None


def fill_response(
    response: Any,
    model: str,
    messages: list[Any],
    tools: Any,
    content: str | None,
    tool_calls: list[dict] | None,
) -> Any:
    """Put a scripted reply into litellm's response object, with token usage estimated from text
    length (about four characters a token) so cost and token accounting run as for a real model."""
    response.choices[0].message = Message(content=content, role="assistant", tool_calls=tool_calls)
    response.choices[0].finish_reason = "tool_calls" if tool_calls else "stop"
    prompt = (_text_len(messages) + len(json.dumps(tools or ""))) // 4
    completion = (len(content or "") + len(json.dumps(tool_calls or ""))) // 4
    response.usage = Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )
    response.model = model
    return response


def _text_len(messages: list[Any]) -> int:
    total = 0
    for msg in messages:
        content = msg.get("content") if isinstance(msg, dict) else getattr(msg, "content", None)
        total += len(content) if isinstance(content, str) else len(json.dumps(content or "", default=str))
    return total


def _role(msg: Any) -> str | None:
    return msg.get("role") if isinstance(msg, dict) else getattr(msg, "role", None)


class ScriptedLLM(CustomLLM):
    """litellm handler for one scripted provider (`replay` or `oracle`)."""

    def __init__(self, provider: str) -> None:
        super().__init__()
        self.provider = provider

    def _script(self, name: str) -> tuple[list[dict[str, Any]], float]:
        if self.provider == REPLAY and name.endswith(SCRIPT_SUFFIXES):
            return load_script(name), 0.0
        with _lock:
            found = _scripts.get((self.provider, name))
        if found is None:
            register = "register_replay" if self.provider == REPLAY else "register_oracle"
            raise CustomLLMError(404, f"no {self.provider} script named {name!r}: call {register}() first")
        return found

    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
        model_response = kwargs["model_response"]
        optional_params = kwargs.get("optional_params") or {}
        try:
            actions, delay = self._script(model)
        except UserError as exc:
            raise CustomLLMError(404, str(exc)) from None
        step = sum(1 for m in messages if _role(m) == "assistant")
        action = actions[step] if step < len(actions) else SUBMIT
        tools = optional_params.get("tools")
        if "raw" in action:
            content, tool_calls = action["raw"], None
        else:
            content, tool_calls = action_reply(action, step, native=bool(tools))
        if delay:
            time.sleep(delay)
        return fill_response(model_response, f"{self.provider}/{model}", messages, tools, content, tool_calls)

    async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
        return self.completion(model, messages, *args, **kwargs)


_HANDLERS = {REPLAY: ScriptedLLM(REPLAY), ORACLE: ScriptedLLM(ORACLE)}


def register_scripted_providers() -> None:
    """Add the `replay` and `oracle` providers to `litellm.custom_provider_map` (idempotent)."""
    with _lock:
        present = {entry.get("provider") for entry in litellm.custom_provider_map}
        for provider, handler in _HANDLERS.items():
            if provider not in present:
                litellm.custom_provider_map.append({"provider": provider, "custom_handler": handler})
