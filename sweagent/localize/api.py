"""The localiser's entry points: `localize` (files in memory) and `localize_repo` (a git repository).

Both see only the issue text and the repository's files: nothing about the fix (gold patch, tests to
pass) can reach them, which is what lets the agent call them on any task.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from sweagent.errors import UserError
from sweagent.localize.build import build_index
from sweagent.localize.cache import IndexCache, default_cache_dir
from sweagent.localize.cochange import CoChange, HistoryReader
from sweagent.localize.config import LocalizeConfig
from sweagent.localize.fusion import fuse
from sweagent.localize.index import RepoIndex
from sweagent.localize.issue import parse_issue
from sweagent.localize.result import LocalizeResult
from sweagent.localize.signals import SignalVotes, collect
from sweagent.localize.snapshot import RepoSnapshot, read_directory, read_git_files, resolve_commit

CACHE = IndexCache(capacity=4)


def _issue_text(issue: str) -> str:
    if not issue or not issue.strip():
        raise UserError("the issue text is empty: pass the issue as text or @FILE with some content")
    return issue


def _index_key(key: str, config: LocalizeConfig) -> str:
    cochange = (
        f"{config.cochange_commits},{config.cochange_max_files},{config.cochange_min_support},"
        f"{config.cochange_min_confidence}"
    )
    return (
        f"{key}|k1={config.k1}|b={config.b}|max={config.max_file_bytes}|ast={config.max_ast_bytes}"
        f"|cochange={cochange}"
    )


def read_cochange(reader: HistoryReader, config: LocalizeConfig) -> CoChange:
    return reader.result(
        max_files=config.cochange_max_files,
        min_support=config.cochange_min_support,
        min_confidence=config.cochange_min_confidence,
    )


def get_index(
    key: str,
    load: Callable[[], Mapping[str, bytes]],
    config: LocalizeConfig,
    history: Callable[[], HistoryReader] | None = None,
) -> tuple[RepoIndex, str, float]:
    """Index for `key` from the cache, or built from `load()` (path -> bytes); with its source and time.

    `history()` starts reading the git history for co-change, which then runs while the index is built.
    """
    started = time.perf_counter()
    CACHE.capacity = config.memory_cache
    disk = (config.cache_dir or default_cache_dir()) if config.disk_cache else None
    full_key = _index_key(key, config)

    def build() -> RepoIndex:
        reader = history() if history is not None and config.cochange_commits > 0 else None
        index = build_index(
            load(),
            full_key,
            k1=config.k1,
            b=config.b,
            parallel_min_bytes=config.parallel_min_bytes,
            max_file_bytes=config.max_file_bytes,
            max_ast_bytes=config.max_ast_bytes,
        )
        if reader is not None:
            index.cochange = read_cochange(reader, config)
        return index

    index, source = CACHE.get_or_build(full_key, build, disk)
    return index, source, time.perf_counter() - started


def query(
    index: RepoIndex, issue: str, top: int = 10, config: LocalizeConfig | None = None
) -> LocalizeResult:
    """Rank an index's files and functions for one issue text.

    The cyclic garbage collector is paused while ranking: a query allocates tens of thousands of short
    objects, which otherwise start full collections that walk the whole process's heap (the index
    included) and multiply a query's time several-fold now and then; they run after it instead.
    """
    config = config or LocalizeConfig()
    text = _issue_text(issue)
    if index.stats.files == 0:
        raise UserError("nothing to rank: the repository has no text files at this commit")
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _query(index, text, top, config)
    finally:
        if was_enabled:
            gc.enable()


def _query(index: RepoIndex, text: str, top: int, config: LocalizeConfig) -> LocalizeResult:
    started = time.perf_counter()
    facts = parse_issue(text)
    signals = collect(index, facts, config)
    result = fuse(index, signals, config, max(top, 1, config.rerank_depth if config.rerank else 0))
    if config.rerank == "embedding":
        signals.append(rerank_votes(index, facts.text, result, config))
        result = fuse(index, signals, config, max(top, 1))
    stats = index.stats
    result.stats = {
        "files_indexed": stats.files,
        "python_files": stats.python_files,
        "source_files": stats.source_files,
        "test_files": stats.test_files,
        "other_files": stats.other_files,
        "symbols": stats.symbols,
        "modules_parsed": stats.parsed_files,
        "modules_reused": stats.reused_files,  # parsed by an earlier build (same bytes)
        "ast_skipped": len(stats.ast_skipped),
        "ast_too_large": len(stats.ast_too_large),
        "not_utf8": len(stats.not_utf8),
        "binary_skipped": stats.binary_skipped,
        "build_seconds": stats.build_seconds,
        "build_cpu_seconds": stats.cpu_seconds,
        "build_worker_cpu_seconds": stats.worker_cpu_seconds,
        "query_seconds": round(time.perf_counter() - started, 4),
        "signals": {s.name: len(s.files) for s in signals},
        "unreadable_blobs": len(stats.unreadable),
        "cochange": None
        if index.cochange is None
        else {"commits": index.cochange.commits, "usable": index.cochange.usable},
    }
    if stats.python_files == 0:
        result.warnings.append("no Python files: ranked by text and paths only")
    if stats.ast_skipped:
        result.warnings.append(
            f"{len(stats.ast_skipped)} Python file(s) are not valid Python or UTF-8 (ranked by text only): "
            + ", ".join(stats.ast_skipped[:3])
        )
    if stats.unreadable:
        result.warnings.append(
            f"{len(stats.unreadable)} file(s) could not be read from git (missing objects) and were skipped: "
            + ", ".join(stats.unreadable[:3])
        )
    if not (result.files or result.tests or result.other):
        result.warnings.append("no file matched the issue: add names, paths or an error message to it")
    return result


def rerank_votes(index: RepoIndex, issue: str, first: LocalizeResult, config: LocalizeConfig) -> SignalVotes:
    """The optional re-ranker's signal over the first ranking's leading functions and files."""
    from sweagent.localize.rerank import get_reranker

    candidates = [(index.file_of(f.path), f.qualname) for f in first.functions[: config.rerank_depth]]
    for hit in first.files[: config.rerank_files]:
        fid = index.file_of(hit.path)
        candidates += [(fid, s.qualname) for s in index.symbols_of(fid, parse=False) if s.kind != "class"]
    candidates = list(dict.fromkeys(k for k in candidates if k[0] is not None))
    return get_reranker(config.rerank_model).votes(index, issue, candidates)


def localize(
    files: Mapping[str, bytes] | RepoSnapshot,
    issue: str,
    top: int = 10,
    config: LocalizeConfig | None = None,
) -> LocalizeResult:
    """Rank the files and functions of a repository given as path -> bytes (or a `RepoSnapshot`)."""
    config = config or LocalizeConfig()
    text = _issue_text(issue)
    snapshot = files if isinstance(files, RepoSnapshot) else RepoSnapshot.from_mapping(files)
    index, source, seconds = get_index(snapshot.key, lambda: snapshot.files, config)
    result = query(index, text, top, config)
    result.stats.update(index_source=source, index_seconds=round(seconds, 4))
    return result


def localize_repo(
    repo_path: str | Path,
    commit: str | None,
    issue: str,
    top: int = 10,
    config: LocalizeConfig | None = None,
) -> LocalizeResult:
    """Rank a git repository at `commit` (HEAD when None), read straight from git without a checkout.

    A plain directory (not a git repository) is read from disk when no commit is given.
    """
    config = config or LocalizeConfig()
    text = _issue_text(issue)
    path = Path(repo_path).expanduser()
    if commit is None and path.is_dir() and not _is_git(path):
        files = read_directory(path, config.max_file_bytes)
        return localize(RepoSnapshot(files=files, identity=f"dir:{path.resolve()}"), text, top, config)
    identity, sha = resolve_commit(path, commit)
    index, source, seconds = get_index(
        f"{identity}@{sha}",
        lambda: read_git_files(path, sha, config.max_file_bytes),
        config,
        history=lambda: HistoryReader(path, sha, config.cochange_commits),
    )
    result = query(index, text, top, config)
    result.stats.update(commit=sha, index_source=source, index_seconds=round(seconds, 4))
    return result


def _is_git(path: Path) -> bool:
    try:
        resolve_commit(path, None)
    except UserError as err:
        return "not a git repository" not in str(err)
    return True
