"""Bad command lines end in one `error:` line and exit code 2, before any container starts."""

from __future__ import annotations

import pytest

from sweagent.swebench.dataset import _hub_reachable
from tests.swebench.util import run_cli

DATASET = "tests/fixtures/swebench/fixtures.jsonl"


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["batch", "--dataset", "no/such/file.jsonl", "--model", "replay/x"], "does not exist"),
        (["batch", "--dataset", DATASET, "--model", "replay/x", "--instances", "nope__nope-1"], "not in"),
        (["batch", "--dataset", DATASET, "--model", "replay/x", "--slice", "x:y"], "not a slice"),
        (["batch", "--dataset", DATASET, "--model", "replay/x", "--filter", "^zzz"], "no instances selected"),
        (
            ["batch", "--dataset", DATASET, "--model", "replay/x", "--agent.nonsense", "3"],
            "unknown config key",
        ),
        (["eval", "--dataset", DATASET], "exactly one of"),
        (["eval", "--dataset", DATASET, "--predictions", "no/such/preds.json"], "does not exist"),
    ],
)
def test_one_line_errors(args, fragment, capsys, monkeypatch):
    monkeypatch.chdir(__import__("pathlib").Path(__file__).resolve().parents[2])
    assert run_cli(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err, err


def test_offline_hub_dataset_suggests_the_local_copy(capsys):
    if _hub_reachable():
        pytest.skip("the Hub is reachable here: the offline message cannot be provoked")
    assert run_cli(["batch", "--dataset", "verified", "--model", "replay/x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--dataset" in err and "swebench_verified.jsonl" in err
