"""`select` never sees the answer: dataset rows whose hidden fields hold sentinel strings go through a
whole select run (execution checks, static reward, an LLM judge and a reproduction writer on a real
HTTP endpoint), and no sandbox command or file, HTTP body, container file, git object or run file
holds a sentinel."""

from __future__ import annotations

from pathlib import Path

import pytest

from sweagent.swebench.fixture_candidates import write_candidate_files
from sweagent.task import HIDDEN_FIELDS
from tests.helpers.openai_server import OpenAIServer
from tests.swebench.util import write_jsonl
from tests.verifiers.conftest import RecordingSandbox
from verifiers.candidates import load_pools
from verifiers.select_config import JudgeSettings, ModelSettings, SelectConfig, SelectInputs
from verifiers.select_inputs import load_inputs
from verifiers.select_run import SelectRunner, open_instance_sandbox

pytestmark = pytest.mark.docker

MARKS = {
    "patch": "SENTINEL_GOLD_PATCH_51c2",
    "test_patch": "SENTINEL_TEST_PATCH_9a0e",
    "FAIL_TO_PASS": "SENTINEL_F2P_77b1",
    "PASS_TO_PASS": "SENTINEL_P2P_e4d8",
    "eval_script": "SENTINEL_EVAL_SCRIPT_3f6c",
}
SCRIPTS = {  # what the reproduction writer answers, by a word of each issue
    "divide()": "from calc import divide\nprint('Issue resolved' if divide(7, 2) == 3.5 else 'Issue reproduced')\n",
    "slugify": "from textkit.slug import slugify\nprint('Issue resolved' if slugify('Hello, World!') == 'hello-world' else 'Issue reproduced')\n",
    "Inventory": (
        "from inventory import Inventory\ninv = Inventory()\ninv.add('a')\n"
        "try:\n    inv.remove('a', 2)\nexcept ValueError:\n    print('Issue resolved')\nelse:\n    print('Issue reproduced')\n"
    ),
}


class Recorded(RecordingSandbox):
    """A recording sandbox that also looks, before closing, for a sentinel in the container."""

    found: list[str] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        probe = "cd /testbed && { git cat-file --batch-all-objects --batch; grep -rI . /testbed /tmp 2>/dev/null; } | grep -c SENTINEL_ || true"
        Recorded.found.append(self.inner.run(probe, timeout=120).output.strip())
        self.close()


def poisoned_rows(rows: dict[str, dict]) -> list[dict]:
    out = []
    for row in rows.values():
        row = {**row}
        for name, mark in MARKS.items():
            row[name] = f'["tests/x.py::{mark}"]' if name in ("FAIL_TO_PASS", "PASS_TO_PASS") else f"{mark}\n"
        out.append(row)
    return out


def test_a_select_run_is_blind_to_hidden_fields(fixture_rows, tmp_path, docker_client):
    assert set(MARKS) == set(HIDDEN_FIELDS)
    dataset = write_jsonl(tmp_path / "poisoned.jsonl", poisoned_rows(fixture_rows))
    files = write_candidate_files(tmp_path / "candidates")
    recorders: list[Recorded] = []

    def opener(config, image, commit, run_label):
        recorders.append(Recorded(open_instance_sandbox(config, image, commit, run_label)))
        return recorders[-1]

    def reply(request):
        prompt = request.body["messages"][-1]["content"]
        if "reproduces the issue" in prompt:
            word = next(w for w in SCRIPTS if w in prompt)
            return f"```python\n{SCRIPTS[word]}```"
        return "yes"

    with OpenAIServer(handler=reply) as server:
        config = SelectConfig(
            inputs=SelectInputs(dataset=str(dataset), candidates=[str(f) for f in files]),
            judge=JudgeSettings(model="openai/judge", api_base=server.url, samples=1),
            reproduction=ModelSettings(model="openai/writer", api_base=server.url),
            workers=2,
        )
        loaded = load_inputs(config.inputs)
        assert all(t.has_hidden for t in loaded.tasks.values())  # the run is handed the full rows
        summary = SelectRunner(loaded.tasks, loaded.pools, config, tmp_path / "run", opener=opener).run()
        bodies = "\n".join(str(r.body) for r in server.requests)
    assert set(summary.statuses.values()) == {"chosen"}
    assert len(load_pools(files)) == len(recorders) == 3
    run_files = "\n".join(p.read_text() for p in Path(tmp_path / "run").rglob("*") if p.is_file())
    # the judge and the generated reproduction really took part
    assert '"judge"' in run_files and "Issue reproduced" in run_files and "behaviour_clusters" in run_files
    assert any("reproduces the issue" in str(r.body) for r in server.requests)
    seen = {
        "sandbox": "\n".join(r.seen_text() for r in recorders),
        "http": bodies,
        "run files": run_files,
    }
    assert any("-m pytest" in c for r in recorders for c in r.commands)
    for where, text in seen.items():
        for mark in MARKS.values():
            assert mark not in text, f"{mark} leaked into {where}"
    assert Recorded.found == ["0"] * 3  # nor in any container file or git object
