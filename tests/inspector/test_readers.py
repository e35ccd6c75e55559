"""The readers on their own: format checks, tolerant views, and JSON that is safe inside a script element."""

from __future__ import annotations

import json

import pytest

from sweagent.errors import UserError
from sweagent.inspector.files import cap_text, format_problem, load_trajectory
from sweagent.inspector.run_reader import read_run, script_json
from sweagent.inspector.select_view import select_view
from sweagent.inspector.trajectory_view import action_view, eval_view
from sweagent.inspector.tree_view import budget_marks, tree_view
from sweagent.trajectory import Action, Step, Trajectory, trajectory_path

WANT = "swe-ttc/trajectory@1"


def test_format_problems_say_older_newer_or_foreign():
    assert format_problem(WANT, WANT, "trajectory") is None
    assert "older" in format_problem("swe-ttc/trajectory@0", WANT, "trajectory")
    assert "newer" in format_problem("swe-ttc/trajectory@7", WANT, "trajectory")
    assert 'no "format" key' in format_problem(None, WANT, "trajectory")
    assert "not a trajectory format" in format_problem("sweagent/traj@1", WANT, "trajectory")


def test_a_damaged_trajectory_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "a.traj.json"
    path.write_text('{"format": "swe-ttc/traj')
    with pytest.raises(UserError, match=r"a\.traj\.json is not valid JSON"):
        load_trajectory(path)


def test_script_json_cannot_close_its_script_element():
    text = script_json({"obs": "</script><!-- <b>"})
    assert "<" not in text and json.loads(text) == {"obs": "</script><!-- <b>"}


def test_cap_text_keeps_head_and_tail_and_says_what_was_cut():
    text = "a" * 50 + "b" * 50
    capped = cap_text(text, 20)
    assert capped.startswith("a" * 10) and capped.endswith("b" * 10) and "80 characters cut" in capped
    assert cap_text(text, 0) == text


def test_action_view_puts_short_arguments_on_the_call_line_and_long_ones_in_blocks():
    assert action_view({"tool": "bash", "args": {"command": "ls -la"}}) == {
        "tool": "bash",
        "call": "bash: ls -la",
        "blocks": [],
    }
    edit = action_view(
        {"tool": "editor", "args": {"command": "str_replace", "path": "a.py", "old_str": "x", "new_str": "y"}}
    )
    assert edit["call"] == "editor str_replace a.py" and edit["blocks"] == [
        ["old_str", "x"],
        ["new_str", "y"],
    ]
    assert action_view(None) is None


def test_eval_view_lists_failing_tests_per_category():
    report = {
        "i": {
            "status": "unresolved",
            "tests_status": {"FAIL_TO_PASS": {"success": ["t1"], "failure": ["t2"]}},
        }
    }
    view = eval_view(report, "x" * 10, 4)
    assert view["status"] == "unresolved" and view["tests"]["FAIL_TO_PASS"] == {
        "passed": 1,
        "failing": ["t2"],
    }
    assert view["log_tail"] == "…xxxx"


def tree_doc(**extra_node_fields):
    nodes = [
        {"id": "n0", "parent": None, "stage": "root"},
        {
            "id": "n1",
            "parent": "n0",
            "stage": "reproduce",
            "expansion": {"order": 0},
            "artifacts": {"reproduces_on_base": True},
        },
        {
            "id": "n2",
            "parent": "n1",
            "stage": "patch",
            "expansion": {"order": 1},
            "verified": True,
            "artifacts": {"patch": "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"},
            "verdicts": [{"check": "apply", "passed": True, "status": "passed"}],
            **extra_node_fields,
        },
        {
            "id": "n3",
            "parent": "n1",
            "stage": "patch",
            "status": "failed",
            "expansion": {"order": 2},
            "verdicts": [{"check": "apply", "passed": False, "status": "does_not_apply"}],
        },
    ]
    return {
        "format": "swe-ttc/search-tree@1",
        "instance_id": "i",
        "strategy": "tree",
        "future_key": [1, 2],
        "meta": {
            "selection": {"chosen": "n2"},
            "stats": {"search": {"rollouts_spent": 1.5, "expansions": 3}},
        },
        "nodes": nodes,
        "edges": [[n["parent"], n["id"]] for n in nodes if n["parent"]],
    }


def test_tree_view_marks_the_chosen_path_counts_visits_and_ignores_unknown_keys():
    view = tree_view(tree_doc(new_field={"x": 1}), 1000)
    by_id = {n["id"]: n for n in view["nodes"]}
    assert {i for i, n in by_id.items() if n["on_path"]} == {"n0", "n1", "n2"}
    assert [by_id[i]["visits"] for i in ("n0", "n1", "n2", "n3")] == [3, 3, 1, 1]
    assert [by_id[i]["verdict"] for i in ("n0", "n1", "n2", "n3")] == ["none", "passed", "passed", "failed"]
    assert by_id["n2"]["budget_at"] == 1.0  # the second expansion of three that spent 1.5 rollouts
    assert by_id["n2"]["artifacts"]["patch"]["files"] == [{"path": "x", "added": 1, "removed": 1}]
    assert budget_marks(view) == {
        "candidate_at": 1.0,
        "verified_at": 1.0,
        "chosen_at": 1.0,
        "candidates": 1,
        "nodes": 4,
    }
    assert tree_view(tree_doc(visits=9), 1000)["nodes"][2]["visits"] == 9  # a tree that counts visits itself


def test_select_view_takes_candidates_as_a_list_or_an_object_and_merges_the_ranking():
    as_list = {
        "chosen": "b",
        "candidates": [
            {"id": "a", "source": "sys-1"},
            {"id": "b", "sources": [{"system": "s2", "file": "p.json"}]},
        ],
        "ranking": [
            {"id": "b", "rank": 1, "cluster": 0},
            {"id": "a", "rank": 2, "cluster": 1, "excluded_by": []},
        ],
    }
    view = select_view(as_list, "inst", 100)
    assert view["id"] == "inst" and [c["id"] for c in view["candidates"]] == ["b", "a"]
    assert view["candidates"][0]["sources"] == ["s2 · p.json"] and view["candidates"][1]["sources"] == [
        "sys-1"
    ]
    as_object = {"instance_id": "i2", "candidates": {"x": {"scores": {"rm": 0.5}}}}
    assert select_view(as_object, "f", 100)["candidates"][0]["scores"] == {
        "rm": {"value": 0.5, "explanation": ""}
    }


def test_a_run_folder_of_predictions_only_has_a_row_per_prediction(tmp_path):
    preds = {
        "a": {
            "instance_id": "a",
            "model_name_or_path": "m",
            "model_patch": "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
        }
    }
    (tmp_path / "preds.json").write_text(json.dumps(preds))
    data = read_run(tmp_path)
    (row,) = data.summary["instances"]
    assert row["id"] == "a" and row["patch_lines"] == 2 and row["traj"]


def test_an_unfinished_search_shows_as_unfinished(tmp_path):
    traj = Trajectory(
        instance_id="done", model_name="m", steps=[Step(index=0, stage="patch", action=Action(tool="bash"))]
    )
    traj.exit_status = "submitted"
    traj.save(trajectory_path(tmp_path, "done"))
    (tmp_path / "busy" / "nodes").mkdir(parents=True)
    Trajectory(instance_id="busy", model_name="m").save(tmp_path / "busy" / "nodes" / "n1.traj.json")
    rows = {r["id"]: r for r in read_run(tmp_path).summary["instances"]}
    assert rows["done"]["exit_status"] == "submitted" and rows["done"]["steps"] == 1
    assert (
        rows["busy"]["exit_status"] == "unfinished" and "1 expansions so far" in rows["busy"]["exit_detail"]
    )


def test_the_start_state_lists_what_the_image_held_with_counts():
    from sweagent.inspector.trajectory_view import baseline_view

    env = {
        "baseline": {
            "head": "abc",
            "untracked": ["build/"],
            "modified": ["tox.ini"],
            "counts": {"untracked": 3, "modified": 1, "deleted": 0},
        }
    }
    view = baseline_view(env)
    assert view["counts"] == {"untracked": 3, "modified": 1, "deleted": 0}
    assert view["paths"] == {"untracked": ["build/"], "modified": ["tox.ini"], "deleted": []}
    assert baseline_view({}) is None  # trajectories written before start states were recorded
