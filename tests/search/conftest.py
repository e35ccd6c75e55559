"""A fixture repository with a real bug and a helper that searches it with the simulated model."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from search.config import SearchConfig
from search.fixtures import FIXTURES, Fixture
from search.stochastic import StochasticParams, register_stochastic
from sweagent.config import RunConfig
from sweagent.task import Task

ALWAYS_RIGHT = StochasticParams(
    p_reproduce=1, p_localize=1, p_patch=1, p_incomplete=0, rm_noise=0.0, rm_signal=3.0
)
_names = itertools.count()


@pytest.fixture(scope="module")
def median_repo(tmp_path_factory) -> tuple[Fixture, Path, Task]:
    fixture = FIXTURES["median"]
    repo, commit = fixture.make_repo(tmp_path_factory.mktemp("fixture") / "repo")
    return fixture, repo, fixture.task(repo, commit)


def search_config(
    fixture: Fixture, params: StochasticParams, sandbox: str = "docker", **search: Any
) -> RunConfig:
    """A run config for the simulated model (a fresh provider name per call: parameters differ)."""
    model = register_stochastic(f"test-{next(_names)}", fixture, params)
    return RunConfig.model_validate(
        {
            "model": {"name": model, "cost_limit": 0},
            "sandbox": {"kind": sandbox, "network": "none", "command_timeout": 60},
            "agent": {"localize_hint": False},
            "search": SearchConfig(**search).model_dump(),
        }
    )


@pytest.fixture
def run_dir(tmp_path) -> Callable[[str], Path]:
    return lambda name: tmp_path / name
