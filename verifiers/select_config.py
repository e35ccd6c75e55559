"""`SelectConfig`: everything `swe-ttc select` needs; saved as `config.yaml` so a run can be replayed.

Sections: `inputs` (dataset, candidate files, which instances), `sandbox` (the instance containers),
`execution` (the checks and their time limits), `selection` (the rule, see `verifiers.selection`),
`judge` (an LLM reward model; off unless a model is named), `reproduction` (a model that writes one
reproduction script per instance; off unless named), `static` (the pyflakes reward), `workers`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sweagent.config import SandboxConfig, cli_overrides, load_config
from sweagent.swebench.images import DEFAULT_NAMESPACE
from verifiers.execution import ExecutionConfig
from verifiers.selection import SelectionConfig


def default_selection() -> SelectionConfig:
    """Execution filters, then the selection score (votes across systems, reproduction, rewards).

    Votes count equal normalised diffs: with one reproduction script, behaviour clusters merely
    repeat its verdict (every patch that silences it joins one cluster) and drown the agreement of
    independent systems on the same change; `selection.cluster_by: behaviour` turns them on."""
    return SelectionConfig(primary="score", cluster_by="diff", reproduction="prefer")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelSettings(_Section):
    """A language model used while judging (None = not used)."""

    model: str | None = Field(None, description="litellm model name")
    api_base: str | None = Field(None, description="base URL of an OpenAI-compatible server")
    cost_limit: float = Field(1.0, ge=0, description="USD per instance (0 = no limit)")


class JudgeSettings(ModelSettings):
    samples: int = Field(3, ge=1, description="verdicts sampled when the model gives no logprobs")


class SelectInputs(_Section):
    dataset: str = Field("verified", description="verified, lite, full, a Hub id, or a dataset file")
    split: str = "test"
    candidates: list[str] = Field(default_factory=list, description="predictions files, one per system")
    instances: list[str] = Field(default_factory=list, description="only these instance ids")
    filter: str | None = Field(None, description="only instance ids matching this regular expression")
    slice: str | None = Field(None, description="START:STOP of the (sorted) instance ids")
    shuffle: bool = False
    seed: int = 0
    image_namespace: str = Field(DEFAULT_NAMESPACE, description="registry namespace of instance images")


class SelectConfig(_Section):
    inputs: SelectInputs = Field(default_factory=SelectInputs)
    sandbox: SandboxConfig = Field(default_factory=lambda: SandboxConfig(network="none"))
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    selection: SelectionConfig = Field(default_factory=default_selection)
    judge: JudgeSettings = Field(default_factory=JudgeSettings)
    reproduction: ModelSettings = Field(default_factory=ModelSettings)
    static: bool = Field(True, description="score patches by their pyflakes diagnostics delta")
    workers: int = Field(1, ge=1)
    output_dir: str = "runs"

    def judging_fingerprint(self) -> str:
        """Changes when anything that decides a verdict or the choice does (resume re-judges then)."""
        parts = self.model_dump(
            mode="json",
            include={"sandbox", "execution", "selection", "judge", "reproduction", "static"},
            exclude={"sandbox": {"pull_timeout"}},
        )
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]

    def snapshot_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


def select_config_from_cli(
    config_file: str | Path | None, extra_args: list[str], explicit: dict[str, Any]
) -> SelectConfig:
    """The YAML file, then dotted overrides (`--execution.test_timeout 300`), then explicit options."""
    return load_config(config_file, cli_overrides(extra_args, explicit), schema=SelectConfig)
