"""Files that change together, from the git history up to a commit (never after it).

A fix often touches two files that always move together (a class and its serializer, a C extension and
its wrapper). When the localiser's top file usually co-changes with another, the partner is surfaced
(`fusion.py` adds it as the `cochange` signal at the rank of the file it partners). Counts come from the
commits reachable from the base commit (the base and its ancestors), so nothing after the base (where a
task's fix lives) can reach them. Commits touching many files (merges, reformatting, releases) say
nothing about coupling and are left out.
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from sweagent.localize.files import SOURCE, classify


@dataclass
class CoChange:
    """Co-change partners per path: (partner, P(partner changes | path changes), commits together)."""

    commits: int = 0  # commits read
    usable: int = 0  # commits small enough to count
    partners: dict[str, list[tuple[str, float, int]]] = field(default_factory=dict)

    def of(self, path: str) -> list[tuple[str, float, int]]:
        return self.partners.get(path, [])


class HistoryReader:
    """`git log` of one commit's ancestry, started at once so it runs while the index is built."""

    def __init__(self, repo: str | os.PathLike[str], sha: str, max_commits: int) -> None:
        self._proc = subprocess.Popen(
            ["git", "-C", str(Path(repo)), "log", "--no-merges", "--no-renames", "--name-only"]
            + ["--format=%x00", f"-n{max_commits}", sha, "--"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def result(
        self, max_files: int = 20, min_support: int = 3, min_confidence: float = 0.3, keep: int = 3
    ) -> CoChange:
        out, _ = self._proc.communicate()
        if self._proc.returncode != 0:
            return CoChange()
        changes = [
            [p for p in block.decode("utf-8", "surrogateescape").split("\n") if p]
            for block in out.split(b"\0")[1:]
        ]
        return count_pairs(changes, max_files, min_support, min_confidence, keep)


def count_pairs(
    changes: list[list[str]], max_files: int, min_support: int, min_confidence: float, keep: int
) -> CoChange:
    """Partners from a list of commits' changed paths (source files only)."""
    singles: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    usable = 0
    for paths in changes:
        sources = sorted({p for p in paths if classify(p) == SOURCE})
        if not sources or len(paths) > max_files:
            continue
        usable += 1
        singles.update(sources)
        pairs.update(combinations(sources, 2))
    partners: dict[str, list[tuple[str, float, int]]] = {}
    for (a, b), together in pairs.items():
        if together < min_support:
            continue
        for x, y in ((a, b), (b, a)):
            confidence = together / singles[x]
            if confidence >= min_confidence:
                partners.setdefault(x, []).append((y, round(confidence, 3), together))
    for found in partners.values():
        found.sort(key=lambda e: (-e[1], -e[2], e[0]))
        del found[keep:]
    return CoChange(commits=len(changes), usable=usable, partners=partners)
