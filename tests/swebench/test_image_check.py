"""`swe-ttc image check` and batch's once-per-run warning, on images built here with and without a
later fix left in their repository's git objects."""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sweagent.config import RunConfig
from sweagent.sandbox.repo_copy import prepare_clone
from sweagent.swebench.batch import BatchOptions, BatchRunner
from sweagent.swebench.dashboard import PlainDashboard
from sweagent.task import Task
from tests.helpers.repos import commit_files, git, make_repo
from tests.synth.conftest import run_cli

pytestmark = pytest.mark.docker


def _history(root: Path) -> tuple[Path, str, str]:
    repo = make_repo(root, {"calc.py": "def add(a, b):\n    return a - b\n"})
    base = git(repo, "rev-parse", "HEAD").strip()
    fix = commit_files(repo, {"calc.py": "def add(a, b):\n    return a + b\n"}, "Fix add()")
    return repo, base, fix


def _build(client, base_image: str, repo: Path, tag: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(repo, Path(tmp) / "testbed", symlinks=True)
        (Path(tmp) / "Dockerfile").write_text(f"FROM {base_image}\nCOPY testbed /testbed\nWORKDIR /testbed\n")
        client.images.build(path=tmp, tag=tag, rm=True, forcerm=True)
    return tag


@pytest.fixture(scope="module")
def images(docker_client, base_image, tmp_path_factory):
    """Three images of the same base commit: the fix on a branch, the fix unreachable, and clean."""
    prefix = f"swe-ttc-test/image-check-{uuid.uuid4().hex[:8]}"
    root = tmp_path_factory.mktemp("image-check")
    repo, base, fix = _history(root / "branch")
    git(repo, "branch", "later")
    git(repo, "reset", "-q", "--hard", base)  # HEAD at the base, the fix on `later`
    branch = _build(docker_client, base_image, repo, f"{prefix}:branch")

    lost, _, lost_fix = _history(root / "lost")
    git(lost, "reset", "-q", "--hard", "HEAD~1")
    git(lost, "reflog", "expire", "--expire=now", "--all")  # nothing refers to the fix any more
    unreachable = _build(docker_client, base_image, lost, f"{prefix}:lost")

    prepared = prepare_clone(repo, base)  # what our sandboxes hold
    try:
        clean = _build(docker_client, base_image, prepared.path, f"{prefix}:clean")
    finally:
        prepared.cleanup()
    yield {
        "branch": branch,
        "lost": unreachable,
        "clean": clean,
        "base": base,
        "fix": fix,
        "lost_fix": lost_fix,
    }
    for tag in (branch, unreachable, clean):
        docker_client.images.remove(tag, force=True)


def test_check_names_the_later_commits_reachable_or_not(images):
    proc = run_cli(["image", "check", images["branch"], images["lost"], images["clean"], "--json"])
    code, stdout = proc
    reports = {r["image"]: r for r in map(json.loads, stdout.splitlines())}
    assert code == 1
    branch, lost, clean = (reports[images[k]] for k in ("branch", "lost", "clean"))
    assert branch["leaks"] and [c["sha"] for c in branch["reachable"]] == [images["fix"]]
    assert branch["reachable"][0]["subject"] == "Fix add()" and branch["unreachable"] == []
    assert lost["leaks"] and [c["sha"] for c in lost["unreachable"]] == [images["lost_fix"]]
    assert lost["reachable"] == []
    assert not clean["leaks"] and clean["base"] == images["base"] and clean["problem"] == ""


def test_dataset_images_are_checked_against_each_rows_base(images, tmp_path):
    rows = [
        {
            "instance_id": "o__r-1",
            "repo": "o/r",
            "base_commit": images["base"],
            "problem_statement": "p",
            "image": images["branch"],
        },
        {
            "instance_id": "o__r-2",
            "repo": "o/r",
            "base_commit": images["base"],
            "problem_statement": "p",
            "image": images["clean"],
        },
        {
            "instance_id": "o__r-3",
            "repo": "o/r",
            "base_commit": images["base"],
            "problem_statement": "p",
            "image": "swe-ttc-test/no-such-image:1",
        },
    ]
    dataset = tmp_path / "rows.jsonl"
    dataset.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, stdout = run_cli(["image", "check", "--dataset", str(dataset)])
    lines = stdout.splitlines()
    assert code == 1
    assert lines[0].startswith(f"{images['branch']}: LEAKS commits after {images['base'][:12]}: 1 reachable")
    assert '"Fix add()"' in lines[0]
    assert lines[1] == f"{images['clean']}: clean (every commit is in the history of {images['base'][:12]})"
    assert (
        lines[2]
        == "swe-ttc-test/no-such-image:1: not checked: image not present locally (pull or build it first)"
    )
    assert lines[3] == "1 of 3 image(s) hold commits after their base commit"
    code, stdout = run_cli(["image", "check", "--dataset", str(dataset), "--instances", "o__r-2"])
    assert code == 0 and stdout.splitlines()[-1] == "0 of 1 image(s) hold commits after their base commit"


def test_check_without_targets_is_one_line(capsys):
    code, _ = run_cli(["image", "check"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == "error: nothing to check: name an image, or pass --dataset"


class Notes(PlainDashboard):
    def __init__(self) -> None:
        super().__init__()
        self.notes: list[str] = []

    def note(self, message: str) -> None:
        self.notes.append(message)


@dataclass
class Result:
    exit_status: str = "submitted"
    patch: str = ""
    stats: dict = field(default_factory=dict)


@pytest.mark.parametrize("kind", ["branch", "clean"])
def test_batch_warns_once_per_run_when_an_image_leaks(images, tmp_path, kind):
    tasks = [
        Task(
            instance_id=f"o__r-{i}",
            repo="o/r",
            base_commit=images["base"],
            problem_statement="p",
            image=images[kind],
        )
        for i in range(3)
    ]
    notes = Notes()
    config = RunConfig.model_validate({"model": {"name": "replay/x"}})
    options = BatchOptions(run_dir=tmp_path / "run", workers=2)
    BatchRunner(tasks, config, options, solve=lambda *a, **k: Result(), dashboard=notes).run()
    warnings = [n for n in notes.notes if n.startswith("warning:")]
    if kind == "clean":
        assert warnings == []
    else:
        assert len(warnings) == 1 and images["branch"] in warnings[0] and "later fix" in warnings[0]
