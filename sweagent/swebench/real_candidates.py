"""Candidate predictions for real instances from several machine-made "systems" (for `bench select`).

    python -m sweagent.swebench.real_candidates OUT_DIR [--dataset tests/fixtures/swebench/real.jsonl]

writes `OUT_DIR/<system>.jsonl` (prediction entries, `model_name_or_path` = the system) for every row of
the dataset. Every patch is made mechanically from the row's gold patch by the rule of its system (no
instance is treated by hand), so the same dataset always gives the same files. A system whose rule does
not apply to a row (nothing to mutate) sends nothing for it.

| system           | rule                                                                                      |
|------------------|-------------------------------------------------------------------------------------------|
| `gold`           | the gold patch as it is                                                                   |
| `gold-retold`    | the same change as another tool writes it (`index` lines, no hunk titles): votes with gold |
| `partial`        | the fix with its last change block (a run of -/+ lines) left out; only when it has two+   |
| `off-by-one`     | the fix with the first whole-number literal of an added code line increased by one        |
| `flip-condition` | the fix with the first comparison or boolean operator of an added code line inverted      |
|                  | (`==`/`!=`, `<`/`>=`, `>`/`<=`, `and`/`or`; `not` dropped)                                 |
| `drop-line`      | the fix without the last added line of its first change block that adds a line and has   |
|                  | two or more lines (dropping a block's only line would just revert it)                     |
| `mutant-twin`    | the first of flip-condition, off-by-one, partial, drop-line that applies, retold: a wrong |
|                  | fix two systems agree on, so votes alone cannot tell it from the right one                |
| `comment-only`   | none of the fix; a comment line added after the first hunk's first code context line     |
| `no-fix`         | prose instead of a diff                                                                   |

Then `swe-ttc bench select --dataset tests/fixtures/swebench/real.jsonl --candidates OUT_DIR/*.jsonl`
measures selection on them. The system names reach the selection only as labels of votes (each source
is one vote); nothing that judges or picks reads them.

"Added code line" skips comments and lines inside or opening/closing a docstring. Whether a candidate
resolves is never assumed here (a mutant may still pass the tests): `swe-ttc eval` decides, and `swe-ttc
bench select` grades every candidate that way.
"""

from __future__ import annotations

import io
import json
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click
from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from sweagent.errors import UserError
from sweagent.io import atomic_write_text

DEFAULT_DATASET = "tests/fixtures/swebench/real.jsonl"
NO_FIX_TEXT = "I looked into this issue but could not find a change that fixes it."
COMMENT = "# reviewed while looking into this issue"
FLIPS = {
    "==": "!=",
    "!=": "==",
    "<": ">=",
    ">": "<=",
    "<=": ">",
    ">=": "<",
    "and": "or",
    "or": "and",
    "not": "",
}


@dataclass
class Hunk:
    source_start: int
    lines: list[tuple[str, str]]  # (" " | "-" | "+" | "\\", text without the newline)


@dataclass
class FileDiff:
    path: str
    hunks: list[Hunk] = field(default_factory=list)


def parse(patch: str) -> list[FileDiff]:
    """The files and hunks of a patch that only modifies files (what mutation needs)."""
    try:
        parsed = PatchSet(patch if patch.endswith("\n") else patch + "\n")
    except UnidiffParseError as exc:
        raise UserError(f"a gold patch is not a unified diff ({exc}): check the dataset") from None
    files = []
    for pf in parsed:
        if (
            pf.is_added_file
            or pf.is_removed_file
            or pf.is_binary_file
            or pf.source_file[2:] != pf.target_file[2:]
        ):
            raise UserError(f"{pf.path}: only patches that modify existing files can be mutated")
        hunks = [Hunk(h.source_start, [(ln.line_type, ln.value.rstrip("\n")) for ln in h]) for h in pf]
        files.append(FileDiff(pf.path, hunks))
    return files


def render(files: list[FileDiff], index_lines: bool = False) -> str:
    """A git-style patch; hunk lengths and target starts recomputed, hunks without a change left out."""
    out = []
    for f in files:
        hunks = [h for h in f.hunks if any(kind in "-+" for kind, _ in h.lines)]
        if not hunks:
            continue
        out.append(f"diff --git a/{f.path} b/{f.path}\n")
        if index_lines:
            out.append("index 1111111..2222222 100644\n")
        out.append(f"--- a/{f.path}\n+++ b/{f.path}\n")
        shift = 0
        for h in hunks:
            old = sum(kind in " -" for kind, _ in h.lines)
            new = sum(kind in " +" for kind, _ in h.lines)
            out.append(f"@@ -{h.source_start},{old} +{h.source_start + shift},{new} @@\n")
            for kind, text in h.lines:
                out.append("\\ No newline at end of file\n" if kind == "\\" else f"{kind}{text}\n")
            shift += new - old
    return "".join(out)


def blocks(files: list[FileDiff]) -> list[tuple[int, int, int, int]]:
    """Change blocks as (file, hunk, first line, end line): maximal runs of -/+ lines."""
    found = []
    for fi, f in enumerate(files):
        for hi, h in enumerate(f.hunks):
            start = None
            for li, (kind, _) in enumerate([*h.lines, (" ", "")]):
                if kind in "-+" and start is None:
                    start = li
                elif kind not in "-+\\" and start is not None:
                    found.append((fi, hi, start, li))
                    start = None
    return found


def revert_block(files: list[FileDiff], block: tuple[int, int, int, int]) -> None:
    fi, hi, start, end = block
    lines = files[fi].hunks[hi].lines
    kept = [(" ", text) for kind, text in lines[start:end] if kind == "-"]
    lines[start:end] = kept


def code_lines(hunk: Hunk) -> list[int]:
    """Indices of the hunk's new-side lines that are code: not comments, not in or around a docstring."""
    found, in_doc = [], False
    for li, (kind, text) in enumerate(hunk.lines):
        if kind not in " +":
            continue
        quotes = text.count('"""') + text.count("'''")
        if in_doc or quotes:
            in_doc = in_doc != (quotes % 2 == 1)
            continue
        if text.strip() and not text.strip().startswith("#"):
            found.append(li)
    return found


def tokens(text: str) -> list[tokenize.TokenInfo]:
    """Tokens of one line (as many as tokenize gives before an unclosed bracket stops it)."""
    out: list[tokenize.TokenInfo] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text.strip() + "\n").readline):
            out.append(tok)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def replace_first_token(files: list[FileDiff], change: Callable[[tokenize.TokenInfo], str | None]) -> bool:
    """Rewrite the first token of an added code line that `change` maps to a new text."""
    for f in files:
        for h in f.hunks:
            for li in code_lines(h):
                kind, text = h.lines[li]
                if kind != "+":
                    continue
                indent = len(text) - len(text.lstrip())
                for tok in tokens(text):
                    new = change(tok)
                    if new is None:
                        continue
                    col, end = indent + tok.start[1], indent + tok.end[1]
                    rest = text[end:].lstrip() if new == "" else text[end:]
                    h.lines[li] = (kind, text[:col] + new + rest)
                    return True
    return False


# ---- the systems' rules (each: gold patch -> patch, or None when it does not apply) ----------------------


def gold(patch: str) -> str | None:
    return patch


def retold(patch: str) -> str | None:
    return render(parse(patch), index_lines=True)


def partial(patch: str) -> str | None:
    files = parse(patch)
    found = blocks(files)
    if len(found) < 2:
        return None
    revert_block(files, found[-1])
    return render(files)


def off_by_one(patch: str) -> str | None:
    files = parse(patch)

    def bump(tok: tokenize.TokenInfo) -> str | None:
        return str(int(tok.string) + 1) if tok.type == tokenize.NUMBER and tok.string.isdigit() else None

    return render(files) if replace_first_token(files, bump) else None


def flip_condition(patch: str) -> str | None:
    files = parse(patch)

    def flip(tok: tokenize.TokenInfo) -> str | None:
        return FLIPS.get(tok.string) if tok.type in (tokenize.OP, tokenize.NAME) else None

    return render(files) if replace_first_token(files, flip) else None


def drop_line(patch: str) -> str | None:
    files = parse(patch)
    for fi, hi, start, end in blocks(files):
        lines = files[fi].hunks[hi].lines
        added = [li for li in range(start, end) if lines[li][0] == "+"]
        if added and len(added) + sum(lines[li][0] == "-" for li in range(start, end)) > 1:
            del lines[added[-1]]
            return render(files)
    return None


def mutant_twin(patch: str) -> str | None:
    for rule in (flip_condition, off_by_one, partial, drop_line):
        mutant = rule(patch)
        if mutant is not None:
            return render(parse(mutant), index_lines=True)
    return None


def comment_only(patch: str) -> str | None:
    files = parse(patch)
    for block in reversed(blocks(files)):
        revert_block(files, block)
    for f in files:
        for h in f.hunks:
            for li in code_lines(h):
                text = h.lines[li][1]
                if not text.rstrip().endswith("\\"):
                    indent = text[: len(text) - len(text.lstrip())]
                    h.lines.insert(li + 1, ("+", indent + COMMENT))
                    return render(files)
    return None


def no_fix(patch: str) -> str | None:
    return NO_FIX_TEXT


SYSTEMS: dict[str, Callable[[str], str | None]] = {
    "gold": gold,
    "gold-retold": retold,
    "partial": partial,
    "off-by-one": off_by_one,
    "flip-condition": flip_condition,
    "drop-line": drop_line,
    "mutant-twin": mutant_twin,
    "comment-only": comment_only,
    "no-fix": no_fix,
}


def candidate_sets(rows: list[dict]) -> dict[str, dict[str, str]]:
    """system -> instance id -> patch (a system whose rule does not apply to a row leaves it out)."""
    sets: dict[str, dict[str, str]] = {name: {} for name in SYSTEMS}
    for row in rows:
        for name, rule in SYSTEMS.items():
            made = rule(row["patch"])
            if made is not None:
                sets[name][row["instance_id"]] = made
    return sets


def read_rows(dataset: str | Path) -> list[dict]:
    path = Path(dataset)
    if not path.is_file():
        raise UserError(f"dataset file {path} not found: pass a .jsonl of SWE-bench rows with --dataset")
    try:
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise UserError(f"{path} is not JSON Lines ({exc}): pass a .jsonl of SWE-bench rows") from None
    if not rows or any(not isinstance(r, dict) or not {"instance_id", "patch"} <= r.keys() for r in rows):
        raise UserError(f"{path}: every line must be a row with `instance_id` and `patch`")
    return rows


def write_candidate_files(out_dir: str | Path, dataset: str | Path = DEFAULT_DATASET) -> list[Path]:
    """Write one `<system>.jsonl` per system; returns their paths in the order of SYSTEMS."""
    out = Path(out_dir)
    paths = []
    for system, patches in candidate_sets(read_rows(dataset)).items():
        path = out / f"{system}.jsonl"
        entries = [
            {"instance_id": iid, "model_name_or_path": system, "model_patch": patch}
            for iid, patch in patches.items()
        ]
        atomic_write_text(path, "".join(json.dumps(e) + "\n" for e in entries))
        paths.append(path)
    return paths


@click.command()
@click.argument("out_dir")
@click.option("--dataset", default=DEFAULT_DATASET, show_default=True, help="JSON Lines of SWE-bench rows")
def main(out_dir: str, dataset: str) -> None:
    """Write machine-made candidate predictions (one .jsonl per system) for every row of DATASET."""
    try:
        paths = write_candidate_files(out_dir, dataset)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    for path in paths:
        click.echo(path)


if __name__ == "__main__":
    main()
