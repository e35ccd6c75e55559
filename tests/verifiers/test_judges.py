"""Reward models through litellm's real code path: a recording custom provider and a loopback
OpenAI-compatible server (logprobs for the judge, scores for the served reward model)."""

from __future__ import annotations

import math

import pytest

from sweagent.config import ModelConfig
from sweagent.model.litellm_model import Model
from sweagent.task import Task
from tests.helpers.openai_server import OpenAIServer, Reply, TokenLogprob
from tests.verifiers.conftest import GOOD, ISSUE, REGRESSING
from verifiers.judge import JudgeConfig, LLMJudge, p_yes_from_logprobs, parse_verdict
from verifiers.pairwise import PairwiseJudge, parse_choice, tournament
from verifiers.served import ServedRewardModel, ServedRMConfig
from verifiers.types import Candidate, Evidence, Verdict

TASK = Task(instance_id="calc-1", problem_statement=ISSUE)
CAND = Candidate(id="good", patch=GOOD)
REPRO_EVIDENCE = [
    Verdict.make(
        "reproduction",
        True,
        "passed",
        "reproduced on base, resolved on patched code",
        evidence=[
            Evidence(command="python3 repro.py", exit_code=0, output="Issue reproduced", label="base"),
            Evidence(command="python3 repro.py", exit_code=0, output="Issue resolved", label="patched"),
        ],
    )
]


@pytest.fixture
def server():
    with OpenAIServer() as srv:
        yield srv


def loopback_model(server: OpenAIServer, **kw) -> Model:
    config = ModelConfig(name="openai/judge", api_base=server.url, retries=0, cost_limit=0.0, **kw)
    return Model(config)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", 1.0),
        ("No.", 0.0),
        ("**Yes** - it fixes it", 1.0),
        ("Answer: no", 0.0),
        ("maybe", None),
        ("", None),
    ],
)
def test_parse_verdict(text, value):
    assert parse_verdict(text) == value


def test_parse_verdict_numbers_only_when_allowed():
    assert parse_verdict("0.75") is None
    assert parse_verdict("0.75", accept_numbers=True) == 0.75
    assert parse_verdict("7", accept_numbers=True) is None


def test_p_yes_sums_variants_and_skips_leading_whitespace():
    entries = [
        {"token": " ", "logprob": -0.01, "top_logprobs": []},
        {
            "token": "Yes",
            "logprob": math.log(0.6),
            "top_logprobs": [
                {"token": "Yes", "logprob": math.log(0.6)},
                {"token": " yes", "logprob": math.log(0.1)},
                {"token": "No", "logprob": math.log(0.3)},
            ],
        },
    ]
    assert p_yes_from_logprobs(entries) == pytest.approx(0.7)
    assert (
        p_yes_from_logprobs(
            [{"token": "The", "logprob": -0.1, "top_logprobs": [{"token": "The", "logprob": -0.1}]}]
        )
        is None
    )


def test_judge_scores_from_logprobs_over_http(server):
    server.enqueue(
        Reply(
            content="Yes",
            logprobs=[
                TokenLogprob("Yes", math.log(0.8), top=[("Yes", math.log(0.8)), ("No", math.log(0.2))])
            ],
        )
    )
    score = LLMJudge(loopback_model(server)).score(TASK, CAND, REPRO_EVIDENCE)
    assert score.value == pytest.approx(0.8)
    assert score.details["method"] == "logprobs"
    body = server.requests[0].body
    assert body["logprobs"] is True and body["top_logprobs"] == 5
    prompt = body["messages"][-1]["content"]
    assert ISSUE in prompt and "return None" in prompt and "Issue reproduced" in prompt
    assert prompt.rstrip().endswith("Answer yes or no.")


def test_judge_without_logprobs_averages_k_samples(judge_llm, judge_model):
    judge_llm.replies.extend(["yes", "no", "Yes.", "yes"])
    score = LLMJudge(judge_model, JudgeConfig(k=4)).score(TASK, CAND)
    assert score.value == pytest.approx(0.75)
    assert score.details["method"] == "sampling" and score.details["samples"] == [1.0, 0.0, 1.0, 1.0]
    assert len(judge_llm.requests) == 4
    # the later samples are drawn at the sampling temperature
    assert judge_llm.requests[1]["params"].get("temperature") == 1.0


def test_judge_retries_a_non_verdict_once_then_fails_cleanly(judge_llm, judge_model):
    judge_llm.replies.extend(["I think it looks fine", "yes"])
    judge = LLMJudge(judge_model, JudgeConfig(k=1))
    ok = judge.score(TASK, CAND)
    assert ok.value == 1.0
    assert "not a verdict" in judge_llm.requests[1]["messages"][-1]["content"]

    judge_llm.replies.extend(["hmm", "still thinking"])
    failed = judge.score(TASK, CAND)
    assert failed.failed and "no yes/no verdict" in failed.explanation
    assert failed.details["replies"] == ["hmm", "still thinking"]


def test_judge_model_failure_is_a_failed_score(server):
    server.enqueue(Reply.error(401, "bad key"))
    score = LLMJudge(loopback_model(server)).score(TASK, CAND)
    assert score.failed and "judge model failed" in score.explanation


def test_judge_process_reward_per_stage(judge_llm, judge_model):
    judge_llm.replies.extend(["no"])
    prefix = [
        {"role": "system", "content": "agent instructions"},
        {"role": "user", "content": ISSUE},
        {
            "role": "assistant",
            "content": "Let me reproduce.",
            "tool_calls": [
                {
                    "id": "1",
                    "type": "function",
                    "function": {"name": "bash", "arguments": '{"command": "python r.py"}'},
                }
            ],
        },
        {"role": "tool", "content": "ZeroDivisionError"},
    ]
    score = LLMJudge(judge_model, JudgeConfig(k=1)).score_partial(TASK, prefix, "reproduce")
    assert score.value == 0.0 and score.details["stage"] == "reproduce"
    prompt = judge_llm.requests[-1]["messages"][-1]["content"]
    assert (
        "reproduction faithfully show" in prompt and "ZeroDivisionError" in prompt and "python r.py" in prompt
    )
    assert "agent instructions" not in prompt
    with pytest.raises(ValueError):
        LLMJudge(judge_model).score_partial(TASK, prefix, "dance")


def test_pairwise_both_orders_and_tournament(judge_llm, judge_model):
    # prefers the patch that returns None explicitly, whichever position it is in
    def prefer_good(messages):
        prompt = messages[-1]["content"]
        a_part = prompt.split("<patch_A>")[1].split("</patch_A>")[0]
        return "A" if "if b == 0" in a_part else "B"

    judge_llm.default = prefer_good
    cands = [Candidate(id="regress", patch=REGRESSING), Candidate(id="good", patch=GOOD)]
    judge = PairwiseJudge(judge_model)
    winner, why = judge.compare(TASK, *cands)
    assert winner == "good" and "both orderings" in why
    result = tournament(judge, TASK, cands)
    assert result.winner == "good" and result.points == {"good": 1.0, "regress": 0.0}

    judge_llm.default = "A"  # pure position bias
    winner, why = judge.compare(TASK, *cands)
    assert winner is None and "tie" in why
    knockout = tournament(judge, TASK, [*cands, Candidate(id="third", patch=GOOD)], mode="knockout")
    assert knockout.ranking[0] == "regress"  # ties keep the earlier candidate
    assert len(knockout.matches) == 2


def test_pairwise_non_answer(judge_llm, judge_model):
    judge_llm.default = "I cannot decide"
    winner, why = PairwiseJudge(judge_model).compare(TASK, CAND, Candidate(id="b", patch=REGRESSING))
    assert winner is None and "no A/B answer" in why
    assert parse_choice("Patch B is better") == "B" and parse_choice("neither") is None


# ---- served reward model ----------------------------------------------------------------------------


def served(server, kind, **kw) -> ServedRewardModel:
    return ServedRewardModel(
        ServedRMConfig(base_url=server.url.removesuffix("/v1"), kind=kind, backoff=0.0, **kw)
    )


def test_served_classify_score_and_pooling_routes(server):
    server.enqueue(
        {"data": [{"probs": [0.1, 0.9], "label": 1}]},
        {"data": [{"score": 0.42}]},
        {"data": [{"data": [[0.5], [2.0]]}]},
    )
    assert served(server, "classify").score(TASK, CAND).value == pytest.approx(0.9)
    assert served(server, "score", route="/v1/score").score(TASK, CAND).value == pytest.approx(0.42)
    pooled = served(server, "pooling").score(TASK, CAND, REPRO_EVIDENCE)
    assert pooled.value == pytest.approx(1 / (1 + math.exp(-2.0)))
    paths = [r.path for r in server.requests]
    assert paths == ["/classify", "/v1/score", "/pooling"]
    assert ISSUE in server.requests[0].body["input"][0]
    assert server.requests[1].body["text_2"].startswith("diff --git")
    assert "Issue reproduced" in server.requests[2].body["input"]


def test_served_chat_reads_logprobs_or_a_number(server):
    server.enqueue(
        Reply(
            content="Yes",
            logprobs=[
                TokenLogprob("Yes", math.log(0.9), top=[("Yes", math.log(0.9)), ("No", math.log(0.1))])
            ],
        ),
        Reply(content="0.35"),
    )
    rm = served(server, "chat", model="rm")
    assert rm.score(TASK, CAND).value == pytest.approx(0.9)
    assert rm.score(TASK, CAND).value == pytest.approx(0.35)
    assert server.requests[0].path == "/v1/chat/completions" and server.requests[0].body["model"] == "rm"


def test_served_retries_then_records_failure(server):
    server.enqueue(Reply.error(503), {"data": [{"score": 0.6}]})
    ok = served(server, "score", retries=1).score(TASK, CAND)
    assert ok.value == pytest.approx(0.6) and ok.details["attempts"] == ["HTTP 503"]

    server.enqueue(Reply.error(500), Reply.error(500))
    down = served(server, "score", retries=1).score(TASK, CAND)
    assert down.failed and "after 2 attempt(s): HTTP 500" in down.explanation

    server.enqueue({"unexpected": True})
    odd = served(server, "score").score(TASK, CAND)
    assert odd.failed and "unexpected score response shape" in odd.explanation


def test_served_slow_endpoint_times_out(server):
    server.enqueue(
        Reply(body={"data": [{"score": 0.5}]}, delay=2.0), Reply(body={"data": [{"score": 0.5}]}, delay=2.0)
    )
    score = served(server, "score", timeout=0.2, retries=1).score(TASK, CAND)
    assert score.failed and score.details["attempts"] == ["timed out after 0.2s"] * 2


def test_served_endpoint_down():
    rm = ServedRewardModel(
        ServedRMConfig(base_url="http://127.0.0.1:9", kind="classify", retries=1, backoff=0.0)
    )
    score = rm.score(TASK, CAND)
    assert score.failed and "ConnectError" in score.explanation


def test_served_process_reward(server):
    server.enqueue({"data": [{"probs": [0.3, 0.7]}]})
    score = served(server, "classify").score_partial(
        TASK, [{"role": "user", "content": "found calc/ops.py"}], "localize"
    )
    assert score.value == pytest.approx(0.7) and score.details["stage"] == "localize"
    text = server.requests[-1].body["input"][0]
    assert "found calc/ops.py" in text and "responsible for the issue" in text


def test_generate_reproduction(judge_llm, judge_model):
    from verifiers.reproduction import generate_reproduction

    judge_llm.replies.extend(["```python\nprint('Issue reproduced')\n```"])
    assert generate_reproduction(TASK, judge_model) == "print('Issue reproduced')\n"
    prompt = judge_llm.requests[-1]["messages"][-1]["content"]
    assert ISSUE in prompt and "Issue resolved" in prompt and "Other issues" in prompt
    judge_llm.replies.extend(["I would rather not.", "Still no."])
    assert generate_reproduction(TASK, judge_model) is None
    assert "python code block" in judge_llm.requests[-1]["messages"][-1]["content"]


def test_reward_models_share_one_interface(judge_model):
    from verifiers.pipeline import RewardModel

    assert isinstance(LLMJudge(judge_model), RewardModel)
    assert isinstance(ServedRewardModel(ServedRMConfig(base_url="http://127.0.0.1:1")), RewardModel)


def test_served_chat_slow_or_down_is_a_failed_score(server):
    server.enqueue(Reply(content="yes", delay=2.0), Reply(content="yes", delay=2.0))
    slow = served(server, "chat", timeout=0.3, retries=1).score(TASK, CAND)
    assert slow.failed and "retries_exhausted" in slow.explanation
    assert len(server.requests) == 2
    down = ServedRewardModel(
        ServedRMConfig(base_url="http://127.0.0.1:9", kind="chat", retries=0, backoff=0.0)
    )
    assert down.score(TASK, CAND).failed
