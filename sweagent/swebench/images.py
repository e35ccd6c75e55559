"""Instance images: which image an instance runs in, and making sure it is there.

A row's own `image` wins; otherwise the official name
`<namespace>/sweb.eval.x86_64.<instance_id>:latest` (lower-case, `__` written `_1776_` because
Docker Hub forbids double underscores), the naming swebench's image builder uses. `ensure_image` (shared with the
sandbox) uses an image present locally, pulls it otherwise within `pull_timeout`, and turns failing
both into one ImageNotFound line.
"""

from __future__ import annotations

import os

import docker

from sweagent.errors import DockerUnavailable
from sweagent.sandbox.docker_sandbox import ensure_image
from sweagent.task import Task

__all__ = ["DEFAULT_NAMESPACE", "docker_client", "ensure_image", "instance_image", "official_image_name"]

DEFAULT_NAMESPACE = os.environ.get("SWE_TTC_IMAGE_NAMESPACE", "swebench")


def official_image_name(
    instance_id: str, namespace: str | None = DEFAULT_NAMESPACE, tag: str = "latest"
) -> str:
    """The published name of an instance's evaluation image (same rule as swebench's ImageSpec)."""
    key = f"sweb.eval.x86_64.{instance_id}:{tag}"
    if namespace:
        key = f"{namespace}/{key}".replace("__", "_1776_")
    return key.lower()


def instance_image(task: Task, namespace: str | None = DEFAULT_NAMESPACE) -> str:
    """The row's `image` when it has one, else the official name under `namespace`."""
    return task.image or official_image_name(task.instance_id, namespace)


def docker_client(workers: int = 4) -> docker.DockerClient:
    """A client whose connection pool fits `workers` threads; one line when the daemon is down."""
    try:
        client = docker.from_env(timeout=600, max_pool_size=max(10, workers * 4))
        client.ping()
    except docker.errors.DockerException as exc:
        raise DockerUnavailable(str(exc).splitlines()[0][:200], local_hint=False) from None
    return client
