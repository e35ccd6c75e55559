"""`LLMJudge`: a language model asked "does this patch resolve the issue? answer yes or no".

Score = P(yes) read from the first answer token's log-probabilities when the provider returns them
(P(yes) / (P(yes) + P(no)) over the top alternatives, summing case and spacing variants); otherwise
the mean of `k` sampled verdicts. A reply that is not a verdict is retried once with a reminder; if it
still is not one, that sample is recorded as invalid, and a score with no valid sample is a failed
`Score` (value None) with the replies in its details, never an exception. Model failures (after the
model's own retries) are failed scores too; only a spent budget (`LimitExceeded`) propagates, because
it means the caller must stop.

The same judge gives process rewards: `score_partial(task, trajectory_prefix, stage)` asks the
stage's question (see `verifiers.render.STAGE_QUESTIONS`) about the work so far.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from verifiers.render import (
    STAGE_QUESTIONS,
    check_stage,
    evidence_text,
    issue_text,
    patch_text,
    trajectory_text,
)
from verifiers.types import Candidate, Score, Verdict

if TYPE_CHECKING:
    from sweagent.task import Task

SYSTEM = "You review changes to a software repository. You answer questions about them with one word."

SCORE_PROMPT = """\
<issue>
{issue}
</issue>

<patch>
{patch}
</patch>

<execution_evidence>
{evidence}
</execution_evidence>

Does this patch resolve the issue? Answer yes or no."""

PARTIAL_PROMPT = """\
<issue>
{issue}
</issue>

<agent_work_so_far stage="{stage}">
{trajectory}
</agent_work_so_far>

{question} Answer yes or no."""

REMINDER = "Your reply was not a verdict. Reply with exactly one word: yes or no."
_YES_NO = re.compile(r"^[\W_]*(?:answer\s*[:\-]\s*)?\**\s*(yes|no)\b", re.IGNORECASE)
_NUMBER = re.compile(r"^[\W_]*(?:score\s*[:=]\s*)?([01](?:\.\d+)?|\.\d+)\s*$", re.IGNORECASE)


class JudgeConfig(BaseModel):
    """How the judge turns replies into a score."""

    model_config = ConfigDict(extra="forbid")

    use_logprobs: bool = Field(True, description="ask for token logprobs; fall back to sampling without them")
    top_logprobs: int = 5
    k: int = Field(5, ge=1, description="verdicts sampled when logprobs are unavailable")
    sample_temperature: float = Field(1.0, description="temperature for the k samples")
    max_tokens: int | None = Field(
        16, description="reply length cap for verdicts (None = the model's default)"
    )
    accept_numbers: bool = Field(False, description="also read a bare number in [0, 1] as the score")


def parse_verdict(text: str | None, accept_numbers: bool = False) -> float | None:
    """1.0 for yes, 0.0 for no, a number in [0, 1] if allowed; None when the reply is not a verdict."""
    text = (text or "").strip()
    match = _YES_NO.match(text)
    if match:
        return 1.0 if match.group(1).lower() == "yes" else 0.0
    if accept_numbers:
        number = _NUMBER.match(text)
        if number and 0.0 <= float(number.group(1)) <= 1.0:
            return float(number.group(1))
    return None


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def token_logprobs(raw: Any) -> list[Any]:
    """The per-token logprob entries of a litellm/OpenAI chat response (object or dict), or []."""
    if raw is None:
        return []
    choices = _get(raw, "choices") or []
    if not choices:
        return []
    logprobs = _get(choices[0], "logprobs")
    content = _get(logprobs, "content") if logprobs is not None else None
    return list(content or [])


def response_logprobs(response: Any) -> list[Any]:
    """Token logprobs of a `ModelResponse` (its `logprobs` list, or those of a raw response it carries)."""
    entries = getattr(response, "logprobs", None)
    if entries:
        return list(entries)
    return token_logprobs(getattr(response, "raw", None))


def p_yes_from_logprobs(entries: Sequence[Any]) -> float | None:
    """P(yes) / (P(yes) + P(no)) at the first answer token (skipping whitespace/punctuation tokens)."""
    for entry in entries:
        token = str(_get(entry, "token") or "")
        if not re.sub(r"[\W_]", "", token):
            continue
        alternatives = [
            (str(_get(t, "token") or ""), _get(t, "logprob")) for t in (_get(entry, "top_logprobs") or [])
        ]
        if not alternatives:
            alternatives = [(token, _get(entry, "logprob"))]
        yes = no = 0.0
        seen: set[str] = set()
        for tok, lp in alternatives:
            if lp is None or tok in seen:
                continue
            seen.add(tok)
            word = re.sub(r"[\W_]", "", tok).lower()
            if word == "yes":
                yes += math.exp(lp)
            elif word == "no":
                no += math.exp(lp)
        if yes + no == 0.0:
            return None
        return yes / (yes + no)
    return None


class LLMJudge:
    """Scores candidates and trajectory prefixes with a `sweagent.model.Model` (any litellm provider)."""

    name = "llm_judge"

    def __init__(self, model: Any, config: JudgeConfig | None = None) -> None:
        self.model = model
        self.config = config or JudgeConfig()

    # ---- public API ---------------------------------------------------------------------------------

    def score(self, task: Task, candidate: Candidate, evidence: Sequence[Verdict] | None = None) -> Score:
        """P(the patch resolves the issue), given the issue, the patch and execution evidence."""
        prompt = SCORE_PROMPT.format(
            issue=issue_text(task.public()),
            patch=patch_text(candidate.patch),
            evidence=evidence_text(evidence),
        )
        return self._judge(prompt)

    def score_partial(self, task: Task, trajectory_prefix: Any, stage: str) -> Score:
        """Process reward at a stage boundary: is the work so far on track for this stage?"""
        stage = check_stage(stage)
        prompt = PARTIAL_PROMPT.format(
            issue=issue_text(task.public()),
            stage=stage,
            trajectory=trajectory_text(trajectory_prefix),
            question=STAGE_QUESTIONS[stage],
        )
        score = self._judge(prompt)
        score.details["stage"] = stage
        return score

    # ---- machinery ----------------------------------------------------------------------------------

    def _query(self, messages: list[dict[str, Any]], **overrides: Any) -> Any:
        if self.config.max_tokens:
            overrides.setdefault("max_tokens", self.config.max_tokens)
        return self.model.query(messages, **overrides)

    def _judge(self, prompt: str) -> Score:
        from sweagent.model.base import ModelError

        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
        replies: list[str] = []
        try:
            samples: list[float] = []
            if self.config.use_logprobs:
                lp = {"logprobs": True, "top_logprobs": self.config.top_logprobs}
                response = self._query(messages, **lp)
                replies.append(response.content or "")
                if parse_verdict(response.content, self.config.accept_numbers) is None:
                    response = self._query(self._reminded(messages, response.content), **lp)
                    replies.append(response.content or "")
                p_yes = p_yes_from_logprobs(response_logprobs(response))
                if p_yes is not None:
                    return Score(
                        value=round(p_yes, 6),
                        explanation=f"P(yes) = {p_yes:.3f} from token logprobs",
                        source=self.name,
                        details={"method": "logprobs", "replies": replies},
                    )
                first = parse_verdict(response.content, self.config.accept_numbers)
                if first is None:
                    return self._no_verdict(replies)
                samples = [first, *self._sample(messages, self.config.k - 1, replies)]
            else:
                samples = self._sample(messages, self.config.k, replies)
        except ModelError as exc:
            return Score.failure(self.name, f"the judge model failed: {exc}", replies=replies[-6:])
        if not samples:
            return self._no_verdict(replies)
        value = sum(samples) / len(samples)
        return Score(
            value=round(value, 6),
            explanation=f"mean of {len(samples)} sampled verdict(s) = {value:.3f}",
            source=self.name,
            details={
                "method": "sampling",
                "samples": samples,
                "invalid_replies": len(replies) - len(samples),
                "replies": replies[-6:],
            },
        )

    def _no_verdict(self, replies: list[str]) -> Score:
        return Score.failure(
            self.name, "the judge gave no yes/no verdict, even when reminded", replies=replies[-6:]
        )

    @staticmethod
    def _reminded(messages: list[dict[str, Any]], reply: str | None) -> list[dict[str, Any]]:
        return [
            *messages,
            {"role": "assistant", "content": reply or ""},
            {"role": "user", "content": REMINDER},
        ]

    def _sample(self, messages: list[dict[str, Any]], k: int, replies: list[str]) -> list[float]:
        """k verdicts, each retried once with a reminder when the reply is not a verdict."""
        samples: list[float] = []
        temperature = self.config.sample_temperature if self.config.k > 1 else None
        extra = {"temperature": temperature} if temperature is not None else {}
        for _ in range(max(0, k)):
            response = self._query(messages, **extra)
            replies.append(response.content or "")
            verdict = parse_verdict(response.content, self.config.accept_numbers)
            if verdict is None:
                response = self._query(self._reminded(messages, response.content), **extra)
                replies.append(response.content or "")
                verdict = parse_verdict(response.content, self.config.accept_numbers)
            if verdict is not None:
                samples.append(verdict)
        return samples
