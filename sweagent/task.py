"""`Task`: one issue on one repository at one commit, in SWE-bench's vocabulary.

Fields marked hidden (the gold patch, the test patch, FAIL_TO_PASS, PASS_TO_PASS, the eval script)
are for grading only. Anything that picks or scores candidates must work on `task.public()`.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

HIDDEN_FIELDS = ("patch", "test_patch", "FAIL_TO_PASS", "PASS_TO_PASS", "eval_script")


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return [value]
    return [str(v) for v in value]


class Task(BaseModel):
    """A unit of work for the agent; `repo` is `owner/name`, a local path or a git URL."""

    model_config = ConfigDict(extra="ignore")

    instance_id: str
    repo: str = ""
    base_commit: str | None = None
    problem_statement: str
    image: str | None = None
    version: str | None = None
    hints_text: str = ""
    created_at: str | None = None
    environment_setup_commit: str | None = None
    log_parser: str | None = None
    eval_type: str | None = None
    # hidden: grading only
    patch: str = ""
    test_patch: str = ""
    FAIL_TO_PASS: list[str] = Field(default_factory=list)
    PASS_TO_PASS: list[str] = Field(default_factory=list)
    eval_script: str | None = None

    _list_fields = field_validator("FAIL_TO_PASS", "PASS_TO_PASS", mode="before")(
        classmethod(lambda cls, v: _as_list(v))
    )

    @classmethod
    def from_swebench(cls, row: dict[str, Any]) -> Task:
        """Read a SWE-bench dataset row (classic or newer layout; list fields as JSON strings or lists)."""
        data = dict(row)
        for key in ("version", "base_commit", "environment_setup_commit"):
            if data.get(key) is not None:
                data[key] = str(data[key])
        return cls.model_validate(data)

    def public(self) -> Task:
        """A copy with every hidden field emptied: the only view search, reward models and selection get."""
        return self.model_copy(
            update={
                "patch": "",
                "test_patch": "",
                "FAIL_TO_PASS": [],
                "PASS_TO_PASS": [],
                "eval_script": None,
            }
        )

    @property
    def has_hidden(self) -> bool:
        return any(getattr(self, f) for f in HIDDEN_FIELDS)
