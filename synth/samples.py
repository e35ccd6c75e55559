"""Sample ids and where a synth run keeps things.

Sample k of task `<id>` is run as instance `<id>.s<k>`, so each sample is an ordinary instance to
the batch runner and the grader: its trajectory is `<run>/<id>.s<k>/<id>.s<k>.traj.json`, its
prediction is keyed by the sample id in `preds.json`, and its grading lands in `eval/<id>.s<k>/`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sweagent.errors import UserError

_SAMPLE = re.compile(r"^(?P<task>.+)\.s(?P<k>\d+)$")

TASKS_FILE = "tasks.jsonl"
SETTINGS_FILE = "synth.json"
RESULTS_FILE = "results.jsonl"
STATS_FILE = "stats.json"
EVAL_DIR = "eval"
# The layout and fields of a synth run folder; a folder written under another format is not read.
RUN_FORMAT = "swe-ttc/synth-run@2"


def sample_id(task_id: str, k: int) -> str:
    return f"{task_id}.s{k}"


def split_sample_id(sample: str) -> tuple[str, int]:
    """(task id, sample index) of a sample id; ValueError for anything else."""
    match = _SAMPLE.match(sample)
    if not match:
        raise ValueError(f"{sample!r} is not a sample id (<task id>.s<k>)")
    return match.group("task"), int(match.group("k"))


def require_run_dir(path: str | Path) -> Path:
    """An existing synth run folder, or a one-line UserError."""
    run_dir = Path(path).expanduser()
    if not run_dir.is_dir():
        raise UserError(f"run folder {run_dir} does not exist: pass the folder `swe-ttc synth run` wrote")
    if not (run_dir / RESULTS_FILE).is_file():
        raise UserError(
            f"{run_dir} holds no {RESULTS_FILE}: it is not a finished synth run (rerun `swe-ttc synth run`)"
        )
    check_run_format(run_dir)
    return run_dir


def check_run_format(run_dir: Path) -> None:
    """A one-line UserError when `run_dir` was written by a version of swe-ttc with another layout."""
    settings = run_dir / SETTINGS_FILE
    if not settings.is_file():
        if (run_dir / RESULTS_FILE).is_file():
            raise UserError(
                f"{run_dir} has no {SETTINGS_FILE}: it was written by another version of swe-ttc; "
                "run `swe-ttc synth run` again with a new --run-id"
            )
        return
    try:
        found = json.loads(settings.read_text()).get("format")
    except (OSError, ValueError, AttributeError):
        found = "unreadable"
    if found != RUN_FORMAT:
        raise UserError(
            f"{run_dir} was written by another version of swe-ttc (format {found or 'unversioned'}, this "
            f"version reads {RUN_FORMAT}): run `swe-ttc synth run` again with a new --run-id; the "
            "folder is left as it is"
        )
