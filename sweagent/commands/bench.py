"""`swe-ttc bench ...`: benchmarks that print JSON with a figure and its in-run comparison."""

from __future__ import annotations

import click

from sweagent.cli import LazyGroup

BENCHES: dict[str, tuple[str, str]] = {
    "sandbox": ("sweagent.sandbox.bench:bench_sandbox", "Round trip: persistent shell vs docker exec."),
    "baseline": (
        "sweagent.sandbox.baseline_bench:bench_baseline",
        "Patch size with and without the sandbox's start state; the cost of recording it.",
    ),
    "repo-copy": (
        "sweagent.sandbox.copy_bench:bench_repo_copy",
        "Preparing a repository copy: history up to the base vs clone-and-hide.",
    ),
    "agent": ("sweagent.agent_bench:bench_agent", "Framework time per agent step with an instant model."),
    "batch": ("sweagent.swebench.bench:bench_batch", "Fixture dataset at 1 and 2 workers."),
    "verify": ("verifiers.bench:bench_verify", "Verify N candidates with and without the cache."),
    "select": (
        "verifiers.select_bench:bench_select",
        "Selection vs random, majority vote, each verifier and oracle; verifier AUCs.",
    ),
    "search": (
        "simulation.bench:bench_search",
        "Tree vs best-of-n at equal cost over AUC x detectability x difficulty.",
    ),
    "localize": ("sweagent.localize.bench:bench_localize", "Localization quality vs plain BM25."),
    "inspect": (
        "sweagent.inspector.bench:bench_inspect",
        "Render and load a 500-instance run in headless Chromium vs a small one.",
    ),
    "synth": (
        "synth.bench:bench_synth",
        "Tasks mined per minute; rollouts graded per minute at 1 and 2 workers.",
    ),
}


@click.group(cls=LazyGroup, lazy=BENCHES)
def bench() -> None:
    """Benchmarks; each prints one JSON object."""
