"""Candidate predictions for the fixture dataset from three made-up systems (for `select` tests and demos).

    python -m sweagent.swebench.fixture_candidates OUT_DIR

writes `OUT_DIR/system-a/preds.json` (an object keyed by id, as `batch` writes), `OUT_DIR/system-b.json`
(a JSON list) and `OUT_DIR/system-c.jsonl` (JSON Lines, two entries for one instance). Per instance:

| instance  | system-a                 | system-b                          | system-c                            |
|-----------|--------------------------|-----------------------------------|-------------------------------------|
| calc      | partial fix (mean only)  | fix that breaks a visible test    | prose instead of a diff; empty      |
| textkit   | the reference fix        | fix that breaks a visible test    | the fix on a line the base lacks    |
| inventory | the reference fix        | fix that breaks a hidden test only | system-a's fix with an `index` line |

So calc has no correct candidate, textkit's right fix is the only one passing the visible tests, and on
inventory only votes (system-a and system-c submit the same change) tell the right fix from the wrong one.
"""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path

from sweagent.io import atomic_write_json, atomic_write_text
from sweagent.swebench.fixture_tasks import CALC, CALC_OPS, INVENTORY_TASK, SLUG_TASK, FixtureTask


def file_diff(path: str, before: str, after: str, context: int = 3) -> str:
    """A git-style diff of one file."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}", n=context
    )
    return f"diff --git a/{path} b/{path}\n" + "".join(lines)


def task_diff(task: FixtureTask, changes: dict[str, str], context: int = 3) -> str:
    return "".join(file_diff(p, task.files[p], changes[p], context) for p in sorted(changes))


def drifted(patch: str) -> str:
    """The same change written against a line the base does not have: no apply method takes it."""
    out, done = [], False
    for line in patch.splitlines(keepends=True):
        if not done and line.startswith("-") and not line.startswith("---") and line.strip("-\n"):
            line, done = line.rstrip("\n") + "  # drifted\n", True
        out.append(line)
    return "".join(out)


def with_index_line(patch: str) -> str:
    """The same patch as another tool writes it (an `index` header line): the same change."""
    return patch.replace("\n--- a/", "\nindex 1111111..2222222 100644\n--- a/", 1)


def candidate_sets() -> dict[str, dict[str, list[str]]]:
    """system -> instance id -> patches (in order)."""
    calc_partial = {
        "calc/ops.py": CALC_OPS.replace(
            "return divide(sum(values), len(values))", "return sum(values) / len(values)"
        )
    }
    return {
        "system-a": {
            CALC.instance_id: [task_diff(CALC, calc_partial)],
            SLUG_TASK.instance_id: [task_diff(SLUG_TASK, SLUG_TASK.fix)],
            INVENTORY_TASK.instance_id: [task_diff(INVENTORY_TASK, INVENTORY_TASK.fix)],
        },
        "system-b": {
            CALC.instance_id: [task_diff(CALC, CALC.breaking_fix)],
            SLUG_TASK.instance_id: [task_diff(SLUG_TASK, SLUG_TASK.breaking_fix)],
            INVENTORY_TASK.instance_id: [task_diff(INVENTORY_TASK, INVENTORY_TASK.breaking_fix)],
        },
        "system-c": {
            CALC.instance_id: ["I could not find a fix for this issue.", ""],
            SLUG_TASK.instance_id: [drifted(task_diff(SLUG_TASK, SLUG_TASK.fix))],
            INVENTORY_TASK.instance_id: [with_index_line(task_diff(INVENTORY_TASK, INVENTORY_TASK.fix))],
        },
    }


def write_candidate_files(out_dir: str | Path) -> list[Path]:
    """Write the three systems' files in three formats; returns their paths (a, b, c)."""
    out = Path(out_dir)
    sets = candidate_sets()

    def preds(system: str) -> list[dict[str, str]]:
        return [
            {"instance_id": iid, "model_name_or_path": system, "model_patch": patch}
            for iid, patches in sets[system].items()
            for patch in patches
        ]

    a = out / "system-a" / "preds.json"
    atomic_write_json(a, {p["instance_id"]: p for p in preds("system-a")})
    b = out / "system-b.json"
    atomic_write_json(b, preds("system-b"))
    c = out / "system-c.jsonl"
    atomic_write_text(c, "".join(json.dumps(p) + "\n" for p in preds("system-c")))
    return [a, b, c]


if __name__ == "__main__":
    for path in write_candidate_files(sys.argv[1] if len(sys.argv) > 1 else "fixture-candidates"):
        print(path)
