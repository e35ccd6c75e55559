"""Selection: pick one candidate from many, and say why.

The rule (a `SelectionConfig`):

1. **Filter by execution.** A candidate whose required check *failed* (`passed is False`) is out;
   a check with no evidence (`passed is None`: not run, not reproducing, timed out on the base) does
   not exclude. Required checks: `apply` (applies and compiles), `regression` (no test that passed
   before fails after), and `reproduction` when `reproduction="require"`. With `reproduction="prefer"`
   a passing reproduction only ranks higher. If nothing survives, `fallback="all"` ranks every non-empty
   patch (and says so), `fallback="none"` chooses nothing.
2. **Cluster** survivors by normalised diff (`verifiers.diffs.patch_key`: changed lines per file,
   whitespace and context ignored). A cluster's size is its votes.
3. **Rank** candidates by the primary key, then the others in this order:
   - `primary="reward"`: mean reward (of the `reward_keys` scores, failed scores ignored; rounded to
     `tie_tolerance`), then reproduction passed, then cluster votes, then patch size (smaller first);
   - `primary="votes"`: cluster votes, then reproduction passed, then mean reward, then patch size.
   Candidates without any reward rank after those with one. The input order breaks remaining ties.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from verifiers.diffs import patch_key
from verifiers.types import Judged


class SelectionConfig(BaseModel):
    """The selection rule."""

    model_config = ConfigDict(extra="forbid")

    require_apply: bool = True
    require_no_regressions: bool = True
    reproduction: Literal["ignore", "prefer", "require"] = "prefer"
    primary: Literal["reward", "votes"] = "reward"
    reward_keys: list[str] | None = Field(
        None, description="score names averaged for the reward (None = all)"
    )
    tie_tolerance: float = Field(0.05, ge=0.0, description="rewards this close count as equal")
    fallback: Literal["all", "none"] = "all"


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


class Selection(BaseModel):
    """The chosen candidate id (None when nothing qualifies), why, the full ranking and the clusters."""

    chosen: str | None
    reason: str
    ranking: list[Ranked]
    clusters: list[list[str]]


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


def _exclusions(item: Judged, config: SelectionConfig) -> list[str]:
    out = []
    checks = {"apply": config.require_apply, "regression": config.require_no_regressions}
    checks["reproduction"] = config.reproduction == "require"
    for check, required in checks.items():
        verdict = item.verdict(check)
        if required and verdict is not None and verdict.passed is False:
            out.append(f"{check}:{verdict.status}")
    if not item.candidate.patch.strip() and not out:
        out.append("empty patch")
    return out


def select(items: Sequence[Judged], config: SelectionConfig | None = None) -> Selection:
    """Choose one candidate by the rule in `config` (see the module docstring)."""
    config = config or SelectionConfig()
    if not items:
        return Selection(chosen=None, reason="no candidates", ranking=[], clusters=[])
    excluded = {it.candidate.id: _exclusions(it, config) for it in items}
    survivors = [it for it in items if not excluded[it.candidate.id]]
    fell_back = False
    if not survivors:
        if config.fallback == "none":
            ranking = [
                Ranked(
                    id=it.candidate.id,
                    rank=0,
                    reward=_reward(it, config.reward_keys),
                    votes=0,
                    cluster=-1,
                    reproduction_passed=(
                        it.verdict("reproduction").passed if it.verdict("reproduction") else None
                    ),
                    patch_lines=_changed_lines(it.candidate.patch),
                    excluded_by=excluded[it.candidate.id],
                )
                for it in items
            ]
            return Selection(
                chosen=None,
                reason="no candidate passed the execution filters (fallback: none)",
                ranking=ranking,
                clusters=[],
            )
        survivors = [it for it in items if it.candidate.patch.strip()]
        fell_back = True
        if not survivors:
            return Selection(chosen=None, reason="every candidate patch is empty", ranking=[], clusters=[])

    keys: dict[str, str] = {it.candidate.id: patch_key(it.candidate.patch) for it in survivors}
    cluster_of: dict[str, int] = {}
    clusters: list[list[str]] = []
    for it in survivors:
        key = keys[it.candidate.id]
        if key not in cluster_of:
            cluster_of[key] = len(clusters)
            clusters.append([])
        clusters[cluster_of[key]].append(it.candidate.id)

    rows: list[Ranked] = []
    for it in survivors:
        cid = it.candidate.id
        repro = it.verdict("reproduction")
        rows.append(
            Ranked(
                id=cid,
                rank=0,
                reward=_reward(it, config.reward_keys),
                votes=len(clusters[cluster_of[keys[cid]]]),
                cluster=cluster_of[keys[cid]],
                reproduction_passed=repro.passed if repro else None,
                patch_lines=_changed_lines(it.candidate.patch),
                excluded_by=excluded[cid],
            )
        )
    order = {it.candidate.id: i for i, it in enumerate(survivors)}

    def bucket(reward: float | None) -> float:
        return _bucket(reward, config.tie_tolerance)

    def repro_key(row: Ranked) -> int:
        return int(row.reproduction_passed is True) if config.reproduction != "ignore" else 0

    def sort_key(row: Ranked) -> tuple:
        if config.primary == "reward":
            return (-bucket(row.reward), -repro_key(row), -row.votes, row.patch_lines, order[row.id])
        return (-row.votes, -repro_key(row), -bucket(row.reward), row.patch_lines, order[row.id])

    rows.sort(key=sort_key)
    for i, row in enumerate(rows, 1):
        row.rank = i
    top = rows[0]
    reason = _explain(top, rows, len(items), len(survivors), fell_back, config)
    return Selection(chosen=top.id, reason=reason, ranking=rows, clusters=clusters)


def _explain(
    top: Ranked, rows: list[Ranked], total: int, kept: int, fell_back: bool, config: SelectionConfig
) -> str:
    parts = []
    if fell_back:
        parts.append(f"no candidate passed the execution filters, so all {total} were ranked")
    else:
        parts.append(f"{kept} of {total} candidates passed the execution filters")
    reward = "no reward" if top.reward is None else f"reward {top.reward:.3f}"
    parts.append(f"chose {top.id} ({reward}, {top.votes} vote(s) in cluster {top.cluster}")
    if top.reproduction_passed:
        parts[-1] += ", reproduction passed"
    parts[-1] += f") by primary key '{config.primary}'"
    if len(rows) > 1:
        second = rows[1]
        if config.primary == "reward":
            same_primary = _bucket(top.reward, config.tie_tolerance) == _bucket(
                second.reward, config.tie_tolerance
            )
        else:
            same_primary = top.votes == second.votes
        if same_primary:
            parts.append(f"tied on the primary key with {second.id}; broken by the next keys")
    return "; ".join(parts)
