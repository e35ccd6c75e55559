"""`swe-ttc synth export`: the files written, their schemas, and loading them with `datasets`."""

from __future__ import annotations

import json
import shutil

import pytest

from synth.results import read_results, write_results
from synth.schema import validate_file
from tests.synth.conftest import run_cli

pytestmark = pytest.mark.docker


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def exports(synth_run, tmp_path_factory):
    """The k4 run exported in every format."""
    out = {}
    for fmt in ("openai", "sharegpt", "text"):
        folder = tmp_path_factory.mktemp(f"export-{fmt}")
        code, stdout = run_cli(
            ["synth", "export", str(synth_run.run_dir), "--format", fmt, "--output", str(folder)]
        )
        assert code == 0, stdout
        assert "2 SFT record(s), 3 reward-model pair(s)" in stdout
        out[fmt] = folder
    return out


@pytest.mark.parametrize("fmt", ["openai", "sharegpt", "text"])
def test_exports_match_their_schemas_and_load_with_datasets(exports, fmt):
    import datasets

    folder = exports[fmt]
    assert validate_file(folder / "sft.jsonl", "sft", fmt) == 2
    assert validate_file(folder / "rm_pairs.jsonl", "rm_pairs", fmt) == 3
    for name, rows in (("sft.jsonl", 2), ("rm_pairs.jsonl", 3)):
        loaded = datasets.load_dataset("json", data_files=str(folder / name), split="train")
        assert loaded.num_rows == rows
    stats = json.loads((folder / "stats.json").read_text())
    assert stats["sft_records"] == 2 and stats["rm_pairs"] == 3 and stats["format"] == fmt
    assert stats["filters"]["accuracy"]["rate"] == 0.75


def test_sft_records_are_the_accepted_samples_with_exact_tools_and_stages(synth_run, exports):
    accepted = sorted(r.sample_id for r in read_results(synth_run.run_dir / "results.jsonl") if r.accepted)
    records = _lines(exports["openai"] / "sft.jsonl")
    assert sorted(r["id"] for r in records) == accepted
    for record in records:
        sid = record["id"]
        traj = json.loads((synth_run.run_dir / sid / f"{sid}.traj.json").read_text())
        assert record["tools"] == traj["tools"]
        messages = record["messages"]
        assert [m["role"] for m in messages[:3]] == ["system", "user", "assistant"]
        assert (
            messages[-1]["role"] == "assistant"
            and messages[-1]["tool_calls"][0]["function"]["name"] == "submit"
        )
        calls = [c for m in messages for c in m.get("tool_calls", [])]
        assert all(isinstance(c["function"]["arguments"], str) for c in calls)
        assert [json.loads(c["function"]["arguments"]) for c in calls] == [
            s["action"]["args"] for s in traj["steps"]
        ]
        stages = record["metadata"]["stages"]
        assert stages == [s["stage"] for s in traj["steps"]]
        assert stages[1:4] == ["localize", "reproduce", "reproduce"] and stages[-1] == "submit"
        assert "patch" in stages and stages.index("verify") > stages.index("patch")
    loaded = __import__("datasets").load_dataset(
        "json", data_files=str(exports["openai"] / "sft.jsonl"), split="train"
    )
    first = loaded[0]["messages"][2]["tool_calls"][0]
    assert first["type"] == "function" and isinstance(first["function"]["arguments"], str)


def test_pairs_put_a_resolved_trajectory_against_an_unresolved_one(synth_run, exports):
    results = {r.sample_id: r for r in read_results(synth_run.run_dir / "results.jsonl")}
    pairs = _lines(exports["openai"] / "rm_pairs.jsonl")
    by_task: dict[str, int] = {}
    for pair in pairs:
        chosen, rejected = (
            results[pair["metadata"]["chosen_sample"]],
            results[pair["metadata"]["rejected_sample"]],
        )
        assert chosen.instance_id == rejected.instance_id == pair["instance_id"]
        assert chosen.grade == "resolved" and rejected.grade == "unresolved"
        assert chosen.filters["complexity"] == []  # clean trajectories are preferred as `chosen`
        assert pair["chosen_patch"] != pair["rejected_patch"]
        assert [m["role"] for m in pair["prompt"]] == ["system", "user"]
        assert pair["chosen"][0]["role"] == "assistant" and pair["rejected"][-1]["role"] == "assistant"
        by_task[synth_run.label_of[pair["instance_id"]]] = (
            by_task.get(synth_run.label_of[pair["instance_id"]], 0) + 1
        )
    # clamp: one distinct clean trajectory x one wrong; mean: clean and clean_alt x the test edit
    assert by_task == {"clamp_fix": 1, "mean_fix": 2}


def test_sharegpt_and_text_keep_the_tool_calls_as_text(exports):
    record = _lines(exports["sharegpt"] / "sft.jsonl")[0]
    assert json.loads(record["tools"])[0]["function"]["name"] == "bash"
    turns = record["conversations"]
    assert [t["from"] for t in turns[:3]] == ["human", "gpt", "observation"]
    assert "<tool_call>" in turns[1]["value"] and turns[-1]["value"].endswith(
        '{"name": "submit", "arguments": {}}</tool_call>'
    )
    text = _lines(exports["text"] / "sft.jsonl")[0]["text"]
    assert text.startswith("<|tools|>\n[") and "<|system|>" in text and "<|tool|>" in text


def test_stricter_filters_at_export_write_no_sft_file_but_still_pairs(synth_run, tmp_path):
    strict = tmp_path / "strict.yaml"
    strict.write_text("min_steps: 50\n")
    out = tmp_path / "strict"
    code, stdout = run_cli(
        ["synth", "export", str(synth_run.run_dir), "--filters", str(strict), "--output", str(out)]
    )
    assert code == 0
    assert "no accepted trajectories" in stdout and "sft.jsonl not written" in stdout
    assert not (out / "sft.jsonl").exists()
    # no trajectory is clean now, so `chosen` falls back to every distinct resolved one:
    # clamp: clean and loop x wrong; mean: clean, clean_alt and dawdle x the test edit
    assert len(_lines(out / "rm_pairs.jsonl")) == 2 + 3


def test_export_of_a_run_with_nothing_to_export_is_a_clear_error(synth_run, tmp_path, capsys):
    run_dir = tmp_path / "failed-run"
    shutil.copytree(synth_run.run_dir, run_dir, ignore=shutil.ignore_patterns("export-*"))
    failing = [r for r in read_results(run_dir / "results.jsonl") if r.grade != "resolved"]
    write_results(run_dir / "results.jsonl", failing)
    code, _ = run_cli(["synth", "export", str(run_dir), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "has no accepted trajectories" in err and "2 samples, rejected for 2 unresolved" in err
    assert not (tmp_path / "out").exists()


def test_export_of_a_missing_run_is_one_line(tmp_path, capsys):
    code, _ = run_cli(["synth", "export", str(tmp_path / "no-run")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "does not exist" in err


def test_validate_command_checks_a_file(exports, tmp_path, capsys):
    code, stdout = run_cli(
        ["synth", "validate", str(exports["sharegpt"] / "rm_pairs.jsonl"), "--format", "sharegpt"]
    )
    assert code == 0 and "3 rm_pairs record(s) match the sharegpt schema" in stdout
    broken = tmp_path / "sft.jsonl"
    record = _lines(exports["openai"] / "sft.jsonl")[0]
    del record["tools"]
    broken.write_text(json.dumps(record) + "\n")
    code, _ = run_cli(["synth", "validate", str(broken), "--format", "openai"])
    err = capsys.readouterr().err.strip()
    assert (
        code == 2
        and "line 1 does not match the sft openai schema" in err
        and "'tools' is a required property" in err
    )


def test_a_run_folder_from_another_version_is_one_line_and_left_alone(synth_run, tmp_path, capsys):
    old = tmp_path / "old-run"
    shutil.copytree(synth_run.run_dir, old, ignore=shutil.ignore_patterns("export-*"))
    settings = json.loads((old / "synth.json").read_text())
    del settings["format"]  # what an earlier version wrote
    (old / "synth.json").write_text(json.dumps(settings))
    before = sorted(p.name for p in old.iterdir())
    code, _ = run_cli(["synth", "export", str(old), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "was written by another version of swe-ttc (format unversioned" in err and "new --run-id" in err
    tasks = old / "tasks.jsonl"
    args = [
        "synth",
        "run",
        "--dataset",
        str(tasks),
        "--model",
        synth_run.model,
        "--output-dir",
        str(tmp_path),
    ]
    code, _ = run_cli([*args, "--run-id", "old-run"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "another version of swe-ttc" in err
    assert sorted(p.name for p in old.iterdir()) == before and not (tmp_path / "out").exists()
