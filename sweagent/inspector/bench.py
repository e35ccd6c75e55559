"""`swe-ttc bench inspect`: how long a large run takes to render, and to load and use in a browser.

It writes a made-up run (`synthetic_run`) of `--instances` instances with `--steps`-step
trajectories, renders it, opens the page in headless Chromium and measures: time to the page's first
drawn view, DOMContentLoaded and load, the longest main-thread task while loading (a "freeze"),
and the time to open a trajectory, open a search tree, and sort the instance table. The same figures
for a small run (`--baseline-instances`) measured in the same process are the comparison. Render time
is given as wall time and as CPU time (the latter does not grow when other work shares the machine).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from sweagent.inspector.page import render_run
from sweagent.inspector.synthetic_run import write_run

LONG_TASKS = """
window.__longTasks = [];
new PerformanceObserver((list) => list.getEntries().forEach((e) => window.__longTasks.push(e.duration)))
  .observe({ type: 'longtask', buffered: true });
"""

# Time from a hash change to the next frame after the view is drawn (the page routes synchronously).
TIME_ROUTE = """(hash) => new Promise((resolve) => {
  const t0 = performance.now();
  window.addEventListener('hashchange', () => requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0))), { once: true });
  location.hash = hash;
})"""

TIME_SORT = """() => new Promise((resolve) => {
  const th = document.querySelector('[role=columnheader][data-key="steps"]');
  const t0 = performance.now();
  th.click();
  requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0)));
})"""

LOAD_FIGURES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const ready = performance.getEntriesByName('inspector-ready')[0];
  return {
    first_view_ms: ready ? ready.startTime : null,
    dom_content_loaded_ms: nav.domContentLoadedEventEnd,
    load_ms: nav.loadEventEnd,
    longest_task_ms: Math.max(0, ...window.__longTasks),
    rows: document.querySelectorAll('#instances [data-instance]').length,
  };
}"""


def measure_page(context: Any, page_path: Path, instance: str, tree_instance: str | None) -> dict[str, Any]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.add_init_script(LONG_TASKS)
    page.goto(page_path.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(300)  # let late long tasks be reported
    figures = page.evaluate(LOAD_FIGURES)
    figures["sort_table_ms"] = page.evaluate(TIME_SORT)
    figures["open_trajectory_ms"] = page.evaluate(TIME_ROUTE, f"#/i/{instance}")
    figures["trajectory_steps_drawn"] = page.locator(".step").count()
    if tree_instance:
        figures["open_tree_ms"] = page.evaluate(TIME_ROUTE, f"#/tree/{tree_instance}")
    figures["back_to_run_ms"] = page.evaluate(TIME_ROUTE, "#/")
    figures["console_errors"] = errors
    page.close()
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in figures.items()}


def measure_run(
    context: Any, root: Path, name: str, instances: int, steps: int, search_share: float
) -> dict[str, Any]:
    run_dir = root / name
    t0 = time.perf_counter()
    write_run(run_dir, instances, steps, search_share)
    written = time.perf_counter() - t0
    t0, cpu0 = time.perf_counter(), time.process_time()
    page_path = render_run(run_dir)
    render, render_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    row: dict[str, Any] = {
        "instances": instances,
        "steps_per_trajectory": steps,
        "search_trees": int(instances * search_share + 0.999999),
        "run_folder_mb": round(sum(p.stat().st_size for p in run_dir.rglob("*.json")) / 1e6, 1),
        "write_run_s": round(written, 2),
        "render_s": round(render, 2),
        "render_cpu_s": round(render_cpu, 2),  # CPU time: what the render costs on an idle machine
        "page_mb": round(page_path.stat().st_size / 1e6, 1),
    }
    if context is not None:
        first = "bench__repo-00000"
        tree = first if search_share > 0 else None
        row["browser"] = measure_page(context, page_path, first, tree)
    return row


@click.command()
@click.option("--instances", type=click.IntRange(min=1), default=500, show_default=True)
@click.option(
    "--steps", type=click.IntRange(min=1), default=100, show_default=True, help="steps per trajectory"
)
@click.option(
    "--search-share",
    type=click.FloatRange(0, 1),
    default=0.2,
    show_default=True,
    help="share of instances with a search tree",
)
@click.option(
    "--baseline-instances",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="the small run measured for comparison",
)
@click.option(
    "--browser/--no-browser", default=True, show_default=True, help="also load the pages in headless Chromium"
)
@click.option("--chromium", help="Chromium executable (default: found on PATH)")
def bench_inspect(
    instances: int,
    steps: int,
    search_share: float,
    baseline_instances: int,
    browser: bool,
    chromium: str | None,
) -> None:
    """Render and load a large made-up run; the small run is the in-process comparison."""
    from contextlib import nullcontext

    from sweagent.inspector.browser import chromium_context

    with tempfile.TemporaryDirectory(prefix="swe-ttc-bench-inspect-") as tmp:
        with chromium_context(chromium) if browser else nullcontext() as context:
            small = measure_run(context, Path(tmp), "small", baseline_instances, steps, search_share)
            large = measure_run(context, Path(tmp), "large", instances, steps, search_share)
    result: dict[str, Any] = {"bench": "inspect", "large": large, "baseline": small}
    if browser:
        result["load_ratio_large_vs_baseline"] = round(
            large["browser"]["load_ms"] / max(1.0, small["browser"]["load_ms"]), 2
        )
    result["render_ratio_large_vs_baseline"] = round(large["render_s"] / max(0.01, small["render_s"]), 2)
    click.echo(json.dumps(result, indent=1))
