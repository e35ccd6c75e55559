"""`swe-ttc localize`: rank the files and functions of a repository that an issue is about."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console

from sweagent.errors import UserError


def read_issue(value: str) -> str:
    """`--issue TEXT`, `--issue @FILE` or `--issue @-` (standard input)."""
    if value.startswith("@"):
        name = value[1:]
        if name == "-":
            return sys.stdin.read()
        path = Path(name).expanduser()
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            raise UserError(f"issue file not found: {name}: pass an existing file as --issue @FILE") from None
        except OSError as err:
            raise UserError(f"cannot read issue file {name}: {err.strerror}") from None
    return value


@click.command("localize")
@click.option("--repo", "repo", required=True, help="Path of a git repository (or a plain directory).")
@click.option("--commit", default=None, help="Commit to read (default: HEAD); read from git, no checkout.")
@click.option("--issue", "issue", required=True, help="Issue text, @FILE, or @- for standard input.")
@click.option(
    "--top", default=10, show_default=True, type=click.IntRange(1, 1000), help="Entries per ranking."
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of tables.")
@click.option(
    "--cache/--no-cache", default=True, show_default=True, help="Keep the index on disk for next time."
)
@click.option(
    "--cache-dir", type=click.Path(file_okay=False), default=None, help="Default: ~/.cache/swe-ttc/localize."
)
@click.option(
    "--rerank",
    type=click.Choice(["embedding"]),
    default=None,
    help="Re-rank with a sentence-embedding model (offline; pip install 'swe-ttc[rerank]').",
)
def localize(
    repo: str,
    commit: str | None,
    issue: str,
    top: int,
    as_json: bool,
    cache: bool,
    cache_dir: str | None,
    rerank: str | None,
) -> None:
    """Rank the files (source, tests and other separately) and functions an issue is most likely about.

    Each entry lists the signals behind it; `--json` adds each signal's weight, its contribution to the
    score, and for the graph signal the path from the name the issue used to the entry."""
    from sweagent.localize import LocalizeConfig, localize_repo
    from sweagent.localize.render import render

    config = LocalizeConfig(disk_cache=cache, cache_dir=Path(cache_dir) if cache_dir else None, rerank=rerank)
    result = localize_repo(repo, commit, read_issue(issue), top=top, config=config)
    err = Console(stderr=True)
    for warning in result.warnings:
        err.print(f"warning: {warning}", style="yellow", highlight=False)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        render(result, Console(), top)
