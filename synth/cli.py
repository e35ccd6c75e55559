"""`swe-ttc synth`: mine tasks from git history, sample and grade rollouts, export training data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from sweagent.errors import UserError
from sweagent.executors.options import executor_from_options, executor_options

EXTRA_ARGS = {"ignore_unknown_options": True, "allow_extra_args": True}


@click.group()
def synth() -> None:
    """Turn verified rollouts into fine-tuning and reward-model data."""


def _console() -> Console:
    return Console(soft_wrap=True, highlight=False)


# -- tasks ------------------------------------------------------------------------------------------


@synth.command("tasks")
@click.option("--repo", "repo", required=True, help="local git repository to mine")
@click.option("--since", help="only commits after this date (anything `git log --since` takes)")
@click.option("--max", "max_tasks", type=click.IntRange(min=0), help="stop after this many tasks")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="tasks file (default: <repo>-tasks.jsonl)",
)
@click.option("--rev", default="HEAD", show_default=True, help="mine the history of this revision")
@click.option("--merges", is_flag=True, help="mine merge commits (pull requests) instead of single commits")
@click.option(
    "--max-files",
    type=click.IntRange(min=1),
    default=6,
    show_default=True,
    help="most files a commit may touch",
)
@click.option(
    "--issue-from",
    type=click.Choice(["tests", "commit"]),
    default="tests",
    show_default=True,
    help="write each problem statement from the failing tests' output, or take the commit message "
    "(which often describes the fix)",
)
@click.option(
    "--issue-writer",
    metavar="MODEL",
    help="a litellm model writes each problem statement from the failing tests",
)
@click.option("--issue-writer-api-base", help="base URL of an OpenAI-compatible server for --issue-writer")
@click.option("--image", help="Docker image the tests run in (default: the swe-ttc base image)")
@click.option("--test-timeout", type=click.FloatRange(min=1), default=300.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print the summary as JSON")
def tasks_command(**opts: Any) -> None:
    """Mine SWE-bench-format tasks from a repository's history.

    A commit becomes a task when it changes source and tests together, touches few files, and its
    tests flip: FAIL_TO_PASS fail at the parent and pass with the change (found by running them).
    Its problem statement is a bug report written from the failing tests' output (or by
    --issue-writer from the same output); never from the fix.
    """
    from sweagent.config import SandboxConfig
    from sweagent.sandbox.repo_copy import resolve_commit
    from synth.config import MineConfig
    from synth.mine import mine
    from synth.render import mine_table, no_tasks_line

    repo = Path(opts["repo"]).expanduser()
    resolve_commit(repo, opts["rev"])
    if opts["issue_writer"] and opts["issue_from"] == "commit":
        raise UserError("--issue-writer and --issue-from commit contradict each other: pass one of them")
    writer = None
    if opts["issue_writer"]:
        from synth.issue_text import IssueWriter

        writer = IssueWriter(opts["issue_writer"], opts["issue_writer_api_base"])
    console = _console()
    sandbox = SandboxConfig(**({"image": opts["image"]} if opts["image"] else {}))
    config = MineConfig(
        max_files=opts["max_files"],
        merges=opts["merges"],
        test_timeout=opts["test_timeout"],
        issue_from=opts["issue_from"],
    )

    def progress(outcome: Any) -> None:
        if not opts["as_json"] and outcome.reason not in (None, "root_commit"):
            detail = f" ({escape(outcome.detail[:80])})" if outcome.reason.startswith("tests_cannot") else ""
            console.print(
                f"  {outcome.sha[:8]} {escape(outcome.subject[:60])}: [dim]{outcome.reason}[/]{detail}"
            )
        elif not opts["as_json"] and outcome.row:
            console.print(
                f"  {outcome.sha[:8]} {escape(outcome.subject[:60])}: [green]task[/] {outcome.row['instance_id']}"
            )

    result = mine(
        repo,
        sandbox,
        config,
        since=opts["since"],
        max_tasks=opts["max_tasks"],
        rev=opts["rev"],
        on_outcome=progress,
        issue_writer=writer,
    )
    output = opts["output"] or Path(f"{Path(result.repo).name}-tasks.jsonl")
    rows = result.rows
    if rows:
        from sweagent.io import atomic_write_text

        atomic_write_text(output, "".join(json.dumps(row) + "\n" for row in rows))
    summary = {**result.summary(), "output": str(output) if rows else None}
    if opts["as_json"]:
        click.echo(json.dumps(summary, indent=2))
        return
    console.print(mine_table(result))
    if rows:
        console.print(f"{len(rows)} task(s) written to {escape(str(output))} in {result.seconds:.1f} s")
    else:
        console.print(no_tasks_line(result) + "; nothing written")


# -- run --------------------------------------------------------------------------------------------


def _run_config(opts: dict[str, Any], extra: list[str]) -> Any:
    from sweagent.config import config_from_cli

    explicit = {
        "model.name": opts.get("model"),
        "model.api_base": opts.get("api_base"),
        "model.temperature": opts.get("temperature"),
        "output_dir": opts.get("output_dir"),
        "search.strategy": opts.get("search_strategy"),
        "search.budget": opts.get("budget"),
    }
    return config_from_cli(opts.get("config_file"), extra, explicit)


@synth.command("run", context_settings=EXTRA_ARGS)
@click.option(
    "--dataset",
    required=True,
    help="tasks file (.jsonl/.json/.parquet, e.g. from `synth tasks`) or verified/lite/full",
)
@click.option("--split", default="test", show_default=True)
@click.option(
    "--samples", type=click.IntRange(min=1), default=4, show_default=True, help="rollouts per task (K)"
)
@click.option("--model", help="litellm model name; `{instance_id}` in it is replaced per sample")
@click.option("--api-base", help="base URL of an OpenAI-compatible server (vLLM, ollama, ...)")
@click.option("--temperature", type=click.FloatRange(min=0), default=0.8, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--search",
    "search_strategy",
    type=click.Choice(["single", "best-of-n", "tree"]),
    help="each rollout is a search",
)
@click.option("--budget", type=float, help="rollouts one search may spend")
@click.option("--instances", help="comma-separated task ids to run")
@click.option("--slice", "slice_spec", help="START:STOP of the tasks, e.g. :10")
@click.option("--run-id", help="run folder name (default: synth-<dataset>__<model>; rerunning it resumes)")
@click.option("--output-dir", help="where runs go (default: runs)")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML run config")
@click.option(
    "--filters",
    "filters_file",
    type=click.Path(dir_okay=False),
    help="YAML of filter bounds (see synth.config.FilterConfig)",
)
@click.option(
    "--max-per-task", type=click.IntRange(min=0), help="accepted trajectories kept per task (0: no cap)"
)
@click.option(
    "--image-namespace", default=None, help="registry namespace of instance images ('' for local names)"
)
@click.option(
    "--eval-timeout",
    type=click.FloatRange(min=1),
    default=1800.0,
    show_default=True,
    help="seconds per grading",
)
@click.option("--redo-existing", is_flag=True, help="sample again even where a finished trajectory exists")
@click.option("--json", "as_json", is_flag=True, help="print stats.json instead of tables")
@executor_options
@click.pass_context
def run_command(ctx: click.Context, **opts: Any) -> None:
    """Sample K rollouts per task, grade each, filter, and write results.jsonl and stats.json.

    Extra `--section.key value` arguments override the run config, e.g. `--agent.step_limit 40`.
    """
    from sweagent.commands.batch import default_run_id
    from sweagent.swebench.dataset import load_dataset, select
    from sweagent.swebench.images import DEFAULT_NAMESPACE
    from synth.config import load_filter_config

    config = _run_config(opts, ctx.args)
    overrides = {"max_per_task": opts["max_per_task"]} if opts["max_per_task"] is not None else {}
    filters = load_filter_config(opts["filters_file"], overrides)
    dataset = load_dataset(opts["dataset"], opts["split"])
    instances = [i.strip() for i in (opts["instances"] or "").split(",") if i.strip()]
    rows = select(dataset, instances, slice_spec=opts["slice_spec"])
    if not rows:
        raise UserError(f"no tasks selected from {dataset.source}: loosen --slice/--instances")
    from sweagent.model.litellm_model import check_model_usable
    from sweagent.task import Task
    from synth.sampling import SynthOptions, SynthRun

    tasks = [Task.from_swebench(row) for row in rows]
    check_model_usable(
        config.model.model_copy(
            update={"name": config.model.name.replace("{instance_id}", f"{tasks[0].instance_id}.s0")}
        )
    )
    run_id = opts["run_id"] or "synth-" + default_run_id(opts["dataset"], opts["split"], config.model.name)
    run_dir = Path(config.output_dir) / run_id
    namespace = DEFAULT_NAMESPACE if opts["image_namespace"] is None else (opts["image_namespace"] or None)
    options = SynthOptions(
        run_dir=run_dir,
        samples=opts["samples"],
        workers=opts["workers"],
        filters=filters,
        namespace=namespace,
        redo_existing=opts["redo_existing"],
        eval_timeout=opts["eval_timeout"],
        source=dataset.source,
    )
    console = _console()
    dashboard = None
    if not opts["as_json"]:
        from sweagent.swebench.dashboard import make_dashboard

        console.print(
            f"synth [bold]{escape(run_id)}[/]: {len(tasks)} task(s) × {opts['samples']} samples, "
            f"{opts['workers']} worker(s), temperature {config.model.temperature:g}"
        )
        dashboard = make_dashboard(console)
    with executor_from_options(opts, opts["workers"]) as executor:
        stats = SynthRun(tasks, rows, config, options, dashboard=dashboard, executor=executor).run()
    if opts["as_json"]:
        click.echo(json.dumps(stats, indent=2))
        return
    from synth.render import filter_table, task_table

    console.print(task_table(stats))
    console.print(filter_table(stats))
    overall = stats["overall"]
    console.print(
        f"{overall['accepted']} of {stats['samples']} samples accepted ({overall['acceptance_rate']:.0%}); "
        f"{overall['resolved']} resolved · results: {escape(str(run_dir / 'results.jsonl'))}"
    )


# -- export -----------------------------------------------------------------------------------------


@synth.command("export")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["openai", "sharegpt", "text"]), default="openai", show_default=True
)
@click.option(
    "--output", type=click.Path(file_okay=False, path_type=Path), help="folder (default: RUN/export-<format>)"
)
@click.option(
    "--filters", "filters_file", type=click.Path(dir_okay=False), help="judge again with these filter bounds"
)
@click.option(
    "--max-per-task", type=click.IntRange(min=0), help="accepted trajectories kept per task (0: no cap)"
)
@click.option(
    "--tool-arguments",
    type=click.Choice(["string", "object"]),
    default="string",
    show_default=True,
    help="openai format: tool-call arguments as JSON strings (OpenAI fine-tuning) or objects "
    "(Hugging Face chat templates)",
)
def export_command(
    run: Path,
    fmt: str,
    output: Path | None,
    filters_file: str | None,
    max_per_task: int | None,
    tool_arguments: str,
) -> None:
    """Write sft.jsonl and rm_pairs.jsonl (and stats.json) for a synth run.

    A search sample gives one SFT record per stage of its chosen path (metadata.stage)."""
    from synth.export import PAIRS_FILE, SFT_FILE, export_run
    from synth.samples import SETTINGS_FILE, require_run_dir

    filters = None
    if filters_file or max_per_task is not None:
        from synth.config import load_filter_config

        try:
            base = json.loads((require_run_dir(run) / SETTINGS_FILE).read_text()).get("filters", {})
        except (OSError, ValueError):
            base = {}
        overrides = {"max_per_task": max_per_task} if max_per_task is not None else {}
        filters = load_filter_config(filters_file, overrides, base=base)
    result = export_run(run, fmt, output, filters, arguments=tool_arguments)
    console = _console()
    if not result.sft:
        console.print(f"[yellow]no accepted trajectories[/]: {SFT_FILE} not written")
    if not result.pairs:
        console.print(f"[yellow]no resolved/unresolved pairs[/]: {PAIRS_FILE} not written")
    for path in result.written:
        console.print(f"wrote {escape(str(path))}")
    console.print(f"{len(result.sft)} SFT record(s), {len(result.pairs)} reward-model pair(s) ({fmt})")
    if result.skipped_pairs:
        console.print(
            f"[yellow]{result.skipped_pairs} pair(s) skipped[/]: their two sides start from different prompts"
        )


@synth.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["openai", "sharegpt", "text"]), required=True)
@click.option("--kind", type=click.Choice(["sft", "rm_pairs"]), help="default: from the file name")
def validate_command(file: Path, fmt: str, kind: str | None) -> None:
    """Check an exported file against its JSON Schema (synth/schemas/)."""
    from synth.schema import validate_file

    kind = kind or (
        "rm_pairs" if file.name.startswith("rm_pairs") else "sft" if file.name.startswith("sft") else None
    )
    if kind is None:
        raise UserError(f"cannot tell what {file.name} holds: pass --kind sft or --kind rm_pairs")
    count = validate_file(file, kind, fmt)
    click.echo(f"{file}: {count} {kind} record(s) match the {fmt} schema")
