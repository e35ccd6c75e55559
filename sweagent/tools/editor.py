"""`editor`: view, create, str_replace, insert and undo edits on files in the sandbox.

Edits show a numbered snippet around the change so the model can check its work without
another `view`. `str_replace` demands exactly one match and says why when there is not one.
"""

from __future__ import annotations

import posixpath
import shlex
from typing import Any

from sweagent.sandbox.base import Sandbox
from sweagent.tools.base import Tool, ToolInputError, ToolResult, format_command_result

SNIPPET_CONTEXT = 4
MAX_VIEW_LINES = 400


def _numbered(lines: list[str], start: int) -> str:
    return "\n".join(f"{start + i:6d}\t{line}" for i, line in enumerate(lines))


class EditorTool(Tool):
    name = "editor"
    description = (
        "View and edit files. Commands: `view` (a file with line numbers, optionally `view_range` [start, end]; "
        "or a directory, two levels deep), `create` (a new file with `file_text`), `str_replace` (replace "
        "`old_str`, which must occur exactly once, with `new_str`), `insert` (`new_str` after line "
        "`insert_line`; 0 inserts at the top), `undo_edit` (revert the last edit of `path`)."
    )
    parameters = {
        "type": "object",
        "properties": {
            "command": {"type": "string", "enum": ["view", "create", "str_replace", "insert", "undo_edit"]},
            "path": {"type": "string", "description": "absolute path, or relative to the repository root"},
            "file_text": {"type": "string", "description": "content for `create`"},
            "old_str": {"type": "string", "description": "exact text to replace (`str_replace`)"},
            "new_str": {
                "type": "string",
                "description": "replacement (`str_replace`) or text to insert (`insert`)",
            },
            "insert_line": {"type": "integer", "description": "line after which to insert (`insert`)"},
            "view_range": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "[start, end] lines for `view`; end -1 means to the end",
            },
        },
        "required": ["command", "path"],
    }

    def __init__(self) -> None:
        self.history: dict[str, list[str | None]] = {}

    def run(self, sandbox: Sandbox, args: dict[str, Any]) -> ToolResult:
        command = args.get("command")
        raw_path = str(args.get("path") or "").strip()
        if not raw_path:
            raise ToolInputError("editor needs a `path`")
        path = raw_path if raw_path.startswith("/") else posixpath.join(sandbox.workdir, raw_path)
        path = posixpath.normpath(path)
        handler = {
            "view": self._view,
            "create": self._create,
            "str_replace": self._str_replace,
            "insert": self._insert,
            "undo_edit": self._undo,
        }.get(str(command))
        if handler is None:
            raise ToolInputError(
                f"unknown editor command `{command}`; use view, create, str_replace, insert or undo_edit"
            )
        return handler(sandbox, path, args)

    # reading -----------------------------------------------------------------------------------
    def _read(self, sandbox: Sandbox, path: str) -> str:
        try:
            return sandbox.read_file(path)
        except FileNotFoundError:
            raise ToolInputError(f"{path} does not exist") from None
        except IsADirectoryError:
            raise ToolInputError(f"{path} is a directory") from None

    def _is_dir(self, sandbox: Sandbox, path: str) -> bool:
        return sandbox.run(f"test -d {shlex.quote(path)}").exit_code == 0

    def _view(self, sandbox: Sandbox, path: str, args: dict[str, Any]) -> ToolResult:
        if self._is_dir(sandbox, path):
            listing = sandbox.run(
                f"cd {shlex.quote(path)} && find . -maxdepth 2 -not -path '*/.*' -not -name '__pycache__' | sort | head -n 300"
            )
            return ToolResult(f"Files in {path} (two levels deep):\n" + format_command_result(listing))
        lines = self._read(sandbox, path).split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        view_range = args.get("view_range")
        start, end = 1, len(lines)
        if view_range:
            if not isinstance(view_range, list) or len(view_range) != 2:
                raise ToolInputError("`view_range` must be [start, end]")
            start, end = int(view_range[0]), int(view_range[1])
            if end == -1:
                end = len(lines)
            if not 1 <= start <= max(len(lines), 1) or end < start:
                raise ToolInputError(f"`view_range` {view_range} is outside the file's {len(lines)} lines")
            end = min(end, len(lines))
        note = ""
        if end - start + 1 > MAX_VIEW_LINES:
            end = start + MAX_VIEW_LINES - 1
            note = f"\n[showing lines {start}-{end} of {len(lines)}; pass view_range to see more]"
        return ToolResult(f"{path}:\n" + _numbered(lines[start - 1 : end], start) + note)

    # writing -----------------------------------------------------------------------------------
    def _write(self, sandbox: Sandbox, path: str, new: str, old: str | None) -> None:
        sandbox.write_file(path, new)
        self.history.setdefault(path, []).append(old)

    def _snippet(self, text: str, first_line: int, last_line: int) -> str:
        lines = text.split("\n")
        lo = max(1, first_line - SNIPPET_CONTEXT)
        hi = min(len(lines), last_line + SNIPPET_CONTEXT)
        return _numbered(lines[lo - 1 : hi], lo)

    def _create(self, sandbox: Sandbox, path: str, args: dict[str, Any]) -> ToolResult:
        if "file_text" not in args or args["file_text"] is None:
            raise ToolInputError("`create` needs `file_text`")
        if sandbox.run(f"test -e {shlex.quote(path)}").exit_code == 0:
            raise ToolInputError(f"{path} already exists; use `str_replace` or `insert` to change it")
        text = str(args["file_text"])
        self._write(sandbox, path, text, None)
        return ToolResult(f"Created {path} ({len(text.splitlines())} lines).")

    def _str_replace(self, sandbox: Sandbox, path: str, args: dict[str, Any]) -> ToolResult:
        old_str = args.get("old_str")
        if not old_str:
            raise ToolInputError("`str_replace` needs a non-empty `old_str`")
        new_str = str(args.get("new_str") or "")
        text = self._read(sandbox, path)
        count = text.count(old_str)
        if count == 0:
            hint = ""
            if old_str.strip() and text.count(old_str.strip()) >= 1:
                hint = (
                    " (it does occur with different surrounding whitespace: copy the exact lines from `view`)"
                )
            raise ToolInputError(f"`old_str` was not found in {path}{hint}; nothing was changed")
        if count > 1:
            starts, pos = [], text.find(old_str)
            while pos != -1:
                starts.append(text.count("\n", 0, pos) + 1)
                pos = text.find(old_str, pos + 1)
            raise ToolInputError(
                f"`old_str` occurs {count} times in {path} (lines {', '.join(map(str, starts))}); "
                "include more surrounding lines so it is unique; nothing was changed"
            )
        at = text.find(old_str)
        new_text = text.replace(old_str, new_str, 1)
        self._write(sandbox, path, new_text, text)
        first = text.count("\n", 0, at) + 1
        last = first + new_str.count("\n")
        return ToolResult(f"Edited {path}:\n" + self._snippet(new_text, first, last))

    def _insert(self, sandbox: Sandbox, path: str, args: dict[str, Any]) -> ToolResult:
        if args.get("new_str") is None or args.get("insert_line") is None:
            raise ToolInputError("`insert` needs `insert_line` and `new_str`")
        text = self._read(sandbox, path)
        lines = text.split("\n")
        trailing_newline = text.endswith("\n")
        if trailing_newline:
            lines.pop()
        try:
            line_no = int(args["insert_line"])
        except (TypeError, ValueError):
            raise ToolInputError("`insert_line` must be an integer") from None
        if not 0 <= line_no <= len(lines):
            raise ToolInputError(f"`insert_line` {line_no} is outside 0..{len(lines)}")
        new_lines = str(args["new_str"]).split("\n")
        lines[line_no:line_no] = new_lines
        new_text = "\n".join(lines) + ("\n" if trailing_newline or not text else "")
        self._write(sandbox, path, new_text, text)
        return ToolResult(
            f"Inserted into {path}:\n" + self._snippet(new_text, line_no + 1, line_no + len(new_lines))
        )

    def _undo(self, sandbox: Sandbox, path: str, args: dict[str, Any]) -> ToolResult:
        stack = self.history.get(path)
        if not stack:
            raise ToolInputError(f"no edit of {path} to undo")
        previous = stack.pop()
        if previous is None:
            sandbox.run(f"rm -f {shlex.quote(path)}")
            return ToolResult(f"Undid the creation of {path} (file removed).")
        sandbox.write_file(path, previous)
        return ToolResult(f"Reverted the last edit of {path}.")
