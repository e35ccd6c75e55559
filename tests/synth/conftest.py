"""Shared, session-scoped work for the synth tests: the history repository, its mined tasks, and one
synth run over them with a sampling scripted model (K=4), each built once and read by many tests."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sweagent.cli import main
from synth.fixtures import behaviours, build_history_repo
from synth.scripted import Variant, register_sampler

# Which behaviour each task's variants play (the sampler covers every entry once when K = 4).
PLAN = {
    "clamp_fix": ["clean", "clean", "loop", "wrong"],
    "mean_fix": ["clean", "clean_alt", "dawdle", "test_edit"],
}
SAMPLES = 4
STEP_LIMIT = 12
TEMPERATURE = 0.8
QUICK = ["--agent.localize_hint", "false", "--model.action_format", "tool_calls"]


def run_cli(args: list[str]) -> tuple[int, str]:
    """Run `swe-ttc ARGS` in-process; (exit code, stdout)."""
    out = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out):
        try:
            main(args)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue()


@dataclass
class History:
    repo: Path
    shas: dict[str, str]

    def label(self, sha: str) -> str:
        return next(label for label, s in self.shas.items() if s == sha)


@pytest.fixture(scope="session")
def history(tmp_path_factory) -> History:
    repo = tmp_path_factory.mktemp("history") / "mathkit"
    return History(repo, build_history_repo(repo))


@dataclass
class Mined:
    file: Path
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    by_label: dict[str, dict[str, Any]]


@pytest.fixture(scope="session")
def mined(history, docker_client, base_image, tmp_path_factory) -> Mined:
    """`swe-ttc synth tasks` on the history repository (through the CLI, JSON summary)."""
    out = tmp_path_factory.mktemp("mined") / "tasks.jsonl"
    code, stdout = run_cli(["synth", "tasks", "--repo", str(history.repo), "--output", str(out), "--json"])
    assert code == 0, stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    by_label = {history.label(row["source_commit"]): row for row in rows}
    return Mined(out, rows, json.loads(stdout), by_label)


@dataclass
class SynthRunResult:
    run_dir: Path
    model: str
    stats: dict[str, Any]
    variant_of: dict[str, str]  # sample id -> behaviour label
    label_of: dict[str, str]  # task id -> history label


def synth_run_args(dataset: Path, model: str, out: Path, run_id: str, *extra: str) -> list[str]:
    return [
        "synth",
        "run",
        "--dataset",
        str(dataset),
        "--samples",
        str(SAMPLES),
        "--model",
        model,
        "--temperature",
        str(TEMPERATURE),
        "--workers",
        "2",
        "--output-dir",
        str(out),
        "--run-id",
        run_id,
        "--max-per-task",
        "1",
        "--agent.step_limit",
        str(STEP_LIMIT),
        *QUICK,
        *extra,
        "--json",
    ]


@pytest.fixture(scope="session")
def synth_run(mined, tmp_path_factory) -> SynthRunResult:
    """`swe-ttc synth run` over the mined tasks with the sampling model, 2 workers."""
    from synth.samples import sample_id
    from synth.scripted import choose

    variants = {}
    label_of = {}
    for label, row in mined.by_label.items():
        acts = behaviours(label)
        variants[row["instance_id"]] = [Variant(name, acts[name]) for name in PLAN[label]]
        label_of[row["instance_id"]] = label
    model = register_sampler("synthtest", variants)
    out = tmp_path_factory.mktemp("runs")
    code, stdout = run_cli(synth_run_args(mined.file, model, out, "k4"))
    assert code == 0, stdout
    variant_of = {
        sample_id(iid, k): choose("synthtest", sample_id(iid, k), TEMPERATURE).label
        for iid in variants
        for k in range(SAMPLES)
    }
    return SynthRunResult(out / "k4", model, json.loads(stdout), variant_of, label_of)
