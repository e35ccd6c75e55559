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
from sweagent.localize.priors import VERSION_INFO
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


# (signal, rank, detail, vote, contribution); turned into SignalHit only for what is shown
Why = tuple[str, int, str, Vote | None, float]


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
            share = weight * vote.conf / (k + rank)
            scores[key] += share
            why[key].append((name, rank, vote.detail, vote, share))
    return scores, why


def _hits(why: list[Why]) -> list[SignalHit]:
    # built without validation: every field comes from this module, and a query makes thousands
    return [
        SignalHit.model_construct(
            signal=s,
            rank=r,
            detail=d,
            weight=round(v.conf, 4) if v is not None else None,
            contribution=round(c, 4),
            via=list(v.via) if v is not None else [],
        )
        for s, r, d, v, c in why
    ]


def fuse(index: RepoIndex, signals: list[SignalVotes], config: LocalizeConfig, top: int) -> LocalizeResult:
    """Rank files per kind and functions overall; keep `top` entries of each list."""
    weights, fweights, k = config.weights, config.function_weights, config.rrf_k
    file_scores, file_why = _fuse([(s.name, getattr(weights, s.name), s.files) for s in signals], k)
    priors = _priors(index, signals, config)
    for fid, factor in priors.items():
        if fid in file_scores:
            file_scores[fid] *= factor
    by_kind = _by_kind(index, file_scores)
    partners = cochange_votes(index, by_kind[SOURCE], config)
    if partners.files and weights.cochange:
        extra, extra_why = _fuse([(partners.name, weights.cochange, partners.files)], k)
        for fid, share in extra.items():
            file_scores[fid] = file_scores.get(fid, 0.0) + share
            file_why[fid].extend(extra_why[fid])
        by_kind = _by_kind(index, file_scores)
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
            share = config.file_prior / (k + rank)
            sym_scores[key] += share
            sym_why[key].append(("file", rank, f"in file #{rank}", None, share))

    spans = _Spans(index)
    if config.class_prior != 1.0:
        for key in sym_scores:
            span = spans.get(key)
            if span is not None and span[0] == "class":
                sym_scores[key] *= config.class_prior
    ordered = sorted(sym_scores, key=lambda key: (-sym_scores[key], index.paths[key[0]], key[1]))
    per_file: dict[int, list[SymbolHit]] = defaultdict(list)
    functions: list[SymbolHit] = []
    shown = {fid for kind in by_kind.values() for fid in kind[:top]}
    for key in ordered:
        fid, qual = key
        wanted_here = fid in shown and len(per_file[fid]) < config.symbols_per_file
        wanted_overall = index.kinds[fid] == SOURCE and len(functions) < top
        if not (wanted_here or wanted_overall):
            continue
        span = spans.get(key)
        if span is None:
            continue
        kind, start, end = span
        hit = SymbolHit.model_construct(
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
            FileHit.model_construct(
                path=index.paths[fid],
                kind=kind,
                score=round(file_scores[fid], 4),
                prior=priors.get(fid, 1.0),
                category=index.categories.get(fid),
                symbols=per_file.get(fid, []),
                signals=_hits(file_why[fid]),
            )
            for fid in by_kind[kind][:top]
        ]

    return LocalizeResult.model_construct(
        files=hits(SOURCE), tests=hits(TEST), other=hits(OTHER), functions=functions, stats={}, warnings=[]
    )


POINTING_SIGNALS = ("path", "traceback", "dotted")


def _by_kind(index: RepoIndex, file_scores: dict[int, float]) -> dict[str, list[int]]:
    by_kind: dict[str, list[int]] = {SOURCE: [], TEST: [], OTHER: []}
    for fid in sorted(file_scores, key=lambda f: (-file_scores[f], index.paths[f])):
        by_kind[index.kinds[fid]].append(fid)
    return by_kind


def cochange_votes(index: RepoIndex, ranked: list[int], config: LocalizeConfig) -> SignalVotes:
    """Partners of the top source files in the git history (cochange.py), at their partner's rank."""
    votes = SignalVotes("cochange")
    history = index.cochange
    if history is None or not history.partners:
        return votes
    for rank, fid in enumerate(ranked[: config.cochange_top], 1):
        path = index.paths[fid]
        for partner, confidence, together in history.of(path):
            pid = index.file_of(partner)
            if pid is None or pid == fid:
                continue
            detail = f"changed with {path} in {together} commits (P={confidence:.2f})"
            votes.add_file(pid, confidence, detail, score=confidence / rank)
    return votes


def _priors(index: RepoIndex, signals: list[SignalVotes], config: LocalizeConfig) -> dict[int, float]:
    """Score factors of non-library files the issue does not point at: by path, by a traceback frame, or
    by naming the module itself (a version printer only by path or frame: issue templates ask for its
    output by name; importing a name from a module, as example code does, is not pointing at it)."""
    if config.nonlibrary_prior == 1.0 or not index.categories:
        return {}
    pointed = {
        fid
        for s in signals
        if s.name in POINTING_SIGNALS
        for fid, vote in s.files.items()
        if s.name != "dotted"
        or (vote.detail.startswith("module ") and index.categories.get(fid) != VERSION_INFO)
    }
    return {fid: config.nonlibrary_prior for fid in index.categories if fid not in pointed}


class _Spans:
    """(kind, start, end) of symbols, looked up per file on first use."""

    def __init__(self, index: RepoIndex) -> None:
        self.index = index
        self.files: dict[int, dict[str, tuple[str, int, int]]] = {}

    def get(self, key: SymKey) -> tuple[str, int, int] | None:
        table = self.files.get(key[0])
        if table is None:
            table = self.files[key[0]] = {}
            for sym in self.index.symbols_of(key[0], parse=False):
                table.setdefault(sym.qualname, (sym.kind, sym.start, sym.end))
        return table.get(key[1])
