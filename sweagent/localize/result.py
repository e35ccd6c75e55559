"""What `localize` returns: ranked files (source, tests, other), ranked functions, and why.

`as_prompt_text` is the compact form that goes into the agent's first message; `to_dict` is the JSON
form `swe-ttc localize --json` prints.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SignalHit(BaseModel):
    """One signal's contribution to an entry: its name, the entry's rank in it, and why.

    `weight` is the signal's confidence in the entry (0-1], `contribution` what it added to the fused
    score; `via` is the path a graph vote travelled, from the symbol the issue names to this entry.
    """

    signal: str
    rank: int
    detail: str
    weight: float | None = None
    contribution: float | None = None
    via: list[str] = Field(default_factory=list)


class SymbolHit(BaseModel):
    path: str
    qualname: str
    kind: str
    start: int
    end: int
    score: float
    signals: list[SignalHit] = Field(default_factory=list)

    @property
    def span(self) -> str:
        return f"{self.start}-{self.end}"


class FileHit(BaseModel):
    path: str
    kind: str  # source | test | other
    score: float
    prior: float = 1.0  # the structural prior the fused score was scaled by (priors.py)
    category: str | None = None  # why the prior is below 1: docs, examples, scripts ...
    symbols: list[SymbolHit] = Field(default_factory=list)
    signals: list[SignalHit] = Field(default_factory=list)


class LocalizeResult(BaseModel):
    """Rankings best first; `files` are source files (the likely places for a change)."""

    files: list[FileHit] = Field(default_factory=list)
    tests: list[FileHit] = Field(default_factory=list)
    other: list[FileHit] = Field(default_factory=list)
    functions: list[SymbolHit] = Field(default_factory=list)
    stats: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def as_prompt_text(self, top: int = 5) -> str:
        """A few lines per file: path, score, top functions with line spans, and the signals."""
        if not self.files and not self.tests:
            return "Localization found no likely files."
        lines = ["Files most likely to need a change (best first):"]
        for i, hit in enumerate(self.files[:top], 1):
            signals = ", ".join(sorted({s.signal for s in hit.signals}))
            lines.append(f"{i}. {hit.path} (score {hit.score:.3f}; {signals})")
            for sym in hit.symbols:
                lines.append(f"   - {sym.qualname} [{sym.kind}, lines {sym.span}]")
        tests = [t.path for t in self.tests[: max(1, top // 2)]]
        if tests:
            lines.append("Related tests: " + ", ".join(tests))
        return "\n".join(lines)
