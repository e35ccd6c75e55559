"""`swe-ttc bench baseline` as a user runs it: one JSON object, its figures measured in the run."""

from __future__ import annotations

import json

import pytest

from tests.helpers.cli import run_cli

pytestmark = pytest.mark.docker


def test_bench_baseline_reports_patch_sizes_and_costs(base_image):
    proc = run_cli("bench", "baseline", "--modules", "6", "--repeats", "2", "--kind", "build")
    assert proc.returncode == 0, proc.stderr
    case = json.loads(proc.stdout)["cases"]["build"]
    # ours: the fix and the new module; before: also every copy under the untracked build/lib
    assert case["patch_ours"]["files"] == 2
    assert case["patch_legacy"]["files"] >= 2 + 6
    assert case["patch_legacy"]["bytes"] > 10 * case["patch_ours"]["bytes"]
    assert case["start_state"]["untracked"] == ["build/", "calc.egg-info/"]
    for key in ("record_start_state", "index_refresh_only_legacy_start", "diff_ours", "diff_legacy"):
        assert case[key]["median_ms"] > 0 and case[key]["n"] == 2
    assert 0 < case["record_share_of_start"] < 1
