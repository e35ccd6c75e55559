"""Weighted reciprocal-rank fusion of signal votes into file and function rankings.

For each signal s, entries are ranked by the signal's own score (ties share a rank). An entry's fused
score is  sum_s  w_s * c_s / (k + rank_s)  with c_s the vote's confidence. Rank fusion needs no
calibration between signals whose raw scores live on different scales (BM25 vs. "named in a
traceback"); the confidence keeps an ambiguous match (a name defined in ten files) from counting like
a unique one. A function's score adds  w_file / (k + rank of its file)  to its own signals, so a
function is found in the files that matter, and ordered within them by its own evidence.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TypeVar

from sweagent.localize.config import LocalizeConfig
from sweagent.localize.files import OTHER, SOURCE, TEST
from sweagent.localize.index import RepoIndex
from sweagent.localize.result import FileHit, LocalizeResult, SignalHit, SymbolHit
from sweagent.localize.signals import SignalVotes, SymKey, Vote

K = TypeVar("K")


def competition_ranks(votes: dict[K, Vote]) -> dict[K, int]:
    """1-based ranks by descending score; equal scores share the better rank ("1224")."""
    ordered = sorted(votes.items(), key=lambda kv: -kv[1].score)
    ranks: dict[K, int] = {}
    prev: float | None = None
    rank = 0
    for i, (key, vote) in enumerate(ordered, 1):
        if vote.score != prev:
            rank, prev = i, vote.score
        ranks[key] = rank
    return ranks


Why = tuple[str, int, str]  # (signal, rank, detail); turned into SignalHit only for what is shown


def _fuse(
    tables: list[tuple[str, float, dict[K, Vote]]], k: float
) -> tuple[dict[K, float], dict[K, list[Why]]]:
    scores: dict[K, float] = defaultdict(float)
    why: dict[K, list[Why]] = defaultdict(list)
    for name, weight, votes in tables:
        if not weight or not votes:
            continue
        for key, rank in competition_ranks(votes).items():
            vote = votes[key]
            scores[key] += weight * vote.conf / (k + rank)
            why[key].append((name, rank, vote.detail))
    return scores, why


def _hits(why: list[Why]) -> list[SignalHit]:
    return [SignalHit(signal=s, rank=r, detail=d) for s, r, d in why]


def fuse(index: RepoIndex, signals: list[SignalVotes], config: LocalizeConfig, top: int) -> LocalizeResult:
    """Rank files per kind and functions overall; keep `top` entries of each list."""
    weights, fweights, k = config.weights, config.function_weights, config.rrf_k
    file_scores, file_why = _fuse([(s.name, getattr(weights, s.name), s.files) for s in signals], k)
    by_kind: dict[str, list[int]] = {SOURCE: [], TEST: [], OTHER: []}
    for fid in sorted(file_scores, key=lambda f: (-file_scores[f], index.paths[f])):
        by_kind[index.kinds[fid]].append(fid)
    file_rank = {fid: r for kind in by_kind.values() for r, fid in enumerate(kind, 1)}

    sym_scores, sym_why = _fuse([(s.name, getattr(fweights, s.name), s.symbols) for s in signals], k)
    # every symbol of the leading source files competes, with its file's rank as a prior (test files
    # are parsed on demand, so only their symbols that a signal points at take part)
    for fid in by_kind[SOURCE][: max(top, 10)]:
        for sym in index.symbols_of(fid):
            sym_scores.setdefault((fid, sym.qualname), 0.0)
    for key in sym_scores:
        rank = file_rank.get(key[0])
        if rank is not None and config.file_prior:
            sym_scores[key] += config.file_prior / (k + rank)
            sym_why[key].append(("file", rank, f"in file #{rank}"))

    spans = _spans(index, {key[0] for key in sym_scores})
    ordered = sorted(
        (key for key in sym_scores if key in spans), key=lambda key: (-sym_scores[key], spans[key][1])
    )
    per_file: dict[int, list[SymbolHit]] = defaultdict(list)
    functions: list[SymbolHit] = []
    for key in ordered:
        fid, qual = key
        wanted_here = len(per_file[fid]) < config.symbols_per_file
        wanted_overall = index.kinds[fid] == SOURCE and len(functions) < top
        if not (wanted_here or wanted_overall):
            continue
        kind, start, end = spans[key]
        hit = SymbolHit(
            path=index.paths[fid],
            qualname=qual,
            kind=kind,
            start=start,
            end=end,
            score=round(sym_scores[key], 4),
            signals=_hits(sym_why.get(key, [])),
        )
        if wanted_here:
            per_file[fid].append(hit)
        if wanted_overall:
            functions.append(hit)

    def hits(kind: str) -> list[FileHit]:
        return [
            FileHit(
                path=index.paths[fid],
                kind=kind,
                score=round(file_scores[fid], 4),
                symbols=per_file.get(fid, []),
                signals=_hits(file_why[fid]),
            )
            for fid in by_kind[kind][:top]
        ]

    return LocalizeResult(files=hits(SOURCE), tests=hits(TEST), other=hits(OTHER), functions=functions)


def _spans(index: RepoIndex, fids: set[int]) -> dict[SymKey, tuple[str, int, int]]:
    out: dict[SymKey, tuple[str, int, int]] = {}
    for fid in fids:
        for sym in index.symbols_of(fid, parse=False):
            out.setdefault((fid, sym.qualname), (sym.kind, sym.start, sym.end))
    return out
