"""Allocation: which node to expand next, when to stop, and what a node is worth.

Evidence a node earns (`node_reward`, in [0, 1]):

- reproduce: ``0.5 * process + 0.5 * reproduces``, where `process` is the reward model's answer to
  "does this reproduction show the issue?" (0.5 when absent) and `reproduces` is execution evidence:
  1 if the script prints `Issue reproduced` on the unchanged code, else 0;
- localize: the process reward for "has the agent found the responsible code?" (0.5 when absent);
- patch (a candidate): ``reward = judge * min(1, 2 * static)`` (the outcome reward, scaled down when
  pyflakes finds new problems in the final patch), then by execution evidence: any check failed →
  ``0.1 * reward``; reproduction passed → ``0.5 + 0.5 * reward``; no evidence → ``0.5 * reward`` (an
  unverifiable candidate never counts for more than a verified one, and a doubtful one pulls its
  ancestors down);
- a failed node (the stage crashed, hit a limit, or left no patch): 0.

Process rewards per step: every edit step of a stage has a static diagnostics reward (`step_rewards`,
0.5 = no new problems). A node's reward is multiplied by ``min(1, 2 * mean(step rewards))``, so a stage
whose edits left new errors is worth less to expand from, whatever its final patch looks like.

Verification is spent where it can change a decision: a candidate that failed an execution check is
out of the selection while any candidate passes, so the outcome judge is not asked about it then (its
reward counts as the neutral prior); if every candidate fails, the search judges them at the end,
when their scores choose (`judge_rejected` judges them at once instead).

A judge that was asked and gave no score (the call failed) is not a 0.5 in disguise: the node's
`judge_failed` flag is set, its decision says so, the candidate has no reward for selection (it
ranks after candidates that have one), and the allocation uses the neutral prior 0.5 for it, named as
such. A judge that is off (or a process reward not asked for) uses the same prior.

Backed-up value (`backup`): ``B(n) = (w * r(n) + sum(B(c) for children c)) / (w + #children)`` with
``w = prior_weight`` and ``r(root) = root_prior``. A node's own evidence is a prior that its children's
outcomes update: failed verification below a node lowers it (so the search *widens* one stage up),
a verified candidate raises its ancestors (so the search *narrows* onto that branch).

Priority of expanding node n (`priority`), UCB-style with a visit penalty:

    P(n) = B(n) / s(n) ** cost_exponent
           + exploration * sqrt(ln(1 + T) / (1 + k(n)))
           + disagreement * (max - min of the values of n's children)
           + reproduce_bonus   (root only, while no reproduction in the tree reproduces the issue)

where s(n) is the number of expansions from n to a candidate (3 root, 2 reproduce, 1 localize), so the
first term is success per rollout spent; T is the number of expansions so far and k(n) the children of
n (counting expansions in flight). The disagreement term widens a stage whose children disagree (one
patch passes the reproduction, another fails it): more samples there give the selection more
evidence. The root's bonus keeps trying reproductions while none works: without one, no candidate
can pass the reproduction check, so none can be verified and the search could never stop early. Patch nodes are leaves; reproduce/localize nodes take at most
`max_children` children. The tree strategy expands the open node of highest priority.

Baselines in the same framework (`chain_pick`): a rollout is a chain root → reproduce → localize →
patch; `single` is one chain (whatever the budget), `best-of-n` runs chains one after another (a
crashed stage ends its chain). All strategies share the budget unit, the evaluation, the early stop
and the selection.

Early stop (`is_verified`): a candidate whose apply and reproduction checks passed, no check failed,
and whose reward reaches `stop_reward`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from search.config import SearchConfig
from search.stages import ROOT, next_stage, stages_to_candidate
from search.tree import Node, SearchTree

NEUTRAL = 0.5  # the prior for evidence nobody gave (a judge that is off, or failed: see judge_failed)


def _score(node: Node, key: str, default: float = NEUTRAL) -> float:
    score = node.scores.get(key)
    return default if score is None or score.value is None else float(score.value)


def judge_failed(node: Node) -> bool:
    """The reward model was asked about this node and gave no score."""
    return any(node.scores[k].value is None for k in ("judge", "process") if k in node.scores)


def candidate_reward(node: Node) -> float | None:
    """The reward model's view of a candidate: judge score scaled by the static diagnostics factor.

    None when the judge was asked and failed (no reward, not a neutral one)."""
    judge = node.scores.get("judge")
    if judge is not None and judge.value is None:
        return None
    return _score(node, "judge") * min(1.0, 2.0 * _score(node, "static"))


def step_factor(node: Node) -> float:
    """min(1, 2 * mean static reward of the node's edit steps); 1 when it made no edit."""
    values = [float(r["value"]) for r in node.step_rewards if r.get("value") is not None]
    return min(1.0, 2.0 * sum(values) / len(values)) if values else 1.0


def execution_status(node: Node) -> str:
    """'failed' if any check failed, 'passed' if the reproduction passed (and none failed), else 'none'."""
    if any(v.passed is False for v in node.verdicts):
        return "failed"
    repro = node.verdict("reproduction")
    return "passed" if repro is not None and repro.passed is True else "none"


def node_reward(node: Node, config: SearchConfig) -> float:
    """Evidence of a node's own work in [0, 1] (see the module docstring)."""
    if node.status == "failed":
        return 0.0
    if node.stage == ROOT:
        return config.root_prior
    if node.stage == "reproduce":
        reproduces = 1.0 if node.artifacts.reproduces_on_base else 0.0
        return (0.5 * _score(node, "process") + 0.5 * reproduces) * step_factor(node)
    if node.stage == "localize":
        return _score(node, "process") * step_factor(node)
    found = candidate_reward(node)
    reward = (NEUTRAL if found is None else found) * step_factor(node)
    status = execution_status(node)
    if status == "failed":
        return 0.1 * reward
    if status == "passed":
        return 0.5 + 0.5 * reward
    return 0.5 * reward


def is_verified(node: Node, config: SearchConfig) -> bool:
    """Passes every execution check (apply and reproduction passed, none failed) and clears the reward bar."""
    if not node.is_candidate:
        return False
    apply, repro = node.verdict("apply"), node.verdict("reproduction")
    if apply is None or apply.passed is not True or repro is None or repro.passed is not True:
        return False
    if any(v.passed is False for v in node.verdicts):
        return False
    reward = candidate_reward(node)
    return reward is not None and reward >= config.stop_reward


def backup(tree: SearchTree, config: SearchConfig) -> None:
    """Set `reward` and the backed-up `value` of every node, leaves first."""
    for node in reversed(tree.nodes()):  # ids grow with depth along every path
        node.reward = node_reward(node, config)
        children = tree.children(node.id)
        weight = config.prior_weight
        node.value = (weight * node.reward + sum(c.value for c in children)) / (weight + len(children))


@dataclass
class Pick:
    """A node chosen for expansion, and why."""

    node_id: str
    priority: float
    reason: str


def expandable(tree: SearchTree, node: Node, config: SearchConfig, pending: Counter) -> bool:
    if node.status != "ok" or next_stage(node.stage) is None:
        return False
    if node.stage == ROOT:
        return True
    return len(tree.children(node.id)) + pending[node.id] < config.max_children


def priority(
    tree: SearchTree, node: Node, config: SearchConfig, total: int, pending: Counter
) -> tuple[float, str]:
    """P(n) and a one-line account of its terms."""
    children = tree.children(node.id)
    k = len(children) + pending[node.id]
    stages = stages_to_candidate(node.stage)
    exploit = node.value / (stages**config.cost_exponent)
    explore = config.exploration * math.sqrt(math.log(1 + total) / (1 + k))
    values = [c.value for c in children]
    spread = config.disagreement * (max(values) - min(values)) if len(values) > 1 else 0.0
    bonus = config.reproduce_bonus if node.stage == ROOT and working_reproduction(tree) is None else 0.0
    why = f"value {node.value:.2f}/{stages} stage(s) + explore {explore:.2f}"
    if spread:
        why += f" + disagreement {spread:.2f}"
    if bonus:
        why += f" + no reproduction yet {bonus:.2f}"
    return exploit + explore + spread + bonus, why


def working_reproduction(tree: SearchTree) -> Node | None:
    """The oldest reproduce node whose script shows the issue on the base commit, if any."""
    return next((n for n in tree.nodes() if n.stage == "reproduce" and n.artifacts.reproduces_on_base), None)


def tree_pick(tree: SearchTree, config: SearchConfig, total: int, pending: Counter) -> Pick | None:
    """The open node of highest priority (ties: the older node)."""
    scored = []
    for node in tree.nodes():
        if expandable(tree, node, config, pending):
            p, why = priority(tree, node, config, total, pending)
            scored.append((p, node, why))
    if not scored:
        return None
    scored.sort(key=lambda item: (-item[0], int(item[1].id[1:])))
    best_p, best, why = scored[0]
    others = ", ".join(f"{n.id} {p:.2f}" for p, n, _ in scored[1:4])
    reason = f"priority {best_p:.2f} ({why})" + (
        f"; next best: {others}" if others else "; the only open node"
    )
    return Pick(best.id, best_p, reason)


def chain_pick(tree: SearchTree, config: SearchConfig, total: int, pending: Counter) -> Pick | None:
    """Continue the oldest unfinished chain, else start a new one from the root."""
    for node in tree.nodes():
        if node.stage in (ROOT, "patch") or node.status != "ok" or pending[node.id]:
            continue
        if not tree.children(node.id):
            return Pick(node.id, 0.0, f"continue rollout: {node.stage} → {next_stage(node.stage)}")
    rollouts = len(tree.children(tree.root.id)) + pending[tree.root.id]
    if config.strategy == "single" and rollouts >= 1:
        return None  # single: one rollout, whatever budget is left
    return Pick(tree.root.id, 0.0, f"start rollout {rollouts + 1}")


def pick(tree: SearchTree, config: SearchConfig, total: int, pending: Counter) -> Pick | None:
    """The next expansion under the configured strategy."""
    if config.strategy == "tree":
        return tree_pick(tree, config, total, pending)
    return chain_pick(tree, config, total, pending)
