"""A simulated model of known skill, as a litellm custom provider (`stochastic/<name>`).

It stands in for a language model in the search benchmark, the demo and tests: it goes through
litellm's real code path and emits real tool calls that act in a real sandbox. For a `Fixture` it
knows a right and a wrong way to do each stage and picks one with the configured probabilities:

- reproduce: writes the right reproduction script (shows the bug) with `p_reproduce`, else a wrong
  one (checks unrelated behaviour), runs it, submits;
- localize: searches for and views the faulty function with `p_localize` when the reproduction it was
  given is right (`p_localize_no_repro` otherwise), else the decoy module; submits a summary naming it;
- patch: when the localisation it was given is right, applies the right edit with `p_patch`, the
  incomplete one with `p_incomplete`, else a regression-breaking or ineffective edit; when it is
  wrong, the right edit with `p_patch_wrong_loc`, else the decoy edit; reruns the script; submits.

Asked as a reward model (no tools; the verifiers' judge prompts), it answers yes/no with token
logprobs: P(yes) = sigmoid(±rm_signal + rm_noise·N(0, 1)), + when the work is right (the right
script / localisation / edit appears in the prompt). Its "skill" is that knowledge of the fixture,
registered with the provider; the search never hands it anything but prompts.

Every choice, and the reward model's noise, is seeded by the request's `seed` (the search passes
one per node) and the stage or question, so a run is reproducible. The stage is read from the `<stage name=...>` block of the first user message and
the step from the number of assistant messages, so the provider holds no per-run state.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import re
import threading
from typing import Any

from pydantic import BaseModel, Field

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
import litellm  # noqa: E402
from litellm import CustomLLM  # noqa: E402
from litellm.llms.custom_llm import CustomLLMError  # noqa: E402

from search.fixtures import Edit, Fixture  # noqa: E402
from sweagent.model.scripted import fill_response  # noqa: E402

PROVIDER = "stochastic"
_STAGE = re.compile(r'<stage name="(\w+)">')
_PARTIAL = re.compile(r'<agent_work_so_far stage="(\w+)">')
_PATCH = re.compile(r"<patch>(.*?)</patch>", re.S)
OUTCOME_QUESTION = "Does this patch resolve the issue?"


class StochasticParams(BaseModel):
    """Per-stage success rates and reward-model noise of the simulated model."""

    p_reproduce: float = Field(0.5, ge=0, le=1)
    p_localize: float = Field(0.5, ge=0, le=1)
    p_localize_no_repro: float = Field(0.25, ge=0, le=1)
    p_patch: float = Field(0.3, ge=0, le=1)
    p_incomplete: float = Field(0.2, ge=0, le=1)
    p_patch_wrong_loc: float = Field(0.05, ge=0, le=1)
    rm_signal: float = Field(1.5, ge=0, description="logit of the reward model's answer when right")
    rm_noise: float = Field(1.0, ge=0, description="standard deviation of logit noise")
    p_crash: float = Field(0.0, ge=0, le=1, description="chance a stage's model call fails outright")


_lock = threading.Lock()
_registry: dict[str, tuple[Fixture, StochasticParams]] = {}
_prompts: list[str] = []
_recording = False


# A nominal price (USD per input and output token) so runs exercise cost accounting and cost caps.
NOMINAL_PRICE = (1e-6, 4e-6)


def register_stochastic(
    name: str,
    fixture: Fixture,
    params: StochasticParams | None = None,
    price: tuple[float, float] = NOMINAL_PRICE,
) -> str:
    """Serve `stochastic/<name>` for `fixture` at `price`; returns the litellm model name."""
    model = f"{PROVIDER}/{name}"
    with _lock:
        _registry[name] = (fixture, params or StochasticParams())
        if not any(entry.get("provider") == PROVIDER for entry in litellm.custom_provider_map):
            litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": StochasticLLM()})
        logger = logging.getLogger("LiteLLM")
        level, logger.level = (
            logger.level,
            logging.ERROR,
        )  # litellm warns that custom models have no cache prices
        try:
            litellm.register_model(
                {
                    model: {
                        "input_cost_per_token": price[0],
                        "output_cost_per_token": price[1],
                        "litellm_provider": PROVIDER,
                        "mode": "chat",
                        "max_tokens": 8192,
                        "supports_function_calling": True,
                    }
                }
            )
        finally:
            logger.level = level
    litellm.suppress_debug_info = True
    return model


def record_prompts(on: bool = True) -> list[str]:
    """Start (or stop) keeping every prompt text received; returns the live list."""
    global _recording
    with _lock:
        _recording = on
        if on:
            _prompts.clear()
    return _prompts


def _text(msg: Any) -> str:
    content = msg.get("content") if isinstance(msg, dict) else getattr(msg, "content", None)
    if isinstance(content, list):
        content = " ".join(str(c.get("text", "")) if isinstance(c, dict) else str(c) for c in content)
    text = str(content or "")
    calls = msg.get("tool_calls") if isinstance(msg, dict) else getattr(msg, "tool_calls", None)
    for call in calls or []:
        fn = call.get("function", {}) if isinstance(call, dict) else getattr(call, "function", None)
        args = fn.get("arguments") if isinstance(fn, dict) else getattr(fn, "arguments", "")
        text += f"\n{args}"
    return text


def _role(msg: Any) -> str | None:
    return msg.get("role") if isinstance(msg, dict) else getattr(msg, "role", None)


def _rng(*parts: Any) -> random.Random:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _call(tool: str, thought: str, **args: Any) -> dict[str, Any]:
    return {"tool": tool, "thought": thought, "args": args}


def _edit_actions(edit: Edit, has_script: bool) -> list[dict[str, Any]]:
    actions = [
        _call("editor", f"Read {edit.path} before changing it.", command="view", path=edit.path),
        _call(
            "editor",
            f"Change {edit.path}.",
            command="str_replace",
            path=edit.path,
            old_str=edit.old,
            new_str=edit.new,
        ),
    ]
    if has_script:
        actions.append(_call("bash", "Rerun the reproduction.", command="python3 reproduce_issue.py"))
    actions.append(
        _call("submit", "The change is in place.", summary=f"Edited {edit.path} ({edit.label} change).")
    )
    return actions


def stage_actions(
    fixture: Fixture, params: StochasticParams, stage: str, seed: Any, prompt: str
) -> list[dict[str, Any]]:
    """The whole action list of one stage expansion (deterministic in `seed`)."""
    u = _rng("stage", seed, stage).random()
    if stage == "reproduce":
        right = u < params.p_reproduce
        script = fixture.repro_right if right else fixture.repro_wrong
        summary = "The script checks " + ("the example from the issue." if right else "a related case.")
        return [
            _call(
                "editor",
                "Write a reproduction script.",
                command="create",
                path="reproduce_issue.py",
                file_text=script,
            ),
            _call("bash", "Run it on the unchanged code.", command="python3 reproduce_issue.py"),
            _call("submit", "The reproduction is written.", summary=summary),
        ]
    if stage == "localize":
        p = params.p_localize if fixture.repro_marker in prompt else params.p_localize_no_repro
        loc = fixture.loc_right if u < p else fixture.loc_wrong
        return [
            _call("search", "Find the code the issue is about.", pattern=loc.pattern, kind="text"),
            _call("editor", f"Read {loc.path}.", command="view", path=loc.path),
            _call("submit", "I know where the fault is.", summary=loc.summary),
        ]
    if stage == "patch":
        if fixture.loc_marker in prompt:
            if u < params.p_patch:
                edit = fixture.edits["right"]
            elif u < params.p_patch + params.p_incomplete:
                edit = fixture.edits["incomplete"]
            else:
                edit = fixture.edits["regression" if _rng("wrong", seed).random() < 0.5 else "ineffective"]
        else:
            edit = fixture.edits["right" if u < params.p_patch_wrong_loc else "decoy"]
        return _edit_actions(edit, "reproduce_issue.py" in prompt)
    return [_call("submit", "Nothing to do in this stage.", summary="")]


def judge_question(fixture: Fixture, prompt: str) -> tuple[str, bool] | None:
    """(which question, whether the work shown is right) for a judge prompt; None for other prompts."""
    if OUTCOME_QUESTION in prompt:
        match = _PATCH.search(prompt)
        return "outcome", bool(match) and fixture.right.marker in match.group(1)
    partial = _PARTIAL.search(prompt)
    if not partial:
        return None
    stage = partial.group(1)
    marker = {"reproduce": fixture.repro_marker, "localize": fixture.loc_marker}.get(
        stage, fixture.right.marker
    )
    return f"partial:{stage}", marker in prompt


class StochasticLLM(CustomLLM):
    """litellm handler for `stochastic/<name>`."""

    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            found = _registry.get(model)
        if found is None:
            raise CustomLLMError(
                404, f"no stochastic model named {model!r}: call register_stochastic() first"
            )
        fixture, params = found
        optional = kwargs.get("optional_params") or {}
        seed = optional.get("seed", 0)
        tools = optional.get("tools")
        prompt = "\n".join(_text(m) for m in messages if _role(m) in ("system", "user"))
        with _lock:
            if _recording:
                _prompts.append("\n".join(_text(m) for m in messages))
        response = kwargs["model_response"]
        if tools:
            content, tool_calls, logprobs = self._act(fixture, params, messages, prompt, seed)
        else:
            content, tool_calls, logprobs = self._judge(fixture, params, prompt, seed)
        fill_response(response, f"{PROVIDER}/{model}", messages, tools, content, tool_calls)
        if logprobs is not None:
            response.choices[0].logprobs = logprobs
        return response

    def _act(self, fixture: Fixture, params: StochasticParams, messages: list, prompt: str, seed: Any):
        first_user = next((_text(m) for m in messages if _role(m) == "user"), "")
        match = _STAGE.search(first_user)
        stage = match.group(1) if match else "patch"
        step = sum(1 for m in messages if _role(m) == "assistant")
        if step == 0 and params.p_crash and _rng("crash", seed, stage).random() < params.p_crash:
            raise CustomLLMError(400, "simulated model failure")
        actions = stage_actions(fixture, params, stage, seed, prompt)
        action = actions[min(step, len(actions) - 1)]
        call = {
            "id": f"call_{step}",
            "type": "function",
            "function": {"name": action["tool"], "arguments": json.dumps(action["args"])},
        }
        return action["thought"], [call], None

    def _judge(self, fixture: Fixture, params: StochasticParams, prompt: str, seed: Any):
        question = judge_question(fixture, prompt)
        if question is None:
            return "I can only answer yes or no about patches.", None, None
        kind, truth = question
        # noise depends on the request's seed and the question only (not on timings in the prompt)
        rng = _rng("judge", seed, kind)
        logit = (params.rm_signal if truth else -params.rm_signal) + params.rm_noise * rng.gauss(0.0, 1.0)
        p_yes = min(max(1.0 / (1.0 + math.exp(-logit)), 1e-6), 1 - 1e-6)
        answer = "yes" if p_yes >= 0.5 else "no"
        top = [
            {"token": "yes", "logprob": math.log(p_yes), "bytes": None},
            {"token": "no", "logprob": math.log(1 - p_yes), "bytes": None},
        ]
        logprobs = {
            "content": [
                {
                    "token": answer,
                    "logprob": top[0 if answer == "yes" else 1]["logprob"],
                    "bytes": None,
                    "top_logprobs": top,
                }
            ]
        }
        return answer, None, logprobs

    async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
        return self.completion(model, messages, *args, **kwargs)
