"""The `graph` signal: from what the issue names to the code it calls, along the call graph.

An issue names the API a user touched (`Context`, `DjangoTemplates.render`); the fix often sits in the code
that API calls. Seeds are the symbols the naming signals found (dotted names, defined names, traceback
frames) with their confidence, plus the calls printed on a traceback's source lines (what the traceback
passes through). From the seeds, weight flows along call/method/base edges for `hops` steps, as a random
walk with restart would: each step keeps `decay` of the weight and splits it over a node's out-edges
(divided by the square root of their number, so a small helper's callees count more than a dispatcher's).
A file's vote is the weight that reached its symbols from other files (a seed's own file has its own
votes). Every vote keeps the path it came along, which `--json` shows.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

from sweagent.localize.graph import MAX_CANDIDATE_FILES, CodeGraph, SymKey
from sweagent.localize.index import RepoIndex
from sweagent.localize.issue import IssueFacts
from sweagent.localize.signals import SignalVotes, Vote, resolve_path

SEED_SIGNALS = ("dotted", "symbol", "traceback")
MAX_FRONTIER = 60  # nodes expanded per hop (the strongest): keeps a query within its time budget
MAX_EDGES = 40  # out-edges followed per node
_CALL_RE = re.compile(r"(?a)((?:[A-Za-z_]\w*\.)*)([A-Za-z_]\w*)\s*\(")


@dataclass
class Reach:
    """Weight that reached a symbol, and the strongest path it came along (seed first)."""

    weight: float = 0.0
    best: float = 0.0
    path: tuple[str, ...] = ()


def _label(index: RepoIndex, key: SymKey) -> str:
    return f"{index.paths[key[0]]}:{key[1]}" if key[1] else index.paths[key[0]]


def _call_string(receiver: str, name: str) -> str:
    """A call as written in a traceback line, encoded the way `symbols.parse_module` keeps calls."""
    parts = [p for p in receiver.split(".") if p]
    if not parts:
        return name
    if parts == ["self"] or parts == ["cls"]:
        return "." + name
    return f"{parts[0]}.{name}" if len(parts) == 1 else ".." + name


def frame_seeds(
    index: RepoIndex, graph: CodeGraph, facts: IssueFacts, decay: float
) -> dict[SymKey, tuple[float, str, int]]:
    """What the source lines of a traceback call, resolved where the frame ran (or by name, for frames
    outside the repository), with the frame's depth confidence and the file it ran in (-1: outside)."""
    seeds: dict[SymKey, tuple[float, str, int]] = {}
    for rank, frame in enumerate(sorted(facts.frames, key=lambda f: f.depth)):
        if not frame.code:
            continue
        conf = 1.0 / (1.0 + decay * rank)
        fids, _ = resolve_path(index, frame.path)
        origin = None
        if len(fids) == 1:
            syms = [s for s in index.symbols_of(fids[0], parse=False) if s.start <= frame.line <= s.end]
            inner = max(syms, key=lambda s: s.start) if syms else None
            origin = (fids[0], inner.qualname if inner else "")
        for receiver, name in _CALL_RE.findall(frame.code):
            call = _call_string(receiver, name)
            if origin is not None and origin[1]:
                targets = graph.callee(origin, call)
            elif origin is not None:
                targets = [(k, 1.0) for k in graph.resolve(origin[0], name)]
            else:
                defs = [index.symbols[i] for i in index.names.get(name, ())]
                files = {s.file for s in defs}
                targets = [((s.file, s.qualname), 1.0 / len(files)) for s in defs]
                if len(files) > MAX_CANDIDATE_FILES:
                    targets = []
            where = f"{frame.path.rsplit('/', 1)[-1]}:{frame.line}"
            for key, weight in targets:
                if conf * weight > seeds.get(key, (0.0, "", -1))[0]:
                    seeds[key] = (
                        conf * weight,
                        f"traceback line {where} calls {name}",
                        origin[0] if origin else -1,
                    )
    return seeds


def graph_votes(
    index: RepoIndex,
    signals: list[SignalVotes],
    facts: IssueFacts,
    graph: CodeGraph,
    hops: int = 2,
    decay: float = 0.5,
    traceback_decay: float = 0.5,
) -> SignalVotes:
    """Expand from the naming signals' symbols along the call graph (see module docstring)."""
    votes = SignalVotes("graph")
    seeds: dict[SymKey, tuple[float, str]] = {}
    for signal in signals:
        if signal.name not in SEED_SIGNALS:
            continue
        for key, vote in signal.symbols.items():
            if vote.conf > seeds.get(key, (0.0, ""))[0]:
                seeds[key] = (vote.conf, vote.detail)
    reached: dict[SymKey, Reach] = defaultdict(Reach)
    per_file: dict[int, float] = defaultdict(float)
    frontier: dict[SymKey, float] = {}
    paths: dict[SymKey, tuple[str, ...]] = {}
    origin: dict[SymKey, int] = {}  # the file a node's strongest path started in (-1: outside)

    def arrive(key: SymKey, flow: float, path: tuple[str, ...], start: int) -> None:
        reach = reached[key]
        reach.weight += flow
        if start != key[0]:  # a file's vote counts only what reached it from elsewhere
            per_file[key[0]] += flow
        if flow > reach.best:
            reach.best, reach.path = flow, path
            paths[key], origin[key] = path, start

    for key, (conf, detail) in seeds.items():
        frontier[key] = conf
        paths[key], origin[key] = (f"{_label(index, key)} ({detail})",), key[0]
    for key, (conf, detail, start) in frame_seeds(index, graph, facts, traceback_decay).items():
        # what a traceback line calls is reached from the frame: it gets a vote and expands further
        arrive(key, conf, (detail, _label(index, key)), start)
        frontier[key] = max(frontier.get(key, 0.0), conf)
    for _hop in range(hops):
        step: dict[SymKey, float] = defaultdict(float)
        strongest = sorted(frontier.items(), key=lambda kv: -kv[1])[:MAX_FRONTIER]
        for key, weight in strongest:
            edges = graph.edges(key)[:MAX_EDGES]
            if not edges:
                continue
            share = weight * decay / math.sqrt(len(edges))
            start, path = origin[key], paths[key]
            for edge in edges:
                if edge.target in seeds:
                    continue
                flow = share * edge.weight
                step[edge.target] += flow
                arrive(edge.target, flow, (*path, f"{edge.kind} {_label(index, edge.target)}"), start)
        frontier = dict(step)
    for key, reach in reached.items():
        votes.symbols[key] = Vote(reach.weight, min(reach.weight, 1.0), _detail(reach), reach.path)
    for fid, total in per_file.items():
        best = max((k for k in reached if k[0] == fid), key=lambda k: reached[k].best)
        votes.files[fid] = Vote(total, min(total, 1.0), _detail(reached[best]), reached[best].path)
    return votes


def _detail(reach: Reach) -> str:
    seed = reach.path[0].split(" (", 1)[0] if reach.path else "?"
    steps = len(reach.path) - 1
    return f"reached from {seed} in {steps} step{'s' if steps != 1 else ''}"
