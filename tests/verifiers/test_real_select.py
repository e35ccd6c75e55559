"""`swe-ttc select` on a real Django instance with machine-made candidates (sweagent.swebench.real_candidates):
a wrong fix that two systems agree on loses to the right one because Django's own tests catch it, and
`swe-ttc eval` confirms the choice resolves."""

from __future__ import annotations

import json

import pytest

from sweagent.swebench.real_candidates import write_candidate_files
from tests.swebench.util import read_json, run_cli, write_jsonl

pytestmark = pytest.mark.docker

IID = "django__django-16662"  # migration imports sorted with `import x` before `from x import y`


def test_select_prefers_the_fix_to_a_mutant_with_more_votes(real_rows, tmp_path):
    dataset = write_jsonl(tmp_path / "real.jsonl", [real_rows[IID]])
    files = {p.stem: p for p in write_candidate_files(tmp_path / "candidates", dataset)}
    mutant = files["flip-condition"].read_text()
    assert IID in mutant and files["mutant-twin"].read_text().count(IID) == 1
    # the fix from one system; the same wrong fix (a flipped comparison) from two
    chosen_from = [files["gold"], files["flip-condition"], files["mutant-twin"]]
    code = run_cli(
        [
            "select",
            "--dataset",
            str(dataset),
            "--candidates",
            *map(str, chosen_from),
            "--output-dir",
            str(tmp_path),
            "--run-id",
            "sel",
            "--execution.max_test_files",
            "1",
        ]
    )
    assert code == 0
    record = read_json(tmp_path / "sel" / "select" / f"{IID}.json")
    by_system = {src["system"]: cand for cand in record["candidates"] for src in cand["sources"]}
    wrong = by_system["flip-condition"]
    assert wrong["votes"] == 2 and by_system["gold"]["votes"] == 1
    regression = {v["check"]: v for v in wrong["verdicts"]}["regression"]
    assert regression["passed"] is False and regression["details"]["runner"]["name"] == "django"
    assert record["chosen"] == by_system["gold"]["id"]
    assert (
        run_cli(
            [
                "eval",
                "--dataset",
                str(dataset),
                "--predictions",
                str(tmp_path / "sel" / "preds.json"),
                "--output-dir",
                str(tmp_path),
                "--run-id",
                "ev",
            ]
        )
        == 0
    )
    assert json.loads((tmp_path / "ev" / "eval" / "report.json").read_text())["resolved_ids"] == [IID]
