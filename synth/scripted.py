"""A sampling scripted model (`sampler/<name>/<sample id>`), a litellm custom provider.

It stands in for a language model sampled K times per task: for each task it knows several
behaviours (`variants`: action lists, e.g. a clean fix, a loop, a wrong fix) and each sample plays
one of them. Which one is seeded: at temperature 0 every sample plays the first variant (greedy
decoding repeats itself); otherwise sample k plays the k-th entry of a permutation of the variants
seeded by the task and the temperature, so K >= len(variants) samples cover every variant once.

Use `{instance_id}` in the model name (`sampler/demo/{instance_id}`): the batch runner replaces it
with the sample id (`<task id>.s<k>`), which is how a stateless provider knows which sample it is
serving. The step is the number of assistant messages in the request; past the end of its script
the model submits. Usage is characters // 4, with no price.

For a search (`synth run --search`), a variant may script each stage apart (`stages`): the stage is
read from the `<stage name="...">` block the search puts in the first user message, and the step
counts within that stage's conversation.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
import litellm  # noqa: E402
from litellm import CustomLLM  # noqa: E402
from litellm.llms.custom_llm import CustomLLMError  # noqa: E402

from sweagent.executors.carry import carry  # noqa: E402
from sweagent.model.scripted import action_reply, fill_response  # noqa: E402
from synth.samples import split_sample_id  # noqa: E402

PROVIDER = "sampler"
SUBMIT = {"thought": "Done; submitting.", "tool": "submit", "args": {}}
_STAGE = re.compile(r'<stage name="([a-z]+)">')


@dataclass(frozen=True)
class Variant:
    """One behaviour: a label (for reading results) and the actions it takes, in order."""

    label: str
    actions: list[dict[str, Any]]
    stages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def script(self, messages: list[Any]) -> list[dict[str, Any]]:
        """The actions for this conversation: its search stage's script, else the whole one."""
        if self.stages:
            first_user = next((m for m in messages if _role(m) == "user"), None)
            content = first_user.get("content") if isinstance(first_user, dict) else ""
            found = _STAGE.search(content if isinstance(content, str) else json.dumps(content or ""))
            if found and found.group(1) in self.stages:
                return self.stages[found.group(1)]
        return self.actions


_lock = threading.Lock()
_registry: dict[str, dict[str, list[Variant]]] = {}


def register_sampler(name: str, variants: dict[str, list[Variant]]) -> str:
    """Serve `sampler/<name>/...` with `variants` per task id; returns the model name to pass to `synth run`."""
    if "/" in name:
        raise ValueError("sampler names cannot contain `/`")
    with _lock:
        _registry[name] = {task: list(vs) for task, vs in variants.items()}
        if not any(entry.get("provider") == PROVIDER for entry in litellm.custom_provider_map):
            litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": SamplerLLM()})
    litellm.suppress_debug_info = True
    return f"{PROVIDER}/{name}/{{instance_id}}"


def _export_samplers() -> dict[str, dict[str, list[Variant]]]:
    with _lock:
        return dict(_registry)


def _restore_samplers(samplers: dict[str, dict[str, list[Variant]]]) -> None:
    with _lock:
        _registry.update(samplers)
        if not any(entry.get("provider") == PROVIDER for entry in litellm.custom_provider_map):
            litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": SamplerLLM()})


carry(_export_samplers, _restore_samplers)  # registered samplers reach jobs running in other processes


def _permutation(name: str, task_id: str, temperature: float, n: int) -> list[int]:
    digest = hashlib.sha256(f"{name}:{task_id}:{temperature:g}".encode()).digest()
    order = list(range(n))
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(order)
    return order


def choose(name: str, sample_id: str, temperature: float) -> Variant:
    """The variant sample `sample_id` plays (deterministic in name, sample and temperature)."""
    task_id, index = split_sample_id(sample_id)
    with _lock:
        variants = _registry.get(name, {}).get(task_id)
    if not variants:
        raise KeyError(f"sampler {name!r} has no variants for task {task_id!r}")
    if temperature <= 0:
        return variants[0]
    order = _permutation(name, task_id, temperature, len(variants))
    return variants[order[index % len(variants)]]


def _role(msg: Any) -> str | None:
    return msg.get("role") if isinstance(msg, dict) else getattr(msg, "role", None)


def _chars(messages: list[Any]) -> int:
    total = 0
    for msg in messages:
        content = msg.get("content") if isinstance(msg, dict) else getattr(msg, "content", None)
        total += len(content) if isinstance(content, str) else len(json.dumps(content or "", default=str))
    return total


class SamplerLLM(CustomLLM):
    """litellm handler for `sampler/<name>/<sample id>`."""

    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
        name, _, sample_id = model.partition("/")
        optional = kwargs.get("optional_params") or {}
        temperature = float(optional.get("temperature") or 0.0)
        try:
            variant = choose(name, sample_id, temperature)
        except (KeyError, ValueError) as exc:
            raise CustomLLMError(404, str(exc)) from None
        step = sum(1 for m in messages if _role(m) == "assistant")
        script = variant.script(messages)
        action = script[step] if step < len(script) else SUBMIT
        tools = optional.get("tools")
        content, calls = action_reply(action, step, native=bool(tools))
        return fill_response(kwargs["model_response"], f"{PROVIDER}/{model}", messages, tools, content, calls)

    async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
        return self.completion(model, messages, *args, **kwargs)
