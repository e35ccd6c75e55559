"""Loading datasets (local files in three formats, Hub aliases offline) and selecting instances."""

from __future__ import annotations

import json

import pytest

from sweagent.errors import UserError
from sweagent.swebench.dataset import _hub_reachable, load_dataset, parse_slice, select

ROW = {"instance_id": "o__r-1", "repo": "o/r", "base_commit": "abc", "problem_statement": "p"}


def rows(n: int) -> list[dict]:
    return [{**ROW, "instance_id": f"o__r-{i}"} for i in range(n)]


def test_jsonl_json_list_json_object_and_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = rows(3)
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in data) + "\n")
    (tmp_path / "l.json").write_text(json.dumps(data))
    (tmp_path / "o.json").write_text(json.dumps({r["instance_id"]: r for r in data}))
    pq.write_table(pa.Table.from_pylist(data), tmp_path / "p.parquet")
    for name in ("d.jsonl", "l.json", "o.json", "p.parquet"):
        ds = load_dataset(str(tmp_path / name))
        assert [r["instance_id"] for r in ds.rows] == [r["instance_id"] for r in data], name


def test_missing_path_is_one_line(tmp_path):
    with pytest.raises(UserError) as err:
        load_dataset(str(tmp_path / "nope.jsonl"))
    assert "does not exist" in str(err.value) and "\n" not in str(err.value)


def test_rows_missing_fields_are_left_out_one_line_each(tmp_path):
    bad = [
        {**ROW, "instance_id": "o__r-bad", "repo": ""},
        {"instance_id": "../escape", **{k: v for k, v in ROW.items() if k != "instance_id"}},
        ["x"],
    ]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows(2) + bad))
    ds = load_dataset(str(path))
    assert [r["instance_id"] for r in ds.rows] == ["o__r-0", "o__r-1"]
    assert len(ds.problems) == 3 and all("\n" not in p for p in ds.problems)
    assert "missing repo" in ds.problems[0] and "not a plain name" in ds.problems[1]
    assert ds.bad_ids == {"o__r-bad": "dataset row left out (missing repo)"}


def test_no_usable_rows_is_a_user_error(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"instance_id": "x"}) + "\n")
    with pytest.raises(UserError, match="no usable rows"):
        load_dataset(str(path))
    path.write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        load_dataset(str(path))


def test_hub_alias_offline_points_to_a_local_file():
    if _hub_reachable():
        pytest.skip("the Hub is reachable here: the offline message cannot be provoked")
    with pytest.raises(UserError) as err:
        load_dataset("verified")
    msg = str(err.value)
    assert "SWE-bench/SWE-bench_Verified" in msg and "swebench_verified.jsonl" in msg and "\n" not in msg


def test_unknown_dataset_name():
    with pytest.raises(UserError, match="unknown dataset"):
        load_dataset("no such thing")


def test_select_ids_filter_shuffle_slice(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows(30)))
    ds = load_dataset(str(path))
    ids = lambda rs: [r["instance_id"] for r in rs]  # noqa: E731
    assert ids(select(ds, instances=["o__r-3", "o__r-1"])) == ["o__r-1", "o__r-3"]
    assert ids(select(ds, filter_regex=r"-1\d$")) == [f"o__r-{i}" for i in range(10, 20)]
    assert ids(select(ds, slice_spec="10:13")) == ["o__r-10", "o__r-11", "o__r-12"]
    assert ids(select(ds, slice_spec="2")) == ["o__r-0", "o__r-1"]
    a = ids(select(ds, shuffle=True, seed=1))
    assert a == ids(select(ds, shuffle=True, seed=1)) and sorted(a) == sorted(ids(ds.rows))
    assert a != ids(select(ds, shuffle=True, seed=2)) and a != ids(ds.rows)
    assert ids(select(ds, shuffle=True, seed=1, slice_spec=":5")) == a[:5]
    with pytest.raises(UserError, match="not in"):
        select(ds, instances=["o__r-999"])
    with pytest.raises(UserError, match="not a valid regular expression"):
        select(ds, filter_regex="(")
    with pytest.raises(UserError, match="not a slice"):
        parse_slice("a:b")
