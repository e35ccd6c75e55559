"""The agent loop: one rollout of one task in one sandbox.

Each step: check the limits, ask the model, parse one action (native tool call or the text format),
run it, and feed back the observation. The run ends on `submit`, on a limit (the current diff is
submitted: `submitted (limit)`), after too many malformed replies in a row (`format_error`), or on an
error (`error: <kind>`). The final patch is the sandbox's diff against the base commit, without the
reproduction scripts the agent created.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sweagent.actions import FormatError, describe_tools_for_text, parse_text_actions, parse_tool_calls
from sweagent.config import RunConfig
from sweagent.model.base import LimitExceeded, ModelError, ToolCall
from sweagent.model.litellm_model import Model
from sweagent.sandbox.base import Sandbox
from sweagent.stages import StageTracker
from sweagent.task import Task
from sweagent.templates import load_templates
from sweagent.tools.base import Tool, ToolInputError, ToolResult
from sweagent.tools.registry import default_tools
from sweagent.trajectory import Action, Step, Trajectory, now_iso

EventSink = Callable[[dict[str, Any]], None]


@dataclass
class AgentContext:
    """Optional extra context for a rollout: a localisation hint, artifacts of earlier stages
    (used by the search to continue from a parent node), and a stop condition."""

    localization: str = ""
    prior_work: str = ""
    stop_after_stage: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Agent:
    """Runs one task; construct per rollout (tools keep per-rollout state such as undo history)."""

    def __init__(
        self,
        config: RunConfig,
        model: Model,
        sandbox: Sandbox,
        tools: list[Tool] | None = None,
        on_event: EventSink | None = None,
        take_patch: bool = True,
    ) -> None:
        """`take_patch=False` skips the final diff, for callers that read the repository state
        themselves (the search snapshots each stage's state anyway)."""
        self.config = config
        self.take_patch = take_patch
        self.model = model
        self.sandbox = sandbox
        self.tools = tools if tools is not None else default_tools(config.sandbox.command_timeout)
        self.tool_by_name = {t.name: t for t in self.tools}
        self.schemas = [t.schema for t in self.tools]
        self.templates = load_templates(config.agent.templates)
        fmt = config.model.action_format
        self.native = fmt == "tool_calls" or (fmt == "auto" and model.supports_tool_calls())
        self.on_event = on_event

    # prompts -----------------------------------------------------------------------------------
    def initial_messages(self, task: Task, context: AgentContext) -> list[dict[str, Any]]:
        system = self.templates.render(
            "system",
            workdir=self.sandbox.workdir,
            tool_instructions="" if self.native else describe_tools_for_text(self.schemas),
        )
        instance = self.templates.render(
            "instance",
            workdir=self.sandbox.workdir,
            problem_statement=task.problem_statement,
            localization=context.localization,
        )
        if context.prior_work:
            instance += "\n\n" + context.prior_work
        return [{"role": "system", "content": system}, {"role": "user", "content": instance}]

    # the loop ------------------------------------------------------------------------------------
    def run(
        self, task: Task, context: AgentContext | None = None, trajectory: Trajectory | None = None
    ) -> Trajectory:
        """Run until submit, a limit, too many format errors or an error; never raises for those."""
        context = context or AgentContext()
        agent_cfg = self.config.agent
        traj = trajectory or Trajectory(instance_id=task.instance_id, model_name=self.config.model.name)
        traj.problem_statement = task.problem_statement
        traj.tools = self.schemas
        traj.config = self.config.model_dump(mode="json")
        traj.environment.update(
            {
                "workdir": self.sandbox.workdir,
                "base_commit": self.sandbox.base_commit,
                "native_tools": self.native,
            }
        )
        baseline = getattr(self.sandbox, "baseline", None)
        if baseline is not None:  # what the repository already held: not the agent's work
            traj.environment["baseline"] = baseline.summary()
        messages = traj.messages or self.initial_messages(task, context)
        traj.messages = messages
        tracker = StageTracker(reproduction_globs=list(agent_cfg.exclude_new_files))
        started = time.monotonic()
        format_errors_in_row = 0
        status, detail = None, ""
        try:
            while status is None:
                step_index = len(traj.steps)
                if agent_cfg.step_limit and step_index >= agent_cfg.step_limit:
                    raise LimitExceeded("steps", f"{agent_cfg.step_limit} steps")
                if agent_cfg.wall_time_limit and time.monotonic() - started > agent_cfg.wall_time_limit:
                    raise LimitExceeded("wall_time", f"{agent_cfg.wall_time_limit:.0f} s")
                step, submitted = self._step(step_index, messages, tracker)
                traj.steps.append(step)
                self._emit(task, step)
                if step.format_error:
                    format_errors_in_row += 1
                    if format_errors_in_row >= agent_cfg.max_format_errors:
                        status, detail = "format_error", f"{format_errors_in_row} malformed replies in a row"
                else:
                    format_errors_in_row = 0
                if submitted:
                    status = "submitted"
                elif (
                    context.stop_after_stage
                    and step.stage == context.stop_after_stage
                    and not step.format_error
                ):
                    status, detail = "stage_done", context.stop_after_stage
        except LimitExceeded as exc:
            status, detail = "submitted (limit)", str(exc)
        except ModelError as exc:
            status, detail = f"error: model_{exc.kind}", str(exc)
        except Exception as exc:  # a sandbox or framework failure ends this rollout, not the caller
            status, detail = f"error: {type(exc).__name__}", str(exc)[:2000]
        traj.exit_status, traj.exit_detail = status, detail
        traj.patch = self._final_patch(traj)
        traj.stats = {
            "steps": len(traj.steps),
            "model_calls": self.model.stats.calls,
            "cost": self.model.stats.cost,
            "input_tokens": self.model.stats.input_tokens,
            "output_tokens": self.model.stats.output_tokens,
            "unpriced_calls": self.model.stats.unpriced_calls,
            "retries": self.model.stats.retries,
            "wall_seconds": round(time.monotonic() - started, 3),
        }
        traj.finished_at = now_iso()
        return traj

    def _final_patch(self, traj: Trajectory) -> str:
        if not self.take_patch:
            return ""
        try:
            return self.sandbox.diff(exclude_new=list(self.config.agent.exclude_new_files))
        except Exception as exc:  # the sandbox died: keep the run's status, say why there is no patch
            traj.exit_detail += f" (no patch: {type(exc).__name__}: {exc})"
            return ""

    def _step(self, index: int, messages: list[dict[str, Any]], tracker: StageTracker) -> tuple[Step, bool]:
        t0 = time.perf_counter()
        response = self.model.query(messages, tools=self.schemas if self.native else None)
        t1 = time.perf_counter()
        messages.append(response.message)
        step = Step(
            index=index,
            stage=tracker.current,
            thought=response.content or "",
            model_seconds=t1 - t0,
            input_tokens=response.input_tokens,
            output_tokens=response.output_tokens,
            cost=response.cost,
        )
        raw_calls = response.message.get("tool_calls") or []
        try:
            calls = (
                parse_tool_calls(raw_calls, self.schemas)
                if self.native
                else parse_text_actions(response.content or "", self.schemas)
            )
            if not calls:
                raise FormatError("no action found: call exactly one tool")
        except FormatError as exc:
            step.format_error = True
            step.observation = self.templates.render("format_error", error=str(exc))
            self._reply(messages, raw_calls, step.observation)
            step.framework_seconds = time.perf_counter() - t1
            return step, False
        call = calls[0]
        step.stage = tracker.label(step.thought, call.name, call.arguments)
        step.action = Action(tool=call.name, args=call.arguments)
        t2 = time.perf_counter()
        result = self._run_tool(call)
        t3 = time.perf_counter()
        step.tool_seconds = t3 - t2
        steps_left = self.config.agent.step_limit - index - 1 if self.config.agent.step_limit else None
        step.observation = self.templates.render(
            "observation", observation=result.observation, steps_left=steps_left
        )
        extra = "" if len(calls) == 1 else "\n[only the first action of a reply is run]"
        self._reply(messages, raw_calls, step.observation + extra, first_id=call.id)
        step.framework_seconds = (t2 - t1) + (time.perf_counter() - t3)
        return step, result.submitted

    def _run_tool(self, call: ToolCall) -> ToolResult:
        tool = self.tool_by_name[call.name]
        try:
            return tool.run(self.sandbox, call.arguments)
        except ToolInputError as exc:
            return ToolResult(f"Error: {exc}", error=True)

    def _reply(
        self, messages: list[dict[str, Any]], raw_calls: list[Any], text: str, first_id: str = ""
    ) -> None:
        """Answer every native tool call id (providers require it), or add a user message in text mode."""
        if self.native and raw_calls:
            for i, raw in enumerate(raw_calls):
                call_id = raw.get("id") if isinstance(raw, dict) else getattr(raw, "id", "")
                content = text if i == 0 else "[not run: one action per reply]"
                messages.append({"role": "tool", "tool_call_id": call_id or first_id, "content": content})
        else:
            messages.append({"role": "user", "content": text})

    def _emit(self, task: Task, step: Step) -> None:
        if self.on_event:
            self.on_event(
                {
                    "instance_id": task.instance_id,
                    "step": step.index + 1,
                    "stage": step.stage,
                    "cost": self.model.stats.cost,
                    "action": step.action.tool if step.action else None,
                }
            )
