"""Helpers for SWE-bench I/O tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sweagent.cli import main


def run_cli(args: list[str]) -> int:
    """Run `swe-ttc ARGS` in-process; returns the exit code (0 when it returned normally)."""
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def our_containers(docker_client, **labels: str) -> list:
    """Containers carrying the project's label (and `labels`), running or not."""
    filters = {"label": ["swe-ttc=1", *(f"{k}={v}" for k, v in labels.items())]}
    return docker_client.containers.list(all=True, filters=filters, ignore_removed=True)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())
