"""Settings of the synthesis pipeline: what counts as a minable commit, and which trajectories are kept.

`FilterConfig` is saved in every synth run (`synth.json`), so an export applies the same bounds the
run applied unless it is given new ones. Zero means "no bound" for every `max_*` field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sweagent.errors import UserError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class MineConfig(_Strict):
    """Which commits become tasks and how their tests are run."""

    max_files: int = Field(6, ge=1, description="most files a commit may touch (source and tests together)")
    max_source_files: int = Field(3, ge=1, description="most non-test files the gold patch may touch")
    merges: bool = Field(False, description="mine merge commits (a PR each, diffed against the first parent)")
    test_timeout: float = Field(300.0, gt=0, description="seconds for one run of a task's tests")
    source_suffixes: list[str] = Field(
        default_factory=lambda: [".py"], description="file endings that count as source code"
    )
    issue_from: Literal["tests", "commit"] = Field(
        "tests",
        description="problem statement from the failing tests' output, or the commit message (which "
        "often describes the fix)",
    )


class FilterConfig(_Strict):
    """Bounds of the complexity filter, and dedup / balance settings."""

    min_steps: int = Field(3, ge=0, description="fewest agent steps")
    max_steps: int = Field(60, ge=0, description="most agent steps")
    max_tokens: int = Field(
        32_000, ge=0, description="longest conversation: the last call's prompt plus its reply, in tokens"
    )
    max_patch_lines: int = Field(200, ge=0, description="most changed lines (added + removed) in the patch")
    max_patch_files: int = Field(5, ge=0, description="most files the patch touches")
    min_test_runs: int = Field(0, ge=0, description="fewest steps that run a test suite")
    max_test_runs: int = Field(0, ge=0, description="most steps that run a test suite")
    max_format_errors: int = Field(0, ge=0, description="most malformed replies")
    max_repeats: int = Field(
        2, ge=1, description="the same action this many times in a row is fine; one more is a loop"
    )
    require_reproduction: bool = Field(True, description="code or tests run before the first source edit")
    require_verification: bool = Field(True, description="code or tests run after the last source edit")
    reject_test_edits: bool = Field(True, description="reject trajectories that write to test files")
    drop_always_solved: bool = Field(
        True,
        description="with 2+ samples per task, keep no SFT record of a task every sample resolves "
        "(it teaches little; its samples still make reward-model pairs)",
    )
    max_per_task: int = Field(4, ge=0, description="accepted trajectories kept per task (0: no cap)")
    max_pairs_per_task: int = Field(4, ge=0, description="reward-model pairs per task (0: no cap)")


def load_filter_config(
    path: str | Path | None, overrides: dict | None = None, base: dict | None = None
) -> FilterConfig:
    """`base` settings, then a YAML file (a mapping of FilterConfig fields), then overrides; one UserError line on trouble."""
    data: dict = dict(base or {})
    if path is not None:
        p = Path(path)
        try:
            loaded = yaml.safe_load(p.read_text()) or {}
        except OSError as exc:
            raise UserError(f"cannot read filter config {p}: {exc.strerror or exc}") from None
        except yaml.YAMLError:
            raise UserError(f"filter config {p} is not valid YAML: fix the syntax") from None
        if not isinstance(loaded, dict):
            raise UserError(f"filter config {p} must hold a mapping such as `max_steps: 40`")
        data.update(loaded.get("filters", loaded))
    data.update(overrides or {})
    try:
        return FilterConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        what = (
            "unknown filter setting"
            if first["type"] == "extra_forbidden"
            else f"filter setting: {first['msg']}"
        )
        raise UserError(f"{what} `{where}`" + (f" (in {path})" if path else "")) from None
