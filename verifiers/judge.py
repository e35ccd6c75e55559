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
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

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


JudgeMethod = Literal["auto", "logprobs", "sampling"]


class JudgeConfig(BaseModel):
    """The judge's own model and limits, and how it turns replies into a score."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="litellm name of the judge (None: the caller's model)")
    api_base: str | None = Field(None, description="base URL of an OpenAI-compatible server for the judge")
    method: JudgeMethod = Field(
        "auto",
        description="logprobs: P(yes) from token log-probabilities; sampling: the mean of k verdicts; "
        "auto: logprobs where the provider takes them (litellm's supported parameters), else sampling",
    )
    use_logprobs: bool = Field(True, description="False: never ask for logprobs (same as method=sampling)")
    top_logprobs: int = 5
    k: int = Field(5, ge=1, description="verdicts sampled when logprobs are unavailable")
    sample_temperature: float = Field(1.0, description="temperature for the k samples")
    max_tokens: int | None = Field(
        16, description="reply length cap for verdicts from non-reasoning models (None = the model's default)"
    )
    reasoning_max_tokens: int = Field(
        4096, ge=16, description="reply budget for reasoning models (they think before the verdict)"
    )
    reasoning_effort: str | None = Field(
        "low", description="reasoning effort passed to reasoning models whose provider takes it (None: omit)"
    )
    accept_numbers: bool = Field(False, description="also read a bare number in [0, 1] as the score")
    seed: int | None = Field(None, description="seed of the first call; sample i uses seed + i")
    timeout: float = Field(120.0, gt=0, description="seconds per judge call")
    retries: int = Field(2, ge=0, description="retries of a judge call on transient errors")
    cost_limit: float = Field(0.0, ge=0, description="USD the judge may spend per task (0 = no cap)")
    max_failure_share: float = Field(
        0.2, ge=0, le=1, description="a run whose judge failed on more than this share of calls says so"
    )


@dataclass
class Capabilities:
    """What the judge's provider supports, as litellm reports it, and the method chosen from that."""

    method: str
    reasoning: bool
    reasoning_param: bool
    reason: str

    def describe(self) -> str:
        return f"{self.method} ({self.reason})"


_caps_cache: dict[tuple[str, str], tuple[str, bool, bool, str]] = {}


def judge_capabilities(name: str, config: JudgeConfig) -> Capabilities:
    """Decide the judge's method from litellm's supported-parameter and model-info functions."""
    key = (name, config.model_dump_json(exclude={"seed"}))
    if key not in _caps_cache:
        caps = _capabilities(name, config)
        _caps_cache[key] = (caps.method, caps.reasoning, caps.reasoning_param, caps.reason)
    return Capabilities(*_caps_cache[key])


def _capabilities(name: str, config: JudgeConfig) -> Capabilities:
    import litellm

    provider = None
    try:
        model, provider, _, _ = litellm.get_llm_provider(name)
        params = litellm.get_supported_openai_params(model=model, custom_llm_provider=provider)
    except Exception:
        params = None
    try:
        reasoning = bool(litellm.supports_reasoning(model=name))
    except Exception:
        reasoning = False
    takes_effort = isinstance(params, list) and "reasoning_effort" in params
    where = f"provider {provider}" if provider else f"model {name}"
    if config.method == "sampling" or not config.use_logprobs:
        method, reason = "sampling", f"configured: mean of {config.k} sampled verdicts"
    elif config.method == "logprobs":
        method, reason = "logprobs", "configured"
    elif params is None:
        method = "logprobs"
        reason = (
            f"{where} does not list its parameters: logprobs asked for, {config.k} samples if none come back"
        )
    elif "logprobs" in params:
        method, reason = "logprobs", f"{where} takes `logprobs`"
    else:
        method, reason = "sampling", f"{where} does not take `logprobs`: mean of {config.k} sampled verdicts"
    if reasoning:
        reason += f"; reasoning model: {config.reasoning_max_tokens}-token replies"
        if takes_effort and config.reasoning_effort:
            reason += f", reasoning_effort={config.reasoning_effort}"
    return Capabilities(method, reasoning, takes_effort, reason)


@dataclass
class JudgeStats:
    """Calls and failures of one judge (failed = no usable score from the call)."""

    calls: int = 0
    failed: int = 0
    methods: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, score: Score) -> None:
        self.calls += 1
        if score.value is None:
            self.failed += 1
        method = str(score.details.get("method", "failed" if score.value is None else "?"))
        self.methods[method] = self.methods.get(method, 0) + 1


_THINK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.IGNORECASE | re.DOTALL)
_FINAL = re.compile(r"(?:final\s+answer|answer|verdict)\s*(?:is)?\s*[:\-]?\s*\**\s*(yes|no)\b", re.IGNORECASE)
_LAST_WORD = re.compile(r"\b(yes|no)\b[\W_]*$", re.IGNORECASE)


def _verdict_word(text: str | None) -> tuple[str, str] | None:
    """('yes' or 'no', 'first' or 'last'): the reply's verdict and where it stands.

    A verdict stands first (`yes`, `**No**`, `Answer: no`) or, after reasoning (a `<think>` block or
    free text), last: an `Answer: yes` line, or `yes` / `no` as the final word."""
    text = (text or "").strip()
    match = _YES_NO.match(text)
    if match:
        return match.group(1).lower(), "first"
    rest = _THINK.sub(" ", text).strip()
    match = _YES_NO.match(rest)
    if match:
        return match.group(1).lower(), "last"
    finals = _FINAL.findall(rest)
    if finals:
        return finals[-1].lower(), "last"
    match = _LAST_WORD.search(rest)
    if match:
        return match.group(1).lower(), "last"
    return None


def parse_verdict(text: str | None, accept_numbers: bool = False) -> float | None:
    """1.0 for yes, 0.0 for no, a number in [0, 1] if allowed; None when the reply is not a verdict."""
    found = _verdict_word(text)
    if found:
        return 1.0 if found[0] == "yes" else 0.0
    if accept_numbers:
        number = _NUMBER.match((text or "").strip())
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


def _word(token: str) -> str:
    return re.sub(r"[\W_]", "", token).lower()


def p_yes_from_logprobs(entries: Sequence[Any], position: str = "first") -> float | None:
    """P(yes) / (P(yes) + P(no)) at the verdict token.

    `first`: the first word token (skipping whitespace and punctuation); `last`: the last token that is
    `yes` or `no` (a verdict after reasoning text)."""
    words = [e for e in entries if _word(str(_get(e, "token") or ""))]
    if position == "last":
        words = [e for e in words if _word(str(_get(e, "token") or "")) in ("yes", "no")][-1:]
    for entry in words[:1]:
        token = str(_get(entry, "token") or "")
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
            word = _word(tok)
            if word == "yes":
                yes += math.exp(lp)
            elif word == "no":
                no += math.exp(lp)
        if yes + no == 0.0:
            return None
        return yes / (yes + no)
    return None


# What judges learned about a model at one server while running (a rejected `logprobs` parameter, a
# reasoning model that needs room), so later judges of the same model there do not pay for the same
# discovery. Keyed by (model name, api_base): one name may be served by different servers.
_learned: dict[tuple[str, str], dict[str, Any]] = {}
_learned_lock = threading.Lock()


class LLMJudge:
    """Scores candidates and trajectory prefixes with a `sweagent.model.Model` (any litellm provider).

    `capabilities` says which method it uses and why (see `judge_capabilities`); `stats` counts its
    calls and failures, so callers can report a judge that did not work.
    """

    name = "llm_judge"

    def __init__(self, model: Any, config: JudgeConfig | None = None) -> None:
        self.model = model
        self.config = config or JudgeConfig()
        self.stats = JudgeStats()
        self._caps: Capabilities | None = None

    @property
    def model_name(self) -> str:
        return str(getattr(getattr(self.model, "config", None), "name", "") or "")

    @property
    def _where(self) -> tuple[str, str]:
        return self.model_name, str(getattr(getattr(self.model, "config", None), "api_base", "") or "")

    @property
    def capabilities(self) -> Capabilities:
        if self._caps is None:
            self._caps = judge_capabilities(self.model_name, self.config)
            learned = _learned.get(self._where, {})
            if learned.get("method") and self._caps.method == "logprobs":
                self._caps.method = learned["method"]
                self._caps.reason += f"; {learned['why']}"
            if learned.get("reasoning") and not self._caps.reasoning:
                self._caps.reasoning = True
                self._caps.reason += "; replies reason before the verdict: longer replies allowed"
        return self._caps

    # ---- public API ---------------------------------------------------------------------------------

    def score(self, task: Task, candidate: Candidate, evidence: Sequence[Verdict] | None = None) -> Score:
        """P(the patch resolves the issue), given the issue, the patch and execution evidence."""
        prompt = SCORE_PROMPT.format(
            issue=issue_text(task.public()),
            patch=patch_text(candidate.patch),
            evidence=evidence_text(evidence),
        )
        return self._counted(self._judge(prompt))

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
        return self._counted(score)

    # ---- machinery ----------------------------------------------------------------------------------

    def _counted(self, score: Score) -> Score:
        self.stats.add(score)
        return score

    def _learn(self, **facts: Any) -> None:
        with _learned_lock:
            _learned.setdefault(self._where, {}).update(facts)

    def _query(self, messages: list[dict[str, Any]], sample: int = 0, **overrides: Any) -> Any:
        caps = self.capabilities
        budget = self.config.reasoning_max_tokens if caps.reasoning else self.config.max_tokens
        if budget:
            overrides.setdefault("max_tokens", budget)
        if caps.reasoning and caps.reasoning_param and self.config.reasoning_effort:
            overrides.setdefault("reasoning_effort", self.config.reasoning_effort)
        if self.config.seed is not None:
            overrides.setdefault("seed", self.config.seed + sample)
        response = self.model.query(messages, **overrides)
        if (
            not caps.reasoning
            and parse_verdict(response.content, self.config.accept_numbers) is None
            and response.finish_reason == "length"
        ):
            # cut off before the verdict: a model that reasons first; give it room from now on
            caps.reasoning = True
            caps.reason += "; replies reason before the verdict: longer replies allowed"
            self._learn(reasoning=True)
            overrides["max_tokens"] = self.config.reasoning_max_tokens
            response = self.model.query(messages, **overrides)
        return response

    def _judge(self, prompt: str) -> Score:
        from sweagent.model.base import ModelError

        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
        replies: list[str] = []
        caps = self.capabilities
        details: dict[str, Any] = {"method_reason": caps.reason}
        try:
            samples: list[float] = []
            if caps.method == "logprobs":
                lp = {"logprobs": True, "top_logprobs": self.config.top_logprobs}
                try:
                    response = self._query(messages, **lp)
                except ModelError as exc:
                    if exc.kind != "bad_request" or "logprob" not in str(exc).lower():
                        raise
                    why = f"the provider rejected `logprobs` ({str(exc)[:120]})"
                    self._fall_back(caps, why)
                    details["fallback"] = why
                    return self._judge_by_samples(messages, replies, details)
                replies.append(response.content or "")
                if parse_verdict(response.content, self.config.accept_numbers) is None:
                    response = self._query(self._reminded(messages, response.content), **lp)
                    replies.append(response.content or "")
                found = _verdict_word(response.content)
                p_yes = p_yes_from_logprobs(response_logprobs(response), found[1] if found else "first")
                if p_yes is not None:
                    return Score(
                        value=round(p_yes, 6),
                        explanation=f"P(yes) = {p_yes:.3f} from token logprobs",
                        source=self.name,
                        details={**details, "method": "logprobs", "replies": replies},
                    )
                if not response_logprobs(response):
                    why = "the provider returned no logprobs"
                    self._fall_back(caps, why)
                    details["fallback"] = why
                first = parse_verdict(response.content, self.config.accept_numbers)
                if first is None:
                    return self._no_verdict(replies, details)
                samples = [first, *self._sample(messages, self.config.k - 1, replies, start=1)]
            else:
                samples = self._sample(messages, self.config.k, replies)
        except ModelError as exc:
            return Score.failure(self.name, f"the judge model failed: {exc}", replies=replies[-6:], **details)
        return self._mean(samples, replies, details)

    def _fall_back(self, caps: Capabilities, why: str) -> None:
        caps.method = "sampling"
        caps.reason += f"; {why}: mean of {self.config.k} sampled verdicts"
        self._learn(method="sampling", why=why)

    def _judge_by_samples(
        self, messages: list[dict[str, Any]], replies: list[str], details: dict[str, Any]
    ) -> Score:
        from sweagent.model.base import ModelError

        try:
            samples = self._sample(messages, self.config.k, replies)
        except ModelError as exc:
            return Score.failure(self.name, f"the judge model failed: {exc}", replies=replies[-6:], **details)
        return self._mean(samples, replies, details)

    def _mean(self, samples: list[float], replies: list[str], details: dict[str, Any]) -> Score:
        if not samples:
            return self._no_verdict(replies, details)
        value = sum(samples) / len(samples)
        return Score(
            value=round(value, 6),
            explanation=f"mean of {len(samples)} sampled verdict(s) = {value:.3f}",
            source=self.name,
            details={
                **details,
                "method": "sampling",
                "samples": samples,
                "invalid_replies": len(replies) - len(samples),
                "replies": replies[-6:],
            },
        )

    def _no_verdict(self, replies: list[str], details: dict[str, Any] | None = None) -> Score:
        return Score.failure(
            self.name,
            "the judge gave no yes/no verdict, even when reminded",
            replies=replies[-6:],
            **(details or {}),
        )

    @staticmethod
    def _reminded(messages: list[dict[str, Any]], reply: str | None) -> list[dict[str, Any]]:
        return [
            *messages,
            {"role": "assistant", "content": reply or ""},
            {"role": "user", "content": REMINDER},
        ]

    def _sample(
        self, messages: list[dict[str, Any]], k: int, replies: list[str], start: int = 0
    ) -> list[float]:
        """k verdicts, each retried once with a reminder when the reply is not a verdict."""
        samples: list[float] = []
        temperature = self.config.sample_temperature if self.config.k > 1 else None
        extra = {"temperature": temperature} if temperature is not None else {}
        for i in range(start, start + max(0, k)):
            response = self._query(messages, sample=i, **extra)
            replies.append(response.content or "")
            verdict = parse_verdict(response.content, self.config.accept_numbers)
            if verdict is None:
                response = self._query(self._reminded(messages, response.content), sample=i, **extra)
                replies.append(response.content or "")
                verdict = parse_verdict(response.content, self.config.accept_numbers)
            if verdict is not None:
                samples.append(verdict)
        return samples


def judge_model_config(base: Any, config: JudgeConfig) -> Any:
    """The `ModelConfig` of the judge: its own model, server and limits, else the base model's."""
    updates: dict[str, Any] = {
        "timeout": config.timeout,
        "retries": config.retries,
        "cost_limit": config.cost_limit,
        "token_limit": 0,
        "max_output_tokens": None,
    }
    if config.model:
        updates["name"] = config.model
        updates["api_base"] = config.api_base
    elif config.api_base:
        updates["api_base"] = config.api_base
    return base.model_copy(update=updates)
