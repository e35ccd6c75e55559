"""`Model` over litellm against a loopback OpenAI-compatible server: tool calls, cost, limits, retries, errors."""

from __future__ import annotations

import json
import pickle
import threading

import litellm
import pytest

from sweagent.actions import parse_tool_calls
from sweagent.config import ModelConfig, RunConfig
from sweagent.model.base import LimitExceeded, ModelError
from sweagent.model.budget import RunBudget
from sweagent.model.litellm_model import Model
from sweagent.model.scripted import register_replay
from tests.helpers.openai_server import Reply, TokenLogprob

MESSAGES = [
    {"role": "system", "content": "You fix bugs."},
    {"role": "user", "content": "Fix the bug in a.py."},
]
PRICED = "openai/gpt-4o-mini"  # a model in litellm's local price map, served by the loopback server
BIG_USAGE = {"prompt_tokens": 20_000, "completion_tokens": 2_000}


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def config(server, name: str = "openai/local-model", **kwargs) -> ModelConfig:
    defaults = {"retry_min_wait": 0.001, "retry_max_wait": 0.01, "timeout": 5.0}
    return ModelConfig(name=name, api_base=server.url, **{**defaults, **kwargs})


def price(model: str, usage: dict[str, int]) -> float:
    """What litellm's price table says `usage` costs (the figure the model should report)."""
    entry = litellm.model_cost[model]
    return (
        usage["prompt_tokens"] * entry["input_cost_per_token"]
        + usage["completion_tokens"] * entry["output_cost_per_token"]
    )


def test_native_tool_call_over_api_base(server, tools):
    server.enqueue(
        Reply.tool_call("editor", {"command": "view", "path": "/testbed/a.py"}, content="Reading.")
    )
    model = Model(config(server))
    reply = model.query(MESSAGES, tools=tools)

    [call] = parse_tool_calls(reply.message["tool_calls"], tools)
    assert (call.name, call.arguments) == ("editor", {"command": "view", "path": "/testbed/a.py"})
    assert reply.tool_calls == [call]
    assert reply.content == "Reading." and reply.finish_reason == "tool_calls"
    assert json.loads(json.dumps(reply.message)) == reply.message  # appendable to a saved history
    sent = server.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert (
        sent.body["tools"] == tools
        and sent.body["messages"] == MESSAGES
        and sent.body["model"] == "local-model"
    )


def test_history_with_tool_calls_goes_back_to_the_server(server, tools):
    server.enqueue(Reply.tool_call("submit", {}), "done")
    model = Model(config(server))
    reply = model.query(MESSAGES, tools=tools)
    assert reply.content == "" and reply.message["content"] is None
    call_id = reply.message["tool_calls"][0]["id"]
    history = [*MESSAGES, reply.message, {"role": "tool", "tool_call_id": call_id, "content": "submitted"}]
    model.query(history, tools=tools)
    sent = server.requests[-1].body["messages"]
    assert (
        sent[2]["tool_calls"][0]["id"] == call_id and sent[2]["tool_calls"][0]["function"]["name"] == "submit"
    )
    assert sent[3] == {"role": "tool", "tool_call_id": call_id, "content": "submitted"}


def test_plain_reply_without_tools(server):
    server.enqueue("Thinking about it.")
    reply = Model(config(server)).query(MESSAGES)
    assert reply.message == {"role": "assistant", "content": "Thinking about it."}
    assert reply.tool_calls == [] and "tools" not in server.requests[-1].body


def test_unpriced_model_costs_zero_and_is_noted_once(server):
    server.enqueue("a", "b")
    model = Model(config(server, "openai/my-vllm-model"))
    replies = [model.query(MESSAGES), model.query(MESSAGES)]
    assert [r.cost for r in replies] == [0.0, 0.0]
    assert model.stats.calls == 2 and model.stats.unpriced_calls == 2
    assert model.stats.input_tokens == sum(r.input_tokens for r in replies) > 0
    assert len(model.stats.notes) == 1 and "my-vllm-model" in model.stats.notes[0]


def test_priced_model_cost_per_call_and_task(server):
    server.enqueue(Reply(content="a", usage=BIG_USAGE), Reply(content="b", usage=BIG_USAGE))
    model = Model(config(server, PRICED))
    first = model.query(MESSAGES)
    model.query(MESSAGES)
    assert first.cost == pytest.approx(price("gpt-4o-mini", BIG_USAGE))
    assert first.input_tokens == 20_000 and first.output_tokens == 2_000
    assert model.stats.cost == pytest.approx(2 * first.cost) and model.stats.unpriced_calls == 0


def test_task_cost_limit_stops_before_the_next_call(server):
    server.enqueue(Reply(content="a", usage=BIG_USAGE), Reply(content="b"))
    model = Model(config(server, PRICED, cost_limit=price("gpt-4o-mini", BIG_USAGE) / 2))
    model.query(MESSAGES)
    with pytest.raises(LimitExceeded) as err:
        model.query(MESSAGES)
    assert err.value.kind == "cost" and len(server.requests) == 1


def test_task_token_limit(tools):
    model = Model(
        ModelConfig(
            name=register_replay("tokens", [{"thought": "t", "tool": "bash", "args": {"command": "ls"}}]),
            token_limit=5,
        )
    )
    model.query(MESSAGES, tools=tools)
    assert model.stats.tokens >= 5
    with pytest.raises(LimitExceeded) as err:
        model.query(MESSAGES, tools=tools)
    assert err.value.kind == "tokens"


def test_run_budget_is_shared_between_models(server):
    server.enqueue(Reply(content="a", usage=BIG_USAGE), Reply(content="b"))
    budget = RunBudget(cost_limit=price("gpt-4o-mini", BIG_USAGE) / 2)
    first, second = Model(config(server, PRICED), budget), Model(config(server, PRICED), budget)
    first.query(MESSAGES)
    with pytest.raises(LimitExceeded) as err:
        second.query(MESSAGES)
    assert err.value.kind == "run_cost"
    assert budget.spent == pytest.approx(first.stats.cost) and second.stats.calls == 0
    assert len(server.requests) == 1


def test_per_call_cap_raises_after_recording(server):
    server.enqueue(Reply(content="a", usage=BIG_USAGE))
    budget = RunBudget(0.0)
    model = Model(config(server, PRICED, per_call_cost_limit=0.0001), budget)
    with pytest.raises(LimitExceeded) as err:
        model.query(MESSAGES)
    assert err.value.kind == "call_cost"
    assert model.stats.cost == pytest.approx(price("gpt-4o-mini", BIG_USAGE)) == budget.spent


def test_run_budget_is_thread_safe():
    budget = RunBudget(cost_limit=5.0)

    def spend() -> None:
        for _ in range(2000):
            budget.add(0.001)

    threads = [threading.Thread(target=spend) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert budget.calls == 8000 and budget.spent == pytest.approx(8.0) and budget.exhausted
    assert not RunBudget(0.0).exhausted


def test_transient_failures_are_retried(server):
    server.enqueue(Reply.error(429), Reply.error(500), Reply(content="finally"))
    model = Model(config(server, retries=3))
    reply = model.query(MESSAGES)
    assert reply.content == "finally"
    assert model.stats.retries == 2 and model.stats.calls == 1
    assert len(server.requests) == 3  # no hidden retries inside litellm or the SDK


def test_timeout_is_retried(server):
    server.enqueue(Reply(content="too late", delay=3.0), Reply(content="in time"))
    model = Model(config(server, timeout=0.3, retries=1))
    assert model.query(MESSAGES).content == "in time"
    assert model.stats.retries == 1


def test_retries_run_out(server):
    server.enqueue(*[Reply.error(503)] * 3)
    model = Model(config(server, retries=2))
    with pytest.raises(ModelError) as err:
        model.query(MESSAGES)
    assert err.value.kind == "retries_exhausted" and len(server.requests) == 3
    assert model.stats.calls == 0 and model.stats.retries == 2


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (Reply.error(401, "invalid api key"), "auth"),
        (Reply.error(404, "model not found"), "not_found"),
        (Reply.error(400, "unsupported value for tools"), "bad_request"),
        (
            Reply.error(400, "This model's maximum context length is 8192 tokens, your messages have 9000."),
            "context_window",
        ),
    ],
)
def test_non_retryable_errors(server, reply, kind):
    server.enqueue(reply)
    with pytest.raises(ModelError) as err:
        Model(config(server, retries=3)).query(MESSAGES)
    assert err.value.kind == kind and len(server.requests) == 1


def test_settings_and_overrides_reach_the_server(server):
    server.enqueue("a", "b")
    model = Model(
        config(
            server,
            temperature=0.3,
            top_p=0.9,
            max_output_tokens=77,
            completion_kwargs={"seed": 7, "stop": ["</function>"]},
        )
    )
    model.query(MESSAGES)
    model.query(MESSAGES, temperature=1.0, max_output_tokens=12)
    first, second = (r.body for r in server.requests)
    assert (first["temperature"], first["top_p"], first["max_tokens"], first["seed"], first["stop"]) == (
        0.3,
        0.9,
        77,
        7,
        ["</function>"],
    )
    assert (second["temperature"], second["max_tokens"]) == (1.0, 12) and "max_output_tokens" not in second


def test_api_key_comes_from_the_environment_only(server, monkeypatch):
    server.enqueue("a", "b")
    cfg = config(server)
    Model(cfg).query(MESSAGES)
    assert server.requests[-1].headers["authorization"] == "Bearer EMPTY"  # local servers need no key
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-123")
    model = Model(cfg)
    model.query(MESSAGES)
    assert server.requests[-1].headers["authorization"] == "Bearer sk-test-secret-123"
    assert "sk-test-secret-123" not in RunConfig(model=cfg).snapshot_yaml()
    assert b"sk-test-secret-123" not in pickle.dumps(model.config) and "sk-test-secret-123" not in repr(
        vars(model)
    )


def test_logprobs_are_returned(server):
    server.enqueue(
        Reply(content="Yes", logprobs=[TokenLogprob("Yes", -0.05, [("Yes", -0.05), ("No", -3.2)])])
    )
    reply = Model(config(server)).query(MESSAGES, logprobs=True, top_logprobs=2)
    assert server.requests[-1].body["logprobs"] is True
    assert reply.logprobs == [
        {
            "token": "Yes",
            "logprob": -0.05,
            "top_logprobs": [{"token": "Yes", "logprob": -0.05}, {"token": "No", "logprob": -3.2}],
        }
    ]


@pytest.mark.parametrize(
    ("name", "api_base", "action_format", "expected"),
    [
        ("replay/x", None, "auto", True),
        ("oracle/x", None, "auto", True),
        ("gpt-4o-mini", None, "auto", True),
        ("openai/some-local-model", "http://127.0.0.1:9/v1", "auto", True),
        ("openai/some-local-model", None, "auto", False),
        ("gpt-4o-mini", None, "text", False),
        ("openai/some-local-model", None, "tool_calls", True),
    ],
)
def test_tool_call_support(name, api_base, action_format, expected):
    model = Model(ModelConfig(name=name, api_base=api_base, action_format=action_format))
    assert model.uses_tool_calls() is expected
