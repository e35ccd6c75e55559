"""A fixture repository with a real bug and a helper that searches it with the simulated model."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from search.config import SearchConfig
from simulation.model import SimParams, register_instance
from simulation.tasks import FIXTURES, Fixture
from sweagent.config import RunConfig
from sweagent.task import Task


@dataclass(frozen=True)
class Simulated:
    """Simulation knobs and the instance's solve rate."""

    params: SimParams = field(default_factory=SimParams)
    solve_rate: float = 0.5

    def model_copy(self, update: dict[str, Any]) -> Simulated:
        return Simulated(self.params.model_copy(update=update), self.solve_rate)


# With a solve rate of 1 every stage succeeds; a near-perfect judge clears the early-stop bar.
ALWAYS_RIGHT = Simulated(SimParams(auc=0.9999), solve_rate=1.0)
_names = itertools.count()


@pytest.fixture(scope="module")
def median_repo(tmp_path_factory) -> tuple[Fixture, Path, Task]:
    fixture = FIXTURES["median"]
    repo, commit = fixture.make_repo(tmp_path_factory.mktemp("fixture") / "repo")
    return fixture, repo, fixture.task(repo, commit)


def search_config(
    fixture: Fixture, sim: Simulated | SimParams, sandbox: str = "docker", **search: Any
) -> RunConfig:
    """A run config for the simulated model (a fresh instance name per call: parameters differ)."""
    sim = sim if isinstance(sim, Simulated) else Simulated(sim)
    model = register_instance(f"test-{next(_names)}", fixture, sim.params, sim.solve_rate)
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
