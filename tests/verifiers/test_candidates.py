"""Reading candidates from many systems' prediction files, and judging identical changes once."""

from __future__ import annotations

import json

import pytest

from sweagent.errors import UserError
from verifiers.candidates import load_pools, patch_identity, read_submissions
from verifiers.diffs import patch_key

BASE = "def f(a, b):\n    x = 1\n    y = 2\n    return a // b\n"
FIX = (
    "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -2,3 +2,3 @@ def f(a, b):\n"
    "     x = 1\n     y = 2\n-    return a // b\n+    return a / b\n"
)
OTHER = FIX.replace("+    return a / b", "+    return float(a) / b")


def write(path, rows, form):
    if form == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif form == "list":
        path.write_text(json.dumps(rows))
    else:
        path.write_text(json.dumps({r["instance_id"]: r for r in rows}))
    return path


def pred(iid, patch, system="sys"):
    return {"instance_id": iid, "model_name_or_path": system, "model_patch": patch}


def test_identity_ignores_headers_and_line_ends_but_not_the_change():
    with_index = FIX.replace("--- a/m.py", "index 0123abc..4567def 100644\n--- a/m.py")
    untitled = FIX.replace("@@ def f(a, b):", "@@")
    crlf = FIX.replace("\n", "\r\n")
    no_final_newline = FIX.rstrip("\n")
    same = {patch_identity(p) for p in (FIX, with_index, untitled, crlf, no_final_newline)}
    assert len(same) == 1
    assert patch_identity(OTHER) != patch_identity(FIX)
    # whitespace inside a line is a different change for the identity (Python cares), not for clustering
    reindented = FIX.replace("+    return a / b", "+    return a/b")
    assert patch_identity(reindented) != patch_identity(FIX)
    assert patch_key(reindented) == patch_key(FIX)
    assert patch_identity("") == patch_identity("  \n") == "empty"
    assert patch_identity("not a diff") == patch_identity("not a diff\n") != patch_identity("other prose")


def test_pools_keep_every_source_of_a_shared_change(tmp_path):
    a = write(tmp_path / "preds.json", [pred("x__y-1", FIX, "sys-a"), pred("x__y-2", "", "sys-a")], "dict")
    b = write(tmp_path / "b.json", [pred("x__y-1", FIX.replace("@@ def f(a, b):", "@@"), "sys-b")], "list")
    c = write(
        tmp_path / "c.jsonl",
        [pred("x__y-1", OTHER, ""), pred("x__y-1", FIX, ""), pred("x__y-3", OTHER, "")],
        "jsonl",
    )
    pools = load_pools([a, b, c])
    assert sorted(pools) == ["x__y-1", "x__y-2", "x__y-3"]
    one = pools["x__y-1"]
    assert len(one.submissions) == 4 and len(one.candidates) == 2
    fix, other = one.candidates
    assert fix.patch == FIX  # the first submission's text stands for its change
    assert [(s["system"], s["file"], s["entry"]) for s in fix.metadata["sources"]] == [
        ("sys-a", str(a), "key x__y-1"),
        ("sys-b", str(b), "entry 1"),
        ("c", str(c), "line 2"),  # no model name: the file's stem names the system
    ]
    assert other.metadata["sources"] == [{"system": "c", "file": str(c), "entry": "line 1"}]
    assert len({cand.id for cand in one.candidates}) == 2
    assert pools["x__y-2"].candidates[0].patch == ""
    before = one.fingerprint()
    again = load_pools([a, b, c])["x__y-1"].fingerprint()
    fewer = load_pools([a, c])["x__y-1"].fingerprint()
    assert before == again != fewer


@pytest.mark.parametrize(
    "text,fragment",
    [
        ('{"total_instances": 3, "resolved_ids": []}', "key total_instances is not an object"),
        ("instance,patch\nx,y\n", "not valid JSON"),
        (json.dumps([{"instance_id": "x"}]), "lacks model_patch"),
    ],
)
def test_a_file_that_is_not_predictions_is_one_line(tmp_path, text, fragment):
    bad = tmp_path / "report.json"
    bad.write_text(text)
    good = write(tmp_path / "ok.json", [pred("x__y-1", FIX)], "list")
    with pytest.raises(UserError) as err:
        read_submissions([good, bad])
    assert fragment in str(err.value) and str(bad) in str(err.value) and "\n" not in str(err.value)


def test_files_given_twice_or_not_at_all(tmp_path):
    good = write(tmp_path / "ok.json", [pred("x__y-1", FIX)], "list")
    with pytest.raises(UserError, match="given twice"):
        read_submissions([good, tmp_path / "." / "ok.json"])
    with pytest.raises(UserError, match="no candidates"):
        read_submissions([])
    with pytest.raises(UserError, match="is a folder"):
        read_submissions([tmp_path])
