"""The simulated model: a litellm custom provider (`simulated/<instance>`) that works on a fixture task.

It stands in for a language model in the search benchmark, the demo and tests. It goes through
litellm's real code path, emits real tool calls that act in a real sandbox, and answers the
verifiers' judge prompts. What it may know, and how that reaches the code under test:

Acting (prompts with tools). Each instance has a difficulty (`simulation.difficulty`): a per-stage
success rate `q`, shared by every attempt on that instance. A stage expansion draws, from the request's
seed, one of the fixture's ways to do the stage:

- reproduce: the right script with `q`; otherwise a wrong one, detectable (it does not reproduce on the
  unchanged code) with `repro_detectable`, else misleading (it reproduces, but encodes a wrong
  expectation);
- localize: the right place with `q` after a right reproduction, `q * loc_penalty` otherwise;
- patch: from a right localisation, the right edit with `q`, else an incomplete one (passes every
  visible test, fails the hidden one) with `incomplete_rate`, else a regression or an ineffective edit
  (`regression_share`); from a wrong localisation, the right edit with `q * wrong_loc_patch`, else a
  decoy. The model reads which reproduction / localisation it was given from its prompt.

Everything the search then learns about that work it learns by running it (the verifiers' checks,
in a real sandbox) or from the reward model below.

Judging (prompts without tools). The reward model's P(yes) depends on the truth only through `auc`:

    logit = (+d/2 if the work is right else -d/2) + sqrt(c) * e_work + sqrt(1 - c) * e_call
    d = sqrt(2) * Phi^-1(auc),  e ~ N(0, 1),  P(yes) = sigmoid(logit)

so a right piece of work outscores a wrong one with probability exactly `auc` (binormal, equal
variance). `e_work` is drawn once per (instance, question, piece of work): `c = judge_consistency` is
the share of the noise a judge repeats whenever it sees the same work again. Process questions
(reproduce, localize) use `process_auc`. With `judge_failure`, a call answers no verdict at all.

The default AUC comes from the published figure: patch verifiers reach about 72 % accuracy on real
SWE-bench Verified patches. With balanced classes and the best threshold, equal-variance binormal
scores give accuracy Phi(d/2), so d = 2 * Phi^-1(0.72) = 1.166 and AUC = Phi(d / sqrt(2)) = 0.795.

Every draw is seeded by the instance name, the request's `seed` (the search passes one per node) and
the stage or question; the provider keeps no per-run state, so a run is reproducible.
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
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
import litellm  # noqa: E402
from litellm import CustomLLM  # noqa: E402
from litellm.llms.custom_llm import CustomLLMError  # noqa: E402

from simulation.difficulty import rollout_chance, stage_rate  # noqa: E402
from simulation.tasks import Edit, Fixture  # noqa: E402
from sweagent.model.scripted import fill_response  # noqa: E402

PROVIDER = "simulated"
PUBLISHED_VERIFIER_ACCURACY = 0.72


def auc_from_accuracy(accuracy: float) -> float:
    """AUC of equal-variance binormal scores whose best-threshold accuracy (balanced classes) is `accuracy`."""
    d = 2 * NormalDist().inv_cdf(accuracy)
    return NormalDist().cdf(d / math.sqrt(2))


# 0.795. `bench select` on the real Django/SymPy instances measured our selection score's AUC at 0.80
# [0.68, 0.87] with a wrong fix out-voting the fix (0.95 when votes agree with it): the same, harder end.
DEFAULT_AUC = round(auc_from_accuracy(PUBLISHED_VERIFIER_ACCURACY), 3)
# Priced like a frontier model ($3 / $15 per million input / output tokens), so cost caps bind.
DEFAULT_PRICE = (3e-6, 15e-6)
_STAGE = re.compile(r'<stage name="(\w+)">')
_PARTIAL = re.compile(r'<agent_work_so_far stage="(\w+)">(.*?)</agent_work_so_far>', re.S)
_PATCH = re.compile(r"<patch>(.*?)</patch>", re.S)
OUTCOME_QUESTION = "Does this patch resolve the issue?"


class SimParams(BaseModel):
    """The simulation's knobs; every one is a `swe-ttc bench search` option."""

    model_config = ConfigDict(extra="forbid")

    auc: float = Field(DEFAULT_AUC, ge=0.5, lt=1.0, description="reward model AUC on candidate patches")
    process_auc: float | None = Field(
        None, ge=0.5, lt=1.0, description="AUC on reproductions and localisations (default: auc)"
    )
    judge_consistency: float = Field(
        0.5, ge=0, le=1, description="share of judge noise repeated for the same work"
    )
    judge_failure: float = Field(0.0, ge=0, le=1, description="share of judge calls that give no verdict")
    judge_logprobs: bool = Field(True, description="the judge returns token log-probabilities")
    repro_detectable: float = Field(
        0.5, ge=0, le=1, description="share of wrong reproductions that do not reproduce on the base"
    )
    incomplete_rate: float = Field(
        0.25,
        ge=0,
        le=1,
        description="share of wrong patches (from a right place) that pass every visible test",
    )
    regression_share: float = Field(
        0.5, ge=0, le=1, description="share of the other wrong patches that break an existing test"
    )
    loc_penalty: float = Field(
        0.5, ge=0, le=1, description="localisation success factor after a wrong reproduction"
    )
    wrong_loc_patch: float = Field(
        0.1, ge=0, le=1, description="right-patch chance from a wrong localisation, relative to q"
    )
    skill: float = Field(0.0, description="logit shift of the rollout success over the instance's solve rate")
    p_crash: float = Field(0.0, ge=0, le=1, description="chance a stage's first model call fails outright")

    @property
    def auc_process(self) -> float:
        return self.process_auc if self.process_auc is not None else self.auc


@dataclass(frozen=True)
class Instance:
    """One simulated instance: a fixture, its difficulty and the knobs."""

    fixture: Fixture
    params: SimParams
    solve_rate: float

    @property
    def theta(self) -> float:
        return rollout_chance(self.solve_rate, self.params.skill)

    @property
    def q(self) -> float:
        return stage_rate(self.theta, self.params.loc_penalty, self.params.wrong_loc_patch)


_lock = threading.Lock()
_registry: dict[str, Instance] = {}
_prompts: list[str] = []
_recording = False


def register_instance(
    name: str,
    fixture: Fixture,
    params: SimParams | None = None,
    solve_rate: float = 0.5,
    price: tuple[float, float] = DEFAULT_PRICE,
) -> str:
    """Serve `simulated/<name>` for `fixture` at difficulty `solve_rate`; returns the litellm model name."""
    model = f"{PROVIDER}/{name}"
    with _lock:
        _registry[name] = Instance(fixture, params or SimParams(), solve_rate)
        if not any(entry.get("provider") == PROVIDER for entry in litellm.custom_provider_map):
            litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": SimulatedLLM()})
        logger = logging.getLogger("LiteLLM")
        level, logger.level = logger.level, logging.ERROR  # custom models have no cache prices: fine
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


# -- recording replies (to show that the search sees nothing but them) ----------------------------

_tape: dict[str, Any] = {"mode": None, "replies": {}}


def tape(mode: str | None) -> dict[str, Any]:
    """`record`: keep every reply by request; `replay`: answer every request from the recording (a
    request never seen before is an error); None: off. Returns the recording."""
    with _lock:
        if mode == "record":
            _tape["replies"] = {}
        _tape["mode"] = mode
    return _tape["replies"]


def _request_key(messages: list, seed: Any, tools: Any) -> str:
    text = json.dumps([_role(m) for m in messages]) + "\n".join(_text(m) for m in messages)
    return hashlib.sha256(f"{seed}|{bool(tools)}|{text}".encode()).hexdigest()


# -- reading prompts -------------------------------------------------------------------------------


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


# -- acting ------------------------------------------------------------------------------------------


def _call(tool: str, thought: str, **args: Any) -> dict[str, Any]:
    return {"tool": tool, "thought": thought, "args": args}


def _edit_actions(edit: Edit, has_script: bool) -> list[dict[str, Any]]:
    actions = [
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
        _call("submit", "The change is in place.", summary=f"Edited {edit.path} to fix the issue.")
    )
    return actions


def reproduction_kind(instance: Instance, seed: Any) -> str:
    """right, wrong (detectable) or misleading: the reproduction a reproduce stage writes."""
    p = instance.params
    u = _rng(instance.fixture.name, "reproduce", seed).random()
    if u < instance.q:
        return "right"
    return "wrong" if _rng("detectable", seed).random() < p.repro_detectable else "misleading"


def patch_kind(instance: Instance, seed: Any, located: bool) -> str:
    """The edit a patch stage makes, given whether its localisation was right."""
    p, q = instance.params, instance.q
    u = _rng(instance.fixture.name, "patch", seed).random()
    if not located:
        return "right" if u < q * p.wrong_loc_patch else "decoy"
    if u < q:
        return "right"
    v = _rng("wrong patch", seed).random()
    if v < p.incomplete_rate:
        return "incomplete"
    return "regression" if _rng("which wrong", seed).random() < p.regression_share else "ineffective"


def stage_actions(instance: Instance, stage: str, seed: Any, prompt: str) -> list[dict[str, Any]]:
    """The whole action list of one stage expansion (deterministic in `seed`)."""
    fixture, p = instance.fixture, instance.params
    if stage == "reproduce":
        kind = reproduction_kind(instance, seed)
        script = {
            "right": fixture.repro_right,
            "wrong": fixture.repro_wrong,
            "misleading": fixture.repro_misleading,
        }[kind]
        return [
            _call(
                "editor",
                "Write a reproduction script.",
                command="create",
                path="reproduce_issue.py",
                file_text=script,
            ),
            _call("bash", "Run it on the unchanged code.", command="python3 reproduce_issue.py"),
            _call("submit", "The reproduction is written.", summary="The script checks the issue's example."),
        ]
    if stage == "localize":
        chance = instance.q * (1.0 if fixture.repro_marker in prompt else p.loc_penalty)
        right = _rng(fixture.name, "localize", seed).random() < chance
        loc = fixture.loc_right if right else fixture.loc_wrong
        return [
            _call("editor", f"Read {loc.path}.", command="view", path=loc.path),
            _call("submit", "I know where the fault is.", summary=loc.summary),
        ]
    if stage == "patch":
        edit = fixture.edits[patch_kind(instance, seed, fixture.loc_marker in prompt)]
        return _edit_actions(edit, "reproduce_issue.py" in prompt)
    return [_call("submit", "Nothing to do in this stage.", summary="")]


# -- judging -----------------------------------------------------------------------------------------


def edit_kind(fixture: Fixture, patch: str) -> str | None:
    """Which of the fixture's edits a patch holds (None: none of them)."""
    added = "\n".join(
        line[1:] for line in patch.splitlines() if line.startswith("+") and not line.startswith("+++")
    )
    for name, edit in fixture.edits.items():
        new_lines = [ln for ln in edit.new.splitlines() if ln.strip() and ln not in edit.old.splitlines()]
        if new_lines and all(ln in added.splitlines() for ln in new_lines):
            return name
    return None


def judge_question(fixture: Fixture, prompt: str) -> tuple[str, bool, str] | None:
    """(question, whether the work shown is right, which piece of work) for a judge prompt."""
    if OUTCOME_QUESTION in prompt:
        match = _PATCH.search(prompt)
        patch = match.group(1) if match else ""
        kind = edit_kind(fixture, patch)
        work = kind or hashlib.sha256(patch.encode()).hexdigest()[:16]
        return "outcome", kind == "right", work
    partial = _PARTIAL.search(prompt)
    if not partial:
        return None
    stage, work_text = partial.group(1), partial.group(2)
    if stage == "reproduce":
        if fixture.repro_marker in work_text:
            return "reproduce", True, "right"
        misleading = fixture.repro_misleading.splitlines()[0]
        return "reproduce", False, "misleading" if misleading in work_text else "wrong"
    if stage == "localize":
        right = fixture.loc_marker in work_text
        context = "after-right-repro" if fixture.repro_marker in work_text else "after-other-repro"
        return "localize", right, f"{'right' if right else 'wrong'}-{context}"
    kind = edit_kind(fixture, work_text) or "other"
    return f"partial:{stage}", kind == "right", kind


def judge_p_yes(instance: Instance, name: str, question: str, right: bool, work: str, seed: Any) -> float:
    """P(yes) of the simulated reward model (see the module docstring)."""
    p = instance.params
    auc = p.auc if question == "outcome" else p.auc_process
    d = math.sqrt(2) * NormalDist().inv_cdf(auc)
    c = p.judge_consistency
    shared = _rng("judge work", name, question, work).gauss(0.0, 1.0)
    fresh = _rng("judge call", name, question, work, seed).gauss(0.0, 1.0)
    logit = (d / 2 if right else -d / 2) + math.sqrt(c) * shared + math.sqrt(1 - c) * fresh
    return min(max(1.0 / (1.0 + math.exp(-logit)), 1e-6), 1 - 1e-6)


class SimulatedLLM(CustomLLM):
    """litellm handler for `simulated/<instance>`."""

    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            instance = _registry.get(model)
        if instance is None:
            raise CustomLLMError(
                404, f"no simulated instance named {model!r}: call register_instance() first"
            )
        optional = kwargs.get("optional_params") or {}
        seed = optional.get("seed", 0)
        tools = optional.get("tools")
        with _lock:
            if _recording:
                _prompts.append("\n".join(_text(m) for m in messages))
            mode = _tape["mode"]
        key = _request_key(messages, seed, tools) if mode else ""
        if mode == "replay":
            if key not in _tape["replies"]:
                raise CustomLLMError(409, "replay: a request that was not in the recording")
            content, tool_calls, logprobs = _tape["replies"][key]
        elif tools:
            content, tool_calls, logprobs = self._act(instance, messages, seed)
        else:
            prompt = "\n".join(_text(m) for m in messages if _role(m) in ("system", "user"))
            content, tool_calls, logprobs = self._judge(instance, model, prompt, seed, optional)
        if mode == "record":
            with _lock:
                _tape["replies"][key] = (content, tool_calls, logprobs)
        response = kwargs["model_response"]
        fill_response(response, f"{PROVIDER}/{model}", messages, tools, content, tool_calls)
        if logprobs is not None:
            response.choices[0].logprobs = logprobs
        return response

    def _act(self, instance: Instance, messages: list, seed: Any):
        first_user = next((_text(m) for m in messages if _role(m) == "user"), "")
        match = _STAGE.search(first_user)
        stage = match.group(1) if match else "patch"
        step = sum(1 for m in messages if _role(m) == "assistant")
        p = instance.params
        if step == 0 and p.p_crash and _rng("crash", seed, stage).random() < p.p_crash:
            raise CustomLLMError(400, "simulated model failure")
        prompt = "\n".join(_text(m) for m in messages if _role(m) in ("system", "user"))
        actions = stage_actions(instance, stage, seed, prompt)
        action = actions[min(step, len(actions) - 1)]
        call = {
            "id": f"call_{step}",
            "type": "function",
            "function": {"name": action["tool"], "arguments": json.dumps(action["args"])},
        }
        return action["thought"], [call], None

    def _judge(self, instance: Instance, name: str, prompt: str, seed: Any, optional: dict[str, Any]):
        found = judge_question(instance.fixture, prompt)
        if found is None:
            return "I can only answer yes or no about this repository's work.", None, None
        question, right, work = found
        p = instance.params
        if p.judge_failure and _rng("judge fails", name, question, work, seed).random() < p.judge_failure:
            return "I cannot tell from what I was shown.", None, None
        p_yes = judge_p_yes(instance, name, question, right, work, seed)
        if not (p.judge_logprobs and optional.get("logprobs")):
            # no logprobs: one sampled verdict (the judge asks again with other seeds for more)
            answer = "yes" if _rng("judge sample", name, question, work, seed).random() < p_yes else "no"
            return answer, None, None
        answer = "yes" if p_yes >= 0.5 else "no"
        top = [
            {"token": "yes", "logprob": math.log(p_yes), "bytes": None},
            {"token": "no", "logprob": math.log(1 - p_yes), "bytes": None},
        ]
        entry = {"token": answer, "logprob": top[0 if answer == "yes" else 1]["logprob"], "bytes": None}
        return answer, None, {"content": [{**entry, "top_logprobs": top}]}

    async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
        return self.completion(model, messages, *args, **kwargs)
