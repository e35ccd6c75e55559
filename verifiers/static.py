"""Static process reward: how a step changed pyflakes diagnostics in the files it touched.

Works on file contents (before/after strings), so it needs no sandbox and costs milliseconds.

Reward. Diagnostics are compared as multisets of (kind, message arguments), which ignores line
numbers, so moving code around changes nothing. Each diagnostic has a weight:

    syntax error                                   10
    undefined name / local / export                 5
    anything else (unused import, redefinition…)     1

    delta  = Σ weight(new diagnostics) − Σ weight(diagnostics that went away)
    reward = 0.5 − 0.5 · tanh(delta / 4)

So an unchanged file scores 0.5, fixing things scores above, one new unused import ≈ 0.38, one new
undefined name ≈ 0.08, a new syntax error ≈ 0.007. Files that are not Python are ignored; a new
file counts against an empty "before", a deleted one against an empty "after".
"""

from __future__ import annotations

import ast
import math
from collections import Counter
from dataclasses import dataclass

from pyflakes import checker, messages

from verifiers.types import Score

SYNTAX_WEIGHT = 10.0
UNDEFINED_WEIGHT = 5.0
OTHER_WEIGHT = 1.0
SCALE = 4.0
_UNDEFINED = (messages.UndefinedName, messages.UndefinedLocal, messages.UndefinedExport)


@dataclass(frozen=True)
class Diagnostic:
    kind: str
    args: tuple[str, ...]
    line: int
    text: str

    @property
    def weight(self) -> float:
        if self.kind == "SyntaxError":
            return SYNTAX_WEIGHT
        if self.kind in {m.__name__ for m in _UNDEFINED}:
            return UNDEFINED_WEIGHT
        return OTHER_WEIGHT

    @property
    def identity(self) -> tuple[str, tuple[str, ...]]:
        return (self.kind, self.args)


def diagnostics(source: str, filename: str = "<file>") -> list[Diagnostic]:
    """pyflakes messages for `source`; a file that does not parse yields one SyntaxError diagnostic."""
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", 0) or 0
        msg = getattr(exc, "msg", str(exc))
        return [Diagnostic("SyntaxError", (str(msg),), line, f"{filename}:{line}: {msg}")]
    found = checker.Checker(tree, filename=filename)
    out = []
    for m in found.messages:
        args = tuple(str(a) for a in m.message_args)
        out.append(
            Diagnostic(
                type(m).__name__, args, m.lineno, f"{filename}:{m.lineno}: {m.message % m.message_args}"
            )
        )
    return out


def reward_from_delta(delta: float) -> float:
    """Map a weighted diagnostic delta to [0, 1]; 0 → 0.5, fewer diagnostics → higher."""
    return 0.5 - 0.5 * math.tanh(delta / SCALE)


def static_score(before: dict[str, str | None], after: dict[str, str | None]) -> Score:
    """Score a step from the touched files' contents before and after it (None or missing = no file)."""
    new: list[Diagnostic] = []
    gone: list[Diagnostic] = []
    for path in sorted(set(before) | set(after)):
        if not path.endswith(".py"):
            continue
        old_diags = diagnostics(before.get(path) or "", path) if before.get(path) is not None else []
        new_diags = diagnostics(after.get(path) or "", path) if after.get(path) is not None else []
        old_count = Counter(d.identity for d in old_diags)
        new_count = Counter(d.identity for d in new_diags)
        added = new_count - old_count
        removed = old_count - new_count
        for d in new_diags:
            if added[d.identity] > 0:
                added[d.identity] -= 1
                new.append(d)
        for d in old_diags:
            if removed[d.identity] > 0:
                removed[d.identity] -= 1
                gone.append(d)
    delta = sum(d.weight for d in new) - sum(d.weight for d in gone)
    value = reward_from_delta(delta)
    if not new and not gone:
        explanation = "no change in pyflakes diagnostics"
    else:
        explanation = f"{len(new)} new and {len(gone)} fixed diagnostic(s) (weighted delta {delta:+g})"
        if new:
            explanation += "; new: " + "; ".join(d.text for d in new[:5])
    return Score(
        value=round(value, 6),
        explanation=explanation,
        source="static",
        details={"delta": delta, "new": [d.text for d in new], "fixed": [d.text for d in gone]},
    )
