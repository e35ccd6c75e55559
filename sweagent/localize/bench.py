"""`swe-ttc bench localize`: localisation quality on a SWE-bench-format dataset, against plain BM25.

Each instance is read at its base commit straight from git (DIR/<owner>__<name>, bare or not). The
localiser and the baseline see only `task.public()` (the problem statement) and the files at the base
commit; the gold patch reaches `score_*` alone. Instances that share a commit share one index, as they
would in a real run (the index cache); index time is reported per build, query time per instance.
"""

from __future__ import annotations

import json
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
from sweagent.localize.api import query
from sweagent.localize.build import build_index
from sweagent.localize.config import LocalizeConfig
from sweagent.localize.files import SOURCE
from sweagent.localize.gold import GoldTargets, gold_targets
from sweagent.localize.index import RepoIndex
from sweagent.localize.snapshot import read_git_files, resolve_commit
from sweagent.task import Task

KS = (1, 3, 5, 10)


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


def build_context(repo_dir: Path, sha: str, config: LocalizeConfig) -> CommitContext:
    started = time.perf_counter()
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
    return CommitContext(index, files_bm25, functions_bm25, index_seconds, cpu, time.perf_counter() - started)


@dataclass
class Prediction:
    files: list[str]
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
    return Prediction(
        files=[f.path for f in result.files],
        functions=[(f.path, f.qualname) for f in result.functions],
        bm25_files=bm25_files,
        bm25_functions=bm25_functions,
        query_seconds=query_seconds,
        query_cpu_seconds=query_cpu,
        bm25_query_seconds=time.perf_counter() - started,
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
    """all@k / any@k for files and functions, ours vs. BM25, with the all@5 difference in points."""
    out: dict[str, Any] = {}
    for level in ("files", "functions"):
        scored = [r for r in records if r["gold_" + level]]
        ours = _rates([r["hits"][level]["ours"] for r in scored])
        base = _rates([r["hits"][level]["bm25"] for r in scored])
        out[level] = {
            "n": len(scored),
            "ours": ours,
            "bm25": base,
            "all@5_gain_points": round(100 * (ours.get("all@5", 0) - base.get("all@5", 0)), 1)
            if scored
            else None,
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


def run_bench(
    dataset: Path, repos: Path, limit: int | None, config: LocalizeConfig, details: Path | None
) -> dict:
    tasks = load_tasks(dataset)[:limit] if limit else load_tasks(dataset)
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

    records: list[dict[str, Any]] = []
    builds: list[float] = []
    build_cpus: list[float] = []
    baseline_builds: list[float] = []
    ctx_key, ctx = None, None
    for task, repo_dir, sha in plan:
        if ctx_key != (repo_dir, sha):
            ctx = build_context(repo_dir, sha, config)
            ctx_key = (repo_dir, sha)
            builds.append(ctx.index_seconds)
            build_cpus.append(ctx.index_cpu_seconds)
            baseline_builds.append(ctx.baseline_seconds)
        pred = predict(task.public(), ctx, config)
        gold: GoldTargets = gold_targets(task.patch, ctx.index)  # scoring only, after predicting
        records.append(
            {
                "instance_id": task.instance_id,
                "repo": task.repo,
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
                "hits": {
                    "files": {
                        "ours": hits(pred.files, gold.files),
                        "bm25": hits(pred.bm25_files, gold.files),
                    },
                    "functions": {
                        "ours": hits(pred.functions, gold.functions),
                        "bm25": hits(pred.bm25_functions, gold.functions),
                    },
                },
            }
        )
    if details is not None:
        with details.open("w", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps({k: v for k, v in r.items() if k != "hits"}) + "\n")

    queries = [r["query_seconds"] for r in records]
    summary: dict[str, Any] = {
        "bench": "localize",
        "dataset": str(dataset),
        "instances": len(records),
        "skipped": dict(skipped),
        "no_gold_source_file": sum(1 for r in records if not r["gold_files"]),
    }
    for r in records:
        r["gold_files"], r["gold_functions"] = bool(r["gold_files"]), bool(r["gold_functions"])
    summary.update(summarise(records))
    per_repo: dict[str, Any] = {}
    for repo in sorted({r["repo"] for r in records}):
        per_repo[repo] = summarise([r for r in records if r["repo"] == repo])
    summary["per_repo"] = per_repo
    summary["time"] = {
        "index_builds": len(builds),
        "index_seconds_mean": round(statistics.mean(builds), 3),
        "index_seconds_max": round(max(builds), 3),
        "index_cpu_seconds_mean": round(statistics.mean(build_cpus), 3),
        "index_seconds_per_instance": round(sum(builds) / len(records), 3),
        "query_ms_mean": round(1000 * statistics.mean(queries), 2),
        "query_cpu_ms_mean": round(1000 * statistics.mean(r["query_cpu_seconds"] for r in records), 2),
        "query_ms_p95": round(1000 * float(np.percentile(queries, 95)), 2),
        "query_ms_max": round(1000 * max(queries), 2),
        "bm25_index_seconds_mean": round(statistics.mean(baseline_builds), 3),
        "bm25_query_ms_mean": round(1000 * statistics.mean(r["bm25_query_seconds"] for r in records), 2),
    }
    return summary


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
    "--details",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write per-instance rankings (JSONL).",
)
def bench_localize(dataset: str, repos: str, limit: int | None, details: str | None) -> None:
    """Localisation all@k/any@k (files, functions) vs. plain BM25, with index and query times; prints JSON."""
    summary = run_bench(
        Path(dataset), Path(repos), limit, LocalizeConfig(), Path(details) if details else None
    )
    click.echo(json.dumps(summary, indent=2))
