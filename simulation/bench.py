"""`swe-ttc bench search`: single vs best-of-N vs tree at equal budgets, and forking vs a fresh container.

Setting. The fixture tasks of `search.fixtures` (tiny repositories with a real bug), solved in real
sandboxes by the simulated model of `search.stochastic` (per-stage success rates and reward-model
noise are options), over many seeds. Each (task, seed) runs every strategy with the same per-node
seeds, so the comparison is paired. "Resolved" is decided afterwards by the hidden tests, which the
search never sees. One warm sandbox per task is reused across seeds (restored to the base commit
before each search), so the verifiers' result cache is shared too.

Output: one JSON object: per strategy the resolve rate with a Wilson 95% interval and the rollouts
spent (mean, bootstrap 95% interval); paired comparisons with bootstrap intervals and the targets
(tree ≥ best-of-N at equal budget; tree at half the budget reaches best-of-N's rate); and the fork
measurement: restoring a node's state in a warm Docker sandbox versus starting a fresh container and
restoring the state there from its patch.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import yaml
from pydantic import ValidationError

from search.config import SearchConfig
from search.fixtures import FIXTURES, Fixture, Grader
from sweagent.errors import UserError

if TYPE_CHECKING:
    from search.stochastic import StochasticParams


@dataclass
class Trial:
    task: str
    seed: int
    label: str
    resolved: bool
    rollouts: float
    verified: bool
    exit_status: str
    tokens: int
    cost: float
    seconds: float


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
    return (round(means[int(0.025 * reps)], 4), round(means[int(0.975 * reps) - 1], 4))


def strategies(budget: float) -> dict[str, tuple[str, float]]:
    """label → (strategy, budget): the baselines at the full budget, the tree at full and half."""
    half = budget / 2
    return {
        "single@1": ("single", 1.0),
        f"best-of-n@{budget:g}": ("best-of-n", budget),
        f"tree@{budget:g}": ("tree", budget),
        f"best-of-n@{half:g}": ("best-of-n", half),
        f"tree@{half:g}": ("tree", half),
    }


def run_task(
    fixture: Fixture,
    params: StochasticParams,
    seeds: list[int],
    budget: float,
    sandbox: str,
    workdir: Path,
    grader: Grader,
    search_overrides: dict[str, Any],
) -> list[Trial]:
    """Every strategy on one fixture for every seed, in one warm sandbox."""
    from search.pool import SandboxPool
    from search.runner import run_search
    from search.stochastic import register_stochastic
    from sweagent.config import RunConfig
    from verifiers.execution import ExecutionConfig

    repo, commit = fixture.make_repo(workdir / "repo")
    task = fixture.task(repo, commit)
    model = register_stochastic(f"bench-{fixture.name}", fixture, params)
    base = RunConfig.model_validate(
        {
            "model": {"name": model, "action_format": "tool_calls", "cost_limit": 0},
            "sandbox": {"kind": sandbox, "network": "none", "command_timeout": 60},
            "agent": {"localize_hint": False},
        }
    )
    trials: list[Trial] = []
    pool = SandboxPool(
        base.sandbox,
        size=1,
        repo_path=str(repo),
        commit=commit,
        image=None,
        run_label=f"bench-search-{fixture.name}",
        execution=ExecutionConfig(),
    )
    with pool:
        for seed in seeds:
            for label, (strategy, rollouts) in strategies(budget).items():
                search = SearchConfig(strategy=strategy, budget=rollouts, seed=seed, **search_overrides)
                config = base.model_copy(update={"search": search})
                run_dir = workdir / "runs" / f"{seed}-{label.replace('@', '-')}"
                t0 = time.perf_counter()
                traj = run_search(task, config, run_dir, repo_path=str(repo), pool=pool)
                seconds = time.perf_counter() - t0
                stats = traj.stats.get("search", {})
                trials.append(
                    Trial(
                        task=fixture.name,
                        seed=seed,
                        label=label,
                        resolved=grader.resolved(fixture, repo, traj.patch),
                        rollouts=float(stats.get("rollouts_spent", 0.0)),
                        verified=bool(stats.get("verified_candidates", 0))
                        and traj.exit_status == "submitted",
                        exit_status=str(traj.exit_status),
                        tokens=int(traj.stats.get("tokens", 0)),
                        cost=float(traj.stats.get("cost", 0.0)),
                        seconds=seconds,
                    )
                )
                shutil.rmtree(run_dir, ignore_errors=True)
    return trials


def summarise(trials: list[Trial], budget: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, (strategy, rollouts) in strategies(budget).items():
        rows = [t for t in trials if t.label == label]
        resolved = sum(t.resolved for t in rows)
        spent = [t.rollouts for t in rows]
        out[label] = {
            "strategy": strategy,
            "budget_rollouts": rollouts,
            "trials": len(rows),
            "resolved": resolved,
            "resolve_rate": round(resolved / len(rows), 4) if rows else 0.0,
            "resolve_rate_ci95_wilson": wilson(resolved, len(rows)),
            "rollouts_spent_mean": round(statistics.fmean(spent), 4) if spent else 0.0,
            "rollouts_spent_ci95_bootstrap": bootstrap_mean(spent),
            "stopped_on_verified_candidate": sum(t.verified for t in rows),
            "tokens_mean": round(statistics.fmean(t.tokens for t in rows)) if rows else 0,
            "cost_mean_usd": round(statistics.fmean(t.cost for t in rows), 6) if rows else 0.0,
            "seconds_mean": round(statistics.fmean(t.seconds for t in rows), 3) if rows else 0.0,
        }
    return out


def paired(trials: list[Trial], a: str, b: str, reps: int = 2000) -> dict[str, Any]:
    """Resolve-rate difference a − b over the same (task, seed) pairs, with a bootstrap interval."""
    by_key: dict[tuple[str, int], dict[str, Trial]] = {}
    for t in trials:
        by_key.setdefault((t.task, t.seed), {})[t.label] = t
    diffs = [float(v[a].resolved) - float(v[b].resolved) for v in by_key.values() if a in v and b in v]
    mean = statistics.fmean(diffs) if diffs else 0.0
    return {
        "a": a,
        "b": b,
        "pairs": len(diffs),
        "rate_difference": round(mean, 4),
        "ci95_bootstrap": bootstrap_mean(diffs, reps),
    }


def measure_fork(fixture: Fixture, sandbox: str, repeats: int, workdir: Path) -> dict[str, Any]:
    """Median seconds to fork a node in a warm sandbox vs a fresh sandbox + restore from the patch."""
    from search.pool import SandboxPool
    from sweagent.config import SandboxConfig
    from sweagent.sandbox.base import RepoState
    from sweagent.sandbox.factory import open_sandbox
    from verifiers.execution import ExecutionConfig

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
        # a node two stages deep: a reproduction script and an edit on top of the base commit
        box.write_file("reproduce_issue.py", fixture.repro_right)
        edit = fixture.right
        box.write_file(edit.path, box.read_file(edit.path).replace(edit.old, edit.new, 1))
        node = box.snapshot()
        for _ in range(repeats):
            pool.fork(slot, root)
            seconds, how, _ = pool.fork(slot, node)
            assert how == "warm"
            warm.append(seconds)
        portable = RepoState(base_commit=node.base_commit, patch=node.patch)  # no tree id: a new sandbox
        for _ in range(repeats):
            t0 = time.perf_counter()
            other = open_sandbox(pool.config, repo_path=str(repo), commit=commit, run_label="bench-fork")
            try:
                other.restore(portable)
                fresh.append(time.perf_counter() - t0)
                assert "reproduce_issue.py" in other.run("ls").output
            finally:
                other.close()
    w, f = statistics.median(warm), statistics.median(fresh)
    return {
        "sandbox": sandbox,
        "repeats": repeats,
        "warm_fork_ms_median": round(w * 1000, 2),
        "fresh_sandbox_and_restore_ms_median": round(f * 1000, 2),
        "speedup": round(f / w, 1) if w else None,
        "target": ">= 4x",
        "target_met": bool(w and f / w >= 4),
    }


def parse_sets(items: tuple[str, ...]) -> dict[str, Any]:
    """`KEY=VALUE` search overrides (values read as YAML), checked against SearchConfig."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or key not in SearchConfig.model_fields or key in ("strategy", "budget", "seed"):
            raise UserError(
                f"--set {item}: write KEY=VALUE with KEY a search setting other than strategy/budget/seed"
            )
        out[key] = yaml.safe_load(raw)
    try:
        SearchConfig(**out)
    except ValidationError as exc:
        raise UserError(f"--set: {exc.errors()[0]['msg'].lower()}") from None
    return out


@click.command("search")
@click.option("--seeds", default=10, show_default=True, help="seeds per task")
@click.option(
    "--budget", default=8.0, show_default=True, help="rollouts for best-of-n and tree (tree also at half)"
)
@click.option("--tasks", default=",".join(FIXTURES), show_default=True, help="fixture tasks, comma-separated")
@click.option(
    "--sandbox",
    type=click.Choice(["docker", "local"]),
    default="docker",
    show_default=True,
    help="sandbox of the many-seed loop",
)
@click.option(
    "--fork-sandbox", type=click.Choice(["docker", "local", "none"]), default="docker", show_default=True
)
@click.option("--fork-repeats", default=5, show_default=True)
@click.option("--workers", default=3, show_default=True, help="tasks run at once (one warm sandbox each)")
@click.option("--p-reproduce", default=0.5, show_default=True, type=float)
@click.option("--p-localize", default=0.5, show_default=True, type=float, help="given a right reproduction")
@click.option(
    "--p-localize-no-repro", default=0.25, show_default=True, type=float, help="given a wrong reproduction"
)
@click.option(
    "--p-patch", default=0.3, show_default=True, type=float, help="right edit, given a right localisation"
)
@click.option(
    "--p-incomplete",
    default=0.2,
    show_default=True,
    type=float,
    help="edit that passes the issue's example only",
)
@click.option("--p-patch-wrong-loc", default=0.05, show_default=True, type=float)
@click.option(
    "--rm-signal",
    default=1.5,
    show_default=True,
    type=float,
    help="reward-model logit when the work is right",
)
@click.option("--rm-noise", default=1.0, show_default=True, type=float, help="reward-model logit noise (std)")
@click.option(
    "--p-crash", default=0.0, show_default=True, type=float, help="chance a stage's model call fails"
)
@click.option("--parallel", default=1, show_default=True, help="expansions at once within a search")
@click.option(
    "--set",
    "search_set",
    multiple=True,
    metavar="KEY=VALUE",
    help="search config override, e.g. exploration=0.1",
)
@click.option("--output", type=click.Path(dir_okay=False), help="also write the JSON here")
def bench_search(**opts: Any) -> None:
    """single vs best-of-N vs tree at equal budgets on fixture tasks; prints JSON."""
    names = [n.strip() for n in opts["tasks"].split(",") if n.strip()]
    unknown = [n for n in names if n not in FIXTURES]
    if unknown or not names:
        raise UserError(
            f"unknown fixture task(s) {', '.join(unknown) or '(none)'}: choose from {', '.join(FIXTURES)}"
        )
    if opts["seeds"] < 1 or opts["budget"] < 1:
        raise UserError("--seeds and --budget must be at least 1")
    from search.stochastic import StochasticParams  # imports litellm: after the cheap checks

    try:
        params = StochasticParams(**{k: opts[k] for k in StochasticParams.model_fields})
    except ValidationError as exc:
        first = exc.errors()[0]
        option = "--" + str(first["loc"][0]).replace("_", "-")
        raise UserError(f"{option}: {first['msg'].lower()}") from None
    if opts["sandbox"] == "docker" or opts["fork_sandbox"] == "docker":
        from sweagent.sandbox.docker_sandbox import docker_client

        docker_client()  # one clear line when Docker is unavailable
    started = time.perf_counter()
    seeds = list(range(opts["seeds"]))
    grader = Grader()
    overrides = {"parallel": opts["parallel"], **parse_sets(opts["search_set"])}
    workdir = Path(tempfile.mkdtemp(prefix="swe-ttc-bench-search-"))
    trials: list[Trial] = []
    lock = threading.Lock()
    try:

        def one(name: str) -> None:
            rows = run_task(
                FIXTURES[name],
                params,
                seeds,
                opts["budget"],
                opts["sandbox"],
                workdir / name,
                grader,
                overrides,
            )
            with lock:
                trials.extend(rows)

        with ThreadPoolExecutor(max_workers=max(1, opts["workers"])) as executor:
            for future in [executor.submit(one, n) for n in names]:
                future.result()
        loop_seconds = time.perf_counter() - started
        fork = (
            {"skipped": True}
            if opts["fork_sandbox"] == "none"
            else measure_fork(FIXTURES[names[0]], opts["fork_sandbox"], opts["fork_repeats"], workdir)
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    budget = opts["budget"]
    half = budget / 2
    summary = summarise(trials, budget)
    bon, tree, tree_half = f"best-of-n@{budget:g}", f"tree@{budget:g}", f"tree@{half:g}"
    same = paired(trials, tree, bon)
    halfcmp = paired(trials, tree_half, bon)
    report = {
        "bench": "search",
        "settings": {
            "tasks": names,
            "seeds": len(seeds),
            "budget_rollouts": budget,
            "rollout": "reproduce + localize + patch; one stage expansion = 1/3 rollout",
            "loop_sandbox": opts["sandbox"],
            "parallel": opts["parallel"],
            "model": params.model_dump(),
        },
        "strategies": summary,
        "comparisons": {
            "tree_vs_best_of_n_same_budget": {
                **same,
                "target": "tree resolves at least as many",
                "target_met": summary[tree]["resolved"] >= summary[bon]["resolved"],
            },
            "tree_half_budget_vs_best_of_n": {
                **halfcmp,
                "target": "tree at half the budget reaches best-of-n's rate",
                "target_met": summary[tree_half]["resolved"] >= summary[bon]["resolved"],
            },
            "rollouts_spent_tree_over_best_of_n": round(
                summary[tree]["rollouts_spent_mean"] / max(summary[bon]["rollouts_spent_mean"], 1e-9), 3
            ),
        },
        "fork": fork,
        "seconds": {"loop": round(loop_seconds, 1), "total": round(time.perf_counter() - started, 1)},
    }
    text = json.dumps(report, indent=2)
    if opts.get("output"):
        Path(opts["output"]).write_text(text + "\n")
    click.echo(text)
