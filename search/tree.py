"""The search tree: a `networkx.DiGraph` whose nodes carry a `Node` record.

A node holds its stage, the repository state to continue from (`RepoState` as a dict), what its
stage produced (`Artifacts`), the execution verdicts and reward scores it earned, its value, how it
was made (`Expansion`) and the policy's decision about it (why it was expanded, pruned or chosen).
`tree.json` (format `swe-ttc/search-tree@1`) round-trips through `SearchTree.load`; `tree.graphml`
carries the same nodes with flat attributes for graph tools.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import networkx as nx
from pydantic import BaseModel, Field

from search.stages import ROOT
from sweagent.io import atomic_write_text
from verifiers.types import Score, Verdict

FORMAT = "swe-ttc/search-tree@1"
NodeStatus = Literal["ok", "failed"]


class Artifacts(BaseModel):
    """What a stage left: a reproduction script, suspected locations, a patch, and its summary."""

    summary: str = ""
    reproduction_path: str | None = None
    reproduction_script: str | None = None
    reproduces_on_base: bool | None = None
    reproduction_output: str = ""
    locations: list[str] = Field(default_factory=list)
    patch: str = ""
    verified_with: str | None = Field(None, description="node whose reproduction script checked this patch")


class Expansion(BaseModel):
    """How a node was produced: the stage rollout's outcome, spend and timings."""

    order: int
    seed: int
    exit_status: str | None = None
    exit_detail: str = ""
    steps: int = 0
    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    judge_tokens: int = 0
    judge_cost: float = 0.0
    judge_calls: int = 0
    judge_failed: int = 0
    stage_sandbox_seconds: float = Field(0.0, description="seconds of the agent's commands in the sandbox")
    verify_sandbox_seconds: float = Field(0.0, description="seconds of verification commands in the sandbox")
    seconds: float = 0.0
    restore_seconds: float = 0.0
    restore_path: str = ""
    verify_seconds: float = 0.0
    sandbox: str = ""
    sandbox_replaced: bool = False
    trajectory: str | None = None


class Node(BaseModel):
    """One point of the development process."""

    id: str
    parent: str | None = None
    stage: str
    depth: int = 0
    status: NodeStatus = "ok"
    state: dict[str, Any] | None = None
    artifacts: Artifacts = Field(default_factory=Artifacts)
    verdicts: list[Verdict] = Field(default_factory=list)
    scores: dict[str, Score] = Field(default_factory=dict)
    step_rewards: list[dict[str, Any]] = Field(
        default_factory=list, description="static diagnostics reward of each edit step (step, path, value)"
    )
    reward: float | None = None
    value: float = 0.0
    verified: bool = False
    expansion: Expansion | None = None
    decision: str = ""
    picks: list[str] = Field(default_factory=list)

    @property
    def is_candidate(self) -> bool:
        return self.stage == "patch" and self.status == "ok" and bool(self.artifacts.patch.strip())

    def verdict(self, check: str) -> Verdict | None:
        return next((v for v in self.verdicts if v.check == check), None)


class SearchTree:
    """Nodes in a DiGraph (edges parent → child); ids are `n0` (root), `n1`, ... in creation order."""

    def __init__(self, instance_id: str, strategy: str = "tree") -> None:
        self.instance_id = instance_id
        self.strategy = strategy
        self.graph = nx.DiGraph()
        self.meta: dict[str, Any] = {}

    # -- building ----------------------------------------------------------------------------------
    def add_root(self, state: dict[str, Any] | None = None) -> Node:
        node = Node(id="n0", stage=ROOT, state=state, reward=None)
        self.graph.add_node(node.id, node=node)
        return node

    def new_id(self) -> str:
        return f"n{self.graph.number_of_nodes()}"

    def add_child(self, node: Node) -> Node:
        assert node.parent is not None and node.parent in self.graph, "a child needs a parent in the tree"
        node.depth = self.node(node.parent).depth + 1
        self.graph.add_node(node.id, node=node)
        self.graph.add_edge(node.parent, node.id)
        return node

    # -- reading -----------------------------------------------------------------------------------
    @property
    def root(self) -> Node:
        return self.node("n0")

    def node(self, node_id: str) -> Node:
        return self.graph.nodes[node_id]["node"]

    def nodes(self) -> list[Node]:
        return [self.node(n) for n in sorted(self.graph.nodes, key=lambda i: int(i[1:]))]

    def children(self, node_id: str) -> list[Node]:
        return [self.node(c) for c in sorted(self.graph.successors(node_id), key=lambda i: int(i[1:]))]

    def path(self, node_id: str) -> list[Node]:
        """Root → node."""
        out = [self.node(node_id)]
        while out[-1].parent is not None:
            out.append(self.node(out[-1].parent))
        return out[::-1]

    def ancestor(self, node_id: str, stage: str) -> Node | None:
        return next((n for n in self.path(node_id) if n.stage == stage), None)

    def candidates(self) -> list[Node]:
        return [n for n in self.nodes() if n.is_candidate]

    def descendants(self, node_id: str) -> list[Node]:
        return [self.node(d) for d in nx.descendants(self.graph, node_id)]

    # -- files -------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "instance_id": self.instance_id,
            "strategy": self.strategy,
            "meta": self.meta,
            "nodes": [n.model_dump(mode="json") for n in self.nodes()],
            "edges": [[a, b] for a, b in self.graph.edges],
        }

    def save(self, directory: str | Path) -> tuple[Path, Path]:
        """Write `tree.json` and `tree.graphml` into `directory` (atomically)."""
        directory = Path(directory)
        json_path = directory / "tree.json"
        atomic_write_text(json_path, json.dumps(self.to_json(), indent=1))
        graphml_path = directory / "tree.graphml"
        atomic_write_text(graphml_path, "\n".join(nx.generate_graphml(self.flat_graph())))
        return json_path, graphml_path

    def flat_graph(self) -> nx.DiGraph:
        """The tree with scalar attributes only (what GraphML can hold)."""
        flat = nx.DiGraph(instance_id=self.instance_id, strategy=self.strategy)
        for n in self.nodes():
            exp = n.expansion
            flat.add_node(
                n.id,
                stage=n.stage,
                status=n.status,
                value=float(n.value),
                reward=float(n.reward) if n.reward is not None else -1.0,
                verified=n.verified,
                summary=n.artifacts.summary[:500],
                reproduces_on_base=str(n.artifacts.reproduces_on_base),
                locations=", ".join(n.artifacts.locations),
                patch_lines=sum(1 for ln in n.artifacts.patch.splitlines() if ln[:1] in "+-"),
                verdicts=", ".join(f"{v.check}:{v.status}" for v in n.verdicts),
                scores=", ".join(f"{k}={s.value}" for k, s in n.scores.items()),
                decision=n.decision,
                order=exp.order if exp else 0,
                exit_status=(exp.exit_status or "") if exp else "",
                restore_seconds=exp.restore_seconds if exp else 0.0,
            )
        flat.add_edges_from(self.graph.edges)
        return flat

    @classmethod
    def load(cls, path: str | Path) -> SearchTree:
        data = json.loads(Path(path).read_text())
        if data.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} file (format={data.get('format')!r})")
        tree = cls(data["instance_id"], data.get("strategy", "tree"))
        tree.meta = data.get("meta", {})
        for raw in data["nodes"]:
            node = Node.model_validate(raw)
            tree.graph.add_node(node.id, node=node)
        tree.graph.add_edges_from(tuple(e) for e in data["edges"])
        return tree
