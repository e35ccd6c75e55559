"""Replay and oracle models, driven through `Model.query` and therefore through litellm's custom-provider path."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import litellm
import pytest
import yaml

from sweagent.actions import FormatError, parse_text_actions, parse_tool_calls
from sweagent.config import ModelConfig
from sweagent.errors import UserError
from sweagent.model.base import ModelError, ToolCall
from sweagent.model.litellm_model import Model
from sweagent.model.scripted import (
    oracle_actions,
    register_oracle,
    register_replay,
    register_scripted_providers,
)
from tests.helpers.repos import git, make_repo

SCRIPT = [
    {"thought": "Look around.", "tool": "bash", "args": {"command": "ls -la\ngit status"}},
    {
        "thought": "Read the file.",
        "tool": "editor",
        "args": {"command": "view", "path": "/testbed/a.py", "view_range": [1, 20]},
    },
    {"raw": "I am not sure what to do."},
]


def _history(*assistant_replies: dict) -> list[dict]:
    messages: list[dict] = [
        {"role": "system", "content": "You fix bugs."},
        {"role": "user", "content": "Fix the bug."},
    ]
    for reply in assistant_replies:
        messages += [reply, {"role": "user", "content": "ok"}]
    return messages


@pytest.fixture
def replay_model() -> Model:
    return Model(ModelConfig(name=register_replay("script-a", SCRIPT)))


def test_replay_native_tool_calls(replay_model, tools):
    first = replay_model.query(_history(), tools=tools)
    assert first.content == "Look around."
    assert parse_tool_calls(first.message["tool_calls"], tools) == [
        ToolCall("bash", {"command": "ls -la\ngit status"}, first.message["tool_calls"][0]["id"])
    ]
    second = replay_model.query(_history(first.message), tools=tools)
    assert [c.arguments for c in parse_tool_calls(second.message["tool_calls"], tools)] == [SCRIPT[1]["args"]]


def test_replay_text_format(replay_model, tools):
    first = replay_model.query(_history())
    assert "tool_calls" not in first.message
    assert first.content.startswith("Look around.")
    assert parse_text_actions(first.content, tools) == [ToolCall("bash", SCRIPT[0]["args"])]
    second = replay_model.query(_history(first.message))
    assert parse_text_actions(second.content, tools) == [ToolCall("editor", SCRIPT[1]["args"])]


def test_replay_raw_reply_and_end_of_script(replay_model, tools):
    done = [{"role": "assistant", "content": "x"}] * 2
    raw = replay_model.query(_history(*done), tools=tools)
    assert raw.content == "I am not sure what to do." and "tool_calls" not in raw.message
    with pytest.raises(FormatError):
        parse_tool_calls(raw.message.get("tool_calls"), tools)
    with pytest.raises(FormatError):
        parse_text_actions(raw.content, tools)
    past_end = replay_model.query(_history(*done, raw.message), tools=tools)
    assert [c.name for c in parse_tool_calls(past_end.message["tool_calls"], tools)] == ["submit"]


def test_replay_step_comes_from_the_history(replay_model, tools):
    """Forked and repeated histories get the action of their own step: the provider keeps no state."""
    step1 = _history({"role": "assistant", "content": "a"})
    a = replay_model.query(step1, tools=tools)
    b = replay_model.query(_history(), tools=tools)
    c = replay_model.query(step1, tools=tools)
    assert a.tool_calls[0].name == c.tool_calls[0].name == "editor"
    assert b.tool_calls[0].name == "bash"


def test_replay_reports_usage_without_price(replay_model, tools):
    short = replay_model.query(_history(), tools=tools)
    long = replay_model.query(_history(*[{"role": "assistant", "content": "word " * 400}] * 2), tools=tools)
    assert 0 < short.input_tokens < long.input_tokens
    assert short.output_tokens > 0
    stats = replay_model.stats
    assert (stats.calls, stats.unpriced_calls, stats.cost) == (2, 2, 0.0)
    assert stats.input_tokens == short.input_tokens + long.input_tokens
    assert len(stats.notes) == 1 and "no price" in stats.notes[0]


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_replay_script_file(tmp_path, tools, suffix):
    path = tmp_path / f"script{suffix}"
    data = {"actions": SCRIPT[:2]}
    path.write_text(yaml.safe_dump(data) if suffix == ".yaml" else json.dumps(data))
    model = Model(ModelConfig(name=f"replay/{path}"))
    first = model.query(_history(), tools=tools)
    assert first.tool_calls[0].arguments == SCRIPT[0]["args"]


def test_unknown_script_is_not_found(tools):
    model = Model(ModelConfig(name="replay/never-registered", retry_min_wait=0.0, retry_max_wait=0.0))
    with pytest.raises(ModelError) as err:
        model.query(_history(), tools=tools)
    assert err.value.kind == "not_found"
    assert "register_replay" in str(err.value)


def test_bad_script_is_a_user_error():
    with pytest.raises(UserError, match="action 0"):
        register_replay("bad", [{"thought": "no tool"}])


def test_registration_is_idempotent():
    for _ in range(3):
        register_scripted_providers()
    providers = [entry["provider"] for entry in litellm.custom_provider_map]
    assert providers.count("replay") == 1 and providers.count("oracle") == 1


# -- oracle: a real git repository, a real diff, replayed through the editor contract ----------------------

A_PY = "".join(f"value_{i:02d} = {i}\n" for i in range(1, 31))


def _apply(repo: Path, call: ToolCall) -> None:
    """Carry out one action of the tool contract on a working tree (what the real tools do in a sandbox)."""
    args = call.arguments
    if call.name == "bash":
        subprocess.run(args["command"], shell=True, cwd=repo, check=True)
        return
    assert call.name == "editor", call
    path = Path(args["path"])
    if args["command"] == "create":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(args["file_text"])
    elif args["command"] == "str_replace":
        text = path.read_text()
        assert text.count(args["old_str"]) == 1, args["old_str"]
        path.write_text(text.replace(args["old_str"], args["new_str"]))
    elif args["command"] == "insert":
        lines = path.read_text().splitlines(keepends=True)
        at = args["insert_line"]
        lines[at:at] = [line + "\n" for line in args["new_str"].split("\n")]
        path.write_text("".join(lines))
    else:
        raise AssertionError(call)


def _staged_diff(repo: Path, *extra: str) -> str:
    git(repo, "add", "-A")
    return git(repo, "diff", "--cached", "-M", *extra, "HEAD")


@pytest.fixture
def changed_repo(tmp_path) -> tuple[Path, str]:
    """A repo and the diff of edits of every kind (two hunks, insertion, no final newline, add, delete, rename)."""
    repo = make_repo(
        tmp_path / "repo",
        {"a.py": A_PY, "b.txt": "alpha\nbeta", "gone.py": "print('bye')\n", "old_name.py": "X = 1\n" * 5},
    )
    lines = A_PY.splitlines(keepends=True)
    lines[2] = "value_03 = 'three'\n"
    lines[24] = "value_25 = 'twenty-five'\n"
    lines[12:12] = ["# inserted 1\n", "# inserted 2\n"]
    (repo / "a.py").write_text("".join(lines))
    (repo / "b.txt").write_text("alpha\ngamma")
    (repo / "gone.py").unlink()
    (repo / "old_name.py").rename(repo / "new_name.py")
    (repo / "pkg").mkdir()
    (repo / "pkg" / "new.py").write_text("def hello():\n    return 'hi'\n")
    return repo, _staged_diff(repo)


def _run_oracle(model: Model, repo: Path, tools: list[dict], native: bool) -> int:
    messages = [{"role": "user", "content": "Fix the bug."}]
    for step in range(1, 40):
        reply = model.query(messages, tools=tools if native else None)
        messages.append(reply.message)
        if native:
            [call] = parse_tool_calls(reply.message.get("tool_calls"), tools)
        else:
            [call] = parse_text_actions(reply.content, tools)
        if call.name == "submit":
            return step
        _apply(repo, call)
        if native:
            messages.append({"role": "tool", "tool_call_id": call.id, "content": "done"})
        else:
            messages.append({"role": "user", "content": "done"})
    raise AssertionError("oracle never submitted")


@pytest.mark.parametrize("native", [True, False], ids=["tool_calls", "text"])
@pytest.mark.parametrize("context", ["-U3", "-U0"])
def test_oracle_reproduces_the_patch(changed_repo, tools, native, context):
    repo, expected = changed_repo
    patch = _staged_diff(repo, context)
    git(repo, "reset", "-q", "--hard", "HEAD")
    assert _staged_diff(repo) == ""
    commands = {a["args"].get("command", "").split(" ")[0] for a in oracle_actions(patch, root=str(repo))}
    assert commands >= {"create", "str_replace", "rm", "mkdir"} | ({"insert"} if context == "-U0" else set())
    name = register_oracle(f"repo{context}{native}", patch, root=str(repo))
    steps = _run_oracle(Model(ModelConfig(name=name)), repo, tools, native)
    assert _staged_diff(repo) == expected
    assert steps > 5  # every file and hunk took its own action


def test_oracle_rejects_a_non_diff():
    with pytest.raises(UserError, match="not a unified diff"):
        register_oracle("junk", "@@ -1,2 +1,2 @@\n-a\n")
