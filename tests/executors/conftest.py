"""A real Ray cluster on this machine for the executor tests: a head and a worker node, started once
per session (Ray's start-up is the slow part), each with a small object store. Tests that kill or
break a node add a node of their own and remove it afterwards.

Ray binds to this machine's own address (it rewrites 127.0.0.1 to it when a driver connects), so the
cluster listens there; nothing reaches it from outside a test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.swebench.conftest import fixture_dataset, fixture_rows  # noqa: F401 - shared fixtures

OBJECT_STORE = 80 * 1024 * 1024  # Ray's minimum is 75 MiB; results here are small trajectories
NODE_ARGS: dict[str, Any] = {
    "num_cpus": 1,
    "object_store_memory": OBJECT_STORE,
    "include_dashboard": False,
}


def _start_cluster() -> Any:
    try:
        from ray.cluster_utils import Cluster
    except ImportError:  # pragma: no cover - CI installs the extra
        pytest.fail("Ray is not installed: `pip install -e '.[ray]'` (bash .ci/run does)")
    cluster = Cluster(initialize_head=True, head_node_args={**NODE_ARGS, "node_name": "head"})
    cluster.add_node(**NODE_ARGS, node_name="worker-1")
    return cluster


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """A head node and a worker node, one CPU each: two instances run at once, one per node."""
    cluster = _start_cluster()
    yield cluster
    import ray

    if ray.is_initialized():
        ray.shutdown()
    cluster.shutdown()


@pytest.fixture
def extra_node(ray_cluster) -> Iterator[Callable[..., Any]]:
    """`extra_node(name, **args)` adds a one-CPU node to the cluster; it is removed after the test."""
    added: list[Any] = []

    def add(name: str, **args: Any) -> Any:
        node = ray_cluster.add_node(**{**NODE_ARGS, **args}, node_name=name)
        added.append(node)
        return node

    yield add
    for node in added:
        if node in ray_cluster.worker_nodes:
            ray_cluster.remove_node(node, allow_graceful=False)


@contextmanager
def no_driver() -> Iterator[None]:
    """Make sure this process is not connected to Ray when the block ends (a CLI run may leave it)."""
    try:
        yield
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
