"""`Model`: one language model behind `litellm.completion`, with cost and token accounting, limits and retries.

One `Model` serves one task: `stats` holds the task's totals. Limits are checked before every call
(task cost `cost_limit`, task tokens `token_limit`, the run-wide `RunBudget`) and the per-call cap
`per_call_cost_limit` after it; each raises `LimitExceeded(kind)` with kind `cost`, `tokens`, `run_cost`
or `call_cost`. Transient failures (rate limits, timeouts, connection errors, 5xx) are retried with
exponential backoff and jitter; anything else becomes `ModelError(kind)` at once (`auth`, `not_found`,
`context_window`, `bad_request`, `api_error`), and `retries_exhausted` when retries run out.

API keys are read by litellm from the environment only; nothing secret is kept on the object.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
import uuid
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
import litellm  # noqa: E402

from sweagent.config import ModelConfig  # noqa: E402
from sweagent.errors import UserError  # noqa: E402
from sweagent.model.base import LimitExceeded, ModelError, ModelResponse, ModelStats, ToolCall  # noqa: E402
from sweagent.model.budget import RunBudget  # noqa: E402
from sweagent.model.scripted import (  # noqa: E402
    REPLAY,
    SCRIPT_SUFFIXES,
    is_scripted,
    load_script,
    register_scripted_providers,
)

log = logging.getLogger(__name__)

_RETRYABLE: tuple[type[Exception], ...] = (
    litellm.RateLimitError,
    litellm.Timeout,
    litellm.APIConnectionError,
    litellm.InternalServerError,
    litellm.ServiceUnavailableError,
    litellm.BadGatewayError,
)
# Order matters: ContextWindowExceededError is a BadRequestError.
_FATAL: tuple[tuple[type[Exception], str], ...] = (
    (litellm.ContextWindowExceededError, "context_window"),
    (litellm.AuthenticationError, "auth"),
    (litellm.PermissionDeniedError, "auth"),
    (litellm.NotFoundError, "not_found"),
    (litellm.BadRequestError, "bad_request"),
    (litellm.UnprocessableEntityError, "bad_request"),
)
# Sent when `api_base` points at a server that needs no key (vLLM, ollama) and none is in the environment.
_PLACEHOLDER_KEY = "EMPTY"


def _drop_empty_api_keys() -> None:
    """An exported-but-empty `*_API_KEY` means "no key"; litellm would count it as present."""
    for name in [k for k, v in os.environ.items() if k.endswith("_API_KEY") and not v.strip()]:
        del os.environ[name]


_drop_empty_api_keys()
_unpriced_models: set[str] = set()


def _short(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fatal_kind(exc: BaseException) -> str | None:
    for cls, kind in _FATAL:
        if isinstance(exc, cls):
            return kind
    return None


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, _RETRYABLE):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(exc, litellm.APIError) and isinstance(status, int) and status >= 500


def _retry_after(exc: BaseException) -> float:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    try:
        return float(headers.get("retry-after", 0) or 0)
    except (TypeError, ValueError):
        return 0.0


def _field(obj: Any, key: str, default: Any = None) -> Any:
    return obj.get(key, default) if isinstance(obj, dict) else getattr(obj, key, default)


def _tool_call_dicts(raw: list[Any] | None) -> list[dict[str, Any]]:
    """Tool calls in plain OpenAI format, every call with an id (some local servers omit them)."""
    out = []
    for call in raw or []:
        function = _field(call, "function") or {}
        arguments = _field(function, "arguments")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments or {})
        out.append(
            {
                "id": _field(call, "id") or f"call_{uuid.uuid4().hex[:12]}",
                "type": "function",
                "function": {"name": _field(function, "name") or "", "arguments": arguments},
            }
        )
    return out


def _lenient_calls(calls: list[dict[str, Any]]) -> list[ToolCall]:
    """Best-effort decode; `sweagent.actions.parse_tool_calls` is the validating parser."""
    out = []
    for call in calls:
        try:
            args = json.loads(call["function"]["arguments"] or "{}")
        except json.JSONDecodeError:
            args = {}
        out.append(ToolCall(call["function"]["name"], args if isinstance(args, dict) else {}, call["id"]))
    return out


def _logprobs(choice: Any) -> list[dict[str, Any]] | None:
    content = _field(_field(choice, "logprobs"), "content")
    if not content:
        return None
    return [
        {
            "token": _field(t, "token"),
            "logprob": _field(t, "logprob"),
            "top_logprobs": [
                {"token": _field(a, "token"), "logprob": _field(a, "logprob")}
                for a in _field(t, "top_logprobs") or []
            ],
        }
        for t in content
    ]


class Model:
    """A litellm model with per-task stats, limits and retries; `query` is the one entry point."""

    def __init__(self, config: ModelConfig, budget: RunBudget | None = None) -> None:
        self.config = config
        self.budget = budget
        self.stats = ModelStats()
        self.scripted = is_scripted(config.name)
        litellm.suppress_debug_info = True
        if self.scripted:
            register_scripted_providers()

    def reset_stats(self) -> ModelStats:
        """Start a new task with this model; returns the finished task's stats."""
        old, self.stats = self.stats, ModelStats()
        return old

    # -- capabilities -------------------------------------------------------------------------------------

    def supports_tool_calls(self) -> bool:
        """Whether the model takes native tool calls (unknown models behind `api_base` are assumed to)."""
        if self.scripted:
            return True
        name = self.config.name
        try:
            if litellm.supports_function_calling(model=name):
                return True
        except Exception:
            pass
        if self.config.api_base:
            try:
                litellm.get_model_info(name)
            except Exception:
                return True  # not in litellm's map: a local model; modern servers support tools
        return False

    def uses_tool_calls(self) -> bool:
        """The action format to use: `config.action_format`, with `auto` decided by `supports_tool_calls`."""
        if self.config.action_format == "auto":
            return self.supports_tool_calls()
        return self.config.action_format == "tool_calls"

    # -- the call -------------------------------------------------------------------------------------------

    def query(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None, **overrides: Any
    ) -> ModelResponse:
        """One completion. Raises LimitExceeded before (or, for the per-call cap, after) the call, ModelError on failure."""
        self._check_limits()
        kwargs = self._kwargs(messages, tools, overrides)
        start = time.perf_counter()
        response = self._complete(kwargs)
        duration = time.perf_counter() - start

        choice = response.choices[0]
        message = choice.message
        calls = _tool_call_dicts(_field(message, "tool_calls"))
        content = _field(message, "content") or ""
        out_message: dict[str, Any] = {"role": "assistant", "content": content}
        if calls:
            # null, not "", beside tool calls: some providers reject empty text blocks in the history
            out_message["content"] = content or None
            out_message["tool_calls"] = calls
        for extra in ("reasoning_content", "thinking_blocks"):
            value = _field(message, extra)
            if value:
                out_message[extra] = value

        usage = getattr(response, "usage", None)
        input_tokens = (
            int(_field(usage, "prompt_tokens", 0) or 0) if usage else litellm.token_counter(messages=messages)
        )
        output_tokens = int(_field(usage, "completion_tokens", 0) or 0) if usage else 0
        cost = self._cost(response)

        self.stats.calls += 1
        self.stats.cost += cost
        self.stats.input_tokens += input_tokens
        self.stats.output_tokens += output_tokens
        if self.budget is not None:
            self.budget.add(cost)

        limit = self.config.per_call_cost_limit
        if limit > 0 and cost > limit:
            raise LimitExceeded(
                "call_cost", f"one call cost ${cost:.4f}, above the per-call cap ${limit:.4f}"
            )
        return ModelResponse(
            content=content,
            tool_calls=_lenient_calls(calls),
            message=out_message,
            cost=cost,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            duration=duration,
            finish_reason=_field(choice, "finish_reason"),
            logprobs=_logprobs(choice),
        )

    def _check_limits(self) -> None:
        c, s = self.config, self.stats
        if c.cost_limit > 0 and s.cost >= c.cost_limit:
            raise LimitExceeded("cost", f"this task spent ${s.cost:.4f} of its ${c.cost_limit:.2f}")
        if c.token_limit > 0 and s.tokens >= c.token_limit:
            raise LimitExceeded("tokens", f"this task used {s.tokens} of its {c.token_limit} tokens")
        if self.budget is not None and self.budget.exhausted:
            raise LimitExceeded(
                "run_cost", f"the run spent ${self.budget.spent:.4f} of ${self.budget.cost_limit:.2f}"
            )

    def _kwargs(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, overrides: dict[str, Any]
    ) -> dict[str, Any]:
        c = self.config
        kwargs: dict[str, Any] = {
            "model": c.name,
            "messages": messages,
            "temperature": c.temperature,
            "timeout": c.timeout,
            "num_retries": 0,  # retries are ours (backoff, counting); the SDK's would hide them
            "max_retries": 0,
            "drop_params": True,
        }
        if tools:
            kwargs["tools"] = tools
        if c.top_p is not None:
            kwargs["top_p"] = c.top_p
        if c.max_output_tokens:
            kwargs["max_tokens"] = c.max_output_tokens
        if c.api_base:
            kwargs["api_base"] = c.api_base
            if not self.scripted and litellm.validate_environment(model=c.name).get("missing_keys"):
                kwargs["api_key"] = _PLACEHOLDER_KEY
        kwargs.update(c.completion_kwargs)
        overrides = dict(overrides)
        if "max_output_tokens" in overrides:
            overrides["max_tokens"] = overrides.pop("max_output_tokens")
        kwargs.update(overrides)
        return kwargs

    def _complete(self, kwargs: dict[str, Any]) -> Any:
        c = self.config
        attempt = 0
        while True:
            try:
                return litellm.completion(**kwargs)
            except Exception as exc:
                kind = _fatal_kind(exc)
                if kind is not None:
                    raise ModelError(kind, _short(exc)) from exc
                if self.scripted or not _is_retryable(exc):
                    if isinstance(exc, litellm.APIError | litellm.APIConnectionError):
                        raise ModelError("api_error", _short(exc)) from exc
                    raise
                if attempt >= c.retries:
                    raise ModelError(
                        "retries_exhausted", f"after {c.retries} retries: {_short(exc)}"
                    ) from exc
                base = min(c.retry_max_wait, c.retry_min_wait * 2**attempt)
                wait = random.uniform(max(c.retry_min_wait, base / 2), max(c.retry_min_wait, base))
                wait = min(c.retry_max_wait, max(wait, _retry_after(exc)))
                attempt += 1
                self.stats.retries += 1
                log.info(
                    "model call failed (%s); retry %d/%d in %.2fs",
                    type(exc).__name__,
                    attempt,
                    c.retries,
                    wait,
                )
                time.sleep(wait)

    def _cost(self, response: Any) -> float:
        """USD cost of one response; 0 for a model litellm has no price for (noted once)."""
        name = self.config.name
        cost = None
        if name not in _unpriced_models:
            hidden = getattr(response, "_hidden_params", None) or {}
            cost = hidden.get("response_cost")
            if cost is None:
                try:
                    cost = litellm.completion_cost(completion_response=response)
                except Exception:
                    cost = None
        if cost is None:
            if name not in _unpriced_models:
                _unpriced_models.add(name)
                log.log(
                    logging.DEBUG if self.scripted else logging.WARNING,
                    "model %s has no price in litellm's cost map; its calls count as $0",
                    name,
                )
            self.stats.unpriced_calls += 1
            note = f"model {name} has no price in litellm's cost map: cost counted as $0, cost limits do not apply"
            if note not in self.stats.notes:
                self.stats.notes.append(note)
            return 0.0
        return float(cost)


def check_model_usable(config: ModelConfig) -> None:
    """Fail fast with one line if the model cannot be called: unknown provider or a missing API key."""
    name = config.name
    if "api_key" in config.completion_kwargs:
        raise UserError(
            "model.completion_kwargs must not hold api_key (it would be saved in config.yaml): "
            "export the provider's key variable instead, e.g. OPENAI_API_KEY"
        )
    if is_scripted(name):
        script = name.split("/", 1)[1]
        if name.startswith(f"{REPLAY}/") and script.endswith(SCRIPT_SUFFIXES):
            load_script(script)
        return
    if config.api_base:
        return
    try:
        litellm.get_llm_provider(name)
    except Exception:
        raise UserError(
            f"unknown model `{name}`: litellm cannot tell its provider; write provider/model "
            "(e.g. openai/gpt-4o, anthropic/claude-sonnet-4-5) or pass --model.api_base for an OpenAI-compatible server"
        ) from None
    missing = litellm.validate_environment(model=name).get("missing_keys") or []
    if missing:
        raise UserError(
            f"model `{name}` needs {', '.join(missing)} in the environment: export {missing[0]}=<your key> and run again"
        )
