"""Run one task end to end: sandbox up, agent loop, trajectory saved, sandbox down.

`solve_task` is what `solve`, `batch` and `synth` call per instance. It records every per-instance
failure in the trajectory's exit status instead of raising, so one bad instance never stops a batch;
only KeyboardInterrupt propagates (after the partial trajectory is saved without a final status, so a
resumed batch reruns it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sweagent.agent import Agent, AgentContext
from sweagent.config import RunConfig
from sweagent.errors import UserError
from sweagent.io import atomic_write_text
from sweagent.model.budget import RunBudget
from sweagent.model.litellm_model import Model
from sweagent.sandbox.base import Sandbox
from sweagent.sandbox.factory import open_sandbox
from sweagent.task import Task
from sweagent.trajectory import Trajectory, trajectory_path


def write_run_config(run_dir: Path, config: RunConfig) -> Path:
    """Save the config snapshot that replays this run."""
    path = Path(run_dir) / "config.yaml"
    atomic_write_text(path, config.snapshot_yaml())
    return path


def localization_hint(task: Task, config: RunConfig, repo_path: str | None, sandbox: Sandbox) -> str:
    """Top files and functions for the issue (static, model-free), or '' when off or unavailable."""
    if not config.agent.localize_hint:
        return ""
    try:
        from sweagent.localize import localize, localize_repo
    except ImportError:
        return ""
    top = config.agent.localize_top
    try:
        if repo_path:
            result = localize_repo(
                repo_path, sandbox.base_commit or task.base_commit, task.problem_statement, top=top
            )
        else:
            files = sandbox_python_files(sandbox)
            if not files:
                return ""
            result = localize(files, task.problem_statement, top=top)
        return result.as_prompt_text(top)
    except Exception:  # a hint is optional: never fail a rollout over it
        return ""


def sandbox_python_files(sandbox: Sandbox, limit: int = 20_000) -> dict[str, bytes]:
    """Tracked Python files of the sandbox's repository at its base commit (for the localisation hint)."""
    export = getattr(sandbox, "export_files", None)
    if export is None:
        return {}
    return export("*.py", limit=limit)


def solve_task(
    task: Task,
    config: RunConfig,
    run_dir: Path,
    *,
    budget: RunBudget | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    repo_path: str | None = None,
    raise_setup_errors: bool = False,
) -> Trajectory:
    """One rollout of `task`; writes `run_dir/<id>/<id>.traj.json` and returns the trajectory.

    `raise_setup_errors` re-raises a UserError from setting up (bad image, Docker down) after saving,
    for the single-task CLI where the user should see it as the one-line error it is."""
    run_dir = Path(run_dir)
    path = trajectory_path(run_dir, task.instance_id)
    traj = Trajectory(instance_id=task.instance_id, model_name=config.model.name)
    traj.problem_statement = task.problem_statement
    traj.config = config.model_dump(mode="json")
    if on_event:
        on_event({"instance_id": task.instance_id, "step": 0, "stage": "starting", "cost": 0.0})
    try:
        model = Model(config.model, budget=budget)
        image = task.image or config.sandbox.image
        traj.environment.update(
            {"sandbox": config.sandbox.kind, "image": image if config.sandbox.kind == "docker" else None}
        )
        with open_sandbox(
            config.sandbox, repo_path=repo_path, commit=task.base_commit, image=image, run_label=run_dir.name
        ) as sandbox:
            hint = localization_hint(task, config, repo_path, sandbox)
            agent = Agent(config, model, sandbox, on_event=on_event)
            traj = agent.run(task, AgentContext(localization=hint), traj)
    except KeyboardInterrupt:
        traj.exit_status = None
        traj.exit_detail = "interrupted"
        traj.save(path)
        raise
    except UserError as exc:
        traj.exit_status, traj.exit_detail = "error: setup", str(exc)
        if raise_setup_errors:
            traj.save(path)
            raise
    except Exception as exc:
        traj.exit_status, traj.exit_detail = f"error: {type(exc).__name__}", str(exc)[:2000]
    traj.save(path)
    if on_event:
        on_event(
            {
                "instance_id": task.instance_id,
                "step": len(traj.steps),
                "stage": "done",
                "cost": traj.stats.get("cost", 0.0),
                "exit_status": traj.exit_status,
            }
        )
    return traj
