"""Loading SWE-bench-format datasets (Hub names or local files) and selecting instances.

A dataset is `verified`, `lite`, `full` (or any Hub id `owner/name`), loaded with `datasets`, or a
local `.jsonl`/`.json`/`.parquet` file. Rows that lack a required field are reported one line each
and left out, so one bad row never stops a run.
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import ValidationError

from sweagent.errors import UserError
from sweagent.swebench.predictions import is_safe_id
from sweagent.task import Task

ALIASES = {
    "verified": "SWE-bench/SWE-bench_Verified",
    "lite": "SWE-bench/SWE-bench_Lite",
    "full": "SWE-bench/SWE-bench",
}
LOCAL_SUFFIXES = (".jsonl", ".json", ".parquet")
REQUIRED_FIELDS = ("instance_id", "repo", "base_commit", "problem_statement")
OFFLINE_COPY = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "swebench_verified.jsonl"


@dataclass
class Dataset:
    """Rows of one dataset split plus a line for every row that was left out."""

    source: str
    rows: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)
    bad_ids: dict[str, str] = field(default_factory=dict)

    @property
    def by_id(self) -> dict[str, dict[str, Any]]:
        return {row["instance_id"]: row for row in self.rows}

    def tasks(self) -> list[Task]:
        return [Task.from_swebench(row) for row in self.rows]


def _offline_hint() -> str:
    shown = (
        os.path.relpath(OFFLINE_COPY) if OFFLINE_COPY.exists() else "../shared/data/swebench_verified.jsonl"
    )
    return f"pass a local .jsonl/.json/.parquet file instead, e.g. --dataset {shown}"


def _hub_reachable() -> bool:
    from huggingface_hub import constants

    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


def _load_hub(name: str, split: str) -> list[dict[str, Any]]:
    """Load from the Hub; offline, only the local `datasets` cache is tried (no retry storm)."""
    import datasets
    from huggingface_hub import constants

    offline = not _hub_reachable()
    saved = (datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE)
    if offline:
        datasets.config.HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE = True
    try:
        return [dict(row) for row in datasets.load_dataset(name, split=split)]
    except ValueError as exc:
        if "split" in str(exc).lower():
            raise UserError(f"dataset {name} has no split `{split}`: pass --split with one it has") from None
        raise UserError(
            f"cannot load dataset {name} from the Hugging Face Hub ({exc}): {_offline_hint()}"
        ) from None
    except Exception as exc:
        why = "offline" if offline else type(exc).__name__
        raise UserError(
            f"cannot load dataset {name} from the Hugging Face Hub ({why}): {_offline_hint()}"
        ) from None
    finally:
        datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE = saved


def _load_local(path: Path) -> list[Any]:
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
        text = path.read_text()
    except OSError as exc:
        raise UserError(f"cannot read dataset file {path}: {exc.strerror or exc}") from None
    except Exception as exc:
        raise UserError(f"dataset file {path} is not a readable parquet file ({exc})") from None
    try:
        if path.suffix == ".jsonl":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"dataset file {path} is not valid JSON (line {exc.lineno}): fix or regenerate it"
        ) from None
    if isinstance(data, dict):
        data = list(data.values()) if all(isinstance(v, dict) for v in data.values()) else [data]
    if not isinstance(data, list):
        raise UserError(f"dataset file {path} must hold a list of rows (or one row per line in .jsonl)")
    return data


def _check_rows(raw: list[Any], source: str) -> Dataset:
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    bad_ids: dict[str, str] = {}
    seen: set[str] = set()
    for i, row in enumerate(raw, start=1):
        label = f"row {i}"
        if not isinstance(row, dict):
            problems.append(f"{label}: not an object, left out")
            continue
        if row.get("instance_id"):
            label = f"{row['instance_id']} (row {i})"
        missing = [f for f in REQUIRED_FIELDS if not row.get(f)]
        why = None
        if missing:
            why = f"missing {', '.join(missing)}"
        elif not is_safe_id(str(row["instance_id"])):
            why = "instance_id is not a plain name (letters, digits, _.+- only)"
        elif row["instance_id"] in seen:
            why = "duplicate instance_id"
        else:
            try:
                Task.from_swebench(row)
            except ValidationError as exc:
                first = exc.errors()[0]
                why = f"field {'.'.join(map(str, first['loc']))}: {first['msg']}"
        if why:
            problems.append(f"{label}: {why}, left out")
            if (
                row.get("instance_id")
                and row["instance_id"] not in seen
                and is_safe_id(str(row["instance_id"]))
            ):
                bad_ids[str(row["instance_id"])] = f"dataset row left out ({why})"
            continue
        seen.add(row["instance_id"])
        rows.append(row)
    if not rows:
        detail = f" ({problems[0]})" if problems else ""
        raise UserError(f"dataset {source} has no usable rows{detail}: check the file's format")
    return Dataset(source=source, rows=rows, problems=problems, bad_ids=bad_ids)


def load_dataset(name: str, split: str = "test") -> Dataset:
    """Load `name` (alias, Hub id or local path) and drop rows lacking required fields."""
    hub = ALIASES.get(name.strip().lower())
    path = Path(name).expanduser()
    if hub is None and (path.suffix in LOCAL_SUFFIXES or path.exists()):
        if not path.exists():
            raise UserError(f"dataset file {path} does not exist: check the path, or use verified/lite/full")
        if path.suffix not in LOCAL_SUFFIXES:
            raise UserError(f"dataset file {path} must end in .jsonl, .json or .parquet")
        return _check_rows(_load_local(path), str(path))
    if hub is None:
        if re.fullmatch(r"[\w.-]+/[\w.-]+", name.strip()):
            hub = name.strip()
        else:
            raise UserError(
                f"unknown dataset `{name}`: use verified, lite, full, a Hub id (owner/name) or a .jsonl/.json/.parquet path"
            )
    return _check_rows(_load_hub(hub, split), f"{hub}[{split}]")


def parse_slice(spec: str) -> slice:
    """`10:20`, `:5`, `5` (first five) or `a:b:c`, as Python slices."""
    parts = spec.split(":")
    try:
        nums = [int(p) if p.strip() else None for p in parts]
    except ValueError:
        raise UserError(f"--slice `{spec}` is not a slice: use START:STOP such as 10:20 or :5") from None
    if len(nums) == 1:
        return slice(nums[0])
    if len(nums) > 3:
        raise UserError(f"--slice `{spec}` has too many parts: use START:STOP[:STEP]")
    return slice(*nums)


def select(
    dataset: Dataset,
    instances: list[str] | None = None,
    filter_regex: str | None = None,
    slice_spec: str | None = None,
    shuffle: bool = False,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Pick rows: named ids and regex first, then a seeded shuffle, then the slice."""
    rows = list(dataset.rows)
    if instances:
        known = dataset.by_id
        unknown = [i for i in instances if i not in known]
        if unknown:
            raise UserError(f"--instances names id(s) not in {dataset.source}: {', '.join(unknown)}")
        wanted = set(instances)
        rows = [r for r in rows if r["instance_id"] in wanted]
    if filter_regex:
        try:
            pattern = re.compile(filter_regex)
        except re.error as exc:
            raise UserError(f"--filter `{filter_regex}` is not a valid regular expression ({exc})") from None
        rows = [r for r in rows if pattern.search(r["instance_id"])]
    if shuffle:
        random.Random(seed).shuffle(rows)
    if slice_spec:
        rows = rows[parse_slice(slice_spec)]
    return rows
