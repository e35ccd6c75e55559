"""What the filters and the exporter read of one sample: its conversations, in order, and evidence.

A plain rollout is one conversation (its trajectory file). A search rollout (`synth run --search`)
is the chosen path through the search tree: one conversation per agent stage (reproduce, localize,
patch), each with its own system prompt and its own step labels, which the search saves as
`nodes/<node>.traj.json` next to `tree.json`. Those saved files are read here, never the search's
code, so the search can change inside as long as its files keep these fields: the trajectory's
`environment.search.{tree, chosen}`, and per node `id`, `parent`, `stage`, `expansion.trajectory`,
`artifacts.reproduces_on_base` and `verdicts[].{check, passed}`.

The search's own checks on the path count as process evidence: a reproduction script that failed
on the base is a reproduction, and a candidate that passed an execution check is a verification.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sweagent.errors import UserError
from sweagent.trajectory import Step, Trajectory


@dataclass
class Part:
    """One conversation of a rollout; `stage` is the search stage (None for a plain rollout)."""

    stage: str | None
    trajectory: Trajectory


@dataclass
class SearchEvidence:
    chosen: str | None
    reproduced: bool = False
    verified: bool = False
    checks: list[str] = field(default_factory=list)  # "check:passed|failed|none" of the chosen node


@dataclass
class Rollout:
    sample_id: str
    trajectory: Trajectory  # the sample's own file: patch, exit status, totals
    parts: list[Part]
    search: SearchEvidence | None = None

    @property
    def steps(self) -> list[Step]:
        """Every step of every conversation, in order, each with its own stage label."""
        return [step for part in self.parts for step in part.trajectory.steps]

    @property
    def patch(self) -> str:
        return self.trajectory.patch


def load_rollout(traj_file: Path, traj: Trajectory | None = None) -> Rollout:
    """The rollout whose trajectory file is `traj_file` (search rollouts read their tree too)."""
    traj = traj or Trajectory.load(traj_file)
    search = traj.environment.get("search")
    if not isinstance(search, dict) or not search.get("tree"):
        return Rollout(traj.instance_id, traj, [Part(None, traj)])
    folder = traj_file.parent
    tree_file = folder / str(search["tree"])
    try:
        tree = json.loads(tree_file.read_text())
        nodes = {node["id"]: node for node in tree["nodes"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(
            f"cannot read the search tree {tree_file} of sample {traj.instance_id} ({type(exc).__name__}): "
            "rerun `swe-ttc synth run` for it (`--redo-existing`)"
        ) from None
    chosen = search.get("chosen")
    path = _path(nodes, chosen)
    parts = []
    for node in path:
        name = (node.get("expansion") or {}).get("trajectory")
        if not name:
            continue
        try:
            parts.append(Part(node.get("stage"), Trajectory.load(folder / name)))
        except (OSError, ValueError) as exc:
            raise UserError(
                f"cannot read stage trajectory {folder / name} ({type(exc).__name__}): rerun "
                "`swe-ttc synth run` for it (`--redo-existing`)"
            ) from None
    return Rollout(traj.instance_id, traj, parts, _evidence(chosen, path))


def _path(nodes: dict[str, dict[str, Any]], node_id: str | None) -> list[dict[str, Any]]:
    """Root → `node_id` (empty when the search chose nothing)."""
    path: list[dict[str, Any]] = []
    seen: set[str] = set()
    while node_id is not None and node_id in nodes and node_id not in seen:
        seen.add(node_id)
        path.append(nodes[node_id])
        node_id = nodes[node_id].get("parent")
    return path[::-1]


def _evidence(chosen: str | None, path: list[dict[str, Any]]) -> SearchEvidence:
    evidence = SearchEvidence(chosen=chosen)
    for node in path:
        if node.get("stage") == "reproduce" and (node.get("artifacts") or {}).get("reproduces_on_base"):
            evidence.reproduced = True
    if path and path[-1].get("id") == chosen:
        verdicts = path[-1].get("verdicts") or []
        evidence.checks = [
            f"{v.get('check')}:{ {True: 'passed', False: 'failed'}.get(v.get('passed'), 'none') }"
            for v in verdicts
        ]
        passed = [v.get("passed") for v in verdicts]
        evidence.verified = True in passed and False not in passed
    return evidence
