"""Grading images for mined tasks: the base image with the repository at /testbed at the base commit.

SWE-bench tasks come with instance images; a task mined from a local repository does not, and the
grader (like the official harness) starts from an image that already holds the repository. One
image per (repository, base commit) is built on first use and reused while its inputs are unchanged
(a key of base image and commit in a label: the commit sha pins every file and the history before it).
The copy is made the sandbox's way (`prepare_clone`): the base commit's history only, so the image
holds no object of the fix either.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

import docker

from sweagent.errors import ImageNotFound, UserError
from sweagent.sandbox.repo_copy import prepare_clone
from sweagent.task import Task

NAMESPACE = "swe-ttc-synth"
KEY_LABEL = "swe-ttc.synth-key"
DOCKERFILE = """FROM {base}
COPY testbed /testbed
WORKDIR /testbed
"""


def is_mined(task: Task) -> bool:
    """A task whose `repo` is a local git repository (mined by `synth tasks`), not an `owner/name`."""
    path = Path(task.repo).expanduser()
    return bool(task.repo) and path.is_absolute() and (path / ".git").exists()


def image_name(task: Task) -> str:
    name = re.sub(r"[^a-z0-9_.-]+", "-", Path(task.repo).name.lower()).strip("-.") or "repo"
    return f"{NAMESPACE}/{name}:{(task.base_commit or 'head')[:12]}"


def ensure_task_image(client: docker.DockerClient, task: Task, base_image: str) -> str:
    """The grading image of a mined task, built if missing or stale; returns its name.

    A rebuilt image replaces its older version, which is removed when no container uses it."""
    try:
        base_id = client.images.get(base_image).id
    except docker.errors.ImageNotFound:
        raise ImageNotFound(
            f"base image {base_image} is missing: build it with `swe-ttc image build-base`"
        ) from None
    name = image_name(task)
    key = hashlib.sha256(f"{base_id}:{task.base_commit}".encode()).hexdigest()[:16]  # the sha pins the tree
    old_id = None
    try:
        old = client.images.get(name)
        if old.labels.get(KEY_LABEL) == key:
            return name
        old_id = old.id
    except docker.errors.ImageNotFound:
        pass
    prepared = prepare_clone(task.repo, task.base_commit, prefix="swe-ttc-synth-image-")
    try:
        with tempfile.TemporaryDirectory(prefix="swe-ttc-synth-ctx-") as tmp:
            context = Path(tmp)
            prepared.path.rename(context / "testbed")
            (context / "Dockerfile").write_text(DOCKERFILE.format(base=base_image))
            client.images.build(path=str(context), tag=name, rm=True, forcerm=True, labels={KEY_LABEL: key})
        if old_id:
            _remove_quietly(client, old_id)
    except docker.errors.BuildError as exc:
        raise UserError(f"could not build the grading image {name}: {exc}") from None
    finally:
        prepared.cleanup()
    return name


def _remove_quietly(client: docker.DockerClient, image_id: str) -> None:
    """Remove a superseded grading image; one still in use stays (it is untagged and harmless)."""
    try:
        client.images.remove(image_id)
    except docker.errors.APIError:
        pass
