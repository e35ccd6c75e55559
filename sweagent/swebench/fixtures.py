"""Build the fixture dataset and its instance images (for CI and the batch benchmark).

    python -m sweagent.swebench.fixtures build [--out tests/fixtures/swebench/fixtures.jsonl]

Each task in `fixture_tasks` becomes a git repository with fixed identities and dates (so its base
commit is the same on every machine), a SWE-bench-format row (gold patch and test patch as
`git diff` output), and an image FROM the base image holding the repository at /testbed, tagged
with the official-style name. Images are rebuilt only when their inputs change (a content hash
label), so calling `build` again is cheap.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import click
import docker

from sweagent.config import DEFAULT_IMAGE
from sweagent.errors import ImageNotFound, UserError
from sweagent.io import atomic_write_text
from sweagent.swebench.fixture_tasks import FIXTURE_TASKS, FixtureTask
from sweagent.swebench.images import official_image_name
from sweagent.swebench.specs import build_eval_script

DEFAULT_OUT = Path("tests/fixtures/swebench/fixtures.jsonl")  # relative to the project root, where CI runs
ROW_IMAGE_NAMESPACE = "swe-ttc-fixtures"
HASH_LABEL = "swe-ttc.fixture-hash"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "swe-ttc fixtures",
    "GIT_AUTHOR_EMAIL": "fixtures@swe-ttc.invalid",
    "GIT_COMMITTER_NAME": "swe-ttc fixtures",
    "GIT_COMMITTER_EMAIL": "fixtures@swe-ttc.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00+00:00",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}
DOCKERFILE = """FROM {base}
COPY testbed /testbed
WORKDIR /testbed
RUN git config --global --add safe.directory /testbed \\
 && git config --global user.email agent@swe-ttc.invalid \\
 && git config --global user.name swe-ttc
"""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True, text=True
    ).stdout


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def diff_for(repo: Path, changes: dict[str, str]) -> str:
    """`git diff` of `changes` applied on the checked-out base commit (the tree is reset after)."""
    _write(repo, changes)
    _git(repo, "add", "-A")
    patch = _git(repo, "diff", "--cached", "--no-color", "--no-ext-diff", "--no-renames")
    _git(repo, "reset", "-q", "--hard")
    _git(repo, "clean", "-fdq")
    return patch


def make_repo(task: FixtureTask, dest: Path) -> str:
    """Create the task's repository at `dest` with one deterministic commit; returns its sha."""
    dest.mkdir(parents=True, exist_ok=True)
    _git(dest, "init", "-q", "-b", "main")
    _write(dest, task.files)
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "base")
    return _git(dest, "rev-parse", "HEAD").strip()


def image_for(task: FixtureTask) -> str:
    """Official-style image name; task-repo rows carry it in `image`, under their own namespace."""
    if task.layout == "task_repo":
        return official_image_name(task.instance_id, ROW_IMAGE_NAMESPACE)
    return official_image_name(task.instance_id)


def make_row(task: FixtureTask, repo: Path, base_commit: str) -> dict[str, Any]:
    """The task as a SWE-bench dataset row (list fields JSON-encoded, as on the Hub)."""
    test_patch = diff_for(repo, task.tests)
    row: dict[str, Any] = {
        "instance_id": task.instance_id,
        "repo": task.repo,
        "base_commit": base_commit,
        "patch": diff_for(repo, task.fix),
        "test_patch": test_patch,
        "problem_statement": task.problem_statement,
        "hints_text": "",
        "created_at": task.created_at,
        "version": "0.1",
        "environment_setup_commit": base_commit,
        "FAIL_TO_PASS": json.dumps(task.fail_to_pass),
        "PASS_TO_PASS": json.dumps(task.pass_to_pass),
    }
    if task.layout == "task_repo":
        row.update(
            image=image_for(task),
            eval_script=build_eval_script(task.repo, None, base_commit, test_patch),
            log_parser="pytest",
            eval_type="pass_and_fail",
        )
    return row


def breaking_patch(task: FixtureTask) -> str:
    """A patch that fixes the issue but breaks a PASS_TO_PASS test (for grading tests)."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        make_repo(task, repo)
        return diff_for(repo, task.breaking_fix)


def build_image(
    client: docker.DockerClient,
    task: FixtureTask,
    base_image: str,
    workdir: Path,
    *,
    setup: str = "",
    name: str | None = None,
) -> str:
    """Build (or reuse) the task's image; returns its name. `setup` is a shell command run in
    /testbed after the copy (an environment set-up, as SWE-bench's images have)."""
    try:
        base_id = client.images.get(base_image).id
    except docker.errors.ImageNotFound:
        raise ImageNotFound(
            f"base image {base_image} is missing: build it with `swe-ttc image build-base`"
        ) from None
    context = workdir / f"ctx-{task.instance_id}"
    make_repo(task, context / "testbed")
    dockerfile = DOCKERFILE.format(base=base_image) + (f"RUN {setup}\n" if setup else "")
    (context / "Dockerfile").write_text(dockerfile)
    key = _content_key(context, base_id)
    name = name or image_for(task)
    try:
        if client.images.get(name).labels.get(HASH_LABEL) == key:
            return name
    except docker.errors.ImageNotFound:
        pass
    client.images.build(path=str(context), tag=name, rm=True, forcerm=True, labels={HASH_LABEL: key})
    return name


def _content_key(context: Path, base_id: str) -> str:
    """Base image + Dockerfile + commit sha (the commit pins every file; .git's index has timestamps)."""
    digest = hashlib.sha256(base_id.encode())
    digest.update((context / "Dockerfile").read_bytes())
    digest.update(_git(context / "testbed", "rev-parse", "HEAD").encode())
    return digest.hexdigest()[:16]


def build(
    out: Path = DEFAULT_OUT, client: docker.DockerClient | None = None, base_image: str = DEFAULT_IMAGE
) -> list[dict[str, Any]]:
    """Write the fixture dataset to `out` and make sure every fixture image exists; returns the rows."""
    client = client or docker.from_env()
    rows = []
    with tempfile.TemporaryDirectory(prefix="swe-ttc-fixtures-") as tmp:
        for task in FIXTURE_TASKS:
            repo = Path(tmp) / task.instance_id
            base = make_repo(task, repo)
            rows.append(make_row(task, repo, base))
            build_image(client, task, base_image, Path(tmp))
    atomic_write_text(out, "".join(json.dumps(row) + "\n" for row in rows))
    return rows


@click.group()
def cli() -> None:
    """Fixture dataset for tests and benchmarks."""


@cli.command("build")
@click.option("--out", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True)
@click.option("--base-image", default=DEFAULT_IMAGE, show_default=True)
def build_cmd(out: Path, base_image: str) -> None:
    """Write the fixture dataset and build its images."""
    try:
        rows = build(out, base_image=base_image)
    except UserError as err:
        raise click.ClickException(str(err)) from None
    for row in rows:
        click.echo(f"{row['instance_id']}: {row.get('image') or official_image_name(row['instance_id'])}")
    click.echo(f"dataset: {out}")


if __name__ == "__main__":
    cli()
