"""`swe-ttc bench verify` as a user runs it: one JSON object with both timings from the same run."""

from __future__ import annotations

import json

import pytest

from sweagent.cli import main

pytestmark = pytest.mark.docker


def test_bench_verify_prints_json(base_image, capsys):
    main(["bench", "verify", "--n", "2", "--image", base_image])
    result = json.loads(capsys.readouterr().out)
    assert result["candidates"] == 2 and result["distinct_patches"] == 2
    assert result["seconds_without_cache"] > 0 and result["seconds_with_cache"] > 0
    assert result["same_verdicts"] is True
    assert result["sandbox_commands"]["with_cache"] < result["sandbox_commands"]["without_cache"]
    assert result["cache"]["hits"] > 0
    assert result["verdicts"]["c0"] == ["apply:passed", "reproduction:passed", "regression:passed"]


def test_bench_verify_rejects_bad_count(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", "verify", "--n", "0"])
    assert exc.value.code != 0
    assert "--n" in capsys.readouterr().err


def test_bench_verify_on_real_django_reports_both_timings(real_rows, capsys):
    main(["bench", "verify", "--project", "django", "--n", "2", "--max-test-files", "1"])
    result = json.loads(capsys.readouterr().out)
    assert result["project"] == "django" and result["instance"] == "django__django-17087"
    assert result["runner_commands"] == [
        "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 migrations.test_writer"
    ]
    assert result["seconds_without_cache"] > 0 and result["seconds_with_cache"] > 0
    assert result["same_verdicts"] is True and result["cache"]["hits"] > 0
    assert result["verdicts"]["c0"] == ["apply:passed", "reproduction:passed", "regression:passed"]
