"""Select and synth pages, from files written the way `swe-ttc select` and `swe-ttc synth` write them.

The select file is made by `swe-ttc select`'s own record code (`verifiers.select_run.candidate_rows`)
from the real pooling and selection rule over judged candidates; the synth files from the real `SampleResult` records and `synth.stats.run_stats`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synth.results import SampleResult
from synth.stats import run_stats
from tests.helpers.cli import run_cli
from verifiers.candidates import Submission, pool
from verifiers.select_run import RECORD_FORMAT, candidate_rows, chosen_patch
from verifiers.selection import SelectionConfig, select
from verifiers.types import Judged, Score, Verdict

pytestmark = pytest.mark.browser

PATCH_A = "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
PATCH_B = "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-x = 1\n+x = 3\n"


def write_select_run(run: Path) -> dict:
    """Three systems' submissions for one instance, pooled and recorded by `swe-ttc select`'s own code:
    model-a and model-c make the same change and pass; model-b's fails the regression check."""
    submissions = [
        Submission(
            instance_id="pkg__pkg-1", patch=patch, system=system, file="preds.json", entry=f"entry {k}"
        )
        for k, (system, patch) in enumerate(
            [("model-a", PATCH_A), ("model-b", PATCH_B), ("model-c", PATCH_A)]
        )
    ]
    candidates = pool("pkg__pkg-1", submissions)
    judged = []
    for cand in candidates.candidates:
        ok = cand.patch == PATCH_A
        verdicts = [
            Verdict.make("apply", True, "passed", "applies"),
            Verdict.make(
                "regression", ok, "passed" if ok else "regressions", "tests pass" if ok else "2 broke"
            ),
        ]
        score = Score(
            value=0.8 if ok else 0.9, explanation="looks right" if ok else "breaks", source="llm_judge"
        )
        judged.append(Judged(candidate=cand, verdicts=verdicts, scores={"judge": score}))
    selection = select(judged, SelectionConfig(primary="reward", reward_keys=["judge"]))
    doc = {
        "format": RECORD_FORMAT,
        "instance_id": "pkg__pkg-1",
        "status": "chosen",
        "chosen": selection.chosen,
        "reason": selection.reason,
        "candidates": candidate_rows(candidates, selection, judged),
    }
    (run / "select").mkdir(parents=True)
    (run / "select" / "pkg__pkg-1.json").write_text(json.dumps(doc))
    preds = {
        "pkg__pkg-1": {
            "instance_id": "pkg__pkg-1",
            "model_name_or_path": "select",
            "model_patch": chosen_patch(doc),
        }
    }
    (run / "preds.json").write_text(json.dumps(preds))
    return doc


def write_synth_run(run: Path) -> list[SampleResult]:
    def sample(k: int, grade: str, filters: dict[str, list[str]]) -> SampleResult:
        full = {"accuracy": [], "complexity": [], "dedup": [], "balance": [], **filters}
        return SampleResult(
            sample_id=f"t__t-1.s{k}",
            instance_id="t__t-1",
            sample=k,
            grade=grade,
            filters=full,
            accepted=not any(full.values()),
            steps=9,
            tokens=4000,
        )

    results = [
        sample(0, "resolved", {}),
        sample(1, "unresolved", {"accuracy": ["not resolved (unresolved)"]}),
        sample(2, "resolved", {"complexity": ["edits a test file"]}),
        sample(3, "resolved", {"dedup": ["duplicate of t__t-1.s0"]}),
    ]
    run.mkdir(parents=True, exist_ok=True)
    (run / "results.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in results))
    (run / "stats.json").write_text(json.dumps(run_stats(results, run_id=run.name)))
    export = run / "export-openai"
    export.mkdir()
    (export / "sft.jsonl").write_text(
        json.dumps({"id": "t__t-1.s0", "metadata": {"sample_id": "t__t-1.s0"}}) + "\n"
    )
    pair = {
        "id": "t__t-1.s0>t__t-1.s1",
        "metadata": {"chosen_sample": "t__t-1.s0", "rejected_sample": "t__t-1.s1"},
    }
    (export / "rm_pairs.jsonl").write_text(json.dumps(pair) + "\n")
    return results


def test_select_page_shows_each_candidate_and_why_the_winner_won(tmp_path, page):
    run = tmp_path / "sel"
    doc = write_select_run(run)
    proc = run_cli("inspect", str(run))
    assert proc.returncode == 0, proc.stderr
    page.open(Path(proc.stdout.strip()).as_uri())
    assert page.tab.locator("#instances [data-instance]").count() == 1
    page.show("#/select")
    assert page.tab.locator("#select-list tbody tr").count() == 1
    page.show("#/select/pkg__pkg-1")
    rows = page.tab.locator("#candidates tbody tr")
    assert rows.count() == len(doc["candidates"])
    winner = page.tab.locator(f'tr[data-candidate="{doc["chosen"]}"]')
    assert "★" in winner.inner_text() and "winner" in winner.get_attribute("class")
    assert doc["reason"] in page.tab.locator(".section").first.inner_text()
    assert "model-a" in winner.inner_text() and "model-c" in winner.inner_text()  # one change, two votes
    lost = next(c for c in doc["candidates"] if c["id"] != doc["chosen"])
    loser = page.tab.locator(f'tr[data-candidate="{lost["id"]}"]')
    assert "regression: regressions" in loser.inner_text() and "model-b" in loser.inner_text()
    assert lost["excluded_by"] and lost["excluded_by"][0] in loser.inner_text()
    assert page.errors == []


def test_synth_page_shows_kept_and_rejected_samples_with_reasons_and_counts(tmp_path, page):
    run = tmp_path / "syn"
    results = write_synth_run(run)
    proc = run_cli("inspect", str(run))
    assert proc.returncode == 0, proc.stderr
    page.open(Path(proc.stdout.strip()).as_uri())
    page.show("#/synth")
    rows = page.tab.locator("#samples tbody tr")
    assert rows.count() == len(results)
    for r in results:
        text = page.tab.locator(f'tr[data-sample="{r.sample_id}"]').inner_text()
        assert ("kept" if r.accepted else "rejected") in text
        for name, reasons in r.filters.items():
            assert all(f"{name}: {reason}" in text for reason in reasons)
    stats = json.loads((run / "stats.json").read_text())
    filters = page.tab.locator("#filters tbody tr")
    assert filters.count() == len(stats["filters"])
    cards = page.tab.locator(".cards").inner_text()
    assert "sft.jsonl records\n1" in cards and "rm_pairs.jsonl pairs\n1" in cards
    assert "pair: rejected" in page.tab.locator('tr[data-sample="t__t-1.s1"]').inner_text()
    page.tab.select_option("select[aria-label='kept or rejected']", "kept")
    assert rows.count() == sum(r.accepted for r in results)
    assert page.errors == []


def test_bench_inspect_measures_render_and_load():
    proc = run_cli(
        "bench", "inspect", "--instances", "12", "--steps", "6", "--baseline-instances", "3", timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    for key, n in (("large", 12), ("baseline", 3)):
        row = result[key]
        assert row["instances"] == n and row["render_s"] > 0 and row["page_mb"] > 0
        loaded = row["browser"]
        assert loaded["rows"] == n and loaded["trajectory_steps_drawn"] == 6
        assert 0 < loaded["first_view_ms"] <= loaded["load_ms"] and loaded["console_errors"] == []
    assert result["render_ratio_large_vs_baseline"] > 0
