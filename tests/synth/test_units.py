"""Pure parts: the sampling model through litellm, sample ids, record rendering and schema checks."""

from __future__ import annotations

import json

import pytest

from sweagent.trajectory import Action, Step, Trajectory
from synth.export import pair_record, sft_record
from synth.results import judge
from synth.samples import sample_id, split_sample_id
from synth.schema import RecordError, validate_record
from synth.scripted import Variant, choose, register_sampler

A = Variant("a", [{"thought": "first", "tool": "bash", "args": {"command": "echo a"}}])
B = Variant("b", [{"thought": "second", "tool": "bash", "args": {"command": "echo b"}}])
C = Variant("c", [{"thought": "third", "tool": "bash", "args": {"command": "echo c"}}])
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "bash",
            "description": "run",
            "parameters": {"type": "object", "properties": {"command": {"type": "string"}}},
        },
    }
]


def test_sample_ids_round_trip():
    assert sample_id("django__django-1.2", 3) == "django__django-1.2.s3"
    assert split_sample_id("django__django-1.2.s3") == ("django__django-1.2", 3)
    with pytest.raises(ValueError):
        split_sample_id("plain")


def test_the_sampler_covers_every_variant_and_is_greedy_at_temperature_zero():
    import litellm

    model = register_sampler("units", {"task": [A, B, C]})
    labels = [choose("units", sample_id("task", k), 0.7).label for k in range(3)]
    assert sorted(labels) == ["a", "b", "c"]
    assert [choose("units", sample_id("task", k), 0.7).label for k in range(3, 6)] == labels
    assert {choose("units", sample_id("task", k), 0.0).label for k in range(3)} == {"a"}
    for k in range(3):
        name = model.replace("{instance_id}", sample_id("task", k))
        reply = litellm.completion(
            model=name, messages=[{"role": "user", "content": "go"}], tools=TOOLS, temperature=0.7
        )
        call = reply.choices[0].message.tool_calls[0]
        assert json.loads(call.function.arguments) == {"command": f"echo {labels[k]}"}


def _traj(iid: str, patch: str) -> Trajectory:
    call = {
        "id": "c0",
        "type": "function",
        "function": {"name": "bash", "arguments": '{"command": "python3 x.py"}'},
    }
    return Trajectory(
        instance_id=iid,
        model_name="m",
        tools=TOOLS,
        messages=[
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "issue"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c0", "content": "out"},
        ],
        steps=[
            Step(index=0, stage="reproduce", action=Action(tool="bash", args={"command": "python3 x.py"}))
        ],
        patch=patch,
        exit_status="submitted",
    )


def _result(traj: Trajectory, grade: str):
    from synth.config import FilterConfig

    return judge(
        traj,
        instance_id="t",
        sample=0,
        grade=grade,
        grade_detail="",
        config=FilterConfig(),
        trajectory_file="x",
    )


@pytest.mark.parametrize("fmt", ["openai", "sharegpt", "text"])
def test_records_render_and_validate(fmt):
    good, bad = _traj("t.s0", "diff --git a/x b/x\n"), _traj("t.s1", "diff --git a/y b/y\n")
    record = sft_record(_result(good, "resolved"), good, fmt, "run")
    assert validate_record(record, "sft", fmt) is record
    pair = pair_record((_result(good, "resolved"), good), (_result(bad, "unresolved"), bad), fmt, "run")
    assert validate_record(pair, "rm_pairs", fmt) is pair
    if fmt == "openai":
        assert record["messages"][2] == {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "c0",
                    "type": "function",
                    "function": {"name": "bash", "arguments": '{"command": "python3 x.py"}'},
                }
            ],
        }  # no null keys: templates test `'tool_calls' in message`
        assert [sorted(m) for m in record["messages"][:2]] == [["content", "role"]] * 2
        assert len(record["messages"]) == 3  # cut after the last assistant turn
        as_objects = sft_record(_result(good, "resolved"), good, fmt, "run", arguments="object")
        call = as_objects["messages"][2]["tool_calls"][0]
        assert call["function"]["arguments"] == {"command": "python3 x.py"}
        assert validate_record(as_objects, "sft", fmt) is as_objects
        assert pair["prompt"][0]["content"] == "sys" and pair["chosen"][0]["role"] == "assistant"


def test_schema_rejects_what_trainers_would_choke_on():
    good = _traj("t.s0", "diff --git a/x b/x\n")
    record = sft_record(_result(good, "resolved"), good, "openai", "run")
    as_list = json.loads(json.dumps(record))
    as_list["messages"][2]["tool_calls"][0]["function"]["arguments"] = '["x"]'
    with pytest.raises(RecordError, match="not a JSON object"):
        validate_record(as_list, "sft", "openai")
    null_key = json.loads(json.dumps(record))
    null_key["messages"][1]["tool_calls"] = None
    with pytest.raises(RecordError, match="tool_calls"):
        validate_record(null_key, "sft", "openai")
    second_system = json.loads(json.dumps(record))
    second_system["messages"].insert(2, {"role": "system", "content": "stage two"})
    with pytest.raises(RecordError, match="system message may only open"):
        validate_record(second_system, "sft", "openai")
    not_json = json.loads(json.dumps(record))
    not_json["messages"][2]["tool_calls"][0]["function"]["arguments"] = "{oops"
    with pytest.raises(RecordError, match="not JSON"):
        validate_record(not_json, "sft", "openai")
    wrong_stages = json.loads(json.dumps(record))
    wrong_stages["metadata"]["stages"] = ["reproduce", "verify"]
    with pytest.raises(RecordError, match="2 stage labels for 1 assistant turns"):
        validate_record(wrong_stages, "sft", "openai")
    unknown_stage = json.loads(json.dumps(record))
    unknown_stage["metadata"]["stages"] = ["thinking"]
    with pytest.raises(RecordError, match="stages"):
        validate_record(unknown_stage, "sft", "openai")
    unresolved = json.loads(json.dumps(record))
    unresolved["metadata"]["grade"] = "unresolved"
    with pytest.raises(RecordError, match="grade"):
        validate_record(unresolved, "sft", "openai")
