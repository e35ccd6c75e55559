"""The judge against what real providers do: no logprobs, a rejected `logprobs` parameter, a verdict only
after reasoning text; each through a loopback OpenAI-compatible server and litellm's real code path."""

from __future__ import annotations

import math

import pytest

from sweagent.config import ModelConfig
from sweagent.model.litellm_model import Model
from sweagent.task import Task
from tests.helpers.openai_server import OpenAIServer, Reply, TokenLogprob
from verifiers.judge import JudgeConfig, LLMJudge, judge_capabilities, parse_verdict
from verifiers.types import Candidate

TASK = Task(instance_id="calc-1", problem_statement="add(2, 2) returns 5")
CANDIDATE = Candidate(
    id="c1", patch="--- a/calc.py\n+++ b/calc.py\n@@ -1 +1 @@\n-return a + b + 1\n+return a + b\n"
)


def judge_for(server: OpenAIServer, name: str, **config) -> LLMJudge:
    model = Model(ModelConfig(name=f"openai/{name}", api_base=server.url, retries=0, cost_limit=0.0))
    return LLMJudge(model, JudgeConfig(**config))


def test_a_server_that_returns_no_logprobs_is_judged_by_sampling_and_says_so():
    answers = iter(["yes", "no", "yes", "yes", "yes", "yes", "yes"])
    with OpenAIServer(handler=lambda request: Reply(content=next(answers))) as server:
        judge = judge_for(server, "no-logprobs-model", k=3, seed=10)
        score = judge.score(TASK, CANDIDATE)
        assert score.details["method"] == "sampling" and "no logprobs" in score.details["fallback"]
        assert score.value == pytest.approx(2 / 3)  # yes, no, yes
        assert [r.body.get("seed") for r in server.requests] == [10, 11, 12]  # distinct samples
        assert server.requests[0].body.get("logprobs") is True
        # the next judge of the same model does not ask for logprobs again
        judge_for(server, "no-logprobs-model", k=3, seed=0).score(TASK, CANDIDATE)
        assert all(not r.body.get("logprobs") for r in server.requests[3:])
    assert judge.capabilities.method == "sampling"


def test_a_server_that_rejects_logprobs_falls_back_to_sampling():
    def handler(request):
        if request.body.get("logprobs"):
            return Reply.error(400, "logprobs is not supported by this model")
        return Reply(content="no")

    with OpenAIServer(handler=handler) as server:
        judge = judge_for(server, "rejects-logprobs", k=2)
        score = judge.score(TASK, CANDIDATE)
        assert score.value == 0.0 and score.details["method"] == "sampling"
        assert "rejected `logprobs`" in score.details["fallback"]
        assert len(server.requests) == 3 and not server.requests[-1].body.get("logprobs")
    assert judge.stats.calls == 1 and judge.stats.failed == 0


def test_what_a_judge_learns_about_one_server_does_not_change_another_serving_the_same_name():
    def rejects(request):
        if request.body.get("logprobs"):
            return Reply.error(400, "logprobs is not supported by this model")
        return Reply(content="no")

    top = [("Yes", math.log(0.8)), ("No", math.log(0.2))]
    with (
        OpenAIServer(handler=rejects) as plain,
        OpenAIServer(
            handler=lambda request: Reply(
                content="Yes", logprobs=[TokenLogprob("Yes", math.log(0.8), top=top)]
            )
        ) as full,
    ):
        assert judge_for(plain, "same-name", k=1).score(TASK, CANDIDATE).details["method"] == "sampling"
        score = judge_for(full, "same-name", k=1).score(TASK, CANDIDATE)
        assert score.details["method"] == "logprobs" and score.value == pytest.approx(0.8)
        assert full.requests[0].body.get("logprobs") is True


REASONING = (
    "The issue says add(2, 2) returns 5. The patch removes the extra + 1, so the sum is right again. "
    "No other behaviour changes. Answer: yes"
)


def test_a_model_that_reasons_before_its_verdict_gets_room_and_is_read_at_the_verdict():
    tokens = [TokenLogprob(w, -0.01) for w in REASONING.split(" ")[:-1]]
    tokens.append(TokenLogprob("yes", math.log(0.8), top=[("yes", math.log(0.8)), ("no", math.log(0.2))]))

    def handler(request):
        if (request.body.get("max_tokens") or 10**6) < 100:
            return Reply(content="The issue says add(2, 2) returns", finish_reason="length")
        return Reply(content=REASONING, logprobs=tokens)

    with OpenAIServer(handler=handler) as server:
        judge = judge_for(server, "thinks-first", max_tokens=16, reasoning_max_tokens=2048)
        score = judge.score(TASK, CANDIDATE)
        assert score.value == pytest.approx(0.8) and score.details["method"] == "logprobs"
        assert [r.body.get("max_tokens") for r in server.requests] == [16, 2048]
        assert "reason before the verdict" in judge.capabilities.reason
        judge_for(server, "thinks-first", max_tokens=16, reasoning_max_tokens=2048).score(TASK, CANDIDATE)
        assert server.requests[-1].body.get("max_tokens") == 2048  # learned: no truncated first try


def test_a_judge_that_never_answers_is_a_counted_failure_not_a_half():
    with OpenAIServer(handler=lambda request: Reply(content="I would rather not say.")) as server:
        judge = judge_for(server, "evasive", k=1, method="sampling")
        score = judge.score(TASK, CANDIDATE)
    assert score.value is None and score.failed
    assert judge.stats.calls == 1 and judge.stats.failed == 1


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("<think>maybe no... let me check</think>\nyes", 1.0),
        ("Looking at it, the change is wrong.\nFinal answer: no", 0.0),
        ("It fixes the sum, so: yes.", 1.0),
        ("I am not sure", None),
    ],
)
def test_verdicts_after_reasoning_text(text, value):
    assert parse_verdict(text) == value


def test_the_method_is_chosen_from_what_litellm_says_the_provider_takes():
    config = JudgeConfig(k=4)
    anthropic = judge_capabilities("anthropic/claude-sonnet-4-5", config)
    assert anthropic.method == "sampling" and "does not take `logprobs`" in anthropic.reason
    assert anthropic.reasoning and "4096-token replies" in anthropic.reason
    openai = judge_capabilities("openai/gpt-4o", config)
    assert openai.method == "logprobs" and not openai.reasoning
    forced = judge_capabilities("openai/gpt-4o", JudgeConfig(method="sampling"))
    assert forced.method == "sampling"
