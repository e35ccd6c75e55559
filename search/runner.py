"""`run_search`: one task solved by a search over its development process.

Same contract as `sweagent.runner.solve_task`, so `solve` and `batch` can call either: it writes
`run_dir/<id>/<id>.traj.json` (the selected candidate's path, stage by stage), returns that
`Trajectory` (`.exit_status`, `.patch`, `.stats`), and records per-task failures in the exit status
instead of raising (only KeyboardInterrupt propagates, and UserError from setup when asked).
Besides the trajectory it writes `tree.json`, `tree.graphml` and each expansion's own trajectory
under `nodes/`. The search receives `task.public()` only: hidden fields never reach a prompt,
command, reward model or selection.

The loop: plan a wave of up to `parallel` expansions with the policy (`search.policy.pick`), run them
in the pool's sandboxes, add the children, back values up, and stop on a verified candidate (early
stop), on the rollout budget, on the token/cost caps, or when nothing is left to expand.
"""

from __future__ import annotations

import hashlib
import statistics
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from search.config import STAGE_COST, SearchConfig
from search.expand import Job, Result, SearchContext, expand, judge_late
from search.policy import (
    backup,
    candidate_reward,
    execution_status,
    is_verified,
    judge_failed,
    pick,
    working_reproduction,
)
from search.pool import SandboxPool
from search.stages import ROOT, next_stage
from search.tree import Node, SearchTree
from sweagent.config import RunConfig
from sweagent.errors import UserError
from sweagent.model.budget import RunBudget
from sweagent.runner import localization_hint
from sweagent.sandbox.base import RepoState
from sweagent.task import Task
from sweagent.templates import load_templates
from sweagent.trajectory import Step, Trajectory, now_iso, trajectory_path
from verifiers.execution import ExecutionConfig
from verifiers.pipeline import choose_judged
from verifiers.selection import Selection
from verifiers.types import Candidate, Judged, Score

EventSink = Callable[[dict[str, Any]], None]


def node_seed(base: int, instance_id: str, node_id: str) -> int:
    """A stable per-node seed (same inputs, same seed, on every machine)."""
    digest = hashlib.sha256(f"{base}:{instance_id}:{node_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


class Searcher:
    """Runs the expansion loop over one tree; `run()` returns why it stopped."""

    def __init__(self, tree: SearchTree, ctx: SearchContext, pool: SandboxPool) -> None:
        self.tree = tree
        self.ctx = ctx
        self.pool = pool
        self.cfg: SearchConfig = ctx.search
        self.started = 0  # expansions started
        self.trajectories: dict[str, Trajectory] = {}

    # -- spend -------------------------------------------------------------------------------------
    def spent(self) -> dict[str, float]:
        return spent(self.tree, self.cfg)

    def cap_reached(self) -> str | None:
        spent = self.spent()
        model = self.ctx.config.model
        token_cap = min([c for c in (self.cfg.max_tokens, model.token_limit) if c > 0], default=0)
        cost_cap = min([c for c in (self.cfg.max_cost, model.cost_limit) if c > 0], default=0.0)
        if token_cap and spent["tokens"] >= token_cap:
            return f"token cap ({int(spent['tokens'])} of {token_cap} tokens)"
        if cost_cap and spent["cost"] >= cost_cap:
            return f"cost cap (${spent['cost']:.4f} of ${cost_cap:.4f})"
        if self.cfg.max_sandbox_seconds and spent["sandbox_seconds"] >= self.cfg.max_sandbox_seconds:
            return f"sandbox cap ({spent['sandbox_seconds']:.1f} of {self.cfg.max_sandbox_seconds:g} s)"
        budget = self.ctx.run_budget
        if budget is not None and budget.exhausted:
            return f"run cost cap (${budget.spent:.4f} of ${budget.cost_limit:.2f})"
        return None

    # -- loop --------------------------------------------------------------------------------------
    def run(self) -> str:
        limit = self.cfg.expansions
        workers = min(self.cfg.parallel, len(self.pool.slots))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="expand") as executor:
            while True:
                if self.started >= limit:
                    return f"budget spent ({self.started * STAGE_COST:.2f} of {self.cfg.budget:g} rollouts)"
                cap = self.cap_reached()
                if cap:
                    return cap
                jobs = self.plan(min(workers, limit - self.started))
                if not jobs:
                    return "nothing left to expand"
                if len(jobs) == 1:
                    results = [expand(jobs[0], self.pool.slots[0], self.pool, self.ctx)]
                else:
                    futures = [
                        executor.submit(expand, job, self.pool.slots[i], self.pool, self.ctx)
                        for i, job in enumerate(jobs)
                    ]
                    results = [f.result() for f in futures]
                self.started += len(jobs)
                for job, result in zip(jobs, results, strict=True):
                    self.integrate(job, result)
                backup(self.tree, self.cfg)
                verified = [r.node for r in results if is_verified(r.node, self.cfg)]
                if verified and self.cfg.early_stop:
                    return f"verified candidate {verified[0].id}"

    def plan(self, width: int) -> list[Job]:
        """Up to `width` expansions, picked one by one with the earlier picks counted as in flight."""
        pending: Counter = Counter()
        jobs: list[Job] = []
        next_index = self.tree.graph.number_of_nodes()
        for _ in range(width):
            chosen = pick(self.tree, self.cfg, self.started + len(jobs), pending)
            if chosen is None:
                break
            pending[chosen.node_id] += 1
            child_id = f"n{next_index + len(jobs)}"
            jobs.append(
                self.job(self.tree.node(chosen.node_id), child_id, self.started + len(jobs), chosen.reason)
            )
        return jobs

    def job(self, parent: Node, child_id: str, order: int, reason: str) -> Job:
        stage = next_stage(parent.stage)
        assert stage is not None
        job = Job(
            child_id=child_id,
            parent=parent,
            stage=stage,
            seed=node_seed(self.cfg.seed, self.tree.instance_id, child_id),
            order=order,
            reason=reason,
        )
        repro = self.tree.ancestor(parent.id, "reproduce") if parent.stage != ROOT else None
        if repro is not None and repro.artifacts.reproduction_script:
            job.reproduction = {
                "path": repro.artifacts.reproduction_path,
                "script": repro.artifacts.reproduction_script,
                "reproduces": bool(repro.artifacts.reproduces_on_base),
                "output": repro.artifacts.reproduction_output,
            }
        loc = self.tree.ancestor(parent.id, "localize")
        if loc is not None:
            job.localization = {"locations": loc.artifacts.locations, "summary": loc.artifacts.summary}
        if stage == "patch":
            source = repro if repro is not None and repro.artifacts.reproduces_on_base else None
            if source is None:  # borrow a reproducing script from another branch, if any
                source = working_reproduction(self.tree)
            if source is not None:
                job.verify_script = source.artifacts.reproduction_script
                job.verify_source = source.id
        return job

    def integrate(self, job: Job, result: Result) -> None:
        node = result.node
        node.artifacts.verified_with = job.verify_source
        self.tree.add_child(node)
        job.parent.picks.append(
            f"#{node.expansion.order if node.expansion else '?'} → {node.id}: {job.reason}"
        )
        if result.trajectory is not None:
            self.trajectories[node.id] = result.trajectory
        if self.ctx.on_event:
            spent = self.spent()
            self.ctx.on_event(
                {
                    "instance_id": self.tree.instance_id,
                    "event": "expanded",
                    "step": int(spent["steps"]),
                    "stage": node.stage,
                    "cost": spent["cost"],
                    "action": f"expand {job.parent.id} → {node.id}",
                    "node": node.id,
                    "parent": job.parent.id,
                    "status": node.status,
                    "rollouts": round(self.started * STAGE_COST, 3),
                }
            )


def spent(tree: SearchTree, cfg: SearchConfig) -> dict[str, float]:
    """Everything the search has spent: tokens (agent and judge), sandbox-seconds, USD (both)."""
    out = dict.fromkeys(
        (
            "tokens",
            "rollout_tokens",
            "judge_tokens",
            "token_cost",
            "steps",
            "sandbox_seconds",
            "verify_seconds",
        ),
        0.0,
    )
    for n in tree.nodes():
        e = n.expansion
        if e is None:
            continue
        out["rollout_tokens"] += e.input_tokens + e.output_tokens
        out["judge_tokens"] += e.judge_tokens
        out["token_cost"] += e.cost + e.judge_cost
        out["steps"] += e.steps
        out["sandbox_seconds"] += e.stage_sandbox_seconds + e.verify_sandbox_seconds
        out["verify_seconds"] += e.verify_sandbox_seconds
    out["tokens"] = out["rollout_tokens"] + out["judge_tokens"]
    out["cost"] = out["token_cost"] + out["sandbox_seconds"] * cfg.sandbox_price
    return out


def judge_summary(tree: SearchTree, cfg: SearchConfig, method: str) -> dict[str, Any]:
    """Reward-model calls and failures of the search, and whether failures passed the stated share."""
    calls = sum(n.expansion.judge_calls for n in tree.nodes() if n.expansion)
    failed = sum(n.expansion.judge_failed for n in tree.nodes() if n.expansion)
    share = failed / calls if calls else 0.0
    limit = cfg.reward_model.max_failure_share
    out: dict[str, Any] = {
        "method": method or "(not asked)",
        "calls": calls,
        "failed": failed,
        "failure_share": round(share, 4),
        "max_failure_share": limit,
        "too_many_failures": bool(calls) and share > limit,
    }
    if out["too_many_failures"]:
        out["warning"] = (
            f"the reward model failed on {failed} of {calls} calls ({share:.0%} > {limit:.0%}): those nodes have "
            "no judge score (selection ranked them after scored ones; allocation used the neutral prior 0.5)"
        )
    return out


# -- the public entry point ------------------------------------------------------------------------


def run_search(
    task: Task,
    config: RunConfig,
    run_dir: Path,
    *,
    budget: RunBudget | None = None,
    on_event: EventSink | None = None,
    repo_path: str | None = None,
    raise_setup_errors: bool = False,
    pool: SandboxPool | None = None,
) -> Trajectory:
    """Search `task` as `config.search` says; writes the trajectory, tree.json and tree.graphml.

    `pool` lends warm sandboxes of this task's repository that outlive the call (the benchmark reuses
    them across seeds); by default the search opens its own and closes them at the end.
    """
    run_dir = Path(run_dir)
    cfg = config.search or SearchConfig()
    public = task.public()
    instance_dir = run_dir / public.instance_id
    tree = SearchTree(public.instance_id, cfg.strategy)
    tree.meta.update({"budget": cfg.budget, "strategy": cfg.strategy, "started_at": now_iso()})
    if on_event:
        on_event({"instance_id": public.instance_id, "step": 0, "stage": "starting", "cost": 0.0})
    started = time.monotonic()
    searcher: Searcher | None = None
    stop_reason, error = "", None
    own_pool = pool is None
    if pool is None:
        pool = SandboxPool(
            config.sandbox,
            size=cfg.parallel,
            repo_path=repo_path,
            commit=public.base_commit,
            image=public.image or config.sandbox.image,
            run_label=run_dir.name,
            execution=ExecutionConfig(checks=list(cfg.checks)),
        )
    replacements_before = pool.replacements
    try:
        try:
            first_slot = pool.slots[0]
            pool.ensure(first_slot)
            first = first_slot.sandbox
            assert first is not None
            first.restore(RepoState(base_commit=first.base_commit, patch=""))  # a reused pool starts clean
            tree.add_root(state=first.snapshot().to_dict())
            backup(tree, cfg)
            ctx = SearchContext(
                task=public,
                config=config,
                search=cfg,
                templates=load_templates(cfg.templates),
                nodes_dir=instance_dir / "nodes",
                hint=localization_hint(public, config, repo_path, first),
                run_budget=budget,
                on_event=on_event,
            )
            searcher = Searcher(tree, ctx, pool)
            stop_reason = searcher.run()
        finally:
            tree.meta["sandbox_replacements"] = pool.replacements - replacements_before
            if own_pool:
                pool.close()
    except KeyboardInterrupt:
        traj = _finish(instance_dir, tree, searcher, config, cfg, "interrupted", None, started)
        traj.exit_status, traj.exit_detail = None, "interrupted"
        traj.save(trajectory_path(run_dir, public.instance_id))
        raise
    except UserError as exc:
        error = ("error: setup", str(exc))
        if raise_setup_errors:
            traj = _finish(instance_dir, tree, searcher, config, cfg, "setup failed", error, started)
            traj.save(trajectory_path(run_dir, public.instance_id))
            raise
    except Exception as exc:
        error = (f"error: {type(exc).__name__}", str(exc)[:2000])
    traj = _finish(instance_dir, tree, searcher, config, cfg, stop_reason or "error", error, started)
    traj.save(trajectory_path(run_dir, public.instance_id))
    if on_event:
        on_event(
            {
                "instance_id": public.instance_id,
                "step": traj.stats.get("steps", 0),
                "stage": "done",
                "cost": traj.stats.get("cost", 0.0),
                "exit_status": traj.exit_status,
            }
        )
    return traj


def _finish(
    instance_dir: Path,
    tree: SearchTree,
    searcher: Searcher | None,
    config: RunConfig,
    cfg: SearchConfig,
    stop_reason: str,
    error: tuple[str, str] | None,
    started: float,
) -> Trajectory:
    """Select, annotate decisions, write tree files; build the returned trajectory."""
    traj = Trajectory(instance_id=tree.instance_id, model_name=config.model.name)
    traj.config = config.model_dump(mode="json")
    selection: Selection | None = None
    if tree.graph.number_of_nodes():
        if searcher is not None and cfg.judge:
            judge_rejected_if_needed(tree, searcher.ctx)
        backup(tree, cfg)
        selection = select_candidate(tree, cfg)
        annotate(tree, cfg, selection, stop_reason)
    chosen = tree.node(selection.chosen) if selection and selection.chosen else None
    trajectories = searcher.trajectories if searcher else {}
    if chosen is not None:
        _fill_path(traj, tree, chosen, trajectories)
        traj.patch = chosen.artifacts.patch
    judge = judge_summary(tree, cfg, searcher.ctx.judge_method if searcher else "")
    traj.stats = search_stats(tree, searcher, cfg, stop_reason, selection, started)
    traj.stats["judge"] = judge
    traj.environment.update(
        {
            "sandbox": config.sandbox.kind,
            "search": {
                "strategy": cfg.strategy,
                "budget": cfg.budget,
                "chosen": chosen.id if chosen else None,
                "tree": "tree.json",
            },
            "judge": judge["method"],
        }
    )
    traj.exit_status, traj.exit_detail = _status(tree, chosen, stop_reason, error, cfg)
    if judge.get("warning"):
        traj.exit_detail = f"{traj.exit_detail}; WARNING: {judge['warning']}"
    tree.meta["judge"] = judge
    traj.finished_at = now_iso()
    tree.meta.update({"stop_reason": stop_reason, "selection": selection.model_dump() if selection else None})
    tree.meta.update({"stats": traj.stats, "exit_status": traj.exit_status, "exit_detail": traj.exit_detail})
    if tree.graph.number_of_nodes():
        tree.save(instance_dir)
    return traj


def _status(
    tree: SearchTree, chosen: Node | None, stop_reason: str, error: tuple[str, str] | None, cfg: SearchConfig
) -> tuple[str, str]:
    if error is not None and chosen is None:
        return error
    if chosen is not None:
        verified = (
            "verified"
            if is_verified(chosen, cfg)
            else f"not verified (execution: {execution_status(chosen)})"
        )
        reward = candidate_reward(chosen)
        shown = "none (the judge failed)" if reward is None else f"{reward:.2f}"
        detail = f"stopped: {stop_reason}; chose {chosen.id}, {verified}, reward {shown}"
        return ("submitted" if chosen.verified else "submitted (limit)"), detail
    expansions = [n.expansion for n in tree.nodes() if n.expansion]
    errors = [e.exit_status for e in expansions if e.exit_status and e.exit_status.startswith("error")]
    if expansions and len(errors) == len(expansions):
        return errors[0], f"stopped: {stop_reason}; every expansion failed ({errors[0]})"
    return "submitted (limit)", f"stopped: {stop_reason}; no candidate patch"


def judge_rejected_if_needed(tree: SearchTree, ctx: SearchContext) -> None:
    """When every candidate failed a check, the judge's scores decide: ask about those not yet judged."""
    candidates = tree.candidates()
    if not candidates or any(execution_status(n) != "failed" for n in candidates):
        return
    for node in candidates:
        if "judge" not in node.scores:
            try:
                judge_late(node, ctx)
            except Exception:  # missing evidence, not a failed search
                continue


def select_candidate(tree: SearchTree, cfg: SearchConfig) -> Selection:
    """Final selection through the verifiers' selection rule, over every candidate of the tree."""
    items = []
    for node in tree.candidates():
        reward = candidate_reward(node)
        scores = dict(node.scores)
        scores["reward"] = (
            Score.failure("search", "no reward: the judge failed on this candidate")
            if reward is None
            else Score(value=round(reward, 6), source="search", explanation="judge x static factor")
        )
        items.append(
            Judged(
                candidate=Candidate(id=node.id, patch=node.artifacts.patch),
                verdicts=node.verdicts,
                scores=scores,
            )
        )
    return choose_judged(items, cfg.selection)


def annotate(tree: SearchTree, cfg: SearchConfig, selection: Selection | None, stop_reason: str) -> None:
    """Write each node's `decision`: why it was expanded, pruned, failed, verified or chosen."""
    stopped_early = stop_reason.startswith("verified")
    for node in tree.nodes():
        node.verified = is_verified(node, cfg)
        exp = node.expansion
        if node.status == "failed":
            why = (exp.exit_status or "failed") if exp else "failed"
            detail = f" ({exp.exit_detail[:160]})" if exp and exp.exit_detail else ""
            node.decision = f"failed: {why}{detail}"
        elif node.stage == "patch":
            checks = ", ".join(f"{v.check}:{v.status}" for v in node.verdicts) or "no checks"
            tag = "verified" if node.verified else "not verified"
            reward = candidate_reward(node)
            shown = "none (judge failed)" if reward is None else f"{reward:.2f}"
            if cfg.judge and "judge" not in node.scores:
                shown = "not judged (an execution check rejected it)"
            node.decision = f"candidate {tag}: {checks}; reward {shown}"
        elif judge_failed(node) and not node.picks:
            node.decision = "judge failed: no process reward; valued with the neutral prior 0.5"
        elif node.picks:
            node.decision = f"expanded {len(node.picks)}x; first: {node.picks[0].split(': ', 1)[-1]}"
        elif stopped_early:
            node.decision = f"not expanded: the search stopped early ({stop_reason})"
        else:
            node.decision = (
                f"pruned: priority never the highest (value {node.value:.2f}) before the search stopped"
            )
    if selection and selection.chosen:
        chosen = tree.node(selection.chosen)
        chosen.decision = f"SELECTED: {selection.reason} | {chosen.decision}"


def _fill_path(traj: Trajectory, tree: SearchTree, chosen: Node, trajectories: dict[str, Trajectory]) -> None:
    """The chosen candidate's path as one trajectory: each stage's messages and steps, in order."""
    for node in tree.path(chosen.id):
        stage_traj = trajectories.get(node.id)
        if stage_traj is None:
            continue
        if not traj.tools:
            traj.tools = stage_traj.tools
            traj.problem_statement = stage_traj.problem_statement
            traj.environment.update(stage_traj.environment)
        traj.messages.extend(stage_traj.messages)
        for step in stage_traj.steps:
            copy = Step.model_validate(step.model_dump())
            copy.index = len(traj.steps)
            copy.stage = node.stage
            traj.steps.append(copy)


def search_stats(
    tree: SearchTree,
    searcher: Searcher | None,
    cfg: SearchConfig,
    stop_reason: str,
    selection: Selection | None,
    started: float,
) -> dict[str, Any]:
    expansions = [n.expansion for n in tree.nodes() if n.expansion]
    forks = [e.restore_seconds for e in expansions if e.restore_path]
    warm = [e.restore_seconds for e in expansions if e.restore_path == "warm"]
    fresh = [e.restore_seconds for e in expansions if e.restore_path == "fresh"]
    input_tokens = sum(e.input_tokens for e in expansions)
    output_tokens = sum(e.output_tokens for e in expansions)
    judge_tokens = sum(e.judge_tokens for e in expansions)
    nodes = tree.nodes()
    spend = spent(tree, cfg)
    return {
        "steps": sum(e.steps for e in expansions),
        "model_calls": sum(e.model_calls for e in expansions),
        "cost": round(sum(e.cost + e.judge_cost for e in expansions), 6),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "judge_tokens": judge_tokens,
        "tokens": input_tokens + output_tokens + judge_tokens,
        "sandbox_seconds": round(spend["sandbox_seconds"], 4),
        "verify_sandbox_seconds": round(spend["verify_seconds"], 4),
        "total_cost": round(spend["cost"], 6),
        "wall_seconds": round(time.monotonic() - started, 3),
        "search": {
            "strategy": cfg.strategy,
            "budget_rollouts": cfg.budget,
            "expansions": len(expansions),
            "rollouts_spent": round(len(expansions) * STAGE_COST, 4),
            "nodes": len(nodes),
            "failed_nodes": sum(n.status == "failed" for n in nodes),
            "candidates": sum(n.is_candidate for n in nodes),
            "verified_candidates": sum(n.verified for n in nodes),
            "stop_reason": stop_reason,
            "chosen": selection.chosen if selection else None,
            "selection_reason": selection.reason if selection else "",
            "fork_seconds": {
                "count": len(forks),
                "median_warm": round(statistics.median(warm), 5) if warm else None,
                "median_fresh": round(statistics.median(fresh), 5) if fresh else None,
                "total": round(sum(forks), 4),
            },
            "sandbox_replacements": tree.meta.get("sandbox_replacements", 0),
        },
    }
