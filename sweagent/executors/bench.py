"""`swe-ttc bench batch --executor ray`: batch throughput on Ray worker nodes against the local executor.

The bench starts its own Ray cluster on this machine (a head that runs nothing, then one and two
worker nodes of one CPU each) and runs the same fixture instances as the local executor at one and
two workers. Besides instances per minute it reports where the time goes:

- `overhead_s_per_instance`: wall time x slots / instances - mean time inside the job. What a slot
  spends not running an instance (scheduling, starting Ray workers and importing the project there,
  moving the result back, the driver's writes, idle slots at the end); measured the same way for the
  local executor, so the difference is what Ray adds.
- `startup_seconds` (Ray): from the start of the run to the first instance running on a node:
  connecting, the leftover sweep on every node, starting a worker process there.
- `scheduling_ms_per_instance` (Ray): median of submit -> start on the node plus end on the node ->
  result written by the driver, i.e. Ray's cost per instance once its workers are warm.
- `noop_ms_per_job`: a job that does nothing, through the same executor, one node: Ray's own
  round trip per task.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sweagent.executors.base import Executor, Job, JobContext, Outcome, RunHooks

NODE_OBJECT_STORE = 100 * 1024 * 1024
NOOP_JOBS = 40


def figures(
    count: int, seconds: float, slots: int, outcomes: list[Outcome], submitted: int, began: float = 0.0
) -> dict:
    """Throughput and per-instance overhead of one run (`began`: wall clock at its start)."""
    busy = [o.timing["finished"] - o.timing["started"] for o in outcomes if "finished" in o.timing]
    mean_busy = statistics.fmean(busy) if busy else 0.0
    out = {
        "seconds": round(seconds, 2),
        "instances_per_minute": round(count * 60 / seconds, 1),
        "submitted": submitted,
        "mean_seconds_in_job": round(mean_busy, 2),
        "overhead_s_per_instance": round(seconds * slots / max(count, 1) - mean_busy, 2),
    }
    remote = [o.timing for o in outcomes if "delivered" in o.timing]
    if remote and began:
        out["startup_seconds"] = round(min(t["started"] for t in remote) - began, 2)
        ray_ms = [(t["started"] - t["submitted"] + t["delivered"] - t["finished"]) * 1000 for t in remote]
        out["scheduling_ms_per_instance"] = round(statistics.median(ray_ms), 1)
    return out


def _noop(ctx: JobContext) -> None:
    return None


def noop_overhead(executor: Executor, root: Path) -> float:
    """Milliseconds per trivial job through `executor` (after one warm-up job)."""
    done: list[Outcome] = []
    hooks = RunHooks(on_done=done.append)
    executor.run([Job("warm", _noop)], root, hooks)
    start = time.perf_counter()
    executor.run([Job(f"noop-{i}", _noop) for i in range(NOOP_JOBS)], root, hooks)
    return round((time.perf_counter() - start) * 1000 / NOOP_JOBS, 1)


def ray_figures(
    run: Callable[[Executor, str], tuple[float, dict, list[Outcome]]], count: int, root: Path
) -> dict:
    """Run the batch (`run(executor, label)`) on one, then two Ray worker nodes of a cluster started here."""
    import ray
    from ray.cluster_utils import Cluster

    from sweagent.executors.ray_cluster import RayExecutor

    node = {"object_store_memory": NODE_OBJECT_STORE, "include_dashboard": False}
    started = time.perf_counter()
    cluster = Cluster(initialize_head=True, head_node_args={**node, "num_cpus": 0, "node_name": "bench-head"})
    out: dict[str, Any] = {}
    try:
        for nodes in (1, 2):
            cluster.add_node(**node, num_cpus=1, node_name=f"bench-worker-{nodes}")
            if nodes == 1:
                out["cluster_start_seconds"] = round(time.perf_counter() - started, 1)
            began = time.time()
            with RayExecutor(address=cluster.address, memory_per_instance=None) as executor:
                seconds, statuses, outcomes = run(executor, f"ray-{nodes}")
                seconds = time.time() - began  # connecting is part of a user's run
                submitted = sum(s == "submitted" for s in statuses.values())
                out[f"nodes_{nodes}"] = figures(count, seconds, nodes, outcomes, submitted, began)
                if nodes == 1:
                    out["noop_ms_per_job"] = noop_overhead(executor, root / "noop")
            if ray.is_initialized():
                ray.shutdown()
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
    return out
