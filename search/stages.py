"""The stages a search node can be at, and how one stage is put to the agent.

reproduce → localize → patch → verify. The first three are agent stages: expanding a node runs the
agent for the next stage, in a sandbox restored to the node's state, with a fresh conversation whose
first message carries the issue, the earlier stages' artifacts (`stage` template) and the stage's
task. The agent ends the stage by calling `submit` with a summary (the next stage reads it).

Why a fresh conversation per stage and an explicit `submit` rather than one long conversation cut by
`AgentContext.stop_after_stage`: the stage boundary is then the model's own decision (a heuristic
label of its last step is not), siblings share nothing but their parent's artifacts (so they are
independent samples), and the context a stage sees stays short. `verify` is not an agent stage: it
runs the execution checks and reward models on a patch node and costs no rollout.
"""

from __future__ import annotations

from typing import Any

from sweagent.sandbox.base import Sandbox
from sweagent.stages import PROCESS_STAGES
from sweagent.templates import Templates
from sweagent.tools.base import Tool, ToolResult
from sweagent.tools.registry import default_tools

ROOT = "root"
AGENT_STAGES: tuple[str, ...] = PROCESS_STAGES  # the project's one stage vocabulary (sweagent.stages)
NEXT_STAGE: dict[str, str] = dict(zip((ROOT, *AGENT_STAGES[:-1]), AGENT_STAGES, strict=True))
# New files that are never part of a candidate, whatever the agent's own exclusions say.
BUILD_NOISE = ["*.pyc", "*.pyo"]


def next_stage(stage: str) -> str | None:
    """The stage a child of a node at `stage` is at (None: a patch node is a leaf)."""
    return NEXT_STAGE.get(stage)


def stages_to_candidate(stage: str) -> int:
    """Expansions from a node at `stage` until a patch exists (0 for a patch node)."""
    steps, current = 0, stage
    while current in NEXT_STAGE:
        current = NEXT_STAGE[current]
        steps += 1
    return steps


class StageSubmitTool(Tool):
    """`submit` for one stage: ends the stage and hands its summary to the next."""

    name = "submit"
    description = (
        "Finish the current stage. Give a short `summary` of what you found or changed; the next stage "
        "reads it. For the patch stage the patch is taken from the repository's changes."
    )
    parameters = {
        "type": "object",
        "properties": {"summary": {"type": "string", "description": "what this stage found or changed"}},
        "required": [],
    }

    def run(self, sandbox: Sandbox, args: dict[str, Any]) -> ToolResult:
        return ToolResult("Stage submitted.", submitted=True)


EDIT_COMMANDS = ("create", "str_replace", "insert", "undo_edit")


class StaticWatch(Tool):
    """The editor, with the static diagnostics reward of every edit it makes to a Python file.

    Before and after each editing command it reads the file, and `verifiers.static.static_score` scores
    the change (0.5: no new diagnostics; lower: new problems; higher: problems fixed). The scores, one
    per edit step, are the stage's process rewards (`rewards`, in step order).
    """

    def __init__(self, editor: Tool) -> None:
        self.editor = editor
        self.name, self.description, self.parameters = editor.name, editor.description, editor.parameters
        self.rewards: list[dict[str, Any]] = []
        self.calls = 0

    def run(self, sandbox: Sandbox, args: dict[str, Any]) -> ToolResult:
        from verifiers.static import static_score

        self.calls += 1
        path = str(args.get("path", ""))
        watched = args.get("command") in EDIT_COMMANDS and path.endswith(".py")
        before = _read_or_none(sandbox, path) if watched else None
        result = self.editor.run(sandbox, args)
        if watched and not result.error:
            after = _read_or_none(sandbox, path)
            if after != before:
                score = static_score({path: before}, {path: after})
                self.rewards.append(
                    {"step": self.calls, "path": path, "value": score.value, "explanation": score.explanation}
                )
        return result


def _read_or_none(sandbox: Sandbox, path: str) -> str | None:
    try:
        return sandbox.read_file(path)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return None


def stage_tools(command_timeout: float | None) -> list[Tool]:
    """The default tools with the stage `submit` in place of the rollout one, the editor watched."""
    tools = [
        StaticWatch(t) if t.name == "editor" else t
        for t in default_tools(command_timeout)
        if t.name != "submit"
    ]
    return [*tools, StageSubmitTool()]


def stage_message(
    templates: Templates,
    stage: str,
    workdir: str,
    reproduction: dict[str, Any] | None,
    localization: dict[str, Any] | None,
) -> str:
    """The stage block appended to the first user message (earlier artifacts + this stage's task)."""
    return templates.render(
        "stage", stage=stage, workdir=workdir, reproduction=reproduction, localization=localization
    )
