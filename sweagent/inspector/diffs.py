"""A patch for the page: highlighted by Pygments' diff lexer, with per-file line counts from unidiff."""

from __future__ import annotations

from typing import Any

import unidiff
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer

CSS_CLASS = "diff"
_FORMATTER = HtmlFormatter(cssclass=CSS_CLASS, nowrap=False)


def diff_css() -> str:
    """The colours of highlighted diffs (Pygments' default style, scoped to `.diff`)."""
    return _FORMATTER.get_style_defs(f".{CSS_CLASS}")


def file_stats(patch: str) -> list[dict[str, Any]]:
    """[{path, added, removed}] per file; empty when the text does not parse as a unified diff."""
    try:
        parsed = unidiff.PatchSet(patch)
    except (unidiff.UnidiffParseError, ValueError, TypeError):
        return []
    return [{"path": f.path, "added": f.added, "removed": f.removed} for f in parsed]


def changed_lines(patch: str) -> int:
    """Added plus removed lines (headers not counted), as selection and the run table count them."""
    return sum(1 for line in patch.splitlines() if line[:1] in "+-" and not line.startswith(("+++ ", "--- ")))


def patch_view(patch: str) -> dict[str, Any] | None:
    """What the page shows of a patch: its HTML (escaped by Pygments), files and size; None when empty."""
    if not patch or not patch.strip():
        return None
    return {
        "html": highlight(patch, DiffLexer(), _FORMATTER),
        "files": file_stats(patch),
        "lines": changed_lines(patch),
    }
