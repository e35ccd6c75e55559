"""The search tree in the terminal: a `rich` Tree, one line per node.

Each line: id and stage, what the node produced (reproduces or not, suspected files, patch size),
its checks and scores, its value, and the policy's decision (expanded / pruned / failed / selected).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.markup import escape
from rich.tree import Tree

from search.tree import Node, SearchTree

_STAGE_COLOUR = {"root": "bold", "reproduce": "cyan", "localize": "magenta", "patch": "yellow"}


def _produced(node: Node) -> str:
    art = node.artifacts
    if node.stage == "reproduce":
        if not art.reproduction_path:
            return "no script"
        mark = {True: "[green]reproduces[/]", False: "[red]does not reproduce[/]", None: "unclear"}
        return f"{escape(art.reproduction_path)} {mark[art.reproduces_on_base]}"
    if node.stage == "localize":
        return escape(", ".join(art.locations[:3]) or "no location")
    if node.stage == "patch":
        lines = sum(
            1 for ln in art.patch.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))
        )
        return f"{lines} changed line(s)" if art.patch else "no patch"
    return "base commit"


def _checks(node: Node) -> str:
    marks = {True: "[green]✓[/]", False: "[red]✗[/]", None: "[dim]·[/]"}
    return " ".join(f"{v.check}{marks[v.passed]}" for v in node.verdicts)


def _scores(node: Node) -> str:
    return " ".join(f"{k} {s.value:.2f}" for k, s in node.scores.items() if s.value is not None)


def node_label(node: Node) -> str:
    colour = _STAGE_COLOUR.get(node.stage, "white")
    head = f"[{colour}]{node.id} {node.stage}[/]"
    if node.status == "failed":
        head += " [red]FAILED[/]"
    if node.verified:
        head += " [green]VERIFIED[/]"
    if node.decision.startswith("SELECTED"):
        head += " [bold green]★ selected[/]"
    parts = [head]
    if node.status == "ok":
        parts.append(_produced(node))
    for extra in (_checks(node), _scores(node)):
        if extra:
            parts.append(extra)
    parts.append(f"value {node.value:.2f}")
    decision = node.decision.split(" | ")[-1] if node.decision.startswith("SELECTED") else node.decision
    return " · ".join(parts) + f"\n[dim]{escape(decision[:220])}[/]"


def render_tree(tree: SearchTree) -> Tree:
    """A rich Tree of the search, with a header line of strategy, spend and outcome."""
    stats = tree.meta.get("stats", {}).get("search", {})
    header = (
        f"[bold]{escape(tree.instance_id)}[/] · {tree.strategy} · "
        f"{stats.get('rollouts_spent', 0):g} of {tree.meta.get('budget', 0):g} rollouts · "
        f"{escape(str(tree.meta.get('stop_reason', '')))}"
    )
    out = Tree(header)
    branches = {}

    def add(node: Node, parent: Tree) -> None:
        branch = parent.add(node_label(node))
        branches[node.id] = branch
        for child in tree.children(node.id):
            add(child, branch)

    if tree.graph.number_of_nodes():
        add(tree.root, out)
    return out


def event_printer(console: Any) -> Callable[[dict[str, Any]], None]:
    """Progress lines for `solve --search`: one per agent step and one per finished expansion."""

    def on_event(event: dict[str, Any]) -> None:
        if event.get("stage") in ("starting", "done"):
            return
        if event.get("event") == "expanded":
            colour = "green" if event.get("status") == "ok" else "red"
            console.print(
                f"[{colour}]{event['node']} {event['stage']}[/] from {event['parent']}: {event['status']}"
                f" · {event['rollouts']:g} rollouts spent",
                highlight=False,
            )
            return
        node = event.get("node", "")
        action = event.get("action") or "(no action)"
        console.print(
            f"  {node:>4} step {event['step']:>2} · {event['stage']:<10} · {action}",
            highlight=False,
            style="dim",
        )

    return on_event
