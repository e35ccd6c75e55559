"""`synth run` on SWE-bench-format rows: rollouts and grading in the instances' own images."""

from __future__ import annotations

import json

import pytest

from sweagent.swebench.images import official_image_name
from sweagent.trajectory import Trajectory
from synth.results import read_results
from synth.scripted import Variant, choose, register_sampler
from tests.synth.conftest import QUICK, run_cli

pytestmark = pytest.mark.docker

CALC = "swe-ttc-fixtures__calc-1"


def _act(tool, thought, **args):
    return {"thought": thought, "tool": tool, "args": args}


def calc_variants() -> list[Variant]:
    view = _act("editor", "Read it.", command="view", path="calc/ops.py")
    repro = _act(
        "editor",
        "Show the bug.",
        command="create",
        path="reproduce_issue.py",
        file_text="from calc import divide\nprint(divide(7, 2))\n",
    )
    run = _act("bash", "Run it.", command="python3 reproduce_issue.py")
    submit = _act("submit", "Done.")

    def edit(new):
        return _act(
            "editor",
            "Fix divide.",
            command="str_replace",
            path="calc/ops.py",
            old_str="return a // b",
            new_str=new,
        )

    return [
        Variant("fix", [view, repro, run, edit("return a / b"), run, submit]),
        Variant("round", [view, repro, run, edit("return round(a / b)"), run, submit]),
    ]


def test_swebench_rows_use_their_instance_images(docker_client, base_image, tmp_path):
    from sweagent.swebench.fixtures import build

    dataset = tmp_path / "fixtures.jsonl"
    build(dataset, client=docker_client, base_image=base_image)
    model = register_sampler("swebench-rows", {CALC: calc_variants()})
    args = [
        "synth",
        "run",
        "--dataset",
        str(dataset),
        "--instances",
        CALC,
        "--samples",
        "2",
        "--model",
        model,
    ]
    args += ["--output-dir", str(tmp_path), "--run-id", "rows", "--workers", "2", *QUICK, "--json"]
    code, stdout = run_cli(args)
    assert code == 0, stdout
    stats = json.loads(stdout)
    run_dir = tmp_path / "rows"
    image = official_image_name(CALC)
    results = {r.sample_id: r for r in read_results(run_dir / "results.jsonl")}
    assert sorted(results) == [f"{CALC}.s0", f"{CALC}.s1"]
    for sid, result in results.items():
        traj = Trajectory.load(run_dir / result.trajectory)
        assert traj.environment["image"] == image
        behaviour = choose("swebench-rows", sid, 0.8).label
        expected = ("resolved", True, []) if behaviour == "fix" else ("unresolved", False, ["unresolved"])
        assert (result.grade, result.accepted, result.reasons) == expected
    assert stats["overall"]["accepted"] == 1
