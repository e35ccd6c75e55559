"""`ServedRewardModel`: a trained reward model behind an HTTP endpoint (e.g. served by vLLM).

Supported request shapes (`kind`), with the default route appended to `base_url`:

| kind | route | request body | score read from |
| --- | --- | --- | --- |
| `chat` | `/chat/completions` via litellm | system + user message (the judge prompt) | P(yes) from logprobs, else a reply `yes`/`no` or a number in [0, 1] |
| `classify` | `/classify` | `{"model", "input": [text]}` | `data[0].probs[label]` |
| `score` | `/score` | `{"model", "text_1": issue, "text_2": patch + evidence}` | `data[0].score` |
| `pooling` | `/pooling` | `{"model", "input": text}` | last number of `data[0].data` (flattened), through a sigmoid |

For `chat`, `base_url` is the OpenAI-compatible root (`/v1` is appended unless present) and
litellm makes the call (through `sweagent.model.Model`, with its timeout and retries). For the other
kinds `route` overrides the path (e.g. `/v1/score`); `squash` forces or disables the sigmoid. `text` is
`TEXT_TEMPLATE` filled with the issue, patch and execution evidence (or, for `score_partial`, the
trajectory prefix and the stage question). Each request has a timeout and is retried on connection
errors, timeouts, 429 and 5xx; when every attempt fails the result is a failed `Score` (value None)
whose explanation says what happened — the caller never sees an exception.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from verifiers.judge import JudgeConfig, LLMJudge
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

ROUTES = {"chat": "/chat/completions", "classify": "/classify", "score": "/score", "pooling": "/pooling"}
TEXT_TEMPLATE = (
    "Issue:\n{issue}\n\nCandidate:\n{work}\n\nExecution evidence:\n{evidence}\n\nQuestion: {question}"
)
RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class ServedRMConfig(BaseModel):
    """Where the reward model is served and how to read its answer."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="server root, e.g. http://127.0.0.1:8000 or http://127.0.0.1:8000/v1")
    model: str = Field("reward-model", description="model name sent in requests")
    kind: Literal["chat", "classify", "score", "pooling"] = "chat"
    route: str | None = Field(None, description="path overriding the kind's default route")
    label: int = Field(-1, description="classify: index of the 'good' class in probs")
    squash: bool | None = Field(None, description="sigmoid on the raw value; default: only for pooling")
    timeout: float = Field(30.0, gt=0)
    retries: int = Field(2, ge=0, description="extra attempts after the first")
    backoff: float = Field(0.5, ge=0, description="seconds before the first retry, doubling each time")
    api_key_env: str | None = Field(None, description="environment variable holding a bearer token")


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _flatten(value: Any) -> list[float]:
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, list):
        return [x for item in value for x in _flatten(item)]
    return []


class ServedRewardModel:
    """Scores candidates and trajectory prefixes with a served reward model."""

    name = "served_rm"

    def __init__(self, config: ServedRMConfig) -> None:
        self.config = config
        self._judge: LLMJudge | None = None

    # ---- public API ---------------------------------------------------------------------------------

    def score(self, task: Task, candidate: Candidate, evidence: Sequence[Verdict] | None = None) -> Score:
        task = task.public()
        if self.config.kind == "chat":
            return self._chat_judge().score(task, candidate, evidence)
        issue = issue_text(task)
        work = patch_text(candidate.patch)
        return self._post(issue, work, evidence_text(evidence), "Does this patch resolve the issue?")

    def score_partial(self, task: Task, trajectory_prefix: Any, stage: str) -> Score:
        task = task.public()
        stage = check_stage(stage)
        if self.config.kind == "chat":
            return self._chat_judge().score_partial(task, trajectory_prefix, stage)
        score = self._post(
            issue_text(task),
            trajectory_text(trajectory_prefix),
            "(see the work above)",
            STAGE_QUESTIONS[stage],
        )
        score.details["stage"] = stage
        return score

    # ---- chat: the judge over litellm ---------------------------------------------------------------

    def _chat_judge(self) -> LLMJudge:
        if self._judge is None:
            from sweagent.config import ModelConfig
            from sweagent.model.litellm_model import Model

            base = self.config.base_url.rstrip("/")
            api_base = base if base.endswith("/v1") else base + "/v1"
            model_config = ModelConfig(
                name=f"openai/{self.config.model}",
                api_base=api_base,
                timeout=self.config.timeout,
                retries=self.config.retries,
                retry_min_wait=min(self.config.backoff, 1.0),
                retry_max_wait=max(self.config.backoff * 4, 0.1),
                cost_limit=0.0,
                completion_kwargs={"api_key": key} if (key := self._api_key()) else {},
            )
            self._judge = LLMJudge(Model(model_config), JudgeConfig(k=1, accept_numbers=True))
            self._judge.name = self.name
        return self._judge

    # ---- HTTP routes ----------------------------------------------------------------------------------

    def _api_key(self) -> str | None:
        return os.environ.get(self.config.api_key_env) if self.config.api_key_env else None

    def _url(self) -> str:
        return self.config.base_url.rstrip("/") + (self.config.route or ROUTES[self.config.kind])

    def _body(self, issue: str, work: str, evidence: str, question: str) -> dict[str, Any]:
        text = TEXT_TEMPLATE.format(issue=issue, work=work, evidence=evidence, question=question)
        if self.config.kind == "classify":
            return {"model": self.config.model, "input": [text]}
        if self.config.kind == "score":
            return {
                "model": self.config.model,
                "text_1": f"{question}\n\n{issue}",
                "text_2": f"{work}\n\n{evidence}",
            }
        return {"model": self.config.model, "input": text}

    def _read(self, payload: Any) -> float:
        """The raw number in a response body; ValueError when the body has another shape."""
        try:
            item = payload["data"][0]
            if self.config.kind == "classify":
                raw = float(item["probs"][self.config.label])
            elif self.config.kind == "score":
                raw = float(item["score"])
            else:
                numbers = _flatten(item["data"])
                if not numbers:
                    raise ValueError("no numbers in data[0].data")
                raw = numbers[-1]
        except (KeyError, IndexError, TypeError) as exc:
            raise ValueError(
                f"unexpected {self.config.kind} response shape ({type(exc).__name__}: {exc})"
            ) from None
        return raw

    def _post(self, issue: str, work: str, evidence: str, question: str) -> Score:
        url = self._url()
        body = self._body(issue, work, evidence, question)
        headers = {"Authorization": f"Bearer {key}"} if (key := self._api_key()) else {}
        attempts: list[str] = []
        wait = self.config.backoff
        for attempt in range(self.config.retries + 1):
            if attempt:
                time.sleep(wait)
                wait *= 2
            try:
                response = httpx.post(url, json=body, headers=headers, timeout=self.config.timeout)
            except httpx.TimeoutException:
                attempts.append(f"timed out after {self.config.timeout:g}s")
                continue
            except httpx.HTTPError as exc:
                attempts.append(f"{type(exc).__name__}: {exc}")
                continue
            if response.status_code in RETRYABLE_STATUS:
                attempts.append(f"HTTP {response.status_code}")
                continue
            if response.status_code != 200:
                attempts.append(f"HTTP {response.status_code}: {response.text[:200]}")
                break
            try:
                raw = self._read(response.json())
            except ValueError as exc:
                attempts.append(str(exc))
                break
            squash = self.config.squash if self.config.squash is not None else self.config.kind == "pooling"
            value = _sigmoid(raw) if squash else raw
            if not 0.0 <= value <= 1.0:
                attempts.append(f"value {raw} is outside [0, 1]; set squash: true for raw reward logits")
                break
            return Score(
                value=round(value, 6),
                explanation=f"{self.config.kind} score from {url}"
                + (f" after {len(attempts)} failed attempt(s)" if attempts else ""),
                source=self.name,
                details={"raw": raw, "attempts": attempts},
            )
        return Score.failure(
            self.name,
            f"reward model at {url} gave no score after {len(attempts)} attempt(s): {attempts[-1]}",
            attempts=attempts,
        )
