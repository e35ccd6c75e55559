"""Helpers for the executor tests: more instances from the fixture rows, the CLI, where processes run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sweagent.swebench.images import instance_image
from sweagent.task import Task
from tests.swebench.util import run_cli, write_jsonl

QUICK = ["--agent.localize_hint", "false"]


def copies(rows: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """`n` copies of each fixture row under ids `<id>.c<k>`, each pointing at the original's image."""
    out = []
    for k in range(n):
        for row in rows:
            image = instance_image(Task.from_swebench(row))
            out.append({**row, "instance_id": f"{row['instance_id']}.c{k}", "image": image})
    return out


def dataset(path: Path, rows: list[dict[str, Any]]) -> Path:
    return write_jsonl(path, rows)


def ray_flags(cluster: Any, *extra: str) -> list[str]:
    return ["--executor", "ray", "--ray-address", cluster.address, *extra]


def batch(data: Path, out: Path, run_id: str, model: str, *extra: str) -> int:
    args = ["batch", "--dataset", str(data), "--model", model, "--output-dir", str(out), "--run-id", run_id]
    return run_cli([*args, *QUICK, *extra])


def statuses(run_dir: Path) -> dict[str, str]:
    doc = yaml.safe_load((run_dir / "exit_statuses.yaml").read_text())
    return {iid: status for status, ids in doc["instances_by_exit_status"].items() for iid in ids}


def exit_doc(run_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((run_dir / "exit_statuses.yaml").read_text())


def parent_pid(pid: int) -> int:
    """The parent of `pid` (0 once it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def raylet_pid(node: Any) -> int:
    """The raylet process of a node started with `ray.cluster_utils.Cluster`."""
    return node.all_processes["raylet"][0].process.pid


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and parent_pid(int(entry.name)) == pid:
            found.append(int(entry.name))
    return found
