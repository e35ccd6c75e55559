"""`synth run --search` then `synth export`: a search sample's chosen path becomes training data,
one well-formed conversation per stage, and the search's own checks count as process evidence."""

from __future__ import annotations

import json

import pytest

from synth.fixtures import search_behaviours
from synth.results import read_results
from synth.samples import sample_id
from synth.scripted import Variant, choose, register_sampler
from tests.synth.conftest import QUICK, run_cli

pytestmark = pytest.mark.docker

SAMPLES = 2
TEMPERATURE = 0.8


@pytest.fixture(scope="module")
def search_run(mined, tmp_path_factory):
    row = mined.by_label["clamp_fix"]
    dataset = tmp_path_factory.mktemp("search-tasks") / "tasks.jsonl"
    dataset.write_text(json.dumps(row) + "\n")
    scripts = search_behaviours("clamp_fix")
    iid = row["instance_id"]
    model = register_sampler(
        "synthsearch", {iid: [Variant(name, [], stages=scripts[name]) for name in ("clean", "wrong")]}
    )
    out = tmp_path_factory.mktemp("search-runs")
    args = ["synth", "run", "--dataset", str(dataset), "--samples", str(SAMPLES), "--model", model]
    args += ["--temperature", str(TEMPERATURE), "--output-dir", str(out), "--run-id", "s2"]
    args += ["--search", "single", "--budget", "1", *QUICK, "--json"]
    code, stdout = run_cli(args)
    assert code == 0, stdout
    played = {
        choose("synthsearch", sample_id(iid, k), TEMPERATURE).label: sample_id(iid, k) for k in range(SAMPLES)
    }
    return out / "s2", json.loads(stdout), played


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_search_samples_pass_the_process_filter_on_their_own_evidence(search_run):
    run_dir, stats, played = search_run
    results = {r.sample_id: r for r in read_results(run_dir / "results.jsonl")}
    clean, wrong = results[played["clean"]], results[played["wrong"]]
    assert clean.search and clean.grade == "resolved" and clean.reasons == []
    assert clean.accepted and clean.facts["conversations"] == 3 and clean.facts["test_runs"] == 1
    # the wrong path reproduced (the search ran its script on the base) but its candidate failed
    assert (wrong.grade, wrong.reasons) == ("unresolved", ["unresolved", "no_verification"])
    assert stats["solve_rates"]["sometimes_solved"] == [clean.instance_id]
    assert stats["filters"]["complexity"]["rejected"] == {"no_verification": 1}


def test_export_of_a_search_run_gives_one_record_per_stage(search_run, tmp_path):
    run_dir, _, played = search_run
    code, stdout = run_cli(["synth", "export", str(run_dir), "--output", str(tmp_path)])
    assert code == 0, stdout
    records = _lines(tmp_path / "sft.jsonl")
    assert [r["metadata"]["stage"] for r in records] == ["reproduce", "localize", "patch"]
    assert {r["metadata"]["sample_id"] for r in records} == {played["clean"]}
    for record in records:
        roles = [m["role"] for m in record["messages"]]
        assert roles[:2] == ["system", "user"] and roles.count("system") == 1 and roles[-1] == "assistant"
        assert f'<stage name="{record["metadata"]["stage"]}">' in record["messages"][1]["content"]
        assert len(record["metadata"]["stages"]) == roles.count("assistant")
    patch_stage = records[-1]["metadata"]["stages"]
    assert "patch" in patch_stage and "verify" in patch_stage  # the agent's own labels, not the node's
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert (stats["sft_records"], stats["sft_samples"]) == (3, 1)
    # the pair joins each path into one conversation with one system prompt, from the same prompt
    (pair,) = _lines(tmp_path / "rm_pairs.jsonl")
    assert (pair["metadata"]["chosen_sample"], pair["metadata"]["rejected_sample"]) == (
        played["clean"],
        played["wrong"],
    )
    assert [m["role"] for m in pair["prompt"]] == ["system", "user"]
    for side in ("chosen", "rejected"):
        roles = [m["role"] for m in pair[side]]
        assert "system" not in roles and roles[0] == "assistant" and roles[-1] == "assistant"
        stage_openings = [m for m in pair[side] if m["role"] == "user"]
        assert ['<stage name="localize">' in m["content"] for m in stage_openings] == [True, False]
