"""Eval scripts, log parsers and eval types: from row fields, from the specs, or pytest's defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from swebench.harness.constants import END_TEST_OUTPUT, START_TEST_OUTPUT, TEST_EXIT_CODE
from swebench.harness.log_parsers import PARSER_REGISTRY
from swebench.harness.log_parsers.python import MAP_REPO_TO_PARSER_PY

from sweagent.swebench.dataset import OFFLINE_COPY, load_dataset
from sweagent.swebench.specs import (
    CONDA_IF_PRESENT,
    DEFAULT_TEST_CMD,
    SpecError,
    directives_for,
    eval_type_for,
    grading_spec,
    log_parser_for,
    python_specs,
    repo_spec,
)
from sweagent.task import Task

TEST_PATCH = (
    "diff --git a/tests/test_a.py b/tests/test_a.py\n--- a/tests/test_a.py\n+++ b/tests/test_a.py\n"
    "@@ -1 +1,2 @@\n x = 1\n+y = 2\n"
    "diff --git a/tests/data.json b/tests/data.json\n--- a/tests/data.json\n+++ b/tests/data.json\n"
    "@@ -1 +1 @@\n-{}\n+[]\n"
)


def task(**kw) -> Task:
    base = {
        "instance_id": "own__repo-1",
        "repo": "own/repo",
        "base_commit": "abc123",
        "problem_statement": "x",
        "test_patch": TEST_PATCH,
        "FAIL_TO_PASS": ["tests/test_a.py::test_y"],
        "PASS_TO_PASS": [],
    }
    return Task.from_swebench({**base, **kw})


@pytest.fixture(scope="module")
def verified():
    if not OFFLINE_COPY.exists():
        pytest.fail(f"offline copy of SWE-bench Verified missing at {OFFLINE_COPY}")
    return load_dataset(str(OFFLINE_COPY))


def test_every_verified_row_gets_an_eval_script_and_parser(verified):
    assert len(verified.rows) == 500 and verified.problems == []
    repos = set()
    for t in verified.tasks():
        spec = grading_spec(t, "img")
        script = spec.eval_script
        settings = repo_spec(t.repo, t.version)
        assert settings is not None, (t.repo, t.version)
        assert START_TEST_OUTPUT in script and END_TEST_OUTPUT in script
        after_marker = script.split(f": '{START_TEST_OUTPUT}'\n", 1)[1]
        assert after_marker.startswith(settings["test_cmd"])  # the spec's test command, then the directives
        assert f"git checkout {t.base_commit}" in script and t.test_patch in script
        assert TEST_EXIT_CODE in script  # swebench's wrapper records the test command's exit code
        assert spec.log_parser in PARSER_REGISTRY
        assert PARSER_REGISTRY[spec.log_parser] is MAP_REPO_TO_PARSER_PY[t.repo]
        assert spec.eval_type == "pass_and_fail"
        assert spec.FAIL_TO_PASS and spec.FAIL_TO_PASS == json.loads(
            next(r for r in verified.rows if r["instance_id"] == t.instance_id)["FAIL_TO_PASS"]
        )
        repos.add(t.repo)
    assert len(repos) == 12


def test_django_directives_are_test_modules(verified):
    row = next(r for r in verified.rows if r["repo"] == "django/django" and ".py\n" in r["test_patch"])
    directives = directives_for(row["repo"], row["test_patch"])
    assert directives and all("/" not in d and not d.endswith(".py") for d in directives)
    assert " ".join(directives) in grading_spec(Task.from_swebench(row), "img").eval_script


def test_unknown_repo_defaults_to_pytest():
    t = task()
    spec = grading_spec(t, "img")
    assert repo_spec(t.repo, t.version) is None
    assert f"{DEFAULT_TEST_CMD} tests/test_a.py\n" in spec.eval_script  # data.json is not a test directive
    assert CONDA_IF_PRESENT in spec.eval_script and "\nconda activate" not in spec.eval_script
    assert spec.log_parser == "parse_log_pytest" and spec.eval_type == "pass_and_fail"


def test_row_fields_win():
    script = f"#!/bin/bash\nset -uxo pipefail\n: '{START_TEST_OUTPUT}'\nmake check\n: '{END_TEST_OUTPUT}'\n"
    spec = grading_spec(task(eval_script=script, log_parser="django", eval_type="fail_only"), "img")
    assert "make check" in spec.eval_script and "pytest" not in spec.eval_script
    assert spec.log_parser == "parse_log_django" and spec.eval_type == "fail_only"


def test_bad_row_fields_are_one_line_errors():
    with pytest.raises(SpecError, match="unknown log parser `nosuch`"):
        grading_spec(task(log_parser="nosuch"), "img")
    with pytest.raises(SpecError, match="unknown eval_type `sometimes`"):
        grading_spec(task(eval_type="sometimes"), "img")
    with pytest.raises(SpecError, match="neither `eval_script` nor `base_commit`"):
        grading_spec(task(base_commit=None), "img")
    with pytest.raises(SpecError, match="neither `eval_script` nor `test_patch`"):
        grading_spec(task(test_patch=""), "img")


def test_repo_parsers_and_fail_only_repos():
    assert log_parser_for("sympy/sympy") == "parse_log_sympy"
    assert PARSER_REGISTRY[log_parser_for("pallets/flask")] is MAP_REPO_TO_PARSER_PY["pallets/flask"]
    assert eval_type_for("eslint/eslint") == "fail_only" and eval_type_for("own/repo") == "pass_and_fail"


def test_specs_table_is_packaged():
    path = Path(__import__("sweagent.swebench", fromlist=["x"]).__file__).parent / "specs_py.yaml"
    assert path.is_file()
    assert python_specs()["django/django"]["3.0"]["test_cmd"].startswith("./tests/runtests.py")
