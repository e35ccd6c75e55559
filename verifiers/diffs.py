"""Reading candidate patches with `unidiff`: which files they touch, and a normalised form for clustering.

Two patches are "the same fix" when they change the same lines of the same files, whatever their
context lines, hunk offsets or whitespace; `normalised_patch` keeps exactly that.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

_WS = re.compile(r"\s+")


class PatchParseError(ValueError):
    """The text is not a unified diff."""


def _strip_prefix(path: str) -> str:
    return path[2:] if path.startswith(("a/", "b/")) else path


@dataclass(frozen=True)
class TouchedFile:
    path: str  # path after the patch (before it, for a deleted file)
    added: bool
    removed: bool


def parse_patch(patch: str) -> PatchSet:
    """Parse a unified diff; an empty or unreadable one raises PatchParseError."""
    if not patch.strip():
        raise PatchParseError("the patch is empty")
    try:
        parsed = PatchSet(patch)
    except UnidiffParseError as exc:
        raise PatchParseError(f"the patch is not a unified diff ({exc})") from None
    if len(parsed) == 0:
        raise PatchParseError("the patch holds no file changes")
    return parsed


def touched_files(patch: str) -> list[TouchedFile]:
    """Files the patch changes, in order."""
    out = []
    for pf in parse_patch(patch):
        path = _strip_prefix(pf.source_file if pf.is_removed_file else pf.target_file)
        out.append(TouchedFile(path=path, added=pf.is_added_file, removed=pf.is_removed_file))
    return out


def python_files_after(patch: str) -> list[str]:
    """Python files that exist after the patch: the ones to compile."""
    return [f.path for f in touched_files(patch) if f.path.endswith(".py") and not f.removed]


def _cancel_whitespace_only(lines: list[str]) -> list[str]:
    """Drop removed/added pairs that are equal once whitespace is gone (a reformatted, unchanged line)."""
    removed = Counter(line[1:] for line in lines if line[0] == "-")
    added = Counter(line[1:] for line in lines if line[0] == "+")
    same = removed & added
    out = []
    seen: Counter[tuple[str, str]] = Counter()
    for line in lines:
        sign, body = line[0], line[1:]
        if seen[(sign, body)] < same[body]:
            seen[(sign, body)] += 1
            continue
        out.append(line)
    return out


def normalised_patch(patch: str) -> str:
    """The changed lines per file, whitespace removed, context and offsets dropped; stable across formatting.

    A line removed and added back with only whitespace changed is not a change and is dropped.

    A patch that does not parse normalises to its stripped text, so it still clusters with exact copies.
    """
    try:
        parsed = parse_patch(patch)
    except PatchParseError:
        return patch.strip()
    blocks = []
    for pf in sorted(parsed, key=lambda f: _strip_prefix(f.path)):
        lines = []
        for hunk in pf:
            for line in hunk:
                if line.is_added or line.is_removed:
                    body = _WS.sub("", line.value)
                    if body:
                        lines.append(("+" if line.is_added else "-") + body)
        lines = _cancel_whitespace_only(lines)
        if lines or pf.is_added_file or pf.is_removed_file:
            kind = "new " if pf.is_added_file else "deleted " if pf.is_removed_file else ""
            blocks.append(f"{kind}{_strip_prefix(pf.path)}\n" + "\n".join(lines))
    return "\n".join(blocks)


def patch_key(patch: str) -> str:
    """A short id of the normalised patch: equal keys mean equivalent patches."""
    return hashlib.sha256(normalised_patch(patch).encode("utf-8", "surrogateescape")).hexdigest()[:16]
