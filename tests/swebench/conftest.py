"""Fixtures for SWE-bench I/O tests: the fixture dataset, built (or reused) once per session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def fixture_dataset(docker_client, base_image, tmp_path_factory) -> Path:
    """The fixture dataset file, with every fixture image present."""
    from sweagent.swebench.fixtures import build

    path = tmp_path_factory.mktemp("fixture-dataset") / "fixtures.jsonl"
    build(path, client=docker_client, base_image=base_image)
    return path


@pytest.fixture(scope="session")
def fixture_rows(fixture_dataset) -> dict[str, dict]:
    return {row["instance_id"]: row for row in map(json.loads, fixture_dataset.read_text().splitlines())}
