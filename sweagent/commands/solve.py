"""`swe-ttc solve`: one issue, one repository, one sandbox → a patch and a trajectory."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from sweagent.config import RunConfig, load_config, parse_overrides
from sweagent.errors import UserError

EXTRA_ARGS = {"ignore_unknown_options": True, "allow_extra_args": True}
EXIT_CODES = {"submitted": 0, "submitted (limit)": 0, "format_error": 3}


def docker_ready(image: str) -> tuple[bool, str]:
    """(usable, why not): is a daemon reachable and the image present (or buildable, for the base image)?"""
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
    except Exception:
        return False, "no Docker daemon is reachable"
    try:
        client.images.get(image)
        return True, ""
    except Exception:
        pass
    from sweagent.config import DEFAULT_IMAGE

    if image != DEFAULT_IMAGE:
        return False, f"the image {image} is not present"
    try:
        from sweagent.sandbox.image import ensure_base_image

        print(f"building the base image {image} once (about a minute)...", flush=True)
        ensure_base_image(client, image)
        return True, ""
    except Exception:
        return False, f"the base image {image} is not present and could not be built (needs mmdebstrap)"


def build_config(extra: list[str], **options: Any) -> RunConfig:
    """YAML file, then dotted overrides, then the explicit options (which win)."""
    overrides = parse_overrides(extra)
    explicit = {
        "model.name": options.get("model"),
        "model.api_base": options.get("api_base"),
        "sandbox.image": options.get("image"),
        "sandbox.kind": options.get("sandbox"),
        "output_dir": options.get("output_dir"),
        "search.strategy": options.get("search_strategy"),
        "search.budget": options.get("budget"),
    }
    for dotted, value in explicit.items():
        if value is None:
            continue
        node = overrides
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return load_config(options.get("config_file"), overrides)


def _print_step(console: Console) -> Any:
    def on_event(event: dict[str, Any]) -> None:
        if event.get("stage") in ("starting", "done"):
            return
        action = event.get("action") or "(no action)"
        console.print(f"  step {event['step']:>3} · {event['stage']:<10} · {action}", highlight=False)

    return on_event


@click.command(context_settings=EXTRA_ARGS)
@click.option("--repo", "repo", help="local git repository path, or a git URL (cloned)")
@click.option("--commit", help="commit to start from (default: HEAD)")
@click.option("--issue", "issue_spec", help="the issue: text, @FILE, or a GitHub issue URL")
@click.option("--model", help="litellm model name, e.g. anthropic/claude-sonnet-4-5 or openai/<name>")
@click.option("--api-base", help="base URL of an OpenAI-compatible server (vLLM, ollama, ...)")
@click.option("--image", help="Docker image to run in (default: the swe-ttc base image)")
@click.option(
    "--sandbox", type=click.Choice(["docker", "local"]), help="docker (default) or local (NOT isolated)"
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML config file")
@click.option("--output-dir", help="where runs go (default: runs)")
@click.option("--run-id", help="name of the run folder (default: solve-<timestamp>)")
@click.option("--apply", "apply_patch", is_flag=True, help="apply the patch to your working tree when done")
@click.option("--demo", is_flag=True, help="offline demo: example repository + recorded replay model")
@click.option(
    "--search",
    "search_strategy",
    type=click.Choice(["single", "best-of-n", "tree"]),
    help="search over the development process: one rollout, N rollouts, or the tree",
)
@click.option(
    "--budget", type=float, help="rollouts the search may spend (one stage expansion = 1/3 rollout)"
)
@click.pass_context
def solve(ctx: click.Context, **opts: Any) -> None:
    """Solve one issue in a sandbox and write the patch and trajectory under runs/.

    Extra `--section.key value` arguments override the config, e.g. `--agent.step_limit 40`.
    """
    from sweagent.demo_setup import DEMO_ISSUE, DEMO_MODEL, create_demo_repo, register_demo_model
    from sweagent.issue_source import read_issue, resolve_commit, resolve_repo
    from sweagent.task import Task

    console = Console(soft_wrap=True)
    demo = opts.pop("demo")
    if demo:
        if opts["repo"] or opts["issue_spec"]:
            raise UserError("--demo brings its own repository and issue: drop --repo/--issue, or drop --demo")
        if opts["search_strategy"] and not opts["model"]:
            from simulation.demo import register_search_demo_model

            opts["model"] = register_search_demo_model()
        opts["model"] = opts["model"] or register_demo_model()
    elif not opts["repo"] or not opts["issue_spec"]:
        raise UserError(
            "solve needs --repo PATH_OR_URL and --issue TEXT|@FILE|URL (or --demo for the offline example)"
        )
    config = build_config(ctx.args, **opts)
    run_id = opts["run_id"] or f"{'demo' if demo else 'solve'}-{datetime.now():%Y%m%d-%H%M%S}"
    run_dir = Path(config.output_dir) / run_id

    if demo:
        repo_path = create_demo_repo(run_dir / "example-repo")
        issue = DEMO_ISSUE.read_text()
        if config.sandbox.kind == "docker":
            ok, why = docker_ready(config.sandbox.image)
            if not ok:
                console.print(
                    f"[yellow]{why}: running the demo in the local sandbox instead (not isolated)[/]"
                )
                config.sandbox.kind = "local"
        kind = "a simulated model" if config.search else "a recorded replay"
        console.print(f"[bold]demo[/]: model [cyan]{config.model.name}[/] is {kind}, not a language model")
    else:
        issue = read_issue(opts["issue_spec"])
        repo_path = resolve_repo(opts["repo"], Path.home() / ".cache" / "swe-ttc" / "repos")
        resolve_commit(repo_path, opts["commit"])  # fail fast, before the slow imports below
        if config.model.name == DEMO_MODEL:
            register_demo_model()
        from sweagent.model.litellm_model import check_model_usable

        check_model_usable(config.model)
    commit = resolve_commit(repo_path, opts["commit"])
    from sweagent.runner import solve_task, write_run_config  # imports litellm: after the cheap checks

    instance_id = f"{Path(repo_path).name}-{commit[:7]}"
    task = Task(instance_id=instance_id, repo=str(repo_path), base_commit=commit, problem_statement=issue)
    write_run_config(run_dir, config)
    console.print(
        f"solving [bold]{instance_id}[/] in a {config.sandbox.kind} sandbox"
        + (f" ({config.sandbox.image})" if config.sandbox.kind == "docker" else "")
    )
    if config.search is not None:
        traj = _search(console, task, config, run_dir, str(repo_path))
    else:
        traj = solve_task(
            task,
            config,
            run_dir,
            on_event=_print_step(console),
            repo_path=str(repo_path),
            raise_setup_errors=True,
        )
    report(console, run_dir, traj, config)
    if opts["apply_patch"] and traj.patch:
        apply_to_worktree(Path(repo_path), traj.patch)
        console.print(f"applied the patch to {repo_path}")
    status = traj.exit_status or "interrupted"
    sys.exit(EXIT_CODES.get(status, 1))


def _search(console: Console, task: Any, config: RunConfig, run_dir: Path, repo_path: str) -> Any:
    """Run the search, then show its tree."""
    from search.render import event_printer, render_tree
    from search.runner import run_search
    from search.tree import SearchTree

    assert config.search is not None
    console.print(f"search: [bold]{config.search.strategy}[/], budget {config.search.budget:g} rollout(s)")
    traj = run_search(
        task, config, run_dir, on_event=event_printer(console), repo_path=repo_path, raise_setup_errors=True
    )
    judge = traj.stats.get("judge") or {}
    if judge.get("calls"):
        console.print(f"reward model: {judge['method']} · {judge['calls']} call(s), {judge['failed']} failed")
    tree_file = run_dir / task.instance_id / "tree.json"
    if tree_file.exists():
        console.print(render_tree(SearchTree.load(tree_file)), soft_wrap=False)
        console.print(f"tree: {tree_file} (and {tree_file.with_suffix('.graphml').name})")
    return traj


def report(console: Console, run_dir: Path, traj: Any, config: RunConfig) -> None:
    """Write the patch and preds.json beside the trajectory; print where everything went."""
    from sweagent.io import atomic_write_json, atomic_write_text
    from sweagent.trajectory import trajectory_path

    traj_file = trajectory_path(run_dir, traj.instance_id)
    patch_file = traj_file.with_name(f"{traj.instance_id}.patch")
    atomic_write_text(patch_file, traj.patch)
    atomic_write_json(
        run_dir / "preds.json",
        {
            traj.instance_id: {
                "instance_id": traj.instance_id,
                "model_name_or_path": config.model.name,
                "model_patch": traj.patch,
            }
        },
    )
    stats = traj.stats
    colour = "green" if (traj.exit_status or "").startswith("submitted") else "red"
    console.print(
        f"exit status: [{colour}]{traj.exit_status}[/]"
        + (f" ({traj.exit_detail})" if traj.exit_detail else "")
        + f" · {stats.get('steps', 0)} steps · ${stats.get('cost', 0.0):.4f}"
    )
    if traj.patch:
        files = [line[6:] for line in traj.patch.splitlines() if line.startswith("+++ b/")]
        console.print(f"patch: {patch_file}  ({len(files)} file(s): {', '.join(files)})")
    else:
        console.print("patch: (empty)")
    console.print(f"trajectory: {traj_file}")


def apply_to_worktree(repo: Path, patch: str) -> None:
    """Apply the patch to the user's tree, refusing (one line) when it does not apply cleanly."""
    check = subprocess.run(
        ["git", "-C", str(repo), "apply", "--check", "-"], input=patch, text=True, capture_output=True
    )
    if check.returncode != 0:
        last = (check.stderr.strip().splitlines() or ["does not apply"])[-1]
        raise UserError(f"the patch does not apply to {repo} ({last}); it is saved beside the trajectory")
    subprocess.run(
        ["git", "-C", str(repo), "apply", "-"], input=patch, text=True, check=True, capture_output=True
    )
