"""The state a sandbox starts from, and which new files may enter a patch.

SWE-bench's images keep what their set-up left in the repository: an untracked `build/` and
`*.egg-info` from `pip install .`, tracked config files edited before installing, changed file
modes. A sandbox records that state once, when it starts, as a `Baseline`; every diff, snapshot
and restore is measured against it, so a patch holds the agent's work and nothing else and applies
with plain `git apply` in a fresh container of the same image.

- `tree`: a git tree of the starting work tree (tracked files with their content and modes as
  found), written through a temporary index; the repository's own index and HEAD are untouched.
  It is a content hash, so every sandbox started from the same image and commit has the same one.
- `untracked`: what was untracked (or ignored) at start, as `git ls-files --others --directory`
  lists it (a folder with no tracked file is one entry ending in `/`). Git is handed these paths
  as an excludes file, so it never reads them again: they stay out of every patch and snapshot,
  and a restore leaves them alone.

A new file (one the start tree lacks) is still left out of a patch when it is
- build output: a name on its path matches `BUILD_NOISE` (`__pycache__`, `*.pyc`, `*.egg-info`, ...),
  or it lies in a new top-level `build/` or `dist/` folder;
- one of the agent's scratch files: its top-level name matches one of the agent's scratch globs
  (e.g. `reproduce_issue.py` at the repository root, or anything in a new top-level `scratch/`).
  Only the top level counts, so `pkg/debug_utils/x.py` or `pkg/scratch_space.py` stay in the patch.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

# Names of build output, matched against every name on a new file's path. Written into the
# excludes file as they are (a gitignore pattern without a slash matches at any depth).
BUILD_NOISE = ("__pycache__", "*.pyc", "*.pyo", ".pytest_cache", "*.egg-info", ".eggs")
# Build output folders at the repository root (only when the start tree has no such folder).
BUILD_FOLDERS = ("build", "dist")
SUMMARY_LIMIT = 200  # paths listed per kind in a trajectory (the counts are always complete)
_GITIGNORE_SPECIAL = set("\\*?[")


def is_build_noise(path: str) -> bool:
    """True when any name on `path` is build output (a bytecode file, an egg-info folder, ...)."""
    return any(fnmatch.fnmatchcase(part, glob) for part in path.strip("/").split("/") for glob in BUILD_NOISE)


def exclude_pattern(path: str) -> str:
    """A gitignore pattern matching exactly `path` (relative to the repository root; a trailing `/`
    marks a folder): anchored with a leading `/`, wildcards and special first characters escaped."""
    folder = path.endswith("/")
    body = path.rstrip("/")
    escaped = "".join("\\" + ch if ch in _GITIGNORE_SPECIAL else ch for ch in body)
    stripped = escaped.rstrip(" ")
    escaped = stripped + "\\ " * (len(escaped) - len(stripped))  # trailing spaces count only when escaped
    return "/" + escaped + ("/" if folder else "")


def exclude_file_text(untracked: Iterable[str], noise: bool = True) -> bytes:
    """An excludes file: build noise (when `noise`), then the start's untracked paths (those build
    noise already covers left out). Paths holding a newline cannot be written as a pattern;
    `Baseline.covers` keeps them out of a patch all the same."""
    lines = ["# written by swe-ttc when the sandbox started", *(BUILD_NOISE if noise else ())]
    lines += [exclude_pattern(p) for p in untracked if "\n" not in p and not (noise and is_build_noise(p))]
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def parse_raw_diff(raw: bytes) -> dict[str, list[str]]:
    """`git diff-tree -r -z --no-renames` output → paths by kind: modified, mode_changed, added, deleted.

    A file whose content and mode both changed is listed under both `modified` and `mode_changed`."""
    changes: dict[str, list[str]] = {"modified": [], "mode_changed": [], "added": [], "deleted": []}
    fields = raw.split(b"\0")
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        parts = meta.lstrip(b":").split()
        if len(parts) < 5:
            continue
        old_mode, new_mode, old_sha, new_sha, status = parts[:5]
        name = _decode(path)
        kind = status[:1]
        if kind == b"A":
            changes["added"].append(name)
        elif kind == b"D":
            changes["deleted"].append(name)
        else:
            if old_sha != new_sha:
                changes["modified"].append(name)
            if old_mode != new_mode:
                changes["mode_changed"].append(name)
    return changes


@dataclass(frozen=True)
class Baseline:
    """What the repository held when the sandbox started (see the module docstring)."""

    tree: str
    head: str
    untracked: tuple[str, ...] = ()
    top_level: frozenset[str] = frozenset()
    changes: dict[str, list[str]] = field(default_factory=dict)

    @cached_property
    def _untracked_set(self) -> frozenset[str]:
        return frozenset(self.untracked)

    def covers(self, path: str) -> bool:
        """True when `path` was untracked at start, or lies in a folder that was."""
        entries = self._untracked_set
        if path in entries:
            return True
        parts = path.split("/")
        return any("/".join(parts[:i]) + "/" in entries for i in range(1, len(parts)))

    def is_new_top_level(self, name: str) -> bool:
        return name not in self.top_level

    def left_out(self, path: str, scratch_globs: Iterable[str] = ()) -> bool:
        """Should the new file `path` stay out of a patch? (Build output, the start's untracked
        files, and the agent's own scratch files at the top level; see the module docstring.)"""
        if self.covers(path) or is_build_noise(path):
            return True
        top, _, rest = path.partition("/")
        if rest and top in BUILD_FOLDERS and self.is_new_top_level(top):
            return True
        if rest and not self.is_new_top_level(top):
            return False  # a new file in a folder the repository already had: the agent's work
        return any(fnmatch.fnmatchcase(top, glob) for glob in scratch_globs)

    def summary(self, limit: int = SUMMARY_LIMIT) -> dict:
        """What a trajectory records: the start tree, and what was already changed or untracked
        (against the base commit), each list capped at `limit` with its full count beside it."""
        kinds = {**{k: list(v) for k, v in self.changes.items()}, "untracked": list(self.untracked)}
        out: dict = {"tree": self.tree, "head": self.head}
        out.update({kind: paths[:limit] for kind, paths in kinds.items()})
        out["counts"] = {kind: len(paths) for kind, paths in kinds.items()}
        return out

    @property
    def is_clean(self) -> bool:
        """True when the start state is exactly the base commit (nothing changed, nothing untracked)."""
        return not self.untracked and not any(self.changes.values())
