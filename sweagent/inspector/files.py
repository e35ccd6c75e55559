"""Reading run files tolerantly: unknown keys are ignored, a missing or unreadable optional file is `None`.

Trajectories and search trees carry a versioned `format`; a file of another format stops the whole
render with one line that names the file and says what to do, because a page that silently leaves
instances out (or shows them blank) misleads more than no page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from sweagent.errors import UserError
from sweagent.trajectory import FORMAT as TRAJECTORY_FORMAT

TREE_FORMAT = "swe-ttc/search-tree@1"  # search/tree.py; not imported: sweagent must not depend on search
_VERSIONED = re.compile(r"^(?P<kind>.+)@(?P<version>\d+)$")


def read_json(path: Path) -> Any | None:
    """Parsed JSON, or None when the file is missing or not JSON (optional files)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSON Lines file; unreadable lines are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            out.append(item)
    return out


def read_yaml(path: Path) -> Any | None:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None


def format_problem(found: Any, expected: str, what: str) -> str | None:
    """Why a `format` value is not `expected` (None when it is): older, newer, or another kind."""
    if found == expected:
        return None
    want = _VERSIONED.match(expected)
    got = _VERSIONED.match(found) if isinstance(found, str) else None
    if found is None:
        return f'has no "format" key: it was written by another tool or an early swe-ttc, and this swe-ttc reads {expected} files only'
    if want and got and got["kind"] == want["kind"]:
        if int(got["version"]) < int(want["version"]):
            return f"is {found}, an older {what} format than this swe-ttc reads ({expected}): inspect it with the swe-ttc version that wrote it"
        return f"is {found}, a newer {what} format than this swe-ttc reads ({expected}): upgrade swe-ttc"
    return f"has format {found!r}, not a {what} format this swe-ttc reads ({expected})"


def load_versioned(path: Path, expected: str, what: str) -> dict[str, Any]:
    """A JSON object whose `format` is `expected`, or a one-line UserError naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(
            f"cannot read {path} ({exc.strerror or exc}): check the run folder's permissions"
        ) from None
    except ValueError as exc:
        raise UserError(
            f"{path} is not valid JSON ({exc}): the file is damaged; rerun that instance"
        ) from None
    if not isinstance(data, dict):
        raise UserError(f"{path} is not a {what} file (a JSON object is expected)")
    problem = format_problem(data.get("format"), expected, what)
    if problem:
        raise UserError(f"{path} {problem}")
    return data


def load_trajectory(path: Path) -> dict[str, Any]:
    return load_versioned(path, TRAJECTORY_FORMAT, "trajectory")


def load_tree(path: Path) -> dict[str, Any]:
    return load_versioned(path, TREE_FORMAT, "search-tree")


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_float(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def as_int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def cap_text(text: Any, limit: int) -> str:
    """`text` as a string, head and tail kept when longer than `limit` (saying how much was cut)."""
    text = "" if text is None else str(text)
    if limit <= 0 or len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - 2 * half} characters cut; the full text is in the run folder] ...\n{text[-half:]}"
