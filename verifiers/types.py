"""The records verifiers exchange: a `Candidate` to judge, `Verdict`s from running it, `Score`s from models.

All are pydantic models, so `model_dump(mode="json")` gives JSON that `model_validate` reads back;
search nodes and synthesis exports store them verbatim.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

OUTPUT_CAP = 4_000

VerdictStatus = Literal[
    "passed",  # the check ran and the candidate is fine
    "failed",  # the check ran and the candidate is not fine
    "empty_patch",
    "malformed_patch",
    "does_not_apply",
    "does_not_compile",
    "not_reproducing",  # the reproduction does not show the issue on the base commit: no evidence either way
    "no_evidence",  # the reproduction crashed on the base commit for a reason unrelated to the issue
    "other_issues",  # the reproduction crashed or printed "Other issues" on the patched code
    "regressions",  # tests that passed on the base fail (or vanish) on the patched code
    "timed_out",
    "no_tests",  # nothing to run (no related tests, no reproduction script)
    "error",  # the check itself could not run (sandbox trouble); not held against the candidate
]


def cap_output(text: str, limit: int = OUTPUT_CAP) -> str:
    """Keep the head and tail of long output, saying how much was cut (evidence stays readable in JSON)."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - 2 * half} characters cut] ...\n{text[-half:]}"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Candidate(_Record):
    """A patch to judge, with what the rollout that produced it left behind."""

    id: str
    patch: str
    trajectory_path: str | None = None
    messages: list[dict[str, Any]] = Field(default_factory=list)
    reproduction_path: str | None = Field(None, description="where the rollout kept its reproduction script")
    reproduction_script: str | None = Field(None, description="the script's content, run as-is by verifiers")
    metadata: dict[str, Any] = Field(default_factory=dict)

    def trajectory_messages(self) -> list[dict[str, Any]]:
        """`messages`, or those of the trajectory file when only its path is known (empty if unreadable)."""
        if self.messages or not self.trajectory_path:
            return self.messages
        try:
            data = json.loads(Path(self.trajectory_path).read_text())
        except (OSError, ValueError):
            return []
        messages = data.get("messages") if isinstance(data, dict) else None
        return messages if isinstance(messages, list) else []


class Evidence(_Record):
    """One command a check ran and what came of it (output capped, head and tail kept)."""

    command: str
    exit_code: int | None = None
    output: str = ""
    timed_out: bool = False
    duration: float = 0.0
    cached: bool = False
    label: str = Field("", description="which run this was, e.g. 'base' or 'patched'")


class Verdict(_Record):
    """What one execution check concluded. `passed` is None when the check gives no evidence either way."""

    check: str
    passed: bool | None
    status: VerdictStatus
    score: float | None = Field(None, description="1.0 passed, 0.0 failed, None no evidence")
    explanation: str = ""
    evidence: list[Evidence] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def make(
        cls, check: str, passed: bool | None, status: VerdictStatus, explanation: str, **kw: Any
    ) -> Verdict:
        score = None if passed is None else float(passed)
        return cls(check=check, passed=passed, status=status, score=score, explanation=explanation, **kw)

    @property
    def outcome(self) -> str | None:
        """A reproduction verdict's outcome: `reproduces`, `does_not_reproduce`, `resolved` or `no_evidence`."""
        return self.details.get("outcome") if self.check == "reproduction" else None

    @property
    def reproduces_on_base(self) -> bool:
        """The reproduction script showed the issue on the base commit: it is evidence, fit to lend."""
        return self.check == "reproduction" and self.details.get("base_outcome") == "reproduced"


class Score(_Record):
    """A reward model's judgement; `value` in [0, 1], or None when the model gave no usable answer."""

    value: float | None = Field(None, ge=0.0, le=1.0)
    explanation: str = ""
    source: str = ""
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.value is None

    @classmethod
    def failure(cls, source: str, explanation: str, **details: Any) -> Score:
        return cls(value=None, explanation=explanation, source=source, details=details)


class Judged(_Record):
    """A candidate with everything verifiers said about it: the input of selection."""

    candidate: Candidate
    verdicts: list[Verdict] = Field(default_factory=list)
    scores: dict[str, Score] = Field(default_factory=dict)

    def verdict(self, check: str) -> Verdict | None:
        return next((v for v in self.verdicts if v.check == check), None)
