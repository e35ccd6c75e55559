"""Machine-made candidates for the real instances (sweagent.swebench.real_candidates): valid predictions
files, one per system, whose patches apply where the gold patch applies and differ from each other
exactly where the rules say they should. No Docker: the files' text and a scratch git repository."""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from unidiff import PatchSet

from sweagent.swebench.predictions import read_prediction_entries
from sweagent.swebench.real_candidates import (
    SYSTEMS,
    blocks,
    flip_condition,
    main,
    off_by_one,
    parse,
    write_candidate_files,
)
from verifiers.candidates import patch_identity

ROOT = Path(__file__).resolve().parents[2]
DATASET = ROOT / "tests" / "fixtures" / "swebench" / "real.jsonl"
ROWS = {row["instance_id"]: row for row in map(json.loads, DATASET.read_text().splitlines())}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, dict[str, str]]:
    """system -> instance id -> patch, read back with the project's predictions reader."""
    out = tmp_path_factory.mktemp("real-candidates")
    paths = write_candidate_files(out, DATASET)
    assert [p.name for p in paths] == [f"{s}.jsonl" for s in SYSTEMS]
    found: dict[str, dict[str, str]] = {}
    for path in paths:
        entries = read_prediction_entries(path)
        systems = {pred["model_name_or_path"] for _, pred in entries}
        assert systems == {path.stem}
        ids = [pred["instance_id"] for _, pred in entries]
        assert len(ids) == len(set(ids)) and set(ids) <= set(ROWS)
        found[path.stem] = {pred["instance_id"]: pred["model_patch"] for _, pred in entries}
    return found


def base_of(patch: str, root: Path) -> None:
    """Write, under `root`, files holding each hunk's old lines at the hunk's line numbers (filler
    elsewhere): the part of the real base commit that the gold patch touches."""
    for pf in PatchSet(patch):
        lines: list[str] = []
        for hunk in pf:
            lines += [f"# filler {n}\n" for n in range(len(lines), hunk.source_start - 1)]
            lines += [ln.value for ln in hunk if ln.is_context or ln.is_removed]
        path = root / pf.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(lines))


def applies(patch: str, repo: Path) -> bool:
    done = subprocess.run(
        ["git", "apply", "--check", "-"], cwd=repo, input=patch, text=True, capture_output=True, check=False
    )
    return done.returncode == 0


def test_every_system_writes_its_rule_for_every_row_it_applies_to(written):
    assert set(written) == set(SYSTEMS)
    for system in ("gold", "gold-retold", "drop-line", "mutant-twin", "comment-only", "no-fix"):
        assert set(written[system]) == set(ROWS), system  # rules that apply to any modifying patch
    for iid, row in ROWS.items():
        assert written["gold"][iid] == row["patch"]
    # partial needs two change blocks: only the rows whose fix has them
    two_blocks = {iid for iid, row in ROWS.items() if len(blocks(parse(row["patch"]))) >= 2}
    assert set(written["partial"]) == two_blocks and two_blocks


def test_candidates_equal_each_other_only_where_the_rules_say(written):
    for iid, row in ROWS.items():
        by_identity: dict[str, set[str]] = defaultdict(set)
        for system, patches in written.items():
            if iid in patches:
                by_identity[patch_identity(patches[iid])].add(system)
        groups = sorted(sorted(g) for g in by_identity.values() if len(g) > 1)
        twin_of = next(
            s for s in ("flip-condition", "off-by-one", "partial", "drop-line") if iid in written[s]
        )
        assert groups == sorted([["gold", "gold-retold"], sorted(["mutant-twin", twin_of])]), iid
        gold = patch_identity(row["patch"])
        assert sum(patch_identity(p[iid]) == gold for p in written.values() if iid in p) == 2


def test_every_diff_applies_where_the_gold_patch_does(written, tmp_path):
    for iid, row in ROWS.items():
        repo = tmp_path / iid
        repo.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
        base_of(row["patch"], repo)
        assert applies(row["patch"], repo), iid
        for system, patches in written.items():
            if iid in patches and system != "no-fix":
                PatchSet(patches[iid])  # hunk lengths agree with their lines (unidiff checks them)
                assert applies(patches[iid], repo), f"{system} on {iid}"
        assert not applies(written["no-fix"][iid], repo)


def test_mutations_touch_code_not_docstrings():
    patch = (
        "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,6 @@\n def f(x):\n"
        '+    """\n+    Notes\n+    =====\n+    """\n'
        "-    return x\n+    return x[0] == 1\n"
    )
    assert "+    =====\n" in flip_condition(patch) and "x[0] != 1" in flip_condition(patch)
    assert "x[1] == 1" in off_by_one(patch)


def test_bad_dataset_is_one_line(tmp_path, capsys):
    bad = tmp_path / "rows.jsonl"
    bad.write_text('{"instance_id": "a"}\n')
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path / "out"), "--dataset", str(bad)])
    assert exc.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "instance_id" in err[0] and "patch" in err[0]
    assert not (tmp_path / "out").exists()
