"""`swe-ttc image ...`: build the local base image, remove leftover sandbox containers, check
images for commits after their base commit."""

from __future__ import annotations

import click

from sweagent.config import DEFAULT_IMAGE
from sweagent.errors import UserError


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


@image.command("check")
@click.argument("images", nargs=-1)
@click.option("--dataset", help="check every instance image of this dataset (file or verified/lite/full)")
@click.option("--split", default="test", show_default=True)
@click.option("--instances", help="comma-separated instance ids of --dataset to check")
@click.option("--namespace", default=None, help="registry namespace of instance images ('' for local names)")
@click.option("--workdir", default="/testbed", show_default=True, help="where the repository is in the image")
@click.option("--json", "as_json", is_flag=True, help="print one JSON report per image")
def check_command(
    images: tuple[str, ...],
    dataset: str | None,
    split: str,
    instances: str | None,
    namespace: str | None,
    workdir: str,
    as_json: bool,
) -> None:
    """Report whether commits after the base commit are reachable, or present as objects, in images.

    An image named on the command line is checked against its HEAD; a dataset's images against each
    row's base commit. Images are never pulled. Exits 1 when any image leaks later commits.
    """
    import json

    from sweagent.swebench.image_check import check_image
    from sweagent.swebench.images import DEFAULT_NAMESPACE, docker_client, instance_image

    targets: list[tuple[str, str | None]] = [(name, None) for name in images]
    if dataset:
        from sweagent.swebench.dataset import load_dataset, select
        from sweagent.task import Task

        wanted = [i.strip() for i in (instances or "").split(",") if i.strip()]
        rows = select(load_dataset(dataset, split), wanted)
        ns = DEFAULT_NAMESPACE if namespace is None else (namespace or None)
        for row in rows:
            task = Task.from_swebench(row)
            targets.append((instance_image(task, ns), task.base_commit or None))
    elif instances:
        raise UserError("--instances needs --dataset: name the dataset the instances come from")
    if not targets:
        raise UserError("nothing to check: name an image, or pass --dataset")
    client = docker_client()
    leaking = 0
    for image_name, base in targets:
        report = check_image(client, image_name, base, workdir)
        leaking += report.leaks
        click.echo(json.dumps(report.to_json()) if as_json else report.line())
    if not as_json:
        click.echo(f"{leaking} of {len(targets)} image(s) hold commits after their base commit")
    if leaking:
        raise SystemExit(1)


def _add_build_real() -> None:
    """`swe-ttc image build-real`: the real-project builder's own command (one implementation)."""
    from sweagent.swebench.real_projects import build_cmd

    image.add_command(build_cmd, "build-real")


_add_build_real()
