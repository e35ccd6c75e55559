"""Predictions files in the three forms the official harness accepts; bad files are one line."""

from __future__ import annotations

import json

import pytest

from sweagent.errors import UserError
from sweagent.swebench.predictions import is_safe_id, read_predictions, write_predictions

PREDS = [
    {"instance_id": "a__b-1", "model_name_or_path": "m", "model_patch": "diff"},
    {"instance_id": "a__b-2", "model_name_or_path": "m", "model_patch": ""},
]


def test_three_forms_read_the_same(tmp_path):
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PREDS))
    (tmp_path / "l.json").write_text(json.dumps(PREDS))
    write_predictions(tmp_path / "preds.json", {p["instance_id"]: p for p in PREDS})
    expected = {p["instance_id"]: p for p in PREDS}
    for name in ("p.jsonl", "l.json", "preds.json"):
        assert read_predictions(tmp_path / name) == expected, name
    assert list(json.loads((tmp_path / "preds.json").read_text())) == ["a__b-1", "a__b-2"]


@pytest.mark.parametrize(
    "name,text,fragment",
    [
        ("p.json", "{oops", "not valid JSON"),
        ("p.jsonl", '{"instance_id": "x", "model_patch": ""}\nnot json\n', "line 2 is not JSON"),
        ("p.json", json.dumps([{"model_patch": "x"}]), "entry 1 lacks instance_id"),
        ("p.json", json.dumps([{"instance_id": "x"}]), "lacks model_patch"),
        ("p.json", json.dumps([{"instance_id": "x", "model_patch": 3}]), "not a string"),
        ("p.json", json.dumps(["x"]), "not an object"),
        ("p.json", json.dumps(7), "must hold a list"),
        ("p.json", "[]", "holds no predictions"),
    ],
)
def test_malformed_files_are_one_user_error(tmp_path, name, text, fragment):
    (tmp_path / name).write_text(text)
    with pytest.raises(UserError) as err:
        read_predictions(tmp_path / name)
    assert (
        fragment in str(err.value) and str(tmp_path / name) in str(err.value) and "\n" not in str(err.value)
    )


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        read_predictions(tmp_path / "nope.json")


def test_safe_ids():
    assert is_safe_id("django__django-11099") and is_safe_id("x.c0")
    assert not any(is_safe_id(i) for i in ("../x", "a/b", "..", "", "a..b", "/abs"))
