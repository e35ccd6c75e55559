"""Which rollout function a command runs per task: the CLI layer wires search in, so that
`sweagent/` itself never depends on a search strategy."""

from __future__ import annotations

from collections.abc import Callable

from sweagent.config import RunConfig
from sweagent.trajectory import Trajectory


def rollout_function(config: RunConfig) -> Callable[..., Trajectory]:
    """`search.runner.run_search` when the config has a `search:` section, else one agent run;
    both take (task, config, run_dir, *, budget, on_event, repo_path) and return a Trajectory."""
    if config.search is not None:
        from search.runner import run_search

        return run_search
    from sweagent.runner import solve_task

    return solve_task
