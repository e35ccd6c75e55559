"""What a select run works on: the candidate pools of the chosen instances and their dataset rows.

Instances are the ones the candidate files name (sorted), narrowed by `--instances`, `--filter`,
`--shuffle`/`--seed` and `--slice` as `batch` narrows a dataset. An instance the dataset lacks stays
selected and is reported as an error by the run, so one stray id never stops the others.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sweagent.errors import UserError
from sweagent.swebench.dataset import Dataset, load_dataset, select
from sweagent.task import Task
from verifiers.candidates import CandidatePool, load_pools
from verifiers.select_config import SelectInputs


@dataclass
class LoadedInputs:
    """Full tasks (the run strips them to `task.public()`; only grading may use the rest)."""

    tasks: dict[str, Task]
    pools: dict[str, CandidatePool]
    source: str
    missing: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def pick_ids(ids: list[str], inputs: SelectInputs) -> list[str]:
    """The instance ids to work on, narrowed like `batch` narrows a dataset."""
    named = Dataset(source="the candidates files", rows=[{"instance_id": i} for i in sorted(ids)])
    rows = select(named, inputs.instances, inputs.filter, inputs.slice, inputs.shuffle, inputs.seed)
    return [r["instance_id"] for r in rows]


def load_inputs(inputs: SelectInputs) -> LoadedInputs:
    """Read the candidates (bad files: one UserError), pick instances, load their dataset rows."""
    pools = load_pools(inputs.candidates)
    ids = pick_ids(list(pools), inputs)
    if not ids:
        raise UserError(
            "no instances selected from the candidates files: loosen --filter/--slice/--instances"
        )
    dataset = load_dataset(inputs.dataset, inputs.split)
    wanted = set(ids)
    tasks = {t.instance_id: t for t in dataset.tasks() if t.instance_id in wanted}
    missing = {i: dataset.bad_ids[i] for i in ids if i in dataset.bad_ids}
    return LoadedInputs(
        tasks=tasks,
        pools={i: pools[i] for i in ids},
        source=dataset.source,
        missing=missing,
        problems=list(dataset.problems),
    )


def default_run_id(prefix: str, inputs: SelectInputs) -> str:
    """Deterministic for the same dataset and candidate files, so rerunning a command resumes it."""
    from sweagent.commands.batch import dataset_label, slug

    files = "\0".join(sorted(str(Path(c).resolve()) for c in inputs.candidates))
    digest = hashlib.sha256(files.encode()).hexdigest()[:8]
    return f"{prefix}__{slug(dataset_label(inputs.dataset, inputs.split))}__{digest}"
