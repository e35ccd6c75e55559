"""`swe-ttc bench localize`: localisation quality on a SWE-bench-format dataset, against plain BM25.

Each instance is read at its base commit straight from git (DIR/<owner>__<name>, bare or not). The
localiser and the baseline see only `task.public()` (the problem statement) and the files at the base
commit; the gold patch reaches `score_*` alone. Instances that share a commit share one index, as they
would in a real run (the index cache); index time is reported per build, query time per instance.

Instances are split in two halves by a hash of their id (`split_of`): weights are tuned on the `tune`
half only and the `held_out` half is reported alongside, so a reader can see whether the tuning carried
over. Misses (file all@5) are put into causes (`miss_cause`), and the figures are repeated for issue
shapes that localise differently (`by_shape`: multi-file fixes, issues with a traceback). Co-change
needs history: the summary says how many instances' repositories had any usable commits before the base.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import click
import numpy as np

from sweagent.errors import UserError
from sweagent.localize.api import query, read_cochange
from sweagent.localize.build import build_index
from sweagent.localize.cochange import HistoryReader
from sweagent.localize.config import LocalizeConfig
from sweagent.localize.files import SOURCE
from sweagent.localize.gold import GoldTargets, gold_targets
from sweagent.localize.index import RepoIndex
from sweagent.localize.issue import parse_issue
from sweagent.localize.snapshot import read_git_files, resolve_commit
from sweagent.task import Task

KS = (1, 3, 5, 10)
DIAGNOSIS_DEPTH = 50
LEXICAL = frozenset({"bm25", "bm25_path", "bm25_function"})
HALVES = ("tune", "held_out")
# Issue shapes scored apart: fixes spanning several files, and issues that paste a traceback
SHAPES = ("multi_file", "single_file", "traceback", "no_traceback")


def split_of(instance_id: str) -> str:
    """`tune` or `held_out`, fixed by a hash of the instance id (about half each, any dataset)."""
    return HALVES[hashlib.sha1(instance_id.encode()).digest()[0] % 2]


def wilson(successes: int, n: int, z: float = 1.96) -> list[float]:
    """Wilson score 95% interval of a proportion."""
    if n == 0:
        return [0.0, 1.0]
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


def paired_interval(diffs: list[int], z: float = 1.96) -> list[float]:
    """Normal-approximation 95% interval of a mean paired difference (ours minus BM25 per instance)."""
    n = len(diffs)
    if n < 2:
        return [-1.0, 1.0]
    mean = sum(diffs) / n
    sd = statistics.stdev(diffs)
    return [round(mean - z * sd / math.sqrt(n), 4), round(mean + z * sd / math.sqrt(n), 4)]


def miss_cause(gold: set[str], diagnosis: dict[str, dict[str, Any]], top: list[str]) -> str:
    """Why the gold files are not all in the top 5 (files): the first that applies of

    - multi-file: some gold file is in the top 5, another is not;
    - ranked 6-10: the best-ranked missing gold file is just outside;
    - outranked (named): a missing gold file has non-lexical evidence (names, traceback, graph ...)
      but ranks below 10;
    - outranked (words only): it has only BM25 evidence and ranks below 10;
    - no evidence: no signal reached it (not in the top DIAGNOSIS_DEPTH).
    """
    found = gold & set(top[:5])
    missing = gold - found
    if found:
        return "multi-file: partner not in top 5"
    ranks = [diagnosis[g]["rank"] for g in missing if g in diagnosis]
    if ranks and min(ranks) <= 10:
        return "ranked 6-10"
    if not ranks:
        return "no evidence (not in top 50)"
    best = min((g for g in missing if g in diagnosis), key=lambda g: diagnosis[g]["rank"])
    if set(diagnosis[best]["signals"]) - LEXICAL:
        return "outranked (named or reached, below 10)"
    return "outranked (words only, below 10)"


class PlainBM25:
    """The baseline: bm25s with its own default tokeniser (English stop words) over whole texts."""

    def __init__(self, keys: list[Any], texts: list[str]) -> None:
        self.keys = keys
        self.model = bm25s.BM25()
        if texts:
            self.model.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)

    def rank(self, text: str, k: int) -> list[Any]:
        tokens = bm25s.tokenize([text], stopwords="en", return_ids=False, show_progress=False)[0]
        tokens = [t for t in tokens if t in self.model.vocab_dict] if self.keys else []
        if not tokens:
            return []
        scores = self.model.get_scores(tokens)
        order = np.argsort(-scores, kind="stable")[:k]
        return [self.keys[i] for i in order if scores[i] > 0]


@dataclass
class CommitContext:
    """One repository state: our index, the baselines, and what building them cost."""

    index: RepoIndex
    files_bm25: PlainBM25
    functions_bm25: PlainBM25
    index_seconds: float
    index_cpu_seconds: float  # both processes; wall time on a busy machine says little
    baseline_seconds: float
    cold: bool = True  # most of the source parsed by this build, not known from an earlier commit's


@dataclass(frozen=True)
class BuildTimes:
    """What the summary keeps of a CommitContext once its instances are scored: its figures alone. The
    index is let go, as a user's process lets it go (or keeps a few, `memory_cache`): a run that kept every
    commit's index would make each later build's closing garbage collection walk all of them."""

    index_seconds: float
    index_cpu_seconds: float
    baseline_seconds: float
    cold: bool

    @classmethod
    def of(cls, ctx: CommitContext) -> BuildTimes:
        return cls(ctx.index_seconds, ctx.index_cpu_seconds, ctx.baseline_seconds, ctx.cold)


def build_context(repo_dir: Path, sha: str, config: LocalizeConfig) -> CommitContext:
    started = time.perf_counter()
    reader = HistoryReader(repo_dir, sha, config.cochange_commits) if config.cochange_commits > 0 else None
    files = read_git_files(repo_dir, sha, config.max_file_bytes)
    index = build_index(
        files,
        f"{repo_dir}@{sha}",
        k1=config.k1,
        b=config.b,
        parallel_min_bytes=config.parallel_min_bytes,
        max_file_bytes=config.max_file_bytes,
        max_ast_bytes=config.max_ast_bytes,
    )
    if reader is not None:
        index.cochange = read_cochange(reader, config)
    index_seconds = time.perf_counter() - started
    started = time.perf_counter()
    sources = [i for i, kind in enumerate(index.kinds) if kind == SOURCE]
    texts = {i: files[index.paths[i]].decode("utf-8", "replace") for i in sources}
    files_bm25 = PlainBM25([index.paths[i] for i in sources], [texts[i] for i in sources])
    keys, docs = [], []
    for fid, (first, last) in index.file_symbols.items():
        lines = texts[fid].split("\n") if fid in texts else []
        for sym in index.symbols[first:last]:
            if sym.kind != "class" and lines:
                keys.append((index.paths[fid], sym.qualname))
                docs.append("\n".join(lines[sym.start - 1 : sym.end]))
    functions_bm25 = PlainBM25(keys, docs)
    cpu = index.stats.cpu_seconds + index.stats.worker_cpu_seconds
    cold = index.stats.reused_share < 0.5  # (empty `__init__.py` files are shared by every repository)
    return CommitContext(
        index, files_bm25, functions_bm25, index_seconds, cpu, time.perf_counter() - started, cold
    )


@dataclass
class Prediction:
    files: list[str]
    diagnosis: dict[str, Any]  # per file of the deeper ranking: rank, signals, category (for miss causes)
    functions: list[tuple[str, str]]
    bm25_files: list[str]
    bm25_functions: list[tuple[str, str]]
    query_seconds: float
    query_cpu_seconds: float
    bm25_query_seconds: float


def predict(public: Task, ctx: CommitContext, config: LocalizeConfig) -> Prediction:
    """Rankings from the public view of a task only: callers pass `task.public()`, and a task that still
    carries a gold patch or tests is refused."""
    if public.has_hidden:
        raise ValueError("predict() takes task.public(): the localiser must not see the gold patch or tests")
    started, cpu = time.perf_counter(), time.process_time()
    result = query(ctx.index, public.problem_statement, top=max(KS), config=config)
    query_seconds, query_cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    bm25_files = ctx.files_bm25.rank(public.problem_statement, max(KS))
    bm25_functions = ctx.functions_bm25.rank(public.problem_statement, max(KS))
    bm25_seconds = time.perf_counter() - started
    deeper = query(ctx.index, public.problem_statement, top=DIAGNOSIS_DEPTH, config=config)  # not timed
    diagnosis = {
        hit.path: {"rank": rank, "signals": sorted({s.signal for s in hit.signals}), "category": hit.category}
        for rank, hit in enumerate(deeper.files, 1)
    }
    return Prediction(
        files=[f.path for f in result.files],
        diagnosis=diagnosis,
        functions=[(f.path, f.qualname) for f in result.functions],
        bm25_files=bm25_files,
        bm25_functions=bm25_functions,
        query_seconds=query_seconds,
        query_cpu_seconds=query_cpu,
        bm25_query_seconds=bm25_seconds,
    )


def hits(ranked: list, gold: set) -> dict[str, bool]:
    out = {}
    for k in KS:
        top = set(ranked[:k])
        out[f"all@{k}"] = gold <= top
        out[f"any@{k}"] = bool(gold & top)
    return out


def _rates(rows: list[dict[str, bool]]) -> dict[str, float]:
    if not rows:
        return {}
    return {key: round(sum(r[key] for r in rows) / len(rows), 4) for key in rows[0]}


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """all@k / any@k for files and functions, ours vs. BM25, with the all@5 difference in points, its
    95% interval (paired), the Wilson interval of our all@5, and instances won and lost against BM25."""
    out: dict[str, Any] = {}
    for level in ("files", "functions"):
        scored = [r for r in records if r["gold_" + level]]
        ours = _rates([r["hits"][level]["ours"] for r in scored])
        base = _rates([r["hits"][level]["bm25"] for r in scored])
        diffs = [
            int(r["hits"][level]["ours"]["all@5"]) - int(r["hits"][level]["bm25"]["all@5"]) for r in scored
        ]
        out[level] = {
            "n": len(scored),
            "ours": ours,
            "bm25": base,
            "all@5_gain_points": round(100 * (ours.get("all@5", 0) - base.get("all@5", 0)), 1)
            if scored
            else None,
            "all@5_gain_ci95": [round(100 * x, 1) for x in paired_interval(diffs)] if scored else None,
            "ours_all@5_ci95": wilson(sum(r["hits"][level]["ours"]["all@5"] for r in scored), len(scored)),
            "won_lost_vs_bm25": [diffs.count(1), diffs.count(-1)],
        }
    misses = [r["miss_cause"] for r in records if r.get("miss_cause")]
    counts: dict[str, int] = defaultdict(int)
    for cause in misses:
        counts[cause] += 1
    out["file_misses"] = {
        "n": len(misses),
        "share_by_cause": {
            c: round(n / len(misses), 3) for c, n in sorted(counts.items(), key=lambda kv: -kv[1])
        },
        "top1_not_library": sum(1 for r in records if r.get("miss_cause") and r.get("top1_category")),
    }
    return out


def load_tasks(dataset: Path) -> list[Task]:
    text = dataset.read_text(encoding="utf-8")
    try:
        if dataset.suffix == ".json":
            rows = json.loads(text)
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as err:
        raise UserError(
            f"dataset {dataset} is not JSON lines (line {err.lineno}): pass a SWE-bench jsonl"
        ) from None
    tasks = []
    for row in rows:
        missing = [
            k for k in ("instance_id", "repo", "base_commit", "problem_statement", "patch") if not row.get(k)
        ]
        if missing:
            raise UserError(
                f"dataset row {row.get('instance_id', '?')} lacks {', '.join(missing)}: not SWE-bench format"
            )
        tasks.append(Task.from_swebench(row))
    return tasks


def repo_dir_for(repos: Path, repo: str) -> Path | None:
    name = repo.replace("/", "__")
    for candidate in (repos / name, repos / f"{name}.git"):
        if candidate.is_dir():
            return candidate
    return None


def ablations(config: LocalizeConfig) -> dict[str, LocalizeConfig]:
    """The configuration with one part switched off at a time (same index, same instances)."""

    def without(**changes: Any) -> LocalizeConfig:
        return config.model_copy(update=changes, deep=True)

    def weights(**zero: float) -> dict[str, Any]:
        return {
            "weights": config.weights.model_copy(update=zero),
            "function_weights": config.function_weights.model_copy(update=zero),
        }

    variants = {"without re-ranker": without(rerank=None)} if config.rerank else {}
    return variants | {
        "without graph": without(**weights(graph=0.0)),
        "without priors": without(nonlibrary_prior=1.0),
        "without graph and priors": without(nonlibrary_prior=1.0, **weights(graph=0.0)),
    }


def run_bench(
    dataset: Path,
    repos: Path,
    limit: int | None,
    config: LocalizeConfig,
    details: Path | None,
    split: str = "all",
    progress: bool = False,
    ablate: bool = False,
) -> dict:
    tasks = load_tasks(dataset)[:limit] if limit else load_tasks(dataset)
    if split != "all":
        tasks = [t for t in tasks if split_of(t.instance_id) == split]
    skipped: dict[str, int] = defaultdict(int)
    plan: list[tuple[Task, Path, str]] = []
    for task in tasks:
        repo_dir = repo_dir_for(repos, task.repo)
        if repo_dir is None:
            skipped["repository not in --repos"] += 1
            continue
        try:
            _, sha = resolve_commit(repo_dir, task.base_commit)
        except UserError:
            skipped["base commit not in repository"] += 1
            continue
        plan.append((task, repo_dir, sha))
    if not plan:
        raise UserError(
            f"no instance of {dataset} has its repository and commit under {repos}: see `--repos`"
        )
    plan.sort(key=lambda p: (p[0].repo, p[2]))

    if config.rerank:
        from sweagent.localize.rerank import get_reranker

        get_reranker(config.rerank_model)  # load the model before anything is timed
    records: list[dict[str, Any]] = []
    builds: dict[str, list[BuildTimes]] = defaultdict(list)
    ctx_key, ctx = None, None
    for done, (task, repo_dir, sha) in enumerate(plan, 1):
        if ctx_key != (repo_dir, sha):
            ctx = None  # the previous commit's index goes before the next one is built
            ctx = build_context(repo_dir, sha, config)
            ctx_key = (repo_dir, sha)
            builds[task.repo].append(BuildTimes.of(ctx))
        pred = predict(task.public(), ctx, config)
        gold: GoldTargets = gold_targets(task.patch, ctx.index)  # scoring only, after predicting
        has_traceback = bool(parse_issue(task.public().problem_statement).frames)
        file_hits = hits(pred.files, gold.files)
        top1 = pred.diagnosis.get(pred.files[0], {}) if pred.files else {}
        history = ctx.index.cochange
        records.append(
            {
                "instance_id": task.instance_id,
                "repo": task.repo,
                "split": split_of(task.instance_id),
                "gold_files": sorted(gold.files),
                "gold_functions": sorted(gold.functions),
                "new_files": sorted(gold.new_files),
                "ours_files": pred.files,
                "bm25_files": pred.bm25_files,
                "ours_functions": pred.functions,
                "bm25_functions": pred.bm25_functions,
                "query_seconds": pred.query_seconds,
                "query_cpu_seconds": pred.query_cpu_seconds,
                "bm25_query_seconds": pred.bm25_query_seconds,
                "miss_cause": miss_cause(gold.files, pred.diagnosis, pred.files)
                if gold.files and not file_hits["all@5"]
                else None,
                "top1_category": top1.get("category"),
                "gold_ranks": {g: pred.diagnosis.get(g, {}).get("rank") for g in sorted(gold.files)},
                "cochange_usable_commits": history.usable if history is not None else 0,
                "shape": {
                    "multi_file": len(gold.files) > 1,
                    "single_file": len(gold.files) == 1,
                    "traceback": has_traceback,
                    "no_traceback": not has_traceback,
                },
                "hits": {
                    "files": {
                        "ours": file_hits,
                        "bm25": hits(pred.bm25_files, gold.files),
                    },
                    "functions": {
                        "ours": hits(pred.functions, gold.functions),
                        "bm25": hits(pred.bm25_functions, gold.functions),
                    },
                },
            }
        )
        if ablate:
            records[-1]["ablation"] = {}
            for name, variant in ablations(config).items():
                other = query(ctx.index, task.public().problem_statement, top=max(KS), config=variant)
                records[-1]["ablation"][name] = {
                    "files": hits([f.path for f in other.files], gold.files)["all@5"],
                    "functions": hits([(f.path, f.qualname) for f in other.functions], gold.functions)[
                        "all@5"
                    ],
                }
        if progress:
            click.echo(f"[{done}/{len(plan)}] {task.instance_id}", err=True)
    if details is not None:
        with details.open("w", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps({k: v for k, v in r.items() if k != "hits"}) + "\n")

    summary: dict[str, Any] = {
        "bench": "localize",
        "dataset": str(dataset),
        "split": split,
        "instances": len(records),
        "skipped": dict(skipped),
        "no_gold_source_file": sum(1 for r in records if not r["gold_files"]),
    }
    for r in records:
        r["gold_files"], r["gold_functions"] = bool(r["gold_files"]), bool(r["gold_functions"])
    summary.update(summarise(records))
    if split == "all":
        summary["halves"] = {
            half: {"instances": len(rows), **summarise(rows)}
            for half in HALVES
            if (rows := [r for r in records if r["split"] == half])
        }
    summary["per_repo"] = {
        repo: {"instances": len(rows), **summarise(rows), "time": _times(rows, builds[repo])}
        for repo in sorted(builds)
        if (rows := [r for r in records if r["repo"] == repo])
    }
    summary["by_shape"] = {
        shape: {"instances": len(rows), **summarise(rows)}
        for shape in SHAPES
        if (rows := [r for r in records if r["shape"][shape]])
    }
    if ablate:
        summary["ablation"] = {
            name: {
                level: round(
                    sum(r["ablation"][name][level] for r in records if r["gold_" + level])
                    / max(1, sum(1 for r in records if r["gold_" + level])),
                    4,
                )
                for level in ("files", "functions")
            }
            for name in ablations(config)
        }
    with_history = sum(1 for r in records if r["cochange_usable_commits"])
    summary["cochange"] = {
        "instances_with_history": with_history,
        "note": None
        if with_history
        else "no repository had usable commits before its base (release snapshots): co-change could not apply",
    }
    summary["time"] = _times(records, [c for built in builds.values() for c in built])
    return summary


def _times(records: list[dict[str, Any]], built: list[BuildTimes]) -> dict[str, Any]:
    """Index and query times, ours and the baseline's, measured in the same run. A cold build parsed
    most of the source itself; a warm one reused more than half of it (by bytes) from an earlier
    commit's build in the same process."""
    queries = [r["query_seconds"] for r in records]
    builds = [c.index_seconds for c in built]

    def mean_of(values: list[float]) -> float | None:
        return round(statistics.mean(values), 3) if values else None

    return {
        "index_builds": len(builds),
        "index_seconds_mean": round(statistics.mean(builds), 3),
        "index_seconds_max": round(max(builds), 3),
        "index_cpu_seconds_mean": round(statistics.mean(c.index_cpu_seconds for c in built), 3),
        "index_cold": {
            "builds": sum(c.cold for c in built),
            "seconds_mean": mean_of([c.index_seconds for c in built if c.cold]),
            "cpu_seconds_mean": mean_of([c.index_cpu_seconds for c in built if c.cold]),
        },
        "index_warm": {
            "builds": sum(not c.cold for c in built),
            "seconds_mean": mean_of([c.index_seconds for c in built if not c.cold]),
            "cpu_seconds_mean": mean_of([c.index_cpu_seconds for c in built if not c.cold]),
        },
        "index_seconds_per_instance": round(sum(builds) / len(records), 3),
        "query_ms_mean": round(1000 * statistics.mean(queries), 2),
        "query_cpu_ms_mean": round(1000 * statistics.mean(r["query_cpu_seconds"] for r in records), 2),
        "query_cpu_ms_p95": round(
            1000 * float(np.percentile([r["query_cpu_seconds"] for r in records], 95)), 2
        ),
        "query_ms_p95": round(1000 * float(np.percentile(queries, 95)), 2),
        "query_ms_max": round(1000 * max(queries), 2),
        "bm25_index_seconds_mean": round(statistics.mean(c.baseline_seconds for c in built), 3),
        "bm25_query_ms_mean": round(1000 * statistics.mean(r["bm25_query_seconds"] for r in records), 2),
    }


@click.command("localize")
@click.option(
    "--dataset", required=True, type=click.Path(exists=True, dir_okay=False), help="SWE-bench jsonl."
)
@click.option(
    "--repos",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="DIR of <owner>__<name> git repos.",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="Only the first N instances.")
@click.option(
    "--split",
    type=click.Choice(["all", *HALVES]),
    default="all",
    show_default=True,
    help="Only one half of the instances (by a hash of the id): tune on one, report the other.",
)
@click.option(
    "--details",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write per-instance rankings (JSONL).",
)
@click.option("--progress/--no-progress", default=False, help="One line per instance on stderr.")
@click.option("--ablation", is_flag=True, help="Also score with each new part switched off (all@5).")
@click.option(
    "--rerank",
    type=click.Choice(["embedding"]),
    default=None,
    help="Measure with the optional embedding re-ranker (pip install 'swe-ttc[rerank]').",
)
def bench_localize(
    dataset: str,
    repos: str,
    limit: int | None,
    split: str,
    details: str | None,
    progress: bool,
    ablation: bool,
    rerank: str | None,
) -> None:
    """Localisation all@k/any@k (files, functions) vs. plain BM25, with index and query times; prints JSON."""
    summary = run_bench(
        Path(dataset),
        Path(repos),
        limit,
        LocalizeConfig(rerank=rerank),
        Path(details) if details else None,
        split=split,
        progress=progress,
        ablate=ablation,
    )
    click.echo(json.dumps(summary, indent=2))
