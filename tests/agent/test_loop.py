"""The agent loop end to end: scripted models through litellm, real sandboxes, trajectories on disk."""

from __future__ import annotations

import json
import uuid

import pytest

from sweagent.config import load_config
from sweagent.model.scripted import register_replay
from sweagent.runner import solve_task
from sweagent.task import Task
from sweagent.trajectory import Trajectory, trajectory_path
from tests.helpers.openai_server import OpenAIServer, Reply
from tests.helpers.repos import make_repo

FIX = [
    {"thought": "Look around.", "tool": "bash", "args": {"command": "ls"}},
    {
        "thought": "Write a reproduction.",
        "tool": "editor",
        "args": {
            "command": "create",
            "path": "reproduce_bug.py",
            "file_text": "from calc import div\nprint(div(1, 0))\n",
        },
    },
    {"thought": "Run it.", "tool": "bash", "args": {"command": "python3 reproduce_bug.py"}},
    {"thought": "Find it.", "tool": "search", "args": {"pattern": "def div"}},
    {
        "thought": "Guard the zero division.",
        "tool": "editor",
        "args": {
            "command": "str_replace",
            "path": "calc.py",
            "old_str": "    return a / b\n",
            "new_str": "    if b == 0:\n        return None\n    return a / b\n",
        },
    },
    {"thought": "Check.", "tool": "bash", "args": {"command": "python3 reproduce_bug.py"}},
    {"thought": "Done.", "tool": "submit", "args": {}},
]


@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path / "calc", {"calc.py": "def div(a, b):\n    return a / b\n"})


def _run(repo, tmp_path, script, kind="local", **overrides):
    name = f"t-{uuid.uuid4().hex[:8]}"
    register_replay(name, script)
    data = {"model": {"name": f"replay/{name}"}, "sandbox": {"kind": kind, "network": "none"}}
    for dotted, value in overrides.items():
        section, key = dotted.split("__")
        data.setdefault(section, {})[key] = value
    config = load_config(overrides=data)
    task = Task(
        instance_id="calc-1", repo=str(repo), problem_statement="div(1, 0) crashes; it should return None"
    )
    return solve_task(task, config, tmp_path / "run", repo_path=str(repo))


@pytest.mark.parametrize("action_format", ["tool_calls", "text"])
def test_rollout_submits_patch_without_reproduction_script(repo, tmp_path, action_format):
    traj = _run(repo, tmp_path, FIX, model__action_format=action_format)
    assert traj.exit_status == "submitted"
    assert "+    if b == 0:" in traj.patch and "reproduce_bug.py" not in traj.patch
    assert [s.stage for s in traj.steps] == [
        "understand",
        "reproduce",
        "reproduce",
        "localize",
        "patch",
        "verify",
        "submit",
    ]
    saved = Trajectory.load(trajectory_path(tmp_path / "run", "calc-1"))
    assert saved.patch == traj.patch and saved.format == "swe-ttc/trajectory@1"
    roles = [m["role"] for m in saved.messages]
    assert roles[:2] == ["system", "user"]
    assert ("tool" in roles) == (action_format == "tool_calls")
    assert "ZeroDivisionError" in saved.steps[2].observation
    assert saved.config["model"]["action_format"] == action_format


def test_rollout_in_docker_matches_local(repo, tmp_path, base_image):
    traj = _run(repo, tmp_path, FIX, kind="docker")
    assert traj.exit_status == "submitted"
    assert "+    if b == 0:" in traj.patch
    assert traj.environment["image"] == base_image and traj.environment["workdir"] == "/testbed"


def test_format_errors_in_a_row_end_the_run(repo, tmp_path):
    script = [{"raw": "I am not sure what to do."}] * 5
    traj = _run(repo, tmp_path, script, agent__max_format_errors=3, model__action_format="text")
    assert traj.exit_status == "format_error"
    assert len(traj.steps) == 3 and all(s.format_error for s in traj.steps)
    assert "could not be run" in traj.messages[-1]["content"]


def test_a_format_error_then_recovery_continues(repo, tmp_path):
    traj = _run(repo, tmp_path, [{"raw": "hmm"}, *FIX], model__action_format="text")
    assert traj.exit_status == "submitted" and traj.steps[0].format_error and not traj.steps[1].format_error


def test_step_limit_submits_current_diff(repo, tmp_path):
    traj = _run(
        repo,
        tmp_path,
        FIX[3:5] + [{"thought": "More.", "tool": "bash", "args": {"command": "true"}}] * 5,
        agent__step_limit=4,
    )
    assert traj.exit_status == "submitted (limit)"
    assert "steps limit" in traj.exit_detail
    assert len(traj.steps) == 4 and "+    if b == 0:" in traj.patch


def test_cost_limit_through_a_priced_model_on_a_loopback_server(repo, tmp_path):
    """A priced model name served by an OpenAI-compatible server: cost accrues and the limit stops the run."""

    def expensive(_request):
        reply = Reply.tool_call("bash", {"command": "true"})
        reply.usage = {"prompt_tokens": 200_000, "completion_tokens": 10}
        return reply

    with OpenAIServer(handler=expensive) as server:
        config = load_config(
            overrides={
                "model": {"name": "openai/gpt-4o", "api_base": server.url, "cost_limit": 1.0, "retries": 0},
                "sandbox": {"kind": "local"},
            }
        )
        task = Task(instance_id="calc-1", repo=str(repo), problem_statement="x")
        traj = solve_task(task, config, tmp_path / "run", repo_path=str(repo))
    assert traj.exit_status == "submitted (limit)" and "cost" in traj.exit_detail
    assert traj.stats["cost"] >= 1.0 and traj.stats["model_calls"] < 10
    assert json.loads(json.dumps(traj.stats))  # serialisable
