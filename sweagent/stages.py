"""Development-process stages and how a step is labelled with one.

The agent works through understand → reproduce → localize → patch → verify → submit. Each step
is labelled so trajectories can be read (and searched, and filtered) by stage. A model may state its
stage explicitly (a line `STAGE: localize` in its thought); otherwise the label follows from the action:

- `submit` → submit;
- writing or running a reproduction script (a name matching the agent's reproduction globs, or any
  script run before the first source edit) → reproduce;
- an edit to a source file → patch (from then on, running code or tests → verify);
- reading or searching before the first edit → localize (listing directories at the start → understand).
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

REPRODUCE, LOCALIZE, PATCH = "reproduce", "localize", "patch"
PROCESS_STAGES: tuple[str, ...] = (REPRODUCE, LOCALIZE, PATCH)
"""The decision points of the development process: the stages a search expands and reward models judge."""
STAGES: tuple[str, ...] = ("understand", *PROCESS_STAGES, "verify", "submit")
"""Every label a step can carry (the process stages plus reading, checking and submitting)."""
_ALIASES = {"localise": "localize", "fix": "patch", "test": "verify", "explore": "understand"}
_EXPLICIT = re.compile(r"^\s*\[?stage\s*[:=]\s*([a-z]+)", re.IGNORECASE | re.MULTILINE)
_RUNS_CODE = re.compile(r"\b(python3?|pytest|tox|nox|make\s+test|\./\S+\.py)\b")
_LISTS = re.compile(r"^\s*(ls|tree|find\s+\.\s*(-maxdepth|$))")


def normalise_stage(name: str) -> str | None:
    name = name.strip().lower()
    name = _ALIASES.get(name, name)
    return name if name in STAGES else None


def is_test_path(path: str) -> bool:
    base = posixpath.basename(path)
    parts = path.split("/")
    return base.startswith("test_") or base.endswith("_test.py") or "tests" in parts or "testing" in parts


@dataclass
class StageTracker:
    """Labels steps in order; remembers whether the source has been edited yet."""

    reproduction_globs: list[str] = field(default_factory=list)
    edited_source: bool = False
    current: str = "understand"

    def _is_reproduction(self, path: str) -> bool:
        return any(fnmatch.fnmatch(posixpath.basename(path), g) for g in self.reproduction_globs)

    def label(self, thought: str, tool: str | None, args: dict[str, Any] | None) -> str:
        args = args or {}
        explicit = _EXPLICIT.search(thought or "")
        stage = normalise_stage(explicit.group(1)) if explicit else None
        if stage is None:
            stage = self._infer(tool, args)
        if stage == "patch":
            self.edited_source = True
        self.current = stage
        return stage

    def _infer(self, tool: str | None, args: dict[str, Any]) -> str:
        if tool is None:
            return self.current
        if tool == "submit":
            return "submit"
        if tool == "editor":
            path = str(args.get("path", ""))
            command = args.get("command")
            if command in ("create", "str_replace", "insert", "undo_edit"):
                if self._is_reproduction(path):
                    return "verify" if self.edited_source else "reproduce"
                if is_test_path(path):
                    return "verify" if self.edited_source else "reproduce"
                return "patch"
            return (
                "verify"
                if self.edited_source and self.current == "verify"
                else ("patch" if self.edited_source else "localize")
            )
        if tool == "search":
            return "patch" if self.edited_source and self.current == "patch" else "localize"
        if tool == "bash":
            command = str(args.get("command", ""))
            if _RUNS_CODE.search(command):
                return "verify" if self.edited_source else "reproduce"
            if _LISTS.match(command) and self.current == "understand":
                return "understand"
            return self.current if self.edited_source else "localize"
        return self.current
