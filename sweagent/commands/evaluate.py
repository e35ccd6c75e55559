"""`swe-ttc eval`: grade predictions with SWE-bench's log parsers and resolution rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sweagent.errors import UserError
from sweagent.executors.options import executor_from_options, executor_options
from sweagent.swebench.images import DEFAULT_NAMESPACE

STYLE = {"resolved": "green", "unresolved": "yellow", "error": "red", "empty_patch": "dim"}


def eval_location(
    predictions: Path | None, run_id: str | None, output_dir: str, dataset: str
) -> tuple[str, Path]:
    """(run id, eval folder): runs/<run_id>/eval, or next to a batch run's preds.json."""
    from sweagent.commands.batch import dataset_label, slug

    if run_id:
        return run_id, Path(output_dir) / run_id / "eval"
    if predictions is None:
        run_id = f"gold__{slug(dataset_label(dataset, 'test'))}"
        return run_id, Path(output_dir) / run_id / "eval"
    parent = predictions.resolve().parent
    if predictions.name == "preds.json" or (parent / "config.yaml").is_file():
        return parent.name, parent / "eval"
    run_id = slug(predictions.stem)
    return run_id, Path(output_dir) / run_id / "eval"


def results_table(results: dict[str, Any]) -> Table:
    table = Table(title="evaluation", show_lines=False)
    for col in ("instance", "result", "detail", "seconds"):
        table.add_column(col, overflow="fold")
    for iid in sorted(results):
        r = results[iid]
        seconds = "" if r.reused else f"{r.timing.get('total', 0):.1f}"
        result = r.status + (" (earlier)" if r.reused else "")
        table.add_row(escape(iid), f"[{STYLE.get(r.status, '')}]{result}[/]", escape(r.detail), seconds)
    return table


@click.command()
@click.option(
    "--dataset",
    default="verified",
    show_default=True,
    help="verified, lite, full, a Hub id, or a .jsonl/.json/.parquet file",
)
@click.option("--split", default="test", show_default=True)
@click.option(
    "--predictions",
    "predictions_path",
    type=click.Path(path_type=Path),
    help="preds.json, a JSON list or .jsonl",
)
@click.option("--gold", is_flag=True, help="grade the dataset's own gold patches")
@click.option("--instances", help="comma-separated instance ids to grade (default: every prediction)")
@click.option("--workers", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--run-id", help="eval run name (default: the batch run that wrote the predictions)")
@click.option("--output-dir", default="runs", show_default=True)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=1800,
    show_default=True,
    help="seconds for one instance's tests",
)
@click.option(
    "--network",
    default="bridge",
    show_default=True,
    help="docker network of eval containers; `none` for baked images",
)
@click.option(
    "--ca-bundle", type=click.Path(dir_okay=False), help="host CA bundle to trust inside eval containers"
)
@click.option(
    "--image-namespace",
    default=DEFAULT_NAMESPACE,
    show_default=True,
    help="registry namespace of instance images ('' for local names)",
)
@click.option("--pull-timeout", type=click.FloatRange(min=1), default=600, show_default=True)
@click.option(
    "--redo", is_flag=True, help="grade again even where an earlier result for the same patch exists"
)
@executor_options
def evaluate(**opts: Any) -> None:
    """Grade predictions: apply each patch in its instance image, run the tests, parse with SWE-bench.

    Writes runs/<run_id>/eval/<instance_id>/{report.json,test_output.txt,patch.diff} and the summary
    runs/<run_id>/eval/report.json (resolved_ids, unresolved_ids, error_ids, empty_patch_ids, ...).
    """
    from sweagent.io import atomic_write_json
    from sweagent.swebench.containers import ContainerOptions
    from sweagent.swebench.dataset import load_dataset
    from sweagent.swebench.evaluation import EvalOptions, Evaluator, summarize
    from sweagent.swebench.images import docker_client
    from sweagent.swebench.predictions import make_prediction, read_predictions

    console = Console(soft_wrap=True)
    if opts["gold"] == bool(opts["predictions_path"]):
        raise UserError("pass exactly one of --predictions FILE and --gold")
    dataset = load_dataset(opts["dataset"], opts["split"])
    for problem in dataset.problems:
        console.print(f"[yellow]skipped[/] {escape(problem)}", highlight=False)
    tasks = {t.instance_id: t for t in dataset.tasks()}
    if opts["gold"]:
        preds = {iid: make_prediction(iid, "gold", t.patch) for iid, t in tasks.items()}
    else:
        preds = read_predictions(opts["predictions_path"])
    wanted = [i.strip() for i in (opts["instances"] or "").split(",") if i.strip()]
    if wanted:
        unknown = [i for i in wanted if i not in preds]
        if unknown:
            raise UserError(f"--instances names id(s) with no prediction: {', '.join(unknown)}")
        preds = {i: preds[i] for i in wanted}
    dataset_ids = wanted or sorted(tasks)
    run_id, eval_dir = eval_location(
        opts["predictions_path"], opts["run_id"], opts["output_dir"], opts["dataset"]
    )
    options = EvalOptions(
        eval_dir=eval_dir,
        run_id=run_id,
        workers=opts["workers"],
        timeout=opts["timeout"],
        namespace=opts["image_namespace"] or None,
        pull_timeout=opts["pull_timeout"],
        redo=opts["redo"],
        container=ContainerOptions(network=opts["network"], ca_bundle=opts["ca_bundle"]),
    )
    executor = executor_from_options(opts, opts["workers"])
    console.print(
        f"eval [bold]{escape(run_id)}[/]: {len(preds)} predictions against {escape(dataset.source)}, "
        f"{escape(executor.describe())}",
        highlight=False,
    )

    def on_result(result: Any) -> None:
        mark = " (earlier result)" if result.reused else ""
        console.print(
            f"  {escape(result.instance_id)}: [{STYLE.get(result.status, '')}]{result.status}[/]{mark} · "
            + escape(result.detail),
            highlight=False,
        )

    with executor:  # on a cluster each node grades with its own Docker engine; none is needed here
        client = None if executor.remote else docker_client(opts["workers"])
        evaluator = Evaluator(client, options, executor=executor)
        results = evaluator.run(tasks, preds, on_result=on_result, missing=dataset.bad_ids)
    summary = summarize(dataset_ids, preds, results, run_id=run_id, dataset=dataset.source)
    atomic_write_json(eval_dir / "report.json", summary)
    console.print(results_table(results))
    console.print(
        f"resolved {summary['resolved_instances']}/{summary['submitted_instances']} submitted "
        f"({summary['unresolved_instances']} unresolved, {summary['error_instances']} errors, "
        f"{summary['empty_patch_instances']} empty) · report: {eval_dir / 'report.json'}",
        highlight=False,
        markup=False,
    )
