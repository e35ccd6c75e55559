"""`swe-ttc bench batch` runs and prints one JSON object with its figures."""

from __future__ import annotations

import json

import pytest

from tests.swebench.util import run_cli

pytestmark = pytest.mark.docker


def test_bench_batch_prints_json(fixture_dataset, capsys):
    assert run_cli(["bench", "batch", "--copies", "1", "--skip-eval"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["instances"] == 3 and out["workers_1"]["submitted"] == 3 and out["workers_2"]["submitted"] == 3
    assert out["speedup_2_vs_1"] == pytest.approx(
        out["workers_2"]["instances_per_minute"] / out["workers_1"]["instances_per_minute"], abs=0.01
    )
