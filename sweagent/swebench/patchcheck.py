"""Checks on a predicted patch before it goes near a container: each failure is one line.

Only what can never apply (or must never apply) is refused here: content-less binary diffs and
paths that leave the repository. Everything else is left to `git apply` and `patch`, as the
official harness does.
"""

from __future__ import annotations

import posixpath
import re

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

BINARY_WITHOUT_DATA = re.compile(r"^Binary files (.+) and (.+) differ$", re.M)


def _outside(path: str) -> bool:
    if path in ("/dev/null", ""):
        return False
    for prefix in ("a/", "b/"):
        if path.startswith(prefix):
            path = path[len(prefix) :]
            break
    if path.startswith("/"):
        return True
    return ".." in posixpath.normpath(path).split("/") or ".." in path.split("/")


def check_patch(patch: str | None) -> str | None:
    """None when the patch may be applied; otherwise why not, in one line."""
    if patch is None or not patch.strip():
        return "empty patch: nothing to apply"
    match = BINARY_WITHOUT_DATA.search(patch)
    if match:
        return (
            f"patch has a binary diff without content ({match.group(0)[:120]}): "
            "regenerate it with `git diff --binary` or leave binary files out"
        )
    try:
        files = PatchSet(patch)
    except UnidiffParseError:
        return None  # malformed but maybe still appliable with fuzz: the apply chain decides
    for patched in files:
        for path in (patched.source_file, patched.target_file):
            if path and _outside(path):
                return (
                    f"patch touches a path outside the repository ({path}): patches must stay inside /testbed"
                )
    if not len(files):
        return "patch holds no file changes: not a unified diff"
    return None
