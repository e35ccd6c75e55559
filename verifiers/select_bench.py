"""`swe-ttc bench select`: how well selection picks, against the ground truth, with intervals.

1. **Judge** every instance's candidates exactly as `swe-ttc select` does (the same `SelectRunner`,
   public tasks only), into `<run>/select/` (resumable, result cache on disk).
2. **Grade** every distinct candidate once with `eval`'s `Evaluator` into `<run>/grades/` (reused
   when the same patch was graded before). Grades are read only after judging has finished and are
   used for scoring alone.
3. For each budget N and each of `--draws` draws, take N of an instance's submissions at random
   (without replacement; all of them when it has fewer) and let each method pick one:
   `random`, `majority_vote` (largest cluster of equal normalised diffs, empty patches left out),
   each verifier alone (`apply`, `regression`, `reproduction`, `static`, `judge` when configured:
   highest value, no evidence counting 0.5, ties at random among the drawn submissions), `full` (the
   selection rule of the config, on the drawn submissions), and `oracle` (resolved if any drawn
   candidate is).
   A method's resolved rate is the mean over instances of its success rate over draws; intervals
   are 95 % bootstrap intervals over instances.
4. **AUC** of each verifier, and of the full selection score (`verifiers.selection`, computed on each
   instance's whole pool), at telling resolved from unresolved distinct candidates.

Prints one JSON object.
"""

from __future__ import annotations

import json
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from sweagent.commands.select import build_select_config, common_options
from sweagent.errors import UserError
from verifiers.select_stats import InstanceData, auc, bootstrap_ci, mean, pick, verifier_value
from verifiers.types import Candidate, Judged, Score, Verdict

EXTRA_ARGS = {"ignore_unknown_options": True, "allow_extra_args": True}
BASE_METHODS = ["random", "majority_vote", "apply", "regression", "reproduction", "static"]


def parse_budgets(text: str) -> list[int]:
    try:
        budgets = sorted({int(b) for b in text.split(",") if b.strip()})
    except ValueError:
        raise UserError(f"--budgets `{text}` must be comma-separated whole numbers, e.g. 1,2,4,8") from None
    if not budgets or budgets[0] < 1:
        raise UserError(f"--budgets `{text}` must name budgets of at least 1 candidate")
    return budgets


def judged_from_record(entry: dict[str, Any]) -> Judged:
    candidate = Candidate(
        id=entry["id"],
        patch=entry["patch"],
        metadata={"identity": entry["identity"], "sources": entry["sources"]},
    )
    return Judged(
        candidate=candidate,
        verdicts=[Verdict.model_validate(v) for v in entry.get("verdicts", [])],
        scores={k: Score.model_validate(s) for k, s in entry.get("scores", {}).items()},
    )


# ---- grading -----------------------------------------------------------------------------------------


def grade_all(
    tasks: dict[str, Any],
    records: dict[str, dict[str, Any]],
    grades_dir: Path,
    workers: int,
    run_label: str,
    namespace: str | None,
    timeout: float,
) -> dict[tuple[str, str], str]:
    """(instance id, candidate id) -> eval status, each distinct patch graded once (cached on disk)."""
    from sweagent.sandbox import cleanup
    from sweagent.swebench import containers
    from sweagent.swebench.evaluation import EvalOptions, Evaluator
    from sweagent.swebench.images import docker_client
    from sweagent.swebench.predictions import make_prediction

    client = docker_client(workers)
    jobs = [(iid, cand) for iid, record in records.items() for cand in record["candidates"]]

    def grade(job: tuple[str, dict[str, Any]]) -> tuple[tuple[str, str], str]:
        iid, cand = job
        options = EvalOptions(
            eval_dir=grades_dir / cand["identity"],
            run_id=run_label,
            workers=1,
            timeout=timeout,
            namespace=namespace,
        )
        pred = make_prediction(iid, "bench-select", cand["patch"])
        result = Evaluator(client, options).run({iid: tasks[iid]}, {iid: pred})[iid]
        return (iid, cand["id"]), result.status

    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="grade")
    try:
        return dict(pool.map(grade, jobs))
    except BaseException:
        cleanup.release_all()
        containers.remove_run_containers(client, f"eval.{run_label}"[:120])
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ---- the measurement -----------------------------------------------------------------------------------


def rate_summary(per_instance: list[float], rng: random.Random) -> dict[str, Any]:
    return {
        "resolved_rate": round(mean(per_instance), 4),
        "ci95": bootstrap_ci(per_instance, lambda s: mean(s), rng),  # type: ignore[arg-type]
    }


def measure(
    data: list[InstanceData],
    methods: list[str],
    budgets: list[int],
    draws: int,
    seed: int,
    config: Any,
) -> dict[str, Any]:
    """Resolved rates per budget and method, paired differences, AUCs. Pure; seeded."""
    rng = random.Random(seed)
    ci_rng = random.Random(seed + 1)
    out: dict[str, Any] = {}
    for budget in budgets:
        success = {m: [0.0] * len(data) for m in methods}
        sizes = []
        for _ in range(draws):
            for k, inst in enumerate(data):
                n = min(budget, len(inst.submissions))
                drawn = rng.sample(inst.submissions, n)
                sizes.append(n)
                for method in methods:
                    chosen = pick(method, inst, drawn, rng, config.selection)
                    if chosen is not None and inst.resolved[chosen]:
                        success[method][k] += 1 / draws
        rates = {m: rate_summary(success[m], ci_rng) for m in methods}
        diffs = {}
        for other in ("random", "majority_vote"):
            paired = [f - o for f, o in zip(success["full"], success[other], strict=True)]
            diffs[f"full_minus_{other}"] = rate_summary(paired, ci_rng)
            diffs[f"full_minus_{other}"]["difference"] = diffs[f"full_minus_{other}"].pop("resolved_rate")
        out[str(budget)] = {"mean_candidates_drawn": round(mean(sizes), 3), "methods": rates, **diffs}
    return out


def aucs(data: list[InstanceData], verifiers: list[str], seed: int) -> dict[str, Any]:
    """AUC of each verifier and of the full selection score over distinct candidates, with intervals."""
    rng = random.Random(seed + 2)

    def value_of(name: str, inst: InstanceData, i: int) -> float:
        return inst.full_scores[i] if name == "full_selection" else verifier_value(inst.judged[i], name)

    out = {}
    for name in [*verifiers, "full_selection"]:

        def stat(sample: list[Any], name: str = name) -> float | None:
            scores = [value_of(name, inst, i) for inst in sample for i in range(len(inst.judged))]
            labels = [inst.resolved[i] for inst in sample for i in range(len(inst.judged))]
            return auc(scores, labels)

        value = stat(data)
        with_evidence = sum(
            1
            for inst in data
            for i in range(len(inst.judged))
            if name == "full_selection" or _has_evidence(inst.judged[i], name)
        )
        total = sum(len(inst.judged) for inst in data)
        out[name] = {
            "auc": None if value is None else round(value, 4),
            "ci95": bootstrap_ci(data, stat, rng),
            "candidates_with_evidence": f"{with_evidence}/{total}",
        }
    return out


def _has_evidence(item: Judged, name: str) -> bool:
    if name in ("apply", "regression", "reproduction"):
        verdict = item.verdict(name)
        return verdict is not None and verdict.passed is not None
    score = item.scores.get(name)
    return score is not None and score.value is not None


def system_rates(data: list[InstanceData], seed: int) -> dict[str, Any]:
    """Each system on its own: the share of instances where its submission resolved (several: their mean)."""
    rng = random.Random(seed + 3)
    systems = sorted(
        {src["system"] for inst in data for j in inst.judged for src in j.candidate.metadata["sources"]}
    )
    out = {}
    for system in systems:
        per_instance = []
        for inst in data:
            hits = [
                inst.resolved[i]
                for i, j in enumerate(inst.judged)
                for src in j.candidate.metadata["sources"]
                if src["system"] == system
            ]
            per_instance.append(mean([float(h) for h in hits]) if hits else 0.0)
        out[system] = rate_summary(per_instance, rng)
    return out


# ---- the command ---------------------------------------------------------------------------------------


@click.command("select", context_settings=EXTRA_ARGS)
@common_options
@click.option("--budgets", default="1,2,4,8", show_default=True, help="candidates drawn per instance")
@click.option("--draws", type=click.IntRange(min=1), default=50, show_default=True, help="draws per budget")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--run-id", help="folder for judging and grades (default: bench-select__<dataset>__<hash>)")
@click.option("--eval-timeout", type=click.FloatRange(min=1), default=1800, show_default=True)
@click.pass_context
def bench_select(ctx: click.Context, **opts: Any) -> None:
    """Resolved rate of random, majority vote, each verifier, full selection and oracle; AUCs; one JSON."""
    from sweagent.swebench.dashboard import PlainDashboard
    from verifiers.select_inputs import default_run_id, load_inputs
    from verifiers.select_run import FINAL_STATUSES, SelectRunner, read_record

    budgets = parse_budgets(opts["budgets"])
    config = build_select_config(opts, ctx.args)
    loaded = load_inputs(config.inputs)
    run_id = opts["run_id"] or default_run_id("bench-select", config.inputs)
    run_dir = Path(config.output_dir) / run_id
    log = Console(file=sys.stderr, soft_wrap=True)
    started = time.perf_counter()
    SelectRunner(
        {iid: t.public() for iid, t in loaded.tasks.items()},
        loaded.pools,
        config,
        run_dir / "select-run",
        missing=loaded.missing,
        dataset_source=loaded.source,
        dashboard=PlainDashboard(log),
    ).run()
    judging = time.perf_counter() - started
    records = {}
    left_out = {}
    for iid in loaded.pools:
        record = read_record(run_dir / "select-run", iid)
        if record is None or record["status"] not in FINAL_STATUSES:
            left_out[iid] = (record or {}).get("detail", "not judged")
        else:
            records[iid] = record
    if not records:
        raise UserError("no instance could be judged: see the lines above (missing images or dataset rows?)")

    started = time.perf_counter()
    namespace = config.inputs.image_namespace or None
    statuses = grade_all(
        loaded.tasks,
        records,
        run_dir / "grades",
        config.workers,
        f"bench-select.{run_id}",
        namespace,
        opts["eval_timeout"],
    )
    grading = time.perf_counter() - started

    started = time.perf_counter()
    data = []
    for iid, record in records.items():
        judged = [judged_from_record(c) for c in record["candidates"]]
        data.append(
            InstanceData(
                instance_id=iid,
                judged=judged,
                resolved=[statuses[(iid, c["id"])] == "resolved" for c in record["candidates"]],
                submissions=[i for i, c in enumerate(record["candidates"]) for _ in c["sources"]],
                full_scores=[float(c.get("score") or 0.0) for c in record["candidates"]],
            )
        )
    has_judge = any("judge" in j.scores for inst in data for j in inst.judged)
    verifiers = ["apply", "regression", "reproduction", "static", *(["judge"] if has_judge else [])]
    methods = [*BASE_METHODS, *(["judge"] if has_judge else []), "full", "oracle"]
    results = measure(data, methods, budgets, opts["draws"], opts["seed"], config)
    discrimination = aucs(data, verifiers, opts["seed"])
    analysis = time.perf_counter() - started
    grade_counts: dict[str, int] = {}
    for status in statuses.values():
        grade_counts[status] = grade_counts.get(status, 0) + 1
    full_auc = discrimination["full_selection"]
    report = {
        "bench": "select",
        "dataset": loaded.source,
        "candidate_files": config.inputs.candidates,
        "instances": len(data),
        "instances_left_out": left_out,
        "submissions": sum(len(inst.submissions) for inst in data),
        "distinct_candidates": sum(len(inst.judged) for inst in data),
        "resolved_candidates": sum(sum(inst.resolved) for inst in data),
        "eval_statuses": grade_counts,
        "share_with_any_resolved": round(mean([float(inst.any_resolved) for inst in data]), 4),
        "full_selection_auc": full_auc["auc"],
        "full_selection_auc_ci95": full_auc["ci95"],
        "full_selection_auc_note": (
            "AUC of the selection score (filters, votes, reproduction, rewards) at telling resolved from "
            "unresolved candidates: the default discrimination of a simulated reward model"
        ),
        "budgets": results,
        "auc": discrimination,
        "systems_alone": system_rates(data, opts["seed"]),
        "selection": config.selection.model_dump(mode="json"),
        "judge_model": config.judge.model,
        "draws": opts["draws"],
        "seed": opts["seed"],
        "seconds": {
            "judging": round(judging, 2),
            "grading": round(grading, 2),
            "analysis": round(analysis, 2),
        },
        "run_dir": str(run_dir),
    }
    click.echo(json.dumps(report, indent=2))
