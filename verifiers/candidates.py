"""Candidate patches from many systems' prediction files, pooled per instance.

Any predictions file `eval` reads works (a `preds.json` object, a JSON list, JSON Lines; an instance
may appear several times in one file). Each entry is a `Submission`: which file, which system
(`model_name_or_path`, or the file's name when the entry does not say), which entry.

Submissions of one instance whose patches make the same change (`patch_identity`: same files, same
hunks at the same places, same lines; headers such as `index` lines and hunk titles ignored) become
one `Candidate`, judged once; its `metadata["sources"]` lists every submission behind it, and each
source is one vote in selection.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from sweagent.errors import UserError
from sweagent.swebench.predictions import read_prediction_entries
from verifiers.diffs import PatchParseError, parse_patch
from verifiers.types import Candidate

EMPTY_IDENTITY = "empty"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]+")


class Submission(BaseModel):
    """One entry of one predictions file."""

    model_config = ConfigDict(extra="forbid")

    instance_id: str
    patch: str
    system: str = Field(description="model_name_or_path, or the file's stem when the entry gives none")
    file: str
    entry: str = Field(description="where in the file: 'line 3', 'key django__django-1', 'entry 2'")

    def source(self) -> dict[str, str]:
        return {"system": self.system, "file": self.file, "entry": self.entry}


class CandidatePool(BaseModel):
    """One instance's distinct candidates (in first-seen order) and every submission behind them."""

    model_config = ConfigDict(extra="forbid")

    instance_id: str
    candidates: list[Candidate]
    submissions: list[Submission]

    def fingerprint(self) -> str:
        """Changes when a candidate or one of its sources does (a resumed run judges such pools again)."""
        digest = hashlib.sha256()
        for cand in self.candidates:
            digest.update(cand.metadata["identity"].encode())
            for src in cand.metadata["sources"]:
                digest.update(f"\0{src['system']}\0{src['file']}\0{src['entry']}".encode())
            digest.update(b"\1")
        return digest.hexdigest()[:16]


def patch_identity(patch: str | None) -> str:
    """A short id that is equal exactly when two patches make the same change to the same base.

    Compares files (paths, created/deleted) and hunks (position and every line, context included)
    and ignores what does not change the result: `index`/mode header lines, hunk titles, CRLF line
    ends, a missing final newline of the patch text. A text that is not a unified diff is compared
    as text. An empty patch is `empty`.
    """
    text = (patch or "").replace("\r\n", "\n")
    if not text.strip():
        return EMPTY_IDENTITY
    parts: list[str] = []
    try:
        parsed = parse_patch(text if text.endswith("\n") else text + "\n")
    except PatchParseError:
        parts = ["raw", text.strip()]
    else:
        for pf in sorted(parsed, key=lambda f: (f.source_file, f.target_file)):
            kind = "new" if pf.is_added_file else "deleted" if pf.is_removed_file else "changed"
            parts.append(f"F {kind} {pf.source_file} -> {pf.target_file}")
            for hunk in pf:
                parts.append(f"@ {hunk.source_start},{hunk.source_length} {hunk.target_length}")
                parts.extend(line.line_type + line.value.rstrip("\n") for line in hunk)
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def system_of(prediction: dict, path: Path) -> str:
    name = str(prediction.get("model_name_or_path") or "").strip()
    return path.stem if name in ("", "unknown") else name


def read_submissions(paths: Sequence[str | Path]) -> list[Submission]:
    """Every entry of every file, in order; a file that is not predictions is one UserError."""
    if not paths:
        raise UserError("no candidates: pass one or more predictions files with --candidates")
    seen: set[Path] = set()
    out: list[Submission] = []
    for raw in paths:
        path = Path(raw)
        key = path.resolve()
        if key in seen:
            raise UserError(f"candidates file {path} is given twice: pass each file once")
        seen.add(key)
        for where, pred in read_prediction_entries(path):
            out.append(
                Submission(
                    instance_id=pred["instance_id"],
                    patch=pred["model_patch"] or "",
                    system=system_of(pred, path),
                    file=str(path),
                    entry=where,
                )
            )
    return out


def _slug(text: str, limit: int = 32) -> str:
    return _UNSAFE.sub("-", text).strip("-.")[:limit] or "candidate"


def pool(instance_id: str, submissions: Iterable[Submission]) -> CandidatePool:
    """One instance's submissions, de-duplicated by `patch_identity` (first-seen order kept)."""
    subs = [s for s in submissions if s.instance_id == instance_id]
    by_identity: dict[str, Candidate] = {}
    used_ids: set[str] = set()
    for sub in subs:
        identity = patch_identity(sub.patch)
        cand = by_identity.get(identity)
        if cand is None:
            cid = f"{_slug(sub.system)}-{identity[:6]}"
            n = 2
            while cid in used_ids:
                cid, n = f"{_slug(sub.system)}-{identity[:6]}-{n}", n + 1
            used_ids.add(cid)
            cand = Candidate(id=cid, patch=sub.patch, metadata={"identity": identity, "sources": []})
            by_identity[identity] = cand
        cand.metadata["sources"].append(sub.source())
    return CandidatePool(instance_id=instance_id, candidates=list(by_identity.values()), submissions=subs)


def pool_all(submissions: Sequence[Submission]) -> dict[str, CandidatePool]:
    """instance_id -> its pool, for every instance any file names (sorted by id)."""
    ids = sorted({s.instance_id for s in submissions})
    by_id: dict[str, list[Submission]] = {i: [] for i in ids}
    for sub in submissions:
        by_id[sub.instance_id].append(sub)
    return {i: pool(i, by_id[i]) for i in ids}


def load_pools(paths: Sequence[str | Path]) -> dict[str, CandidatePool]:
    """Read candidate files and pool them per instance."""
    return pool_all(read_submissions(paths))
