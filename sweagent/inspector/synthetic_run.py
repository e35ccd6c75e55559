"""A made-up run folder of any size, in the real file formats, for `swe-ttc bench inspect`.

Trajectories are written through `sweagent.trajectory.Trajectory` (so they follow the format as it
changes); observations, thoughts and patches are random text of realistic sizes (observation lengths
log-normal around 1.5 kB, capped at the sandbox's 20 kB). A share of the instances carries a search
tree, and every instance an eval report, so each page the inspector draws has something to draw.
Nothing here is used by the inspector itself.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from sweagent.inspector.files import TREE_FORMAT
from sweagent.io import atomic_write_json, atomic_write_text
from sweagent.trajectory import Action, Step, Trajectory, trajectory_path

STAGE_PLAN = ("understand", "reproduce", "localize", "patch", "verify")
WORDS = "the a value index result error function module test check return call line path config".split()


def _text(rng: random.Random, chars: int) -> str:
    lines, size = [], 0
    while size < chars:
        indent = " " * rng.choice((0, 4, 8))
        line = indent + " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)[:chars]


def _patch(rng: random.Random, iid: str) -> str:
    lines = rng.randint(2, 30)
    body = "".join(f"-{_text(rng, 40)}\n+{_text(rng, 44)}\n" for _ in range(lines // 2))
    return (
        f"diff --git a/src/{iid}.py b/src/{iid}.py\n--- a/src/{iid}.py\n+++ b/src/{iid}.py\n"
        f"@@ -10,{lines // 2 + 2} +10,{lines // 2 + 2} @@ def f():\n context\n{body} context\n"
    )


def _trajectory(rng: random.Random, iid: str, steps: int) -> Trajectory:
    traj = Trajectory(instance_id=iid, model_name="bench/model", problem_statement=_text(rng, 800))
    for i in range(steps):
        stage = STAGE_PLAN[min(len(STAGE_PLAN) - 1, i * len(STAGE_PLAN) // steps)]
        obs_chars = min(20_000, int(rng.lognormvariate(7.2, 0.9)))
        action = (
            Action(tool="bash", args={"command": f"grep -rn {rng.choice(WORDS)} src | head -50"})
            if i % 3
            else Action(tool="editor", args={"command": "view", "path": f"/testbed/src/{iid}.py"})
        )
        traj.steps.append(
            Step(
                index=i,
                stage=stage,
                thought=_text(rng, rng.randint(80, 600)),
                action=action,
                observation=_text(rng, obs_chars),
                model_seconds=rng.uniform(0.5, 6),
                tool_seconds=rng.uniform(0.01, 2),
                input_tokens=rng.randint(2_000, 30_000),
                output_tokens=rng.randint(50, 800),
                cost=rng.uniform(0.001, 0.03),
            )
        )
    traj.patch = _patch(rng, iid)
    traj.exit_status = rng.choices(
        ["submitted", "submitted (step_limit)", "error: RuntimeError"], [85, 12, 3]
    )[0]
    traj.stats = {
        "steps": steps,
        "cost": sum(s.cost for s in traj.steps),
        "input_tokens": sum(s.input_tokens for s in traj.steps),
        "output_tokens": sum(s.output_tokens for s in traj.steps),
        "wall_seconds": sum(s.model_seconds + s.tool_seconds for s in traj.steps),
    }
    return traj


def _tree(rng: random.Random, iid: str, nodes: int) -> dict:
    """A search tree of `nodes` nodes: reproduce → localize → patch levels under a root."""
    out = [
        {"id": "n0", "parent": None, "stage": "root", "depth": 0, "decision": "expanded", "expansion": None}
    ]
    stages = {"root": "reproduce", "reproduce": "localize", "localize": "patch"}
    for i in range(1, nodes):
        open_nodes = [n for n in out if n["stage"] in stages]
        parent = rng.choice(open_nodes)
        stage = stages[parent["stage"]]
        node = {
            "id": f"n{i}",
            "parent": parent["id"],
            "stage": stage,
            "depth": parent["depth"] + 1,
            "value": rng.random(),
            "decision": f"expanded because its value {rng.random():.2f} was the highest",
            "expansion": {"order": i - 1, "exit_status": "submitted", "steps": rng.randint(5, 30)},
            "scores": {
                "judge": {"value": rng.random(), "explanation": _text(rng, 120), "source": "llm_judge"}
            },
            "artifacts": {"summary": _text(rng, 200)},
        }
        if stage == "patch":
            node["artifacts"]["patch"] = _patch(rng, iid)
            node["verdicts"] = [
                {
                    "check": check,
                    "passed": ok,
                    "status": "passed" if ok else "failed",
                    "explanation": _text(rng, 100),
                }
                for check, ok in (
                    ("apply", True),
                    ("reproduction", rng.random() < 0.6),
                    ("regression", rng.random() < 0.8),
                )
            ]
        out.append(node)
    chosen = next((n["id"] for n in reversed(out) if n["stage"] == "patch"), None)
    expansions = nodes - 1
    return {
        "format": TREE_FORMAT,
        "instance_id": iid,
        "strategy": "tree",
        "meta": {
            "selection": {"chosen": chosen, "reason": "highest reward among candidates passing every check"},
            "stats": {
                "search": {
                    "rollouts_spent": round(expansions / 3, 4),
                    "expansions": expansions,
                    "budget_rollouts": 8,
                }
            },
        },
        "nodes": out,
        "edges": [[n["parent"], n["id"]] for n in out if n["parent"]],
    }


def write_run(
    run_dir: Path, instances: int, steps: int, search_share: float = 0.2, tree_nodes: int = 16, seed: int = 0
) -> Path:
    """Write a run of `instances` instances with `steps`-step trajectories into `run_dir`."""
    rng = random.Random(seed)
    ids = [f"bench__repo-{i:05d}" for i in range(instances)]
    resolved, unresolved = [], []
    for n, iid in enumerate(ids):
        traj = _trajectory(rng, iid, steps)
        traj.save(trajectory_path(run_dir, iid))
        if n < instances * search_share:
            atomic_write_text(run_dir / iid / "tree.json", json.dumps(_tree(rng, iid, tree_nodes)))
        ok = rng.random() < 0.4
        (resolved if ok else unresolved).append(iid)
        report = {
            iid: {
                "resolved": ok,
                "status": "resolved" if ok else "unresolved",
                "tests_status": {
                    "FAIL_TO_PASS": {
                        "success": ["tests/test_a.py::test_new"] if ok else [],
                        "failure": [] if ok else ["tests/test_a.py::test_new"],
                    },
                    "PASS_TO_PASS": {
                        "success": [f"tests/test_a.py::test_{k}" for k in range(20)],
                        "failure": [],
                    },
                },
            }
        }
        atomic_write_json(run_dir / "eval" / iid / "report.json", report)
    atomic_write_json(
        run_dir / "eval" / "report.json",
        {"resolved_ids": resolved, "unresolved_ids": unresolved, "error_ids": [], "empty_patch_ids": []},
    )
    atomic_write_text(
        run_dir / "config.yaml", "model:\n  name: bench/model\nsearch:\n  strategy: tree\n  budget: 8\n"
    )
    return run_dir
