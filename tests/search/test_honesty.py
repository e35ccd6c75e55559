"""The search receives nothing from the simulation but its replies and execution results.

Three proofs: the import graph (search, verifiers and sweagent never import the simulation, sweagent
never imports search); a run where the simulation's truth is changed while every reply the search gets
is held fixed, and the search decides exactly the same; and the benchmark's replay execution giving
the same search as real containers."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from search.pool import SandboxPool
from search.runner import run_search
from search.tree import SearchTree
from simulation.model import SimParams, register_instance, tape
from simulation.replay import replay_opener
from simulation.tasks import FIXTURES, Edit
from sweagent.config import RunConfig
from tests.search.conftest import search_config
from verifiers.execution import ExecutionConfig

ROOT = Path(__file__).resolve().parents[2]


def imports(package: str) -> dict[str, set[str]]:
    """Top-level packages each module of `package` imports (anywhere in the file)."""
    out = {}
    for path in (ROOT / package).rglob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
        out[str(path.relative_to(ROOT))] = found
    return out


def test_the_code_under_test_never_imports_the_simulation():
    for package in ("search", "verifiers", "sweagent", "synth"):
        for module, found in imports(package).items():
            if module.startswith("sweagent/commands/"):
                continue  # the CLI layer wires the demo and the benchmark
            assert "simulation" not in found, f"{module} imports the simulation"
    for module, found in imports("sweagent").items():
        if not module.startswith("sweagent/commands/") and module != "sweagent/cli.py":
            assert not found & {"search", "verifiers", "synth"}, (
                f"{module} imports {found & {'search', 'verifiers'}}"
            )
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import search.runner, search.policy, verifiers.pipeline, sweagent.config, sys;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'simulation'))",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout.strip()
    assert loaded == "[]"


def replay_pool(repo, commit) -> SandboxPool:
    config = RunConfig().sandbox.model_copy(update={"kind": "local", "network": "none"})
    return SandboxPool(
        config,
        size=1,
        repo_path=str(repo),
        commit=commit,
        image=None,
        run_label="test-honesty",
        execution=ExecutionConfig(),
        opener=replay_opener({}),
    )


def outline(run: Path, instance_id: str) -> list[tuple]:
    """Every decision of a search: nodes, what they hold, their values, picks and the selection."""
    tree = SearchTree.load(run / instance_id / "tree.json")
    rows = [
        (
            n.id,
            n.parent,
            n.stage,
            n.status,
            n.artifacts.patch,
            n.artifacts.reproduces_on_base,
            tuple(v.status for v in n.verdicts),
            tuple((k, s.value) for k, s in sorted(n.scores.items())),
            round(n.value, 9),
            tuple(p.split(": ", 1)[0] for p in n.picks),
            n.decision,
        )
        for n in tree.nodes()
    ]
    return [*rows, ("selected", tree.meta["selection"]["chosen"])]


def swapped(fixture):
    """The same repository and work, with another truth: right and incomplete swap roles."""
    edits = dict(fixture.edits)
    edits["right"], edits["incomplete"] = (
        Edit(
            "right", **{k: getattr(fixture.edits["incomplete"], k) for k in ("path", "old", "new", "marker")}
        ),
        Edit(
            "incomplete", **{k: getattr(fixture.edits["right"], k) for k in ("path", "old", "new", "marker")}
        ),
    )
    return dataclasses.replace(fixture, edits=edits, loc_marker="a marker no prompt holds")


def test_changing_the_simulations_truth_with_replies_held_fixed_changes_no_decision(tmp_path):
    fixture = FIXTURES["median"]
    repo, commit = fixture.make_repo(tmp_path / "repo")
    task = fixture.task(repo, commit)
    other = swapped(fixture)
    hidden = task.model_copy(update={"FAIL_TO_PASS": ["tests/x.py::y"], "patch": other.gold_patch()})
    with replay_pool(repo, commit) as pool:

        def search(fx, solve_rate, params, the_task, name, mode):
            model = register_instance("honesty", fx, params, solve_rate)
            config = search_config(fx, params, sandbox="local", strategy="tree", budget=3, seed=4)
            config = config.model_copy(update={"model": config.model.model_copy(update={"name": model})})
            pool.reset_cache()
            tape(mode)
            try:
                run_search(the_task, config, tmp_path / name, repo_path=str(repo), pool=pool)
            finally:
                tape(None)
            return outline(tmp_path / name, task.instance_id)

        first = search(fixture, 0.6, SimParams(), task, "a", "record")
        # another truth: which edit is right, the difficulty, the judge's accuracy, the hidden tests
        held = search(other, 0.05, SimParams(auc=0.55, incomplete_rate=0.9), hidden, "b", "replay")
        free = search(other, 0.05, SimParams(auc=0.55, incomplete_rate=0.9), hidden, "c", None)
    assert held == first  # the replies were all the search had to go on
    assert free != first  # and the change of truth is a real one: unheld, the search sees it


@pytest.mark.usefixtures("base_image")
def test_replay_execution_gives_the_search_real_containers_give(tmp_path):
    fixture = FIXTURES["parse_bool"]
    repo, commit = fixture.make_repo(tmp_path / "repo")
    task = fixture.task(repo, commit)
    runs = {}
    for kind in ("docker", "replay"):
        config = search_config(fixture, SimParams(), sandbox="docker", strategy="tree", budget=2, seed=11)
        model = register_instance("replay-vs-docker", fixture, SimParams(), 0.6)
        config = config.model_copy(update={"model": config.model.model_copy(update={"name": model})})
        if kind == "docker":
            run_search(task, config, tmp_path / kind, repo_path=str(repo))
        else:
            with replay_pool(repo, commit) as pool:
                run_search(task, config, tmp_path / kind, repo_path=str(repo), pool=pool)
        runs[kind] = outline(tmp_path / kind, task.instance_id)
    assert runs["replay"] == runs["docker"]
