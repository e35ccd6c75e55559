"""`swe-ttc image ...`: build the local base image, remove leftover sandbox containers."""

from __future__ import annotations

import click

from sweagent.config import DEFAULT_IMAGE


@click.group()
def image() -> None:
    """Build the local base image sandboxes start from; clean up leftover containers."""


@image.command("build-base")
@click.option("--tag", default=DEFAULT_IMAGE, show_default=True, help="name of the image to create")
@click.option("--mirror", default=None, help="Debian mirror URL for mmdebstrap (default: deb.debian.org)")
def build_base_command(tag: str, mirror: str | None) -> None:
    """Build a minimal Debian bookworm image (python3, pytest, pip, git) with mmdebstrap."""
    from sweagent.sandbox.image import build_base

    build_base(tag, mirror=mirror, log=lambda line: click.echo(line, err=True))
    click.echo(tag)


@image.command("clean")
@click.option("--all", "everything", is_flag=True, help="also remove containers of runs still going")
@click.option("--run", "run_label", default=None, help="remove the containers of this run label only")
def clean_command(everything: bool, run_label: str | None) -> None:
    """Remove sandbox containers left behind by crashed or killed runs."""
    from sweagent.sandbox.image import clean_containers

    removed = clean_containers(everything=everything, run_label=run_label)
    click.echo(f"removed {len(removed)} container(s)" + (f": {' '.join(removed)}" if removed else ""))


def _add_build_real() -> None:
    """`swe-ttc image build-real`: the real-project builder's own command (one implementation)."""
    from sweagent.swebench.real_projects import build_cmd

    image.add_command(build_cmd, "build-real")


_add_build_real()
