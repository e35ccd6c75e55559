"""Expanding a node: fork its sandbox state, run the agent for the next stage, collect the evidence.

One expansion = one stage rollout = 1/3 of a rollout of budget. It never raises for what can go wrong
inside it (the stage crashes, hits its step limit, the sandbox dies, an evaluator fails): the child
comes back as a failed node with the reason in `expansion.exit_status`, and the search goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.config import SearchConfig
from search.evaluate import (
    find_reproduction,
    judged,
    locations,
    run_reproduction_on_base,
    static_reward,
    submitted_summary,
    verify_candidate,
)
from search.pool import SandboxPool, Slot
from search.stages import BUILD_NOISE, StaticWatch, stage_message, stage_tools
from search.tree import Expansion, Node
from sweagent.agent import Agent, AgentContext
from sweagent.config import RunConfig
from sweagent.model.budget import RunBudget
from sweagent.model.litellm_model import Model
from sweagent.sandbox.base import RepoState, Sandbox
from sweagent.task import Task
from sweagent.templates import Templates
from sweagent.trajectory import Trajectory
from verifiers.judge import LLMJudge, judge_model_config
from verifiers.served import ServedRewardModel
from verifiers.types import Candidate

EventSink = Callable[[dict[str, Any]], None]


@dataclass
class SearchContext:
    """What every expansion of one search shares (the task here is already public)."""

    task: Task
    config: RunConfig
    search: SearchConfig
    templates: Templates
    nodes_dir: Path
    hint: str = ""
    run_budget: RunBudget | None = None
    on_event: EventSink | None = None
    judge_method: str = ""  # how the reward model scores (filled by the first judged node)


@dataclass
class Job:
    """One planned expansion: the parent, the stage to run, and the ancestors' artifacts it needs."""

    child_id: str
    parent: Node
    stage: str
    seed: int
    order: int
    reason: str
    reproduction: dict[str, Any] | None = None
    localization: dict[str, Any] | None = None
    verify_script: str | None = None
    verify_source: str | None = None
    step_rewards: list[dict[str, Any]] | None = None


@dataclass
class Result:
    node: Node
    trajectory: Trajectory | None = None


def stage_config(config: RunConfig, search: SearchConfig, seed: int) -> RunConfig:
    """The run config of one stage expansion: stage templates and step limit, per-node seed."""
    model = config.model
    updates: dict[str, Any] = {"completion_kwargs": {**model.completion_kwargs, "seed": seed}}
    if search.temperature is not None and model.temperature == 0:
        updates["temperature"] = search.temperature
    agent = config.agent.model_copy(
        update={"templates": search.templates, "step_limit": search.stage_step_limit, "localize_hint": False}
    )
    return config.model_copy(update={"model": model.model_copy(update=updates), "agent": agent})


def make_judge(ctx: SearchContext, seed: int) -> tuple[LLMJudge | ServedRewardModel | None, Model | None]:
    """The reward model for one node (its own Model, so its spend is counted per node)."""
    if not (ctx.search.judge or ctx.search.process_rewards):
        return None, None
    if ctx.search.served_reward_model is not None:
        return ServedRewardModel(ctx.search.served_reward_model), None
    settings = ctx.search.reward_model
    model = Model(judge_model_config(ctx.config.model, settings), budget=ctx.run_budget)
    return LLMJudge(model, settings.model_copy(update={"seed": seed})), model


def expand(job: Job, slot: Slot, pool: SandboxPool, ctx: SearchContext) -> Result:
    """Run `job` in `slot`'s sandbox; always returns the child node (failed on any fault)."""
    started = time.perf_counter()
    node = Node(id=job.child_id, parent=job.parent.id, stage=job.stage)
    node.expansion = exp = Expansion(order=job.order, seed=job.seed)
    result = Result(node)
    try:
        assert job.parent.state is not None, "only nodes with a state can be expanded"
        exp.restore_seconds, exp.restore_path, exp.sandbox_replaced = pool.fork(
            slot, RepoState.from_dict(job.parent.state)
        )
        exp.sandbox = slot.label
        assert slot.sandbox is not None
        slot.sandbox.seconds = 0.0
        traj = _run_stage(job, slot.sandbox, ctx, exp)
        exp.stage_sandbox_seconds = round(slot.sandbox.seconds, 4)
        result.trajectory = traj
        if traj.exit_status != "submitted":
            node.status = "failed"
        else:
            _collect(job, node, traj, slot, ctx)
    except Exception as exc:
        # the sandbox died or an internal step failed: a failed node, not a failed search
        node.status = "failed"
        exp.exit_status = (
            exp.exit_status if exp.exit_status not in (None, "submitted") else f"error: {type(exc).__name__}"
        )
        exp.exit_detail = (exp.exit_detail + f" | {type(exc).__name__}: {exc}").strip(" |")[:2000]
    exp.seconds = round(time.perf_counter() - started, 4)
    return result


def _run_stage(job: Job, sandbox: Sandbox, ctx: SearchContext, exp: Expansion) -> Trajectory:
    config = stage_config(ctx.config, ctx.search, job.seed)
    model = Model(config.model, budget=ctx.run_budget)

    def forward(event: dict[str, Any]) -> None:
        if ctx.on_event:
            ctx.on_event({**event, "node": job.child_id, "search_stage": job.stage})

    # The search snapshots each stage's state itself, so the agent's own final diff is skipped.
    tools = stage_tools(config.sandbox.command_timeout)
    agent = Agent(config, model, sandbox, tools=tools, on_event=forward, take_patch=False)
    prior = stage_message(ctx.templates, job.stage, sandbox.workdir, job.reproduction, job.localization)
    traj = agent.run(ctx.task, AgentContext(localization=ctx.hint, prior_work=prior))
    traj.environment["search_node"] = job.child_id
    path = ctx.nodes_dir / f"{job.child_id}.traj.json"
    traj.save(path)
    exp.trajectory = str(Path("nodes") / path.name)
    exp.exit_status, exp.exit_detail = traj.exit_status, traj.exit_detail
    stats = traj.stats
    exp.steps = int(stats.get("steps", 0))
    exp.model_calls = int(stats.get("model_calls", 0))
    exp.input_tokens = int(stats.get("input_tokens", 0))
    exp.output_tokens = int(stats.get("output_tokens", 0))
    exp.cost = float(stats.get("cost", 0.0))
    watch = next((t for t in tools if isinstance(t, StaticWatch)), None)
    if watch is not None:
        exp_steps = [
            i for i, st in enumerate(traj.steps) if st.action is not None and st.action.tool == "editor"
        ]
        job.step_rewards = [
            {**r, "step": exp_steps[r["step"] - 1] if r["step"] <= len(exp_steps) else None}
            for r in watch.rewards
        ]
    return traj


def _collect(job: Job, node: Node, traj: Trajectory, slot: Slot, ctx: SearchContext) -> None:
    """Snapshot the child's state, read its artifacts, and evaluate them."""
    sandbox = slot.sandbox
    assert sandbox is not None and slot.verifier is not None
    globs = [*ctx.config.agent.exclude_new_files, *BUILD_NOISE]
    state = sandbox.snapshot()
    node.state = state.to_dict()
    node.step_rewards = list(job.step_rewards or [])
    sandbox.seconds = 0.0
    art = node.artifacts
    art.summary = submitted_summary(traj)
    judge, judge_model = make_judge(ctx, job.seed)
    python = slot.verifier.config.python
    t0 = time.perf_counter()
    if job.stage == "reproduce":
        path = find_reproduction(state, traj, globs)
        if path:
            art.reproduction_path = path
            art.reproduction_script = sandbox.read_file(path)
            art.reproduces_on_base, art.reproduction_output = run_reproduction_on_base(
                sandbox, art.reproduction_script, path, state, python, issue=ctx.task.problem_statement
            )
        if ctx.search.process_rewards:
            _put(node, "process", judged(judge, "score_partial", ctx.task, traj.messages, "reproduce"))
    elif job.stage == "localize":
        art.locations = locations(traj, globs, sandbox.workdir)
        if ctx.search.process_rewards:
            _put(node, "process", judged(judge, "score_partial", ctx.task, traj.messages, "localize"))
    else:
        art.patch = sandbox.diff(exclude_new=globs)
        if not art.patch.strip():
            node.status = "failed"
            node.expansion.exit_detail = "the patch stage left no change"  # type: ignore[union-attr]
        else:
            _put(node, "static", static_reward(sandbox, art.patch))
            node.verdicts = verify_candidate(slot.verifier, ctx.task, node.id, art, job.verify_script)
            rejected = any(v.passed is False for v in node.verdicts)
            if ctx.search.judge and (ctx.search.judge_rejected or not rejected):
                _put(node, "judge", judged(judge, "score", ctx.task, _candidate(node), node.verdicts))
    exp = node.expansion
    assert exp is not None
    exp.verify_seconds = round(time.perf_counter() - t0, 4)
    exp.verify_sandbox_seconds = round(sandbox.seconds, 4)
    if judge is not None:
        if judge_model is not None:
            exp.judge_tokens = judge_model.stats.tokens
            exp.judge_cost = judge_model.stats.cost
        asked = [s for k, s in node.scores.items() if k in ("process", "judge")]
        exp.judge_calls, exp.judge_failed = len(asked), sum(s.value is None for s in asked)
        if asked:
            ctx.judge_method = describe_judge(judge)


def judge_late(node: Node, ctx: SearchContext) -> None:
    """Judge a candidate whose judging was put off (it failed a check), adding the spend to its node."""
    judge, judge_model = make_judge(ctx, node.expansion.seed if node.expansion else 0)
    if judge is None:
        return
    _put(node, "judge", judged(judge, "score", ctx.task, _candidate(node), node.verdicts))
    exp = node.expansion
    if exp is not None:
        if judge_model is not None:
            exp.judge_tokens += judge_model.stats.tokens
            exp.judge_cost += judge_model.stats.cost
        exp.judge_calls += 1
        exp.judge_failed += int(node.scores["judge"].value is None)
        ctx.judge_method = ctx.judge_method or describe_judge(judge)


def describe_judge(judge: LLMJudge | ServedRewardModel) -> str:
    """Which scoring method the reward model uses, and why (for the run summary and the trajectory)."""
    if isinstance(judge, ServedRewardModel):
        return f"served reward model ({judge.config.kind} at {judge.config.base_url})"
    return judge.capabilities.describe()


def _candidate(node: Node) -> Candidate:
    return Candidate(id=node.id, patch=node.artifacts.patch)


def _put(node: Node, key: str, score: Any) -> None:
    if score is not None:
        node.scores[key] = score
