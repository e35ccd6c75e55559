"""Selection: pick one candidate from many, and say why, for the winner and for every loser.

The rule (a `SelectionConfig`):

1. **Filter by execution.** A candidate whose required check *failed* (`passed is False`) is out;
   a check with no evidence (`passed is None`: not run, not reproducing, timed out on the base) does
   not exclude. Required checks: `apply` (applies and compiles), `regression` (no test that passed
   before fails after), and `reproduction` when `reproduction="require"`. With `reproduction="prefer"`
   a passing reproduction only ranks higher. If nothing survives, `fallback="all"` ranks every non-empty
   patch (and says so), `fallback="none"` chooses nothing.
2. **Cluster** survivors by normalised diff (`verifiers.diffs.patch_key`: changed lines per file,
   whitespace and context ignored). Behaviour clusters (always recorded) merge diff clusters whose
   candidates behave the same: same check statuses and the same output of the reproduction script
   on the patched code (volatile parts such as timings and addresses masked); without reproduction
   evidence nothing merges. Votes count the clusters `cluster_by` names. A cluster's votes are its
   candidates' sources: a candidate whose `metadata["sources"]` lists k submissions (the same patch
   from k systems) counts k votes, any other candidate one.
3. **Rank** candidates by the primary key, then the others in this order:
   - `primary="reward"`: mean reward (of the `reward_keys` scores, failed scores ignored; rounded to
     `tie_tolerance`), then reproduction passed, then cluster votes, then patch size (smaller first);
   - `primary="votes"`: cluster votes, then reproduction passed, then mean reward, then patch size;
   - `primary="score"`: the selection score below, then votes, then patch size.
   Candidates without any reward rank after those with one. The input order breaks remaining ties.

**Selection score** (every candidate gets one, `Ranked.score`, whatever the primary key): a number
in [0, 1] that a candidate earns on its own evidence, comparable across tasks,

    score = 0.5 · [passes the filters] + 0.5 · Σ wᵢ·xᵢ / Σ wᵢ        (0 for an empty patch)

over x = vote share (its cluster's votes / all non-empty candidates' votes), reproduction (1 passed,
0 failed, 0.5 no evidence; left out when `reproduction="ignore"`) and mean reward (0.5 when none),
weighted by `weights` (`votes`, `reproduction`, `reward`). With `primary="score"` the ranking is this
number, so the score and the rank always agree.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from verifiers.diffs import patch_key
from verifiers.types import Judged

DEFAULT_WEIGHTS = {"votes": 1.0, "reproduction": 1.0, "reward": 1.0}


class SelectionConfig(BaseModel):
    """The selection rule."""

    model_config = ConfigDict(extra="forbid")

    require_apply: bool = True
    require_no_regressions: bool = True
    reproduction: Literal["ignore", "prefer", "require"] = "prefer"
    primary: Literal["reward", "votes", "score"] = "reward"
    reward_keys: list[str] | None = Field(
        None, description="score names averaged for the reward (None = all)"
    )
    tie_tolerance: float = Field(0.05, ge=0.0, description="rewards this close count as equal")
    fallback: Literal["all", "none"] = "all"
    cluster_by: Literal["diff", "behaviour"] = Field(
        "diff", description="votes count equal normalised diffs, or also candidates that behave the same"
    )
    weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS),
        description="weights of votes, reproduction and reward in the selection score",
    )


class Ranked(BaseModel):
    """One candidate's place in the ranking and what put it there."""

    id: str
    rank: int
    reward: float | None
    votes: int
    cluster: int
    reproduction_passed: bool | None
    patch_lines: int
    excluded_by: list[str] = Field(default_factory=list)
    score: float = 0.0
    behaviour_cluster: int = -1
    reason: str = ""


class Selection(BaseModel):
    """The chosen candidate id (None when nothing qualifies), why, the full ranking and the clusters.

    `ranking` holds the ranked candidates (the survivors of the filters, or every non-empty patch
    when the fallback ranked them); `excluded` the others, each with its reason."""

    chosen: str | None
    reason: str
    ranking: list[Ranked]
    clusters: list[list[str]]
    excluded: list[Ranked] = Field(default_factory=list)
    behaviour_clusters: list[list[str]] = Field(default_factory=list)

    def rows(self) -> list[Ranked]:
        """Every candidate: the ranking, then the excluded."""
        return [*self.ranking, *self.excluded]


# ---- small pieces ---------------------------------------------------------------------------------


def _changed_lines(patch: str) -> int:
    return sum(1 for line in patch.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---")))


def _reward(item: Judged, keys: list[str] | None) -> float | None:
    values = [
        s.value for name, s in item.scores.items() if s.value is not None and (keys is None or name in keys)
    ]
    return sum(values) / len(values) if values else None


def _bucket(reward: float | None, tolerance: float) -> float:
    """Rewards in one bucket are equal for ranking; no reward sorts last."""
    if reward is None:
        return float("-inf")
    return round(reward / tolerance) if tolerance > 0 else reward


def multiplicity(item: Judged) -> int:
    """Votes one candidate carries: its sources (identical submissions), at least one."""
    sources = item.candidate.metadata.get("sources")
    return max(1, len(sources)) if isinstance(sources, list) else 1


def _exclusions(item: Judged, config: SelectionConfig) -> tuple[list[str], str]:
    """(`check:status` of each failed required check, a sentence saying why)."""
    out, why = [], []
    checks = {"apply": config.require_apply, "regression": config.require_no_regressions}
    checks["reproduction"] = config.reproduction == "require"
    for check, required in checks.items():
        verdict = item.verdict(check)
        if required and verdict is not None and verdict.passed is False:
            out.append(f"{check}:{verdict.status}")
            why.append(f"{check} failed ({verdict.status}): {verdict.explanation}".rstrip(": "))
    if not item.candidate.patch.strip() and not out:
        out.append("empty patch")
        why.append("the patch is empty")
    return out, "; ".join(why)


_VOLATILE = [
    (re.compile(r"0x[0-9a-fA-F]+"), "0x?"),
    (re.compile(r"\b\d+(\.\d+)?\s*(s|sec|seconds|ms)\b"), "?s"),
    (re.compile(r"/tmp/[\w./-]+"), "/tmp/?"),
    (re.compile(r"line \d+"), "line ?"),
]


def _mask(text: str) -> str:
    for pattern, repl in _VOLATILE:
        text = pattern.sub(repl, text)
    return text.strip()


def behaviour_key(item: Judged) -> str | None:
    """What a candidate did when run: None unless a reproduction script ran on its patched code.

    Equal keys mean equal check statuses and equal (masked) reproduction output on the patched code."""
    repro = item.verdict("reproduction")
    patched = [e for e in (repro.evidence if repro else []) if e.label == "patched"]
    if not patched:
        return None
    parts = [f"{v.check}:{v.status}" for v in sorted(item.verdicts, key=lambda v: v.check)]
    parts += [f"{e.exit_code}|{e.timed_out}|{_mask(e.output)}" for e in patched]
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _clusters(survivors: Sequence[Judged]) -> tuple[list[list[str]], dict[str, int]]:
    keys = {it.candidate.id: patch_key(it.candidate.patch) for it in survivors}
    index: dict[str, int] = {}
    clusters: list[list[str]] = []
    for it in survivors:
        key = keys[it.candidate.id]
        if key not in index:
            index[key] = len(clusters)
            clusters.append([])
        clusters[index[key]].append(it.candidate.id)
    return clusters, {cid: index[key] for cid, key in keys.items()}


def _behaviour_clusters(
    survivors: Sequence[Judged], clusters: list[list[str]], cluster_of: dict[str, int]
) -> tuple[list[list[str]], dict[str, int]]:
    """Diff clusters merged when any of their candidates share a behaviour key (union-find)."""
    parent = list(range(len(clusters)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for it in survivors:
        key = behaviour_key(it)
        if key is None:
            continue
        c = cluster_of[it.candidate.id]
        if key in first_with:
            parent[find(c)] = find(first_with[key])
        else:
            first_with[key] = c
    merged: dict[int, int] = {}
    out: list[list[str]] = []
    for c, members in enumerate(clusters):
        root = find(c)
        if root not in merged:
            merged[root] = len(out)
            out.append([])
        out[merged[root]].extend(members)
    return out, {cid: merged[find(c)] for cid, c in cluster_of.items()}


def _score(
    passes: bool, empty: bool, share: float, repro: bool | None, reward: float | None, config: SelectionConfig
) -> float:
    if empty:
        return 0.0
    weights = {**DEFAULT_WEIGHTS, **config.weights}
    parts = [(weights["votes"], share), (weights["reward"], 0.5 if reward is None else reward)]
    if config.reproduction != "ignore":
        parts.append((weights["reproduction"], 0.5 if repro is None else float(repro)))
    total = sum(w for w, _ in parts)
    inner = sum(w * x for w, x in parts) / total if total > 0 else 0.5
    return round(0.5 * passes + 0.5 * inner, 6)


# ---- ranking keys (higher is better), shared by the sort and the reasons --------------------------

Key = tuple[str, Callable[["Ranked"], float], Callable[["Ranked"], str]]


def _keys(config: SelectionConfig) -> list[Key]:
    def repro(row: Ranked) -> float:
        return float(row.reproduction_passed is True) if config.reproduction != "ignore" else 0.0

    reward: Key = (
        "reward",
        lambda r: _bucket(r.reward, config.tie_tolerance),
        lambda r: "none" if r.reward is None else f"{r.reward:.3f}",
    )
    reproduction: Key = (
        "reproduction",
        repro,
        lambda r: {True: "passed", False: "failed", None: "no evidence"}[r.reproduction_passed],
    )
    votes: Key = ("votes", lambda r: float(r.votes), lambda r: str(r.votes))
    size: Key = ("patch size", lambda r: -float(r.patch_lines), lambda r: f"{r.patch_lines} lines")
    score: Key = ("score", lambda r: r.score, lambda r: f"{r.score:.3f}")
    if config.primary == "reward":
        return [reward, reproduction, votes, size]
    if config.primary == "votes":
        return [votes, reproduction, reward, size]
    return [score, votes, size]


def _loss_reason(row: Ranked, top: Ranked, keys: list[Key]) -> str:
    for name, value, show in keys:
        if value(row) != value(top):
            return f"ranked {row.rank}: lost to {top.id} on {name} ({show(row)} vs {show(top)})"
    return f"ranked {row.rank}: tied with {top.id} on every key; the input order decided"


# ---- the rule ---------------------------------------------------------------------------------------


def select(items: Sequence[Judged], config: SelectionConfig | None = None) -> Selection:
    """Choose one candidate by the rule in `config` (see the module docstring)."""
    config = config or SelectionConfig()
    if not items:
        return Selection(chosen=None, reason="no candidates", ranking=[], clusters=[])
    excluded: dict[str, list[str]] = {}
    why_out: dict[str, str] = {}
    for it in items:
        excluded[it.candidate.id], why_out[it.candidate.id] = _exclusions(it, config)
    survivors = [it for it in items if not excluded[it.candidate.id]]
    fell_back = False
    if not survivors and config.fallback == "all":
        survivors = [it for it in items if it.candidate.patch.strip()]
        fell_back = bool(survivors)

    clusters, cluster_of = _clusters(survivors)
    behaviour, behaviour_of = _behaviour_clusters(survivors, clusters, cluster_of)  # recorded either way
    weight = {it.candidate.id: multiplicity(it) for it in items}
    vote_clusters = behaviour if config.cluster_by == "behaviour" else clusters
    vote_of = behaviour_of if config.cluster_by == "behaviour" else cluster_of
    all_votes = sum(weight[it.candidate.id] for it in items if it.candidate.patch.strip()) or 1

    def row(it: Judged) -> Ranked:
        cid = it.candidate.id
        repro = it.verdict("reproduction")
        passed = repro.passed if repro else None
        reward = _reward(it, config.reward_keys)
        votes = sum(weight[m] for m in vote_clusters[vote_of[cid]]) if cid in vote_of else weight[cid]
        return Ranked(
            id=cid,
            rank=0,
            reward=reward,
            votes=votes,
            cluster=cluster_of.get(cid, -1),
            behaviour_cluster=behaviour_of.get(cid, -1),
            reproduction_passed=passed,
            patch_lines=_changed_lines(it.candidate.patch),
            excluded_by=excluded[cid],
            score=_score(
                not excluded[cid],
                not it.candidate.patch.strip(),
                votes / all_votes,
                passed,
                reward,
                config,
            ),
        )

    ranked_ids = {it.candidate.id for it in survivors}
    others = [row(it) for it in items if it.candidate.id not in ranked_ids]
    for other in others:
        other.reason = "excluded: " + why_out[other.id]
    if not survivors:
        reason = (
            "every candidate patch is empty"
            if config.fallback == "all"
            else "no candidate passed the execution filters (fallback: none)"
        )
        if config.fallback == "none":
            return Selection(chosen=None, reason=reason, ranking=others, clusters=[])
        return Selection(chosen=None, reason=reason, ranking=[], clusters=[], excluded=others)

    rows = [row(it) for it in survivors]
    keys = _keys(config)
    order = {it.candidate.id: i for i, it in enumerate(survivors)}
    rows.sort(key=lambda r: (*(-value(r) for _, value, _ in keys), order[r.id]))
    for i, r in enumerate(rows, 1):
        r.rank = i
    top = rows[0]
    top.reason = "chosen: " + _explain(top, rows, len(items), len(survivors), fell_back, config)
    for r in rows[1:]:
        r.reason = _loss_reason(r, top, keys)
        if fell_back:
            r.reason += f" (ranked only because every candidate failed a filter: {why_out[r.id]})"
    return Selection(
        chosen=top.id,
        reason=top.reason.removeprefix("chosen: "),
        ranking=rows,
        clusters=clusters,
        excluded=others,
        behaviour_clusters=behaviour,
    )


def _explain(
    top: Ranked, rows: list[Ranked], total: int, kept: int, fell_back: bool, config: SelectionConfig
) -> str:
    parts = []
    if fell_back:
        parts.append(f"no candidate passed the execution filters, so all {total} were ranked")
    else:
        parts.append(f"{kept} of {total} candidates passed the execution filters")
    reward = "no reward" if top.reward is None else f"reward {top.reward:.3f}"
    head = f"chose {top.id} ("
    if config.primary == "score":
        head += f"score {top.score:.3f}, "
    parts.append(head + f"{reward}, {top.votes} vote(s) in cluster {top.cluster}")
    if top.reproduction_passed:
        parts[-1] += ", reproduction passed"
    parts[-1] += f") by primary key '{config.primary}'"
    if len(rows) > 1:
        second = rows[1]
        primary = _keys(config)[0][1]
        if primary(top) == primary(second):
            parts.append(f"tied on the primary key with {second.id}; broken by the next keys")
    return "; ".join(parts)
