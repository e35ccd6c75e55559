"""`SearchConfig`: how a task's budget is spent (the `search:` section of a run config).

Budget. A full rollout is reproduce + localize + patch, so one stage expansion costs 1/3 of a rollout
(`STAGE_COST`); `budget` caps expansions in rollouts (`--budget 8` allows 24), whatever the strategy.
Verification is counted too, against the other caps: `max_tokens` counts the agent's and the reward
model's tokens, `max_sandbox_seconds` the seconds of every command run in the sandboxes (the agent's
and the verifiers'), and `max_cost` the USD of all tokens plus sandbox seconds at `sandbox_price`.
Every cap stops the search from *starting* another expansion; the one in flight finishes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sweagent.config import register_section
from verifiers.judge import JudgeConfig
from verifiers.selection import SelectionConfig
from verifiers.served import ServedRMConfig

Strategy = Literal["single", "best-of-n", "tree"]
STRATEGIES: tuple[str, ...] = ("single", "best-of-n", "tree")
STAGE_TEMPLATES = str(Path(__file__).parent / "prompts" / "stages.yaml")


def default_selection() -> SelectionConfig:
    """Execution filters first (a failed reproduction is out), then the search's candidate reward."""
    return SelectionConfig(reproduction="require", primary="reward", reward_keys=["reward"])


class SearchConfig(BaseModel):
    """Strategy, budget and the allocation policy's knobs (see `search.policy` for the formula)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    strategy: Strategy = Field("single", description="single, best-of-n or tree")
    budget: float = Field(4.0, gt=0, description="rollouts; one stage expansion is 1/3 of a rollout")
    max_tokens: int = Field(
        0, ge=0, description="stop starting expansions past this many tokens (0 = no cap)"
    )
    max_cost: float = Field(
        0.0,
        ge=0,
        description="stop starting expansions past this USD spend, tokens and sandbox time (0 = no cap)",
    )
    max_sandbox_seconds: float = Field(
        0.0, ge=0, description="stop starting expansions past this many sandbox-seconds (0 = no cap)"
    )
    sandbox_price: float = Field(
        0.0, ge=0, description="USD per sandbox-second, counted in the spend `max_cost` caps"
    )
    parallel: int = Field(1, ge=1, le=16, description="expansions run at once, each in its own warm sandbox")
    stage_step_limit: int = Field(30, ge=1, description="agent steps per stage expansion")
    temperature: float | None = Field(
        0.8, description="sampling temperature of stage expansions when the model's is 0 (None: keep it)"
    )
    seed: int = Field(0, description="base of the per-node seeds passed to the model")
    templates: str = Field(STAGE_TEMPLATES, description="prompt template set for stage expansions")
    # allocation (tree)
    early_stop: bool = Field(
        True, description="stop when a candidate passes every check and clears stop_reward"
    )
    stop_reward: float = Field(0.7, ge=0, le=1, description="reward a fully verified candidate must reach")
    prior_weight: float = Field(
        2.0, gt=0, description="weight of a node's own evidence against its children's"
    )
    root_prior: float = Field(0.5, ge=0, le=1, description="value of the root before any evidence")
    cost_exponent: float = Field(1.0, ge=0, description="value is divided by stages-to-candidate ** this")
    exploration: float = Field(0.05, ge=0, description="UCB exploration weight (visit penalty)")
    disagreement: float = Field(
        0.1, ge=0, description="bonus per unit of spread between a node's children's values"
    )
    reproduce_bonus: float = Field(
        0.1, ge=0, description="root bonus while no reproduction in the tree reproduces the issue"
    )
    max_children: int = Field(4, ge=1, description="children per reproduce/localize node (root: unlimited)")
    # evaluation
    process_rewards: bool = Field(True, description="ask the reward model about reproduce/localize nodes")
    judge: bool = Field(True, description="score candidates with the reward model")
    judge_rejected: bool = Field(
        False,
        description="also judge candidates an execution check rejected at once (default: only if every "
        "candidate is rejected, at selection time, when their scores can change the choice)",
    )
    reward_model: JudgeConfig = Field(
        default_factory=lambda: JudgeConfig(k=3),
        description="the reward model: its own model, api_base, limits and method (default: the policy model)",
    )
    served_reward_model: ServedRMConfig | None = Field(
        None,
        description="score with a served reward model (vLLM /classify, /score, ...) instead of an LLM judge",
    )
    checks: list[str] = Field(
        default_factory=lambda: ["apply", "reproduction", "regression"],
        description="execution checks run on candidates",
    )
    selection: SelectionConfig = Field(default_factory=default_selection)

    @property
    def expansions(self) -> int:
        """Stage expansions the budget allows."""
        return max(1, int(self.budget / STAGE_COST + 1e-9))


STAGE_COST = 1.0 / 3.0


register_section("search", SearchConfig)  # the run config's `search:` section (see sweagent.config)
