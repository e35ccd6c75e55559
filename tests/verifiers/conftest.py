"""Fixtures for verifier tests: a recording litellm provider, a small repository with an issue, a
shared container sandbox on it, and a sandbox wrapper that records every command and file."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.repos import make_repo

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# ---- a scripted judge model: a litellm custom provider that records every prompt ----------------------

PROVIDER = "vjudge"


class RecordingLLM:
    """Replies from a queue (then `default`), recording each request's messages and parameters."""

    def __init__(self) -> None:
        import litellm
        from litellm import CustomLLM
        from litellm.types.utils import Message, Usage

        recorder = self
        self.replies: deque[str | Callable[[list[dict]], str]] = deque()
        self.default: str | Callable[[list[dict]], str] = "yes"
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

        class Handler(CustomLLM):
            def completion(self, model, messages, *args, **kwargs):
                response = kwargs["model_response"]
                with recorder.lock:
                    recorder.requests.append(
                        {
                            "model": model,
                            "messages": list(messages),
                            "params": dict(kwargs.get("optional_params") or {}),
                        }
                    )
                    reply = recorder.replies.popleft() if recorder.replies else recorder.default
                text = reply(messages) if callable(reply) else reply
                response.choices[0].message = Message(content=text, role="assistant")
                response.usage = Usage(prompt_tokens=10, completion_tokens=1, total_tokens=11)
                return response

        self.handler = Handler()
        if not any(e.get("provider") == PROVIDER for e in litellm.custom_provider_map):
            litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": self.handler})
        else:
            for entry in litellm.custom_provider_map:
                if entry.get("provider") == PROVIDER:
                    entry["custom_handler"] = self.handler
        # litellm resolves custom providers through this registry
        from litellm.utils import custom_llm_setup

        custom_llm_setup()

    def prompts(self) -> list[str]:
        return [str(m.get("content", "")) for r in self.requests for m in r["messages"]]


@pytest.fixture
def judge_llm() -> RecordingLLM:
    return RecordingLLM()


@pytest.fixture
def judge_model(judge_llm):
    from sweagent.config import ModelConfig
    from sweagent.model.litellm_model import Model

    return Model(ModelConfig(name=f"{PROVIDER}/judge", retries=0, cost_limit=0.0))


# ---- a repository with an issue ----------------------------------------------------------------------

ISSUE = "divide(1, 0) raises ZeroDivisionError; it should return None when the divisor is zero."

REPO_FILES = {
    "calc/__init__.py": "",
    "calc/ops.py": "def add(a, b):\n    return a + b\n\n\ndef divide(a, b):\n    return a / b\n",
    "calc/fmt.py": "from calc.ops import add\n\n\ndef show(a, b):\n    return f'{a}+{b}={add(a, b)}'\n",
    "tests/test_ops.py": (
        "from calc.ops import add, divide\n\n\n"
        "def test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_divide():\n    assert divide(3, 2) == 1.5\n"
    ),
    "tests/test_fmt.py": "from calc import fmt\n\n\ndef test_show():\n    assert fmt.show(1, 2) == '1+2=3'\n",
    "tests/test_misc.py": "def test_truth():\n    assert True\n",
}


def ops_patch(divide_body: str, add_body: str = "return a + b") -> str:
    """A unified diff of calc/ops.py with new bodies for divide (and optionally add)."""
    before = REPO_FILES["calc/ops.py"].splitlines()
    after = f"def add(a, b):\n    {add_body}\n\n\ndef divide(a, b):\n{divide_body}\n".splitlines()
    import difflib

    lines = difflib.unified_diff(before, after, "a/calc/ops.py", "b/calc/ops.py", lineterm="")
    return "diff --git a/calc/ops.py b/calc/ops.py\n" + "\n".join(lines) + "\n"


GOOD = ops_patch("    if b == 0:\n        return None\n    return a / b")
GOOD_REFORMATTED = ops_patch("    if b==0:\n        return None\n    return a/b")
REGRESSING = ops_patch("    return a // b if b else None")  # fixes the issue, breaks test_divide
NOT_COMPILING = ops_patch("    if b == 0\n        return None\n    return a / b")
HANGS_TESTS = ops_patch("    return None if b == 0 else a / b", add_body="while True: pass")
NOT_APPLYING = GOOD.replace("return a / b\n", "return a / b  # drifted\n", 1).replace(
    "-    return a / b", "-    return a / b  # drifted"
)

REPRO = (
    "from calc.ops import divide\n"
    "try:\n    result = divide(1, 0)\n"
    "except ZeroDivisionError:\n    print('Issue reproduced')\n"
    "else:\n    print('Issue resolved' if result is None else 'Other issues')\n"
)
NON_REPRODUCING = (
    "from calc.ops import divide\nprint('Issue resolved' if divide(4, 2) == 2 else 'Issue reproduced')\n"
)


@pytest.fixture(scope="session")
def calc_repo(tmp_path_factory) -> Path:
    return make_repo(tmp_path_factory.mktemp("calc") / "repo", REPO_FILES)


@pytest.fixture(scope="session")
def calc_sandbox(base_image, calc_repo):
    """One container for the whole session; checks restore its state, tests assert they did."""
    from sweagent.config import SandboxConfig
    from sweagent.sandbox.factory import open_sandbox

    sandbox = open_sandbox(
        SandboxConfig(image=base_image), repo_path=str(calc_repo), run_label="test-verifiers"
    )
    try:
        yield sandbox
    finally:
        sandbox.close()


# ---- a sandbox wrapper that records what a verifier does ---------------------------------------------


class RecordingSandbox:
    """Delegates to a real sandbox, recording commands, files written and files read."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.commands: list[str] = []
        self.written: dict[str, str] = {}
        self.read: list[str] = []

    workdir = property(lambda self: self.inner.workdir)
    base_commit = property(lambda self: self.inner.base_commit)
    scratch = property(lambda self: getattr(self.inner, "scratch", "/tmp"))
    image = property(lambda self: getattr(self.inner, "image", ""))

    def run(self, command, timeout=None):
        self.commands.append(command)
        return self.inner.run(command, timeout)

    def read_file(self, path):
        self.read.append(path)
        return self.inner.read_file(path)

    def write_file(self, path, content):
        self.written[path] = content
        return self.inner.write_file(path, content)

    def diff(self, exclude_new=None):
        return self.inner.diff(exclude_new)

    def snapshot(self):
        return self.inner.snapshot()

    def restore(self, state):
        self.commands.append(f"(restore {state.base_commit[:8]} + {len(state.patch)} chars of patch)")
        self.written[f"(restore patch {len(self.written)})"] = state.patch
        return self.inner.restore(state)

    def close(self):
        self.inner.close()

    def seen_text(self) -> str:
        return "\n".join([*self.commands, *self.written.keys(), *self.written.values(), *self.read])


# ---- real projects (Django, SymPy from their PyPI sdists) ----------------------------------------------


@pytest.fixture(scope="session")
def real_rows(docker_client, base_image, tmp_path_factory) -> dict[str, dict]:
    """Every real-project image present (built, or reused by content hash) and the instance rows."""
    import json

    from sweagent.swebench.real_projects import build

    out = tmp_path_factory.mktemp("real") / "real.jsonl"
    build(out=out, client=docker_client, base_image=base_image, log=lambda line: None)
    return {row["instance_id"]: row for row in map(json.loads, out.read_text().splitlines())}


@pytest.fixture
def open_real(real_rows):
    """Open a sandbox on an image holding its repository at /testbed; closed after the test."""
    from sweagent.config import SandboxConfig
    from sweagent.sandbox.factory import open_sandbox

    opened = []

    def opener(image: str):
        sandbox = open_sandbox(SandboxConfig(image=image), run_label="test-real-projects")
        opened.append(sandbox)
        return sandbox

    yield opener
    for sandbox in opened:
        sandbox.close()
