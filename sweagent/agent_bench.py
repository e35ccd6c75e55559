"""`swe-ttc bench agent`: the framework's own time per agent step.

An instant scripted model (a litellm custom provider, so the real litellm code path) drives N steps of
a trivial command on the demo repository. Per step we report the time outside the sandbox command —
the litellm round trip with an instant model, action parsing, stage labelling, prompt rendering and
trajectory bookkeeping — and, measured in the same run for comparison, the command's own time.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import uuid
from pathlib import Path

import click

from sweagent.config import load_config


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def _ms(values: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(values) * 1000, 3), "p95_ms": round(_p95(values) * 1000, 3)}


def measure(steps: int, sandbox_kind: str, action_format: str) -> dict:
    """Run one rollout of `steps` trivial actions and summarise per-step timings."""
    from sweagent.agent import Agent
    from sweagent.demo_setup import create_demo_repo
    from sweagent.model.litellm_model import Model
    from sweagent.model.scripted import register_replay
    from sweagent.sandbox.factory import open_sandbox
    from sweagent.task import Task

    name = f"bench-{uuid.uuid4().hex[:8]}"
    register_replay(name, [{"thought": "check", "tool": "bash", "args": {"command": "true"}}] * steps)
    config = load_config(
        overrides={
            "model": {"name": f"replay/{name}", "action_format": action_format},
            "sandbox": {"kind": sandbox_kind, "network": "none"},
            "agent": {"step_limit": steps, "localize_hint": False},
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        repo = create_demo_repo(Path(tmp) / "repo")
        task = Task(instance_id="bench", repo=str(repo), problem_statement="benchmark")
        with open_sandbox(config.sandbox, repo_path=str(repo)) as sandbox:
            traj = Agent(config, Model(config.model), sandbox).run(task)
    rows = [s for s in traj.steps if s.action is not None]
    own = [s.model_seconds + s.framework_seconds for s in rows]
    return {
        "sandbox": sandbox_kind,
        "action_format": action_format,
        "steps": len(rows),
        "framework_per_step": _ms(own),
        "of_which_litellm_call": _ms([s.model_seconds for s in rows]),
        "of_which_loop_bookkeeping": _ms([s.framework_seconds for s in rows]),
        "command_per_step_for_comparison": _ms([s.tool_seconds for s in rows]),
        "target_median_ms": 5.0,
        "meets_target": statistics.median(own) * 1000 <= 5.0,
    }


@click.command("agent")
@click.option("--steps", default=100, show_default=True, help="agent steps in the rollout")
@click.option(
    "--sandbox", "sandbox_kind", type=click.Choice(["docker", "local"]), default="docker", show_default=True
)
@click.option(
    "--action-format", type=click.Choice(["tool_calls", "text"]), default="tool_calls", show_default=True
)
def bench_agent(steps: int, sandbox_kind: str, action_format: str) -> None:
    """Framework time per agent step with an instant scripted model (JSON)."""
    click.echo(json.dumps(measure(steps, sandbox_kind, action_format), indent=2))
