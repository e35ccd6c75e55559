"""`swe-ttc inspect RUN_DIR`: write the run's inspector page (one self-contained HTML file), or serve it live."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="where to write the page (default: RUN_DIR/inspector.html)",
)
@click.option(
    "--serve", is_flag=True, help="serve the run on 127.0.0.1 and refresh as it grows (Ctrl-C stops)"
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="with --serve; 0 picks a free port",
)
@click.option(
    "--output-limit",
    type=click.IntRange(min=0),
    default=20_000,
    show_default=True,
    help="characters of one observation or log kept in the page (head and tail; 0: all)",
)
@click.option(
    "--node-trajectories/--no-node-trajectories",
    default=True,
    show_default=True,
    help="embed each search node's stage trajectory (larger page)",
)
def inspect(
    run_dir: Path, output: Path | None, serve: bool, port: int, output_limit: int, node_trajectories: bool
) -> None:
    """Render a run folder (solve, batch, select or synth) as one HTML page that opens offline.

    The page has the run's instances (sortable, filterable, with plots), each trajectory, each
    search tree, and the select and synth results when the folder holds them.
    """
    from sweagent.inspector.run_reader import Options

    opts = Options(output_limit=output_limit, node_trajectories=node_trajectories)
    if serve:
        from sweagent.inspector.serve import serve_run

        def ready(url: str) -> None:
            click.echo(f"serving {run_dir} at {url} (refreshes as the run grows; Ctrl-C to stop)")

        serve_run(run_dir, opts, port=port, on_ready=ready)
        return
    from sweagent.inspector.page import render_run

    path = render_run(run_dir, output, opts)
    click.echo(str(path))
