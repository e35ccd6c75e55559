"""`search`: find files by name or text by pattern, with line numbers and capped results."""

from __future__ import annotations

import shlex
from typing import Any

from sweagent.sandbox.base import Sandbox
from sweagent.tools.base import Tool, ToolInputError, ToolResult

MAX_RESULTS = 100


class SearchTool(Tool):
    name = "search"
    description = (
        "Search the repository. kind=text: lines matching a pattern (grep -E syntax), with file and line "
        f"number; kind=files: files whose name contains the pattern (shell glob). At most {MAX_RESULTS} results."
    )
    parameters = {
        "type": "object",
        "properties": {
            "pattern": {"type": "string", "description": "text regex (kind=text) or name glob (kind=files)"},
            "kind": {"type": "string", "enum": ["text", "files"], "description": "default: text"},
            "path": {"type": "string", "description": "directory or file to search; default: the repository"},
        },
        "required": ["pattern"],
    }

    def run(self, sandbox: Sandbox, args: dict[str, Any]) -> ToolResult:
        pattern = str(args.get("pattern", ""))
        if not pattern:
            raise ToolInputError("search needs a non-empty `pattern`")
        kind = args.get("kind") or "text"
        if kind not in ("text", "files"):
            raise ToolInputError("search `kind` must be `text` or `files`")
        path = str(args.get("path") or sandbox.workdir)
        where = shlex.quote(path)
        if kind == "text":
            cmd = (
                f"grep -rnIE --exclude-dir=.git --exclude-dir=node_modules --exclude-dir=__pycache__ "
                f"-e {shlex.quote(pattern)} {where} 2>/dev/null"
            )
        else:
            glob = pattern if any(c in pattern for c in "*?[") else f"*{pattern}*"
            cmd = f"find {where} -path '*/.git' -prune -o -name {shlex.quote(glob)} -print 2>/dev/null | sort"
        result = sandbox.run(
            f'__f=$(mktemp); {cmd} > "$__f"; echo "__count__ $(wc -l < "$__f")"; '
            f'head -n {MAX_RESULTS} "$__f"; rm -f "$__f"'
        )
        lines = result.output.rstrip("\n").split("\n") if result.output.strip() else []
        total = 0
        if lines and lines[0].startswith("__count__"):
            total = int(lines.pop(0).split()[1] or 0)
        lines = [line for line in lines if line][:MAX_RESULTS]
        if not lines:
            return ToolResult(f"No {'matches' if kind == 'text' else 'files'} for `{pattern}` in {path}.")
        prefix = sandbox.workdir.rstrip("/") + "/"
        shown = [line[len(prefix) :] if line.startswith(prefix) else line for line in lines]
        head = f"{total} {'matches' if kind == 'text' else 'files'} for `{pattern}` in {path}"
        if total > len(shown):
            head += f" (showing the first {len(shown)}; narrow the pattern or path)"
        return ToolResult(head + ":\n" + "\n".join(shown))
