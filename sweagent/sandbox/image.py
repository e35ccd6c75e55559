"""The base image sandboxes start from, built locally (no registry needed), and leftover cleanup.

`build_base` makes a minimal Debian bookworm root filesystem with mmdebstrap and imports it with
the docker SDK: about 30 s and no Dockerfile, so it works wherever Debian's package mirror is
reachable even when no container registry is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors

from sweagent.config import DEFAULT_IMAGE
from sweagent.errors import UserError
from sweagent.sandbox.docker_sandbox import LABEL, PID_LABEL, RUN_LABEL, docker_client

SUITE = "bookworm"
PACKAGES = [
    "python3",
    "python3-venv",
    "python3-pip",
    "python3-pytest",
    "git",
    "ca-certificates",
    "patch",
    "procps",
]


def mmdebstrap_command(rootfs: Path, mirror: str | None = None) -> list[str]:
    command = ["mmdebstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES), SUITE, str(rootfs)]
    return command + ([mirror] if mirror else [])


def _split_tag(tag: str) -> tuple[str, str]:
    name = tag.rsplit("/", 1)[-1]
    if ":" in name:
        repo, _, version = tag.rpartition(":")
        return repo, version
    return tag, "latest"


def build_base(
    tag: str = DEFAULT_IMAGE,
    *,
    mirror: str | None = None,
    client: docker.DockerClient | None = None,
    log: Callable[[str], None] = print,
) -> str:
    """Build the base image as `tag`; return its id. One-line UserError for missing tools."""
    if shutil.which("mmdebstrap") is None:
        raise UserError(
            "mmdebstrap is not installed: run `apt-get install mmdebstrap` (Debian/Ubuntu) and retry"
        )
    client = client or docker_client(timeout=600)
    with tempfile.TemporaryDirectory(prefix="swe-ttc-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        command = mmdebstrap_command(rootfs, mirror)
        log("running: " + " ".join(command))
        proc = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not rootfs.exists():
            lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
            last = lines[-1] if lines else f"exit code {proc.returncode}"
            raise UserError(
                f"mmdebstrap failed ({last}): check network access to the Debian mirror, or pass --mirror"
            )
        repository, version = _split_tag(tag)
        log(f"importing {rootfs.stat().st_size // (1 << 20)} MB root filesystem as {tag}")
        try:
            client.api.import_image_from_file(str(rootfs), repository=repository, tag=version)
            image = client.images.get(tag)
        except docker.errors.DockerException as exc:
            raise UserError(f"docker could not import the root filesystem as {tag}: {exc}") from None
    log(f"built {tag} ({image.short_id})")
    return image.id


def ensure_base_image(client: docker.DockerClient, tag: str = DEFAULT_IMAGE) -> bool:
    """Make sure `tag` exists locally, building it if missing. Return True when it had to be built."""
    try:
        client.images.get(tag)
        return False
    except docker.errors.ImageNotFound:
        build_base(tag, client=client)
        return True


def owner_alive(container) -> bool:
    """Is the process that created this container (its pid label) still running on this host?"""
    pid = (container.labels or {}).get(PID_LABEL, "")
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_containers(
    client: docker.DockerClient | None = None, *, everything: bool = False, run_label: str | None = None
) -> list[str]:
    """Remove containers labelled by swe-ttc; return their short ids.

    By default only those whose creating process is gone (crash leftovers); `run_label` removes one
    run's containers, `everything` all of them (also those of runs still going).
    """
    client = client or docker_client()
    label = f"{RUN_LABEL}={run_label}" if run_label else LABEL
    removed = []
    for container in client.containers.list(all=True, filters={"label": label}, ignore_removed=True):
        if not (everything or run_label) and owner_alive(container):
            continue
        try:
            container.remove(force=True)
            removed.append(container.short_id)
        except docker.errors.NotFound:
            pass
    return removed
