"""No verifier sees the answer: a task whose hidden fields hold sentinel strings goes through every
verifier, and no prompt, HTTP body, sandbox command or file written contains a sentinel."""

from __future__ import annotations

import json

import pytest

from sweagent.task import HIDDEN_FIELDS, Task
from tests.helpers.openai_server import OpenAIServer
from tests.verifiers.conftest import GOOD, ISSUE, REGRESSING, REPRO, RecordingSandbox
from verifiers.execution import ExecutionVerifier
from verifiers.judge import JudgeConfig, LLMJudge
from verifiers.pairwise import PairwiseJudge, tournament
from verifiers.reproduction import generate_reproduction
from verifiers.selection import select
from verifiers.served import ServedRewardModel, ServedRMConfig
from verifiers.types import Candidate, Judged

pytestmark = pytest.mark.docker

SENTINELS = {
    "patch": "diff --git a/calc/ops.py b/calc/ops.py\n+SENTINEL_GOLD_PATCH_51c2\n",
    "test_patch": "diff --git a/tests/test_ops.py b/tests/test_ops.py\n+SENTINEL_TEST_PATCH_9a0e\n",
    "FAIL_TO_PASS": ["tests/test_ops.py::SENTINEL_F2P_77b1"],
    "PASS_TO_PASS": ["tests/test_ops.py::SENTINEL_P2P_e4d8"],
    "eval_script": "#!/bin/bash\necho SENTINEL_EVAL_SCRIPT_3f6c\n",
}
MARKS = [
    "SENTINEL_GOLD_PATCH_51c2",
    "SENTINEL_TEST_PATCH_9a0e",
    "SENTINEL_F2P_77b1",
    "SENTINEL_P2P_e4d8",
    "SENTINEL_EVAL_SCRIPT_3f6c",
]


def test_every_verifier_is_blind_to_hidden_fields(calc_sandbox, judge_llm, judge_model):
    task = Task(instance_id="calc-1", problem_statement=ISSUE, **SENTINELS)
    assert task.has_hidden and set(SENTINELS) == set(HIDDEN_FIELDS)
    recorder = RecordingSandbox(calc_sandbox)

    def reply(messages):
        prompt = messages[-1]["content"]
        if "reproduces the issue" in prompt:
            return f"```python\n{REPRO}```"
        if "Answer A or B" in prompt:
            return "A"
        return "yes"

    judge_llm.default = reply
    good = Candidate(id="good", patch=GOOD)
    regress = Candidate(id="regress", patch=REGRESSING)

    script = generate_reproduction(task, judge_model)
    assert script and "Issue reproduced" in script
    verifier = ExecutionVerifier(recorder)
    items = []
    for cand in (good, regress):
        verdicts = verifier.verify(task, cand, reproduction_script=script)
        assert any(v.check == "reproduction" and v.passed for v in verdicts)
        judge = LLMJudge(judge_model, JudgeConfig(k=2))
        scores = {"judge": judge.score(task, cand, verdicts)}
        items.append(Judged(candidate=cand, verdicts=verdicts, scores=scores))
    LLMJudge(judge_model, JudgeConfig(k=1)).score_partial(
        task, [{"role": "user", "content": ISSUE}], "localize"
    )
    PairwiseJudge(judge_model).compare(task, good, regress)
    tournament(PairwiseJudge(judge_model), task, [good, regress])

    with OpenAIServer(
        handler=lambda req: {"data": [{"probs": [0.4, 0.6], "score": 0.6, "data": [0.1]}]}
    ) as server:
        for kind in ("classify", "score", "pooling"):
            rm = ServedRewardModel(ServedRMConfig(base_url=server.url, kind=kind))
            assert not rm.score(task, good).failed
            assert not rm.score_partial(task, [{"role": "user", "content": ISSUE}], "patch").failed
        http_bodies = [json.dumps(r.body) for r in server.requests]

    selection = select(items)
    assert selection.chosen == "good"  # the regression filter did its job without the hidden tests

    prompts = judge_llm.prompts()
    assert any(ISSUE in p for p in prompts) and len(judge_llm.requests) >= 8
    assert any("-m pytest" in c for c in recorder.commands)
    seen = {
        "prompts": "\n".join(prompts),
        "http": "\n".join(http_bodies),
        "sandbox": recorder.seen_text(),
        "selection": json.dumps(selection.model_dump(mode="json")),
    }
    for where, text in seen.items():
        for mark in MARKS:
            assert mark not in text, f"{mark} leaked into {where}"


def test_real_project_checks_and_generated_reproductions_are_blind_to_hidden_fields(
    real_rows, open_real, judge_llm, judge_model
):
    """On a real Django instance (official layout): the runner's commands, the files written, the prompt
    asking for a reproduction script and the verdicts hold no hidden field; the image's git objects hold
    neither the fix nor its tests."""
    from tests.verifiers.test_real_projects import DJANGO_REPRO, DJANGO_UNCONFIGURED
    from verifiers.execution import ExecutionConfig

    row = real_rows["django__django-17087"]
    task = Task(
        instance_id=row["instance_id"],
        repo=row["repo"],
        version=row["version"],
        problem_statement=row["problem_statement"],
        **SENTINELS,
    )
    sandbox = open_real(row["image"])
    history = sandbox.run("git log --all -p | grep -c -e '__qualname__, self.value.__name__' "
                          "-e 'def test_serialize_nested_class_method' ; true", timeout=300)  # fmt: skip
    assert history.output.strip() == "0", "the image's git history holds the fix or its tests"

    replies = [f"```python\n{DJANGO_UNCONFIGURED}```", f"```python\n{DJANGO_REPRO}```"]
    judge_llm.default = lambda messages: replies.pop(0) if replies else "no"
    recorder = RecordingSandbox(sandbox)
    config = ExecutionConfig(max_test_files=1, generate_reproduction=2)
    verifier = ExecutionVerifier(recorder, config)
    candidate = Candidate(
        id="fix", patch=row["patch"]
    )  # a candidate may equal the fix; the task never shows it
    shared = verifier.shared_reproduction(task, [candidate], model=judge_model)
    assert shared.source == "generated:1" and [t["base_outcome"] for t in shared.tried] == [
        "other",
        "reproduced",
    ]
    verdicts = verifier.verify(task, candidate, reproduction_script=shared.script)
    assert [v.status for v in verdicts] == ["passed", "passed", "passed"]
    assert any("./tests/runtests.py --verbosity 2" in c for c in recorder.commands)

    prompts = judge_llm.prompts()
    assert len(judge_llm.requests) == 2 and all(row["problem_statement"] in p for p in prompts)
    seen = {
        "prompts": "\n".join(prompts),
        "sandbox": recorder.seen_text(),
        "verdicts": json.dumps([v.model_dump(mode="json") for v in verdicts]),
        "shared": shared.model_dump_json(),
    }
    for where, text in seen.items():
        for mark in MARKS:
            assert mark not in text, f"{mark} leaked into {where}"
