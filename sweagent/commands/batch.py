"""`swe-ttc batch`: run a SWE-bench-format dataset, each instance in its own image, into preds.json."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from sweagent.config import RunConfig, config_from_cli
from sweagent.errors import UserError
from sweagent.executors.options import executor_from_options, executor_options
from sweagent.swebench.images import DEFAULT_NAMESPACE

EXTRA_ARGS = {"ignore_unknown_options": True, "allow_extra_args": True}


def dataset_label(dataset: str, split: str) -> str:
    """A short name for run ids: the alias or the file's stem, plus the split when not `test`."""
    label = Path(dataset).stem if Path(dataset).suffix else dataset.rsplit("/", 1)[-1]
    return label + ("" if split == "test" else f"-{split}")


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.") or "run"


def default_run_id(dataset: str, split: str, model: str) -> str:
    """Deterministic, so rerunning the same command resumes the same run."""
    return f"{slug(dataset_label(dataset, split))}__{slug(model)}"


def build_config(opts: dict[str, Any], extra: list[str]) -> RunConfig:
    """YAML file, then dotted overrides (`--agent.step_limit 40`), then the explicit options, which win."""
    explicit = {
        "model.name": opts.get("model"),
        "model.api_base": opts.get("api_base"),
        "model.cost_limit": opts.get("cost_limit"),
        "output_dir": opts.get("output_dir"),
        "search.strategy": opts.get("search_strategy"),
        "search.budget": opts.get("budget"),
    }
    return config_from_cli(opts.get("config_file"), extra, explicit)


@click.command(context_settings=EXTRA_ARGS)
@click.option(
    "--dataset",
    default="verified",
    show_default=True,
    help="verified, lite, full, a Hub id, or a .jsonl/.json/.parquet file",
)
@click.option("--split", default="test", show_default=True)
@click.option("--instances", help="comma-separated instance ids to run")
@click.option("--slice", "slice_spec", help="START:STOP of the selection, e.g. 10:20 or :5")
@click.option("--filter", "filter_regex", help="run instances whose id matches this regular expression")
@click.option("--shuffle", is_flag=True, help="shuffle the selection (before --slice)")
@click.option("--seed", type=int, default=0, show_default=True, help="seed for --shuffle")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML config file")
@click.option("--run-id", help="run folder name (default: <dataset>__<model>; rerunning it resumes)")
@click.option("--output-dir", help="where runs go (default: runs)")
@click.option("--model", help="litellm model name; `{instance_id}` in it is replaced per instance")
@click.option("--api-base", help="base URL of an OpenAI-compatible server (vLLM, ollama, ...)")
@click.option("--cost-limit", type=click.FloatRange(min=0), help="USD per instance (0: no limit)")
@click.option(
    "--run-cost-limit",
    type=click.FloatRange(min=0),
    default=0.0,
    help="USD for the whole run; reaching it stops new instances",
)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--search",
    "search_strategy",
    type=click.Choice(["single", "best-of-n", "tree"]),
    help="spend more compute per instance (default: one plain rollout)",
)
@click.option("--budget", type=click.FloatRange(min=0, min_open=True), help="rollouts one search may spend")
@click.option("--redo-existing", is_flag=True, help="rerun instances that already have a final trajectory")
@click.option(
    "--image-namespace",
    default=DEFAULT_NAMESPACE,
    show_default=True,
    help="registry namespace of instance images ('' for local names)",
)
@executor_options
@click.pass_context
def batch(ctx: click.Context, **opts: Any) -> None:
    """Run a SWE-bench-format dataset and write runs/<run_id>/preds.json.

    Extra `--section.key value` arguments override the config, e.g. `--agent.step_limit 40`.
    """
    from sweagent.swebench.dataset import load_dataset, select

    console = Console(soft_wrap=True)
    config = build_config(opts, ctx.args)
    if config.sandbox.kind != "docker":
        raise UserError(
            "batch runs each instance in its instance image: use the docker sandbox (drop --sandbox.kind)"
        )
    instances = [i.strip() for i in (opts["instances"] or "").split(",") if i.strip()]
    dataset = load_dataset(opts["dataset"], opts["split"])
    for problem in dataset.problems:
        console.print(f"[yellow]skipped[/] {escape(problem)}", highlight=False)
    rows = select(dataset, instances, opts["filter_regex"], opts["slice_spec"], opts["shuffle"], opts["seed"])
    if not rows:
        raise UserError(f"no instances selected from {dataset.source}: loosen --filter/--slice/--instances")
    from sweagent.model.litellm_model import check_model_usable
    from sweagent.swebench.batch import BatchOptions, BatchRunner
    from sweagent.swebench.dashboard import make_dashboard
    from sweagent.task import Task

    tasks = [Task.from_swebench(row) for row in rows]
    check_model_usable(
        config.model.model_copy(
            update={"name": config.model.name.replace("{instance_id}", tasks[0].instance_id)}
        )
    )
    run_id = opts["run_id"] or default_run_id(opts["dataset"], opts["split"], config.model.name)
    run_dir = Path(config.output_dir) / run_id
    options = BatchOptions(
        run_dir=run_dir,
        workers=opts["workers"],
        redo_existing=opts["redo_existing"],
        namespace=opts["image_namespace"] or None,
        run_cost_limit=opts["run_cost_limit"],
    )
    from sweagent.commands.rollout import rollout_function

    with executor_from_options(opts, opts["workers"]) as executor:
        console.print(
            f"batch [bold]{escape(run_id)}[/]: {len(tasks)} instances from {escape(dataset.source)}, "
            f"{escape(executor.describe())}",
            highlight=False,
        )
        runner = BatchRunner(
            tasks,
            config,
            options,
            solve=rollout_function(config),
            dashboard=make_dashboard(console),
            executor=executor,
        )
        summary = runner.run()
    counts: dict[str, int] = {}
    for status in summary.statuses.values():
        counts[status] = counts.get(status, 0) + 1
    parts = [f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    if summary.skipped_existing:
        parts.append(f"{len(summary.skipped_existing)} finished before (resumed)")
    if summary.not_started:
        parts.append(f"{len(summary.not_started)} not started (run cost limit reached)")
    console.print(
        f"{len(summary.statuses)}/{len(tasks)} done: " + ", ".join(parts), highlight=False, markup=False
    )
    console.print(
        f"cost ${summary.total_cost:.4f} · preds: {run_dir / 'preds.json'}", highlight=False, markup=False
    )
