"""`swe-ttc bench ...`: benchmarks that print JSON with a figure and its in-run comparison."""

from __future__ import annotations

import click

from sweagent.cli import LazyGroup

BENCHES: dict[str, tuple[str, str]] = {
    "sandbox": ("sweagent.sandbox.bench:bench_sandbox", "Round trip: persistent shell vs docker exec."),
    "agent": ("sweagent.agent_bench:bench_agent", "Framework time per agent step with an instant model."),
    "batch": ("sweagent.swebench.bench:bench_batch", "Fixture dataset at 1 and 2 workers."),
    "verify": ("verifiers.bench:bench_verify", "Verify N candidates with and without the cache."),
    "search": ("search.bench:bench_search", "single vs best-of-n vs tree at equal budgets."),
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
