"""Allocation on constructed trees: the documented formula picks what it says it picks."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from search.config import SearchConfig
from search.policy import backup, candidate_reward, chain_pick, is_verified, node_reward, pick
from search.tree import Artifacts, Node, SearchTree
from verifiers.types import Score, Verdict

STATE = {"base_commit": "abc", "patch": "", "tree": None}


def add(tree: SearchTree, parent: str, stage: str, **kw) -> Node:
    node = Node(id=tree.new_id(), parent=parent, stage=stage, state=STATE, **kw)
    return tree.add_child(node)


def repro(tree: SearchTree, parent: str, reproduces: bool, process: float) -> Node:
    return add(
        tree,
        parent,
        "reproduce",
        artifacts=Artifacts(reproduction_path="r.py", reproduction_script="x", reproduces_on_base=reproduces),
        scores={"process": Score(value=process)},
    )


def loc(tree: SearchTree, parent: str, process: float) -> Node:
    return add(tree, parent, "localize", scores={"process": Score(value=process)})


def patch(tree: SearchTree, parent: str, repro_passed: bool | None, judge: float) -> Node:
    verdicts = [Verdict.make("apply", True, "passed", "ok")]
    if repro_passed is not None:
        verdicts.append(
            Verdict.make("reproduction", repro_passed, "passed" if repro_passed else "failed", "")
        )
    return add(
        tree,
        parent,
        "patch",
        artifacts=Artifacts(patch="--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"),
        verdicts=verdicts,
        scores={"judge": Score(value=judge), "static": Score(value=0.5)},
    )


def new_tree() -> SearchTree:
    tree = SearchTree("t")
    tree.add_root(state=STATE)
    return tree


def test_node_rewards_follow_the_documented_formula():
    cfg = SearchConfig(strategy="tree")
    tree = new_tree()
    r = repro(tree, "n0", True, 0.8)
    bad = repro(tree, "n0", False, 0.4)
    ok_patch = patch(tree, r.id, True, 0.9)
    failed_patch = patch(tree, r.id, False, 0.9)
    unknown = patch(tree, r.id, None, 0.6)
    assert math.isclose(node_reward(r, cfg), 0.5 * 0.8 + 0.5)
    assert math.isclose(node_reward(bad, cfg), 0.5 * 0.4)
    assert math.isclose(node_reward(ok_patch, cfg), 0.5 + 0.5 * 0.9)
    assert math.isclose(node_reward(failed_patch, cfg), 0.1 * 0.9)
    assert math.isclose(node_reward(unknown, cfg), 0.5 * 0.6)
    # new pyflakes problems scale the reward model's score down
    unknown.scores["static"] = Score(value=0.2)
    assert math.isclose(candidate_reward(unknown), 0.6 * 0.4)


def test_backup_mixes_own_evidence_with_children():
    cfg = SearchConfig(strategy="tree", prior_weight=2.0)
    tree = new_tree()
    r = repro(tree, "n0", True, 0.8)
    l1 = loc(tree, r.id, 0.9)
    p = patch(tree, l1.id, False, 0.2)
    backup(tree, cfg)
    w = cfg.prior_weight
    assert math.isclose(p.value, 0.1 * 0.2)
    assert math.isclose(l1.value, (w * 0.9 + p.value) / (w + 1))
    assert math.isclose(r.value, (w * 0.9 + l1.value) / (w + 1))
    assert math.isclose(tree.root.value, (w * cfg.root_prior + r.value) / (w + 1))


def test_tree_goes_deep_on_good_evidence_and_widens_after_failed_patches():
    cfg = SearchConfig(strategy="tree")
    tree = new_tree()
    r = repro(tree, "n0", True, 0.8)
    l1 = loc(tree, r.id, 0.8)
    backup(tree, cfg)
    # a promising localisation is patched first (one stage from a candidate)
    assert pick(tree, cfg, 2, Counter()).node_id == l1.id
    # patches from it keep failing verification: its value sinks until a new localisation wins
    failures = 0
    while pick(tree, cfg, len(tree.nodes()) - 1, Counter()).node_id == l1.id and failures < 10:
        patch(tree, l1.id, False, 0.1)
        backup(tree, cfg)
        failures += 1
    assert 2 <= failures <= 5, f"widened after {failures} failed patches"
    assert pick(tree, cfg, len(tree.nodes()) - 1, Counter()).node_id == r.id


def test_a_reproduction_that_does_not_reproduce_sends_the_search_back_to_the_root():
    cfg = SearchConfig(strategy="tree")
    tree = new_tree()
    repro(tree, "n0", False, 0.3)
    backup(tree, cfg)
    assert pick(tree, cfg, 1, Counter()).node_id == "n0"


def test_low_process_reward_prunes_a_localisation():
    cfg = SearchConfig(strategy="tree")
    tree = new_tree()
    r = repro(tree, "n0", True, 0.9)
    loc(tree, r.id, 0.1)
    backup(tree, cfg)
    assert pick(tree, cfg, 2, Counter()).node_id == r.id


def test_max_children_and_pending_expansions_are_respected():
    cfg = SearchConfig(strategy="tree", max_children=2)
    tree = new_tree()
    r = repro(tree, "n0", True, 0.9)
    loc(tree, r.id, 0.1)
    backup(tree, cfg)
    pending = Counter({r.id: 1})  # one more child of r is in flight: r is full
    assert pick(tree, cfg, 2, pending).node_id == "n0"


def test_chains_continue_then_restart_and_single_stops_after_one():
    cfg = SearchConfig(strategy="best-of-n")
    tree = new_tree()
    assert chain_pick(tree, cfg, 0, Counter()).node_id == "n0"
    r = repro(tree, "n0", True, 0.5)
    assert chain_pick(tree, cfg, 1, Counter()).node_id == r.id
    lo = loc(tree, r.id, 0.5)
    assert chain_pick(tree, cfg, 2, Counter()).node_id == lo.id
    patch(tree, lo.id, False, 0.1)
    assert chain_pick(tree, cfg, 3, Counter()).node_id == "n0"
    single = SearchConfig(strategy="single")
    assert pick(tree, single, 3, Counter()) is None
    # a crashed stage ends its rollout; best-of-n starts the next one
    failed = add(tree, "n0", "reproduce", status="failed")
    assert failed.status == "failed"
    assert chain_pick(tree, cfg, 5, Counter()).node_id == "n0"


def test_early_stop_needs_every_check_and_the_reward_bar():
    cfg = SearchConfig(strategy="tree", stop_reward=0.7)
    tree = new_tree()
    r = repro(tree, "n0", True, 0.9)
    good = patch(tree, r.id, True, 0.9)
    low = patch(tree, r.id, True, 0.5)
    unproven = patch(tree, r.id, None, 0.95)
    broken = patch(tree, r.id, True, 0.95)
    broken.verdicts.append(Verdict.make("regression", False, "regressions", "1 test broke"))
    assert is_verified(good, cfg)
    assert not is_verified(low, cfg)
    assert not is_verified(unproven, cfg)
    assert not is_verified(broken, cfg)


def test_disagreeing_children_add_the_documented_bonus():
    tree = new_tree()
    r = repro(tree, "n0", True, 0.9)
    lo = loc(tree, r.id, 0.8)
    patch(tree, lo.id, True, 0.3)  # passes the reproduction
    patch(tree, lo.id, False, 0.3)  # fails it
    plain, bonus = (
        SearchConfig(strategy="tree", disagreement=0.0),
        SearchConfig(strategy="tree", disagreement=0.1),
    )
    backup(tree, plain)
    values = [c.value for c in tree.children(lo.id)]
    from search.policy import priority

    without, _ = priority(tree, lo, plain, 4, Counter())
    with_bonus, why = priority(tree, lo, bonus, 4, Counter())
    assert math.isclose(with_bonus - without, 0.1 * (max(values) - min(values)))
    assert "disagreement" in why


def test_the_root_keeps_trying_reproductions_until_one_works():
    cfg = SearchConfig(strategy="tree")
    tree = new_tree()
    first = repro(tree, "n0", False, 0.4)
    second = repro(tree, "n0", False, 0.4)
    lo = loc(tree, second.id, 0.1)
    backup(tree, cfg)
    chosen = pick(tree, cfg, 3, Counter())
    assert chosen.node_id == "n0" and "no reproduction yet" in chosen.reason
    # once a script reproduces the issue the bonus is gone
    first.artifacts.reproduces_on_base = True
    backup(tree, cfg)
    assert "no reproduction yet" not in pick(tree, cfg, 3, Counter()).reason
    assert lo.value < first.value


def test_edit_step_rewards_feed_the_node_values_the_allocation_uses():
    cfg = SearchConfig(strategy="tree")
    tree = new_tree()
    r = repro(tree, "n0", True, 0.8)
    clean, broken = loc(tree, r.id, 0.8), loc(tree, r.id, 0.8)
    good = patch(tree, clean.id, True, 0.8)
    bad = patch(tree, broken.id, True, 0.8)
    good.step_rewards = [{"step": 1, "path": "a.py", "value": 0.5}]
    # an edit that left an undefined name, then one that changed nothing about it
    bad.step_rewards = [{"step": 1, "path": "a.py", "value": 0.08}, {"step": 2, "path": "a.py", "value": 0.5}]
    backup(tree, cfg)
    assert node_reward(good, cfg) == pytest.approx(0.5 + 0.5 * 0.8)
    assert node_reward(bad, cfg) == pytest.approx(0.5 + 0.5 * 0.8 * (2 * (0.08 + 0.5) / 2))
    assert bad.value < good.value and broken.value < clean.value
    picked = pick(tree, cfg, 6, Counter())
    assert picked is not None and picked.node_id != broken.id
