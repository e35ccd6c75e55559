"""`swe-ttc select`: pick one patch per instance from many systems' predictions, by running them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from sweagent.errors import UserError
from sweagent.executors.options import executor_from_options, executor_options
from sweagent.swebench.images import DEFAULT_NAMESPACE

EXTRA_ARGS = {"ignore_unknown_options": True, "allow_extra_args": True}


def split_extra(args: list[str]) -> tuple[list[str], list[str]]:
    """Separate more candidate files (`--candidates a.json b.json` leaves `b.json` here) from
    dotted config overrides (`--execution.test_timeout 300` or `--selection.primary=votes`)."""
    paths: list[str] = []
    overrides: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--"):
            overrides.append(arg)
            if "=" not in arg and i + 1 < len(args):
                overrides.append(args[i + 1])
                i += 1
        else:
            paths.append(arg)
        i += 1
    return paths, overrides


def common_options(func: Any) -> Any:
    """Options `select` and `bench select` share."""
    options = [
        click.option(
            "--dataset",
            help="verified, lite, full, a Hub id, or a .jsonl/.json/.parquet file (default: verified)",
        ),
        click.option("--split", help="dataset split (default: test)"),
        click.option(
            "--candidates",
            multiple=True,
            help="predictions files (preds.json, JSON list or .jsonl), one or more after the flag",
        ),
        click.option("--instances", help="comma-separated instance ids (default: every id the files name)"),
        click.option("--slice", "slice_spec", help="START:STOP of the selected instance ids, e.g. :10"),
        click.option("--filter", "filter_regex", help="instance ids matching this regular expression"),
        click.option("--workers", type=click.IntRange(min=1), help="instances judged at once (default: 1)"),
        click.option("--judge-model", help="litellm name of an LLM judge (default: no judge)"),
        click.option("--judge-api-base", help="base URL of the judge's OpenAI-compatible server"),
        click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML config file"),
        click.option("--output-dir", help="where runs go (default: runs)"),
        click.option(
            "--image-namespace",
            default=None,
            help=f"registry namespace of instance images ('' for local names; default: {DEFAULT_NAMESPACE})",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_select_config(opts: dict[str, Any], extra: list[str]):
    """The SelectConfig a command line describes (file, dotted overrides, then options)."""
    from verifiers.select_config import select_config_from_cli

    more_paths, overrides = split_extra(extra)
    candidates = [*opts.get("candidates", ()), *more_paths]
    instances = [i.strip() for i in (opts.get("instances") or "").split(",") if i.strip()]
    explicit = {
        "inputs.dataset": opts.get("dataset"),
        "inputs.split": opts.get("split"),
        "inputs.candidates": candidates or None,
        "inputs.instances": instances or None,
        "inputs.slice": opts.get("slice_spec"),
        "inputs.filter": opts.get("filter_regex"),
        "inputs.image_namespace": opts.get("image_namespace"),
        "workers": opts.get("workers"),
        "judge.model": opts.get("judge_model"),
        "judge.api_base": opts.get("judge_api_base"),
        "output_dir": opts.get("output_dir"),
    }
    config = select_config_from_cli(opts.get("config_file"), overrides, explicit)
    if not config.inputs.candidates:
        raise UserError(
            "no candidates: pass predictions files with --candidates a/preds.json b/preds.json ..."
        )
    return config


def check_models(config: Any) -> None:
    from sweagent.model.litellm_model import check_model_usable

    for settings in (config.judge, config.reproduction):
        if settings.model:
            from sweagent.config import ModelConfig

            check_model_usable(ModelConfig(name=settings.model, api_base=settings.api_base))


@click.command(context_settings=EXTRA_ARGS)
@common_options
@executor_options
@click.option(
    "--run-id", help="run folder name (default: select__<dataset>__<files hash>; rerunning resumes)"
)
@click.option("--redo", is_flag=True, help="judge every instance again, with a fresh result cache")
@click.pass_context
def select_command(ctx: click.Context, **opts: Any) -> None:
    """Choose one patch per instance from several systems' predictions files.

    Judges every distinct candidate in its instance's image (apply and compile, regression tests,
    reproduction when a script exists, static diagnostics, an LLM judge when configured), then picks
    by the selection rule. Writes runs/<run_id>/preds.json and runs/<run_id>/select/<id>.json.
    Extra `--section.key value` arguments override the config, e.g. `--execution.test_timeout 300`.
    """
    from sweagent.swebench.dashboard import make_dashboard
    from sweagent.swebench.images import docker_client
    from verifiers.select_inputs import default_run_id, load_inputs
    from verifiers.select_run import SelectRunner

    console = Console(soft_wrap=True)
    config = build_select_config(opts, ctx.args)
    loaded = load_inputs(config.inputs)
    for problem in loaded.problems:
        console.print(f"[yellow]skipped[/] {escape(problem)}", highlight=False)
    check_models(config)
    executor = executor_from_options(opts, config.workers)
    if not executor.remote:
        docker_client(config.workers)  # one clear line when the Docker daemon is down
    run_id = opts["run_id"] or default_run_id("select", config.inputs)
    run_dir = Path(config.output_dir) / run_id
    n_subs = sum(len(p.submissions) for p in loaded.pools.values())
    n_cands = sum(len(p.candidates) for p in loaded.pools.values())
    console.print(
        f"select [bold]{escape(run_id)}[/]: {len(loaded.pools)} instances, {n_subs} submissions "
        f"({n_cands} distinct patches) from {len(config.inputs.candidates)} file(s), "
        f"{escape(executor.describe())}",
        highlight=False,
    )
    runner = SelectRunner(
        loaded.tasks,
        loaded.pools,
        config,
        run_dir,
        missing=loaded.missing,
        dataset_source=loaded.source,
        dashboard=make_dashboard(console, title="select"),
        redo=opts["redo"],
        executor=executor,
    )
    with executor:  # on a cluster each node judges with its own Docker engine
        summary = runner.run()
    counts: dict[str, int] = {}
    for status in summary.statuses.values():
        counts[status] = counts.get(status, 0) + 1
    parts = [f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    if summary.resumed:
        parts.append(f"{len(summary.resumed)} done before (resumed)")
    console.print(
        f"{len(summary.statuses)}/{len(loaded.pools)} instances: " + ", ".join(parts),
        highlight=False,
        markup=False,
    )
    for iid, error in sorted(summary.errors.items()):
        console.print(f"error  {iid}: {error}", highlight=False, markup=False)
    console.print(
        f"cost ${summary.cost:.4f} · preds: {run_dir / 'preds.json'} · reasons: {run_dir / 'select'}",
        highlight=False,
        markup=False,
    )
    if summary.errors and len(summary.errors) == len(summary.statuses):
        raise UserError(f"no instance could be judged ({len(summary.errors)} errors): see the lines above")
