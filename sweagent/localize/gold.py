"""What a gold patch touches, for scoring localisation: source files, and the functions around its hunks.

Used only by the benchmark's scoring. Functions are the innermost function/method (or class, for a
change in a class body) around each changed line of the base version; a pure insertion counts for the
function around the line it follows, and a new definition for what encloses it (a class gaining a
method; at module level, no function).

A hunk's line numbers are those of the commit the patch was written against. When the indexed file is
another version of it (a release rebuilt from an sdist, where the patch still applies, at an offset, the
way `git apply` places it), each hunk is placed where its context and removed lines are in the indexed
text, nearest to its stated line, before its lines are mapped to functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from sweagent.localize.files import SOURCE, classify
from sweagent.localize.index import RepoIndex


@dataclass
class GoldTargets:
    files: set[str] = field(default_factory=set)
    functions: set[tuple[str, str]] = field(default_factory=set)
    new_files: set[str] = field(default_factory=set)  # added by the patch: not findable at the base
    outside_functions: bool = False  # some change was at module level


def hunk_offset(hunk, base_lines: list[str] | None) -> int:
    """Lines to add to `hunk`'s stated numbers so its old side matches `base_lines` (0 when it already
    does, when there is no text to look in, or when it matches nowhere)."""
    if not base_lines:
        return 0
    old = [line.value.rstrip("\r\n") for line in hunk if line.is_context or line.is_removed]
    if not old:
        return 0
    stated = hunk.source_start - 1
    size, last = len(old), len(base_lines) - len(old)

    def matches(at: int) -> bool:
        return 0 <= at <= last and base_lines[at : at + size] == old

    for distance in range(max(stated, last - stated, 0) + 1):
        for at in (stated - distance, stated + distance):
            if matches(at):
                return at - stated
    return 0


_DEFINITION = ("def ", "async def ", "class ", "@")


def changed_base_spans(patch_file, base_text: str | None = None) -> list[tuple[int, int]]:
    """Base-version line spans a file's hunks change, placed in `base_text` when given (see the module
    docstring): a changed line is its own span; inserted lines map to the line before them, except a
    new definition (`def`, `class`, a decorator), which lies between that line and the next: it changes
    what encloses both (a class gaining a method), not the function that happens to end above it."""
    base_lines = base_text.split("\n") if base_text is not None else None
    spans: list[tuple[int, int]] = []
    for hunk in patch_file:
        shift = hunk_offset(hunk, base_lines)
        last_source = hunk.source_start - 1
        for added, run in groupby(hunk, key=lambda line: line.is_added):
            run = list(run)
            if added:
                first_text = next((t for t in (line.value.strip() for line in run) if t), "")
                before = max(last_source + shift, 1)
                span = (before, before + 1) if first_text.startswith(_DEFINITION) else (before, before)
                spans.extend([span] * len(run))
                continue
            for line in run:
                if line.is_removed:
                    spans.append((line.source_line_no + shift,) * 2)
                if line.source_line_no is not None:
                    last_source = line.source_line_no
    return spans


def gold_targets(patch: str, index: RepoIndex) -> GoldTargets:
    """Source files and functions a unified diff changes, resolved against the base-commit index."""
    out = GoldTargets()
    try:
        patch_set = PatchSet(patch)
    except UnidiffParseError:
        return out
    for pf in patch_set:
        path = (pf.source_file if not pf.is_added_file else pf.target_file) or ""
        path = path[2:] if path.startswith(("a/", "b/")) else path
        if classify(path) != SOURCE:
            continue
        if pf.is_added_file:
            out.new_files.add(path)
            continue
        fid = index.file_of(path)
        if fid is None:
            out.new_files.add(path)
            continue
        out.files.add(path)
        symbols = index.symbols_of(fid)
        for first, last in changed_base_spans(pf, index.source_texts.get(fid)):
            around = [s for s in symbols if s.start <= first and last <= s.end]
            if around:
                inner = max(around, key=lambda s: (s.start, -s.end))
                out.functions.add((path, inner.qualname))
            else:
                out.outside_functions = True
    return out
