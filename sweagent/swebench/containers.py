"""Evaluation containers: started from an instance image, labelled and registered for clean-up.

They carry the sandbox's labels (`swe-ttc=1`, `swe-ttc.run`, `swe-ttc.pid`, plus `swe-ttc.role=eval`)
and are registered with `sweagent.sandbox.cleanup`, so exit, Ctrl-C and SIGTERM remove them and
`swe-ttc image clean` finds leftovers of a killed process. Nothing else on the engine is touched.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field

import docker
from docker.models.containers import Container

from sweagent.errors import UserError
from sweagent.sandbox import cleanup
from sweagent.sandbox.docker_sandbox import CA_PATH, CA_VARIABLES, LABEL, PID_LABEL, RUN_LABEL
from sweagent.sandbox.image import owner_alive

ROLE_LABEL = "swe-ttc.role"


@dataclass
class ContainerOptions:
    """How eval containers run: network as the official harness (bridge) unless told `none`."""

    network: str = "bridge"
    ca_bundle: str | None = None
    memory: str | None = None
    pids_limit: int | None = None
    env: dict[str, str] = field(default_factory=dict)


def container_name(*parts: str) -> str:
    """A valid, unique Docker container name built from `parts`."""
    raw = ".".join(["swe-ttc", *parts, uuid.uuid4().hex[:6]])
    return re.sub(r"[^a-zA-Z0-9_.-]", "-", raw)[:200]


def start_container(
    client: docker.DockerClient,
    image: str,
    name: str,
    options: ContainerOptions,
    run_id: str,
    role: str = "eval",
) -> Container:
    """Start `image` idle (`sleep infinity`) so scripts can be run in it with exec; registered for clean-up."""
    env = dict(options.env)
    volumes = {}
    if options.ca_bundle:
        bundle = os.path.realpath(os.path.expanduser(options.ca_bundle))
        if not os.path.isfile(bundle):
            raise UserError(
                f"CA bundle {options.ca_bundle} does not exist: pass the host's bundle file or leave it unset"
            )
        volumes[bundle] = {"bind": CA_PATH, "mode": "ro"}
        env.update({var: CA_PATH for var in CA_VARIABLES})
    kwargs = {}
    if options.memory:
        kwargs["mem_limit"] = options.memory
    if options.pids_limit:
        kwargs["pids_limit"] = options.pids_limit
    labels = {LABEL: "1", RUN_LABEL: run_id, PID_LABEL: str(os.getpid()), ROLE_LABEL: role}
    container = client.containers.create(
        image,
        command=["sleep", "infinity"],
        entrypoint=[],
        init=True,
        name=name,
        detach=True,
        labels=labels,
        network_mode=options.network,
        environment=env,
        volumes=volumes,
        **kwargs,
    )
    cleanup.register(id(container), lambda: remove_quietly(container))
    try:
        container.start()
    except BaseException:
        remove_quietly(container)
        raise
    return container


def put_text(container: Container, path: str, text: str, mode: int = 0o644) -> None:
    """Write `text` to `path` in the container (one put_archive call, no exec)."""
    data = text.encode("utf-8")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name=path.rsplit("/", 1)[-1])
        info.size = len(data)
        info.mode = mode
        info.mtime = int(time.time())
        tar.addfile(info, io.BytesIO(data))
    container.put_archive(path.rsplit("/", 1)[0] or "/", buf.getvalue())


def remove_quietly(container: Container | None) -> None:
    """Force-remove and unregister; a container already gone is fine."""
    if container is None:
        return
    cleanup.unregister(id(container))
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if "already in progress" not in str(exc):
            raise


def remove_run_containers(client: docker.DockerClient, run_id: str, role: str = "eval") -> int:
    """Remove the containers this process started for `run_id` in `role`; returns how many."""
    labels = {RUN_LABEL: run_id, PID_LABEL: str(os.getpid()), ROLE_LABEL: role}
    filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
    found = client.containers.list(all=True, filters=filters, ignore_removed=True)
    for container in found:
        remove_quietly(container)
    return len(found)


def remove_run_leftovers(
    run_label: str, pids: Collection[int] = (), client: docker.DockerClient | None = None
) -> int:
    """On this machine's engine, remove the containers of `run_label` whose creating process is gone
    or is one of `pids` (processes of this run that were just stopped); returns how many."""
    if client is None:
        from sweagent.swebench.images import docker_client

        client = docker_client(1)
    found = client.containers.list(
        all=True, filters={"label": f"{RUN_LABEL}={run_label}"}, ignore_removed=True
    )
    stopped = {str(pid) for pid in pids}
    gone = [c for c in found if (c.labels or {}).get(PID_LABEL) in stopped or not owner_alive(c)]
    for container in gone:
        remove_quietly(container)
    return len(gone)
