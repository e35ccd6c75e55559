"""`swe-ttc bench search`: tree vs best-of-N at equal cost, over a grid of reward-model AUC x
reproduction detectability x task difficulty.

Setting. Simulated instances: a fixture task (`simulation.tasks`) solved by the simulated model
(`simulation.model`) with a difficulty drawn from SWE-bench Verified's per-instance solve rates
(`simulation.difficulty`). "Resolved" is decided afterwards by the hidden tests, which the search
never sees.

Equal cost. Cost is counted in full: the agent's and the reward model's tokens (at the simulated
price) plus every sandbox-second of the agent's and the verifiers' commands (at `--sandbox-price`).
In each cell, `single` runs first on every trial; `--budget B` then means "B times the mean total cost
of one such rollout, verification included", and best-of-N and the tree both get exactly that cap
(`search.max_cost`; the rollout cap is set out of the way at 3B). A strategy may stop early and spend
less; what each spent is reported.

Pairing. Trial t of a cell uses the same fixture, the same drawn difficulty, the same search seed and
the same reward-model noise draws for every strategy (and across cells of the same difficulty), so
differences are paired: the tree's resolve rate minus best-of-N's, with a bootstrap 95% interval
over trials. A cell's verdict: `tree wins` (interval above 0), `tree loses` (below 0), `no difference
measured` (interval spans 0).

Execution. `--execution replay` (default) runs every command for real on the host once per
repository state and replays it afterwards (`simulation.replay`): the same search, agent and verifier
code, with measured durations charged, fast enough for thousands of searches on two cores.
`--execution docker` runs every command in containers (real, slow: use small grids).
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import click
import yaml
from pydantic import ValidationError

from simulation.difficulty import BANDS
from simulation.tasks import FIXTURES, Fixture
from sweagent.errors import UserError

STRATEGIES = ("single", "best-of-n", "tree")


@dataclass
class Trial:
    cell: str
    task: str
    trial: int
    solve_rate: float
    label: str
    resolved: bool
    chosen_kind: str
    rollouts: float
    rollout_tokens: int
    judge_tokens: int
    sandbox_seconds: float
    verify_sandbox_seconds: float
    token_cost: float
    total_cost: float
    judge_calls: int
    judge_failed: int
    stop_reason: str
    seconds: float


@dataclass
class Cell:
    auc: float
    repro_detectable: float
    difficulty: str

    @property
    def name(self) -> str:
        return f"auc={self.auc:g}|detectable={self.repro_detectable:g}|difficulty={self.difficulty}"


@dataclass
class Plan:
    """Everything a worker needs for one cell (picklable)."""

    cell: Cell
    params: dict[str, Any]
    trials: int
    tasks: list[str]
    budget: float
    execution: str
    sandbox_price: float
    price: tuple[float, float]
    overrides: dict[str, Any] = field(default_factory=dict)


# -- statistics -----------------------------------------------------------------------------------------


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


def bootstrap_mean(values: list[float], reps: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of a mean."""
    if not values:
        return (0.0, 0.0)
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(rng.choice(values) for _ in range(n)) / n for _ in range(reps))
    return (round(means[int(0.025 * reps)], 6), round(means[int(0.975 * reps) - 1], 6))


# -- one cell ---------------------------------------------------------------------------------------------

_workspace: dict[str, Any] = {}


def _setup(execution: str) -> dict[str, Any]:
    """Per process: fixture repositories, warm sandbox pools and the grader, made once."""
    if _workspace.get("execution") == execution:
        return _workspace
    from search.pool import SandboxPool
    from simulation.replay import replay_opener
    from simulation.tasks import Grader
    from sweagent.config import SandboxConfig
    from verifiers.execution import ExecutionConfig

    root = Path(tempfile.mkdtemp(prefix="swe-ttc-bench-search-"))
    stores: dict[str, Any] = {}
    kind = "local" if execution == "replay" else execution
    # host pytest without the host's plugins: closer to a clean container, and the same on every machine
    env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"} if kind == "local" else {}
    sandbox = SandboxConfig(kind=kind, network="none", command_timeout=60, env=env)
    repos, pools = {}, {}
    for name, fixture in FIXTURES.items():
        repo, commit = fixture.make_repo(root / name / "repo")
        repos[name] = (repo, commit, fixture.task(repo, commit))
        pools[name] = SandboxPool(
            sandbox,
            size=1,
            repo_path=str(repo),
            commit=commit,
            image=None,
            run_label=f"bench-search-{name}-{os.getpid()}",
            execution=ExecutionConfig(),
            opener=replay_opener(stores) if execution == "replay" else None,
        )
    _workspace.clear()
    _workspace.update(
        {
            "execution": execution,
            "root": root,
            "repos": repos,
            "pools": pools,
            "grader": Grader(),
            "stores": stores,
        }
    )
    return _workspace


def _close_workspace() -> None:
    for pool in _workspace.get("pools", {}).values():
        pool.close()
    if _workspace.get("root"):
        shutil.rmtree(_workspace["root"], ignore_errors=True)
    _workspace.clear()


def _search_once(
    plan: Plan, fixture: Fixture, trial: int, solve_rate: float, strategy: str, search: dict[str, Any]
) -> Trial:
    from search.config import SearchConfig
    from search.runner import run_search
    from simulation.model import SimParams, edit_kind, register_instance
    from sweagent.config import RunConfig

    ws = _workspace
    repo, commit, task = ws["repos"][fixture.name]
    pool = ws["pools"][fixture.name]
    # the instance name keys the reward model's noise: the same across strategies and AUC cells
    instance = f"{fixture.name}-{plan.cell.difficulty}-{trial}"
    params = SimParams(**plan.params, auc=plan.cell.auc, repro_detectable=plan.cell.repro_detectable)
    model = register_instance(instance, fixture, params, solve_rate, plan.price)
    cfg = SearchConfig(
        strategy=strategy, seed=trial, sandbox_price=plan.sandbox_price, **{**plan.overrides, **search}
    )
    config = RunConfig.model_validate(
        {
            "model": {"name": model, "action_format": "tool_calls", "cost_limit": 0},
            "sandbox": pool.config.model_dump(),
            "agent": {"localize_hint": False},
        }
    ).model_copy(update={"search": cfg})
    run_dir = ws["root"] / "runs" / f"{instance}-{strategy}"
    pool.reset_cache()  # each trial is its own instance: no verification result carries over
    t0 = time.perf_counter()
    traj = run_search(task, config, run_dir, repo_path=str(repo), pool=pool)
    seconds = time.perf_counter() - t0
    shutil.rmtree(run_dir, ignore_errors=True)
    stats = traj.stats
    judge = stats.get("judge", {})
    return Trial(
        cell=plan.cell.name,
        task=fixture.name,
        trial=trial,
        solve_rate=solve_rate,
        label=strategy,
        resolved=ws["grader"].resolved(fixture, repo, traj.patch),
        chosen_kind=(edit_kind(fixture, traj.patch) or "other") if traj.patch.strip() else "none",
        rollouts=float(stats.get("search", {}).get("rollouts_spent", 0.0)),
        rollout_tokens=int(stats.get("input_tokens", 0)) + int(stats.get("output_tokens", 0)),
        judge_tokens=int(stats.get("judge_tokens", 0)),
        sandbox_seconds=float(stats.get("sandbox_seconds", 0.0)),
        verify_sandbox_seconds=float(stats.get("verify_sandbox_seconds", 0.0)),
        token_cost=float(stats.get("cost", 0.0)),
        total_cost=float(stats.get("total_cost", 0.0)),
        judge_calls=int(judge.get("calls", 0)),
        judge_failed=int(judge.get("failed", 0)),
        stop_reason=str(stats.get("search", {}).get("stop_reason", "")),
        seconds=seconds,
    )


def run_cell(plan: Plan) -> tuple[list[Trial], dict[str, Any]]:
    """Every strategy on every trial of one cell: `single` first, then the others at its cost x budget."""
    from simulation.difficulty import draw_rate

    _setup(plan.execution)
    started = time.perf_counter()
    instances = []
    for t in range(plan.trials):
        fixture = FIXTURES[plan.tasks[t % len(plan.tasks)]]
        instances.append((t, fixture, draw_rate(plan.cell.difficulty, str(t))))
    trials = [_search_once(plan, fx, t, s, "single", {"budget": 1.0}) for t, fx, s in instances]
    rollout_cost = statistics.fmean(tr.total_cost for tr in trials)
    cap = {"budget": 3 * plan.budget, "max_cost": round(plan.budget * rollout_cost, 8)}
    for t, fx, s in instances:
        for strategy in ("best-of-n", "tree"):
            trials.append(_search_once(plan, fx, t, s, strategy, cap))
    stores = _workspace.get("stores", {})
    info = {
        "rollout_cost_usd": round(rollout_cost, 6),
        "cost_cap_usd": cap["max_cost"],
        "seconds": round(time.perf_counter() - started, 1),
        "replay_hits": sum(s.hits for s in stores.values()),
        "replay_misses": sum(s.misses for s in stores.values()),
    }
    return trials, info


# -- summaries --------------------------------------------------------------------------------------------


def strategy_summary(rows: list[Trial]) -> dict[str, Any]:
    resolved = sum(t.resolved for t in rows)

    def mean(key: str) -> float:
        return round(statistics.fmean(getattr(t, key) for t in rows), 6) if rows else 0.0

    kinds: dict[str, int] = {}
    for t in rows:
        kinds[t.chosen_kind] = kinds.get(t.chosen_kind, 0) + 1
    return {
        "trials": len(rows),
        "resolved": resolved,
        "resolve_rate": round(resolved / len(rows), 4) if rows else 0.0,
        "resolve_rate_ci95_wilson": wilson(resolved, len(rows)),
        "total_cost_usd_mean": mean("total_cost"),
        "total_cost_usd_ci95": bootstrap_mean([t.total_cost for t in rows]),
        "rollout_tokens_mean": round(mean("rollout_tokens")),
        "judge_tokens_mean": round(mean("judge_tokens")),
        "sandbox_seconds_mean": round(mean("sandbox_seconds"), 4),
        "verify_sandbox_seconds_mean": round(mean("verify_sandbox_seconds"), 4),
        "rollouts_mean": round(mean("rollouts"), 3),
        "judge_calls_mean": round(mean("judge_calls"), 2),
        "judge_failed_total": sum(t.judge_failed for t in rows),
        "chosen": dict(sorted(kinds.items())),
    }


def paired(trials: list[Trial], a: str, b: str, key: str = "resolved") -> dict[str, Any]:
    """Mean of a − b over the same trials, with a bootstrap 95% interval."""
    by: dict[int, dict[str, Trial]] = {}
    for t in trials:
        by.setdefault(t.trial, {})[t.label] = t
    diffs = [float(getattr(v[a], key)) - float(getattr(v[b], key)) for v in by.values() if a in v and b in v]
    return {
        "pairs": len(diffs),
        "mean_difference": round(statistics.fmean(diffs), 6) if diffs else 0.0,
        "ci95_bootstrap": bootstrap_mean(diffs),
    }


def verdict(diff: dict[str, Any]) -> str:
    lo, hi = diff["ci95_bootstrap"]
    if lo > 0:
        return "tree wins"
    if hi < 0:
        return "tree loses"
    return "no difference measured"


def cell_report(cell: Cell, trials: list[Trial], info: dict[str, Any]) -> dict[str, Any]:
    rows = [t for t in trials if t.cell == cell.name]
    rate = paired(rows, "tree", "best-of-n")
    return {
        "cell": {"auc": cell.auc, "repro_detectable": cell.repro_detectable, "difficulty": cell.difficulty},
        "mean_solve_rate": round(statistics.fmean(t.solve_rate for t in rows if t.label == "single"), 4),
        "budget": info,
        "strategies": {s: strategy_summary([t for t in rows if t.label == s]) for s in STRATEGIES},
        "tree_minus_best_of_n": {
            "resolve_rate": rate,
            "total_cost_usd": paired(rows, "tree", "best-of-n", "total_cost"),
            "sandbox_seconds": paired(rows, "tree", "best-of-n", "sandbox_seconds"),
            "judge_tokens": paired(rows, "tree", "best-of-n", "judge_tokens"),
        },
        "verdict": verdict(rate),
    }


# -- the command ------------------------------------------------------------------------------------------


def _floats(text: str, option: str, lo: float, hi: float) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UserError(f"{option}: write comma-separated numbers, e.g. 0.6,0.8") from None
    if not values or any(not lo <= v <= hi for v in values):
        raise UserError(f"{option}: every value must be within [{lo:g}, {hi:g}]")
    return values


def parse_sets(items: tuple[str, ...]) -> dict[str, Any]:
    """`KEY=VALUE` search overrides (values read as YAML), checked against SearchConfig."""
    from search.config import SearchConfig

    out: dict[str, Any] = {}
    fixed = ("strategy", "budget", "seed", "max_cost", "sandbox_price")
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or key not in SearchConfig.model_fields or key in fixed:
            raise UserError(
                f"--set {item}: write KEY=VALUE with KEY a search setting other than {', '.join(fixed)}"
            )
        out[key] = yaml.safe_load(raw)
    try:
        SearchConfig(**out)
    except ValidationError as exc:
        raise UserError(f"--set: {exc.errors()[0]['msg'].lower()}") from None
    return out


SIM_OPTIONS = (
    "process_auc",
    "judge_consistency",
    "judge_failure",
    "judge_logprobs",
    "incomplete_rate",
    "regression_share",
    "loc_penalty",
    "wrong_loc_patch",
    "skill",
    "p_crash",
)


@click.command("search")
@click.option(
    "--auc", "aucs", default="0.65,0.795,0.95", show_default=True, help="reward-model AUCs (grid axis)"
)
@click.option(
    "--repro-detectable",
    "detectables",
    default="0.2,0.8",
    show_default=True,
    help="shares of wrong reproductions that do not reproduce on the base (grid axis)",
)
@click.option(
    "--difficulty",
    "difficulties",
    default="hard,medium,easy",
    show_default=True,
    help=f"solve-rate bands of Verified: {', '.join(BANDS)} (grid axis)",
)
@click.option("--trials", default=40, show_default=True, help="simulated instances per cell")
@click.option("--budget", default=4.0, show_default=True, help="cost cap, in mean single-rollout costs")
@click.option("--tasks", default=",".join(FIXTURES), show_default=True, help="fixture tasks, comma-separated")
@click.option(
    "--execution",
    type=click.Choice(["replay", "docker", "local"]),
    default="replay",
    show_default=True,
    help="replay: real host runs, stored and replayed; docker/local: every command run",
)
@click.option("--workers", default=2, show_default=True, help="cells run at once (processes)")
@click.option(
    "--process-auc", type=float, default=None, help="AUC on reproductions/localisations (default: --auc)"
)
@click.option("--judge-consistency", type=float, default=0.5, show_default=True)
@click.option(
    "--judge-failure", type=float, default=0.0, show_default=True, help="share of judge calls with no verdict"
)
@click.option("--judge-logprobs/--no-judge-logprobs", default=True, show_default=True)
@click.option("--incomplete-rate", type=float, default=0.25, show_default=True)
@click.option("--regression-share", type=float, default=0.5, show_default=True)
@click.option("--loc-penalty", type=float, default=0.5, show_default=True)
@click.option("--wrong-loc-patch", type=float, default=0.1, show_default=True)
@click.option("--skill", type=float, default=0.0, show_default=True, help="logit shift over the solve rate")
@click.option("--p-crash", type=float, default=0.0, show_default=True)
@click.option("--price-input", type=float, default=3e-6, show_default=True, help="USD per input token")
@click.option("--price-output", type=float, default=15e-6, show_default=True, help="USD per output token")
@click.option(
    "--sandbox-price",
    type=float,
    default=2.74e-5,
    show_default=True,
    help="USD per sandbox-second (a 2-vCPU, 4-GB Fargate task's on-demand price)",
)
@click.option(
    "--set", "search_set", multiple=True, metavar="KEY=VALUE", help="search setting, e.g. exploration=0.1"
)
@click.option(
    "--fork-sandbox", type=click.Choice(["docker", "local", "none"]), default="none", show_default=True
)
@click.option("--fork-repeats", default=5, show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="also write the JSON here")
def bench_search(**opts: Any) -> None:
    """Tree vs best-of-N at equal cost over AUC x detectability x difficulty; prints JSON."""
    names = [n.strip() for n in opts["tasks"].split(",") if n.strip()]
    unknown = [n for n in names if n not in FIXTURES]
    if unknown or not names:
        raise UserError(
            f"unknown fixture task(s) {', '.join(unknown) or '(none)'}: choose from {', '.join(FIXTURES)}"
        )
    aucs = _floats(opts["aucs"], "--auc", 0.5, 0.999)
    detectables = _floats(opts["detectables"], "--repro-detectable", 0.0, 1.0)
    bands = [b.strip() for b in opts["difficulties"].split(",") if b.strip()]
    if not bands or any(b not in BANDS for b in bands):
        raise UserError(f"--difficulty: choose from {', '.join(BANDS)}")
    if opts["trials"] < 2 or opts["budget"] < 1:
        raise UserError("--trials must be at least 2 and --budget at least 1")
    from simulation.model import SimParams

    sim = {k: opts[k] for k in SIM_OPTIONS}
    try:
        SimParams(**sim)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UserError(f"--{str(first['loc'][0]).replace('_', '-')}: {first['msg'].lower()}") from None
    if opts["execution"] == "docker" or opts["fork_sandbox"] == "docker":
        from sweagent.sandbox.docker_sandbox import docker_client

        docker_client()  # one clear line when Docker is unavailable
    overrides = parse_sets(opts["search_set"])
    cells = [Cell(a, d, b) for b, a, d in product(bands, aucs, detectables)]
    plans = [
        Plan(
            cell=c,
            params=sim,
            trials=opts["trials"],
            tasks=names,
            budget=opts["budget"],
            execution=opts["execution"],
            sandbox_price=opts["sandbox_price"],
            price=(opts["price_input"], opts["price_output"]),
            overrides=overrides,
        )
        for c in cells
    ]
    started = time.perf_counter()
    results: list[tuple[list[Trial], dict[str, Any]] | None] = [None] * len(plans)
    workers = max(1, min(opts["workers"], len(plans)))

    def done(i: int, result: tuple[list[Trial], dict[str, Any]]) -> None:
        results[i] = result
        finished = sum(r is not None for r in results)
        report = cell_report(plans[i].cell, *result)
        click.echo(
            f"[{finished}/{len(plans)}] {plans[i].cell.name}: {report['verdict']} "
            f"({time.perf_counter() - started:.0f} s)",
            err=True,
        )

    if workers == 1:
        try:
            for i, plan in enumerate(plans):
                done(i, run_cell(plan))
        finally:
            _close_workspace()
    else:
        with ProcessPoolExecutor(max_workers=workers, initializer=_quiet) as pool:
            futures = {pool.submit(run_cell, plan): i for i, plan in enumerate(plans)}
            for future in as_completed(futures):
                done(futures[future], future.result())
    report = build_report(opts, names, cells, [r for r in results if r is not None], sim)
    if opts["fork_sandbox"] != "none":
        report["fork"] = measure_fork(FIXTURES[names[0]], opts["fork_sandbox"], opts["fork_repeats"])
    report["seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(report, indent=1)
    if opts.get("output"):
        Path(opts["output"]).write_text(text + "\n")
    click.echo(text)


def _quiet() -> None:
    import atexit
    import logging

    logging.getLogger("LiteLLM").setLevel(logging.ERROR)
    atexit.register(_close_workspace)


def build_report(
    opts: dict[str, Any],
    names: list[str],
    cells: list[Cell],
    results: list[tuple[list[Trial], dict[str, Any]]],
    sim: dict[str, Any],
) -> dict[str, Any]:
    from simulation.model import DEFAULT_AUC, PUBLISHED_VERIFIER_ACCURACY

    grid = [cell_report(c, trials, info) for c, (trials, info) in zip(cells, results, strict=True)]
    every = [t for trials, _ in results for t in trials]
    pooled = {t.label: [] for t in every}  # type: dict[str, list[Trial]]
    for t in every:
        pooled[t.label].append(t)
    diffs: list[float] = []
    for trials, _ in results:
        by: dict[int, dict[str, Trial]] = {}
        for t in trials:
            by.setdefault(t.trial, {})[t.label] = t
        diffs += [float(v["tree"].resolved) - float(v["best-of-n"].resolved) for v in by.values()]
    verdicts = [g["verdict"] for g in grid]
    return {
        "bench": "search",
        "settings": {
            "tasks": names,
            "trials_per_cell": opts["trials"],
            "budget": f"{opts['budget']:g} x the mean total cost of one single rollout in the cell",
            "execution": (
                "replay: each command run for real on the host once per repository state, then replayed "
                "with its measured duration (simulation.replay)"
                if opts["execution"] == "replay"
                else f"{opts['execution']}: every command run"
            ),
            "grid": {
                "auc": sorted({c.auc for c in cells}),
                "repro_detectable": sorted({c.repro_detectable for c in cells}),
                "difficulty": list(dict.fromkeys(c.difficulty for c in cells)),
            },
            "simulation": sim,
            "default_auc": f"{DEFAULT_AUC} (published patch-verifier accuracy {PUBLISHED_VERIFIER_ACCURACY} -> AUC)",
            "prices": {
                "input_token_usd": opts["price_input"],
                "output_token_usd": opts["price_output"],
                "sandbox_second_usd": opts["sandbox_price"],
            },
            "search_overrides": parse_sets(opts["search_set"]),
        },
        "headline": {
            "cells": len(grid),
            "tree_wins": verdicts.count("tree wins"),
            "tree_loses": verdicts.count("tree loses"),
            "no_difference_measured": verdicts.count("no difference measured"),
            "pooled_tree_minus_best_of_n": {
                "pairs": len(diffs),
                "mean_difference": round(statistics.fmean(diffs), 4) if diffs else 0.0,
                "ci95_bootstrap": bootstrap_mean(diffs),
            },
            "pooled": {label: strategy_summary(rows) for label, rows in pooled.items()},
        },
        "grid": grid,
        "trials": [asdict(t) for t in every] if opts.get("output") else None,
    }


def measure_fork(fixture: Fixture, sandbox: str, repeats: int) -> dict[str, Any]:
    """Median seconds to fork a node in a warm sandbox vs a fresh sandbox + restore from the patch."""
    from search.pool import SandboxPool
    from sweagent.config import SandboxConfig
    from sweagent.sandbox.base import RepoState
    from sweagent.sandbox.factory import open_sandbox
    from verifiers.execution import ExecutionConfig

    workdir = Path(tempfile.mkdtemp(prefix="swe-ttc-bench-fork-"))
    try:
        repo, commit = fixture.make_repo(workdir / "fork-repo")
        config = SandboxConfig(kind=sandbox, network="none")
        pool = SandboxPool(
            config,
            size=1,
            repo_path=str(repo),
            commit=commit,
            image=None,
            run_label="bench-fork",
            execution=ExecutionConfig(),
        )
        warm: list[float] = []
        fresh: list[float] = []
        with pool:
            slot = pool.slots[0]
            pool.ensure(slot)
            box = slot.sandbox
            assert box is not None
            root = box.snapshot()
            box.write_file("reproduce_issue.py", fixture.repro_right)
            edit = fixture.right
            box.write_file(edit.path, box.read_file(edit.path).replace(edit.old, edit.new, 1))
            node = box.snapshot()
            for _ in range(repeats):
                pool.fork(slot, root)
                seconds, how, _ = pool.fork(slot, node)
                assert how == "warm"
                warm.append(seconds)
            portable = RepoState(base_commit=node.base_commit, patch=node.patch)
            for _ in range(repeats):
                t0 = time.perf_counter()
                other = open_sandbox(pool.config, repo_path=str(repo), commit=commit, run_label="bench-fork")
                try:
                    other.restore(portable)
                    fresh.append(time.perf_counter() - t0)
                finally:
                    other.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    w, f = statistics.median(warm), statistics.median(fresh)
    return {
        "sandbox": sandbox,
        "repeats": repeats,
        "warm_fork_ms_median": round(w * 1000, 2),
        "fresh_sandbox_and_restore_ms_median": round(f * 1000, 2),
        "speedup": round(f / w, 1) if w else None,
    }
