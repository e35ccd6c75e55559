"""The fixture dataset: deterministic rows, the checked-in copy in sync, images reused when unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sweagent.swebench.fixture_tasks import FIXTURE_TASKS
from sweagent.swebench.fixtures import DEFAULT_OUT, build, image_for

pytestmark = pytest.mark.docker


def test_build_is_deterministic_and_reuses_images(fixture_dataset, docker_client, base_image, tmp_path):
    ids = {t.instance_id: docker_client.images.get(image_for(t)).id for t in FIXTURE_TASKS}
    rows = build(tmp_path / "again.jsonl", client=docker_client, base_image=base_image)
    assert (tmp_path / "again.jsonl").read_text() == fixture_dataset.read_text()
    assert {t.instance_id: docker_client.images.get(image_for(t)).id for t in FIXTURE_TASKS} == ids
    assert Path(DEFAULT_OUT).read_text() == fixture_dataset.read_text(), (
        "regenerate: python -m sweagent.swebench.fixtures build"
    )
    assert len(rows) >= 3 and {r["repo"] for r in rows}.isdisjoint({"django/django", "sympy/sympy"})


def test_images_hold_the_repository_at_its_base_commit(fixture_rows, docker_client):
    for task in FIXTURE_TASKS:
        row = fixture_rows[task.instance_id]
        out = docker_client.containers.run(
            image_for(task),
            ["bash", "-c", "cd /testbed && git rev-parse HEAD && git status --porcelain"],
            remove=True,
        ).decode()
        assert out.split() == [row["base_commit"]], out
    layouts = {
        json.dumps(sorted(k for k in ("image", "eval_script", "log_parser") if k in r))
        for r in fixture_rows.values()
    }
    assert layouts == {
        "[]",
        json.dumps(["eval_script", "image", "log_parser"]),
    }  # both row layouts are covered
