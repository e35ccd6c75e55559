"""The trajectory file: everything a rollout did, versioned, written atomically.

Format `swe-ttc/trajectory@1`: the exact messages sent to the model, one step per model reply (stage,
thought, action, observation, timings, tokens, cost), the final patch, the exit status and the config.
`environment["baseline"]` (optional, so older files and readers stay valid under the same version)
records what the repository held before the agent started, which the patch is relative to: the
start tree and HEAD, and the paths already `modified`, `mode_changed`, `added`, `deleted` (against
HEAD) or `untracked`, each list capped with its full length in `counts`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from sweagent.io import atomic_write_text

FORMAT = "swe-ttc/trajectory@1"
FINAL_STATUSES_PREFIXES = ("submitted", "format_error", "error")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Action(BaseModel):
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


class Step(BaseModel):
    index: int
    stage: str
    thought: str = ""
    action: Action | None = None
    observation: str = ""
    format_error: bool = False
    model_seconds: float = 0.0
    tool_seconds: float = 0.0
    framework_seconds: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0


class Trajectory(BaseModel):
    format: str = FORMAT
    instance_id: str
    model_name: str
    problem_statement: str = ""
    environment: dict[str, Any] = Field(default_factory=dict)
    tools: list[dict[str, Any]] = Field(default_factory=list)
    messages: list[dict[str, Any]] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    patch: str = ""
    exit_status: str | None = None
    exit_detail: str = ""
    stats: dict[str, Any] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    started_at: str = Field(default_factory=now_iso)
    finished_at: str | None = None

    @property
    def is_final(self) -> bool:
        return bool(self.exit_status) and self.exit_status.startswith(FINAL_STATUSES_PREFIXES)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        atomic_write_text(path, self.model_dump_json(indent=1))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Trajectory:
        data = json.loads(Path(path).read_text())
        if data.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} file (format={data.get('format')!r})")
        return cls.model_validate(data)


def trajectory_path(run_dir: str | Path, instance_id: str) -> Path:
    return Path(run_dir) / instance_id / f"{instance_id}.traj.json"
