"""`StaticPatchReward`: the static reward (`verifiers.static.static_score`) of a whole candidate patch.

The touched Python files are read before (at the base commit) and after the patch through git alone:
the patch is applied to a throw-away index (`GIT_INDEX_FILE`, `git apply --cached`), so the working
tree, and any state a verifier left the sandbox in, is never touched. A `RewardModel`; results are
cached like execution checks, by (repository state, "static").
"""

from __future__ import annotations

import shlex
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from verifiers.cache import ResultCache, state_hash
from verifiers.diffs import PatchParseError, touched_files
from verifiers.static import static_score
from verifiers.types import Candidate, Score, Verdict

if TYPE_CHECKING:
    from sweagent.sandbox.base import Sandbox
    from sweagent.task import Task

SOURCE = "static"


class StaticPatchReward:
    """pyflakes diagnostics of the touched files, base vs patched, as a reward in [0, 1] (0.5 = unchanged)."""

    def __init__(self, sandbox: Sandbox, cache: ResultCache | None = None, timeout: float = 60.0) -> None:
        self.sandbox = sandbox
        self.cache = cache if cache is not None else ResultCache()
        self.timeout = timeout
        self._env = str(getattr(sandbox, "image", "") or "") + "|" + sandbox.workdir

    def score(self, task: Task, candidate: Candidate, evidence: Sequence[Verdict] | None = None) -> Score:
        try:
            files = [f.path for f in touched_files(candidate.patch) if f.path.endswith(".py")]
        except PatchParseError as exc:
            return Score.failure(SOURCE, f"no static reward: {exc}")
        if not files:
            return Score(value=0.5, source=SOURCE, explanation="the patch touches no Python file")
        state = state_hash(self.sandbox.base_commit, candidate.patch, self._env)
        value, _ = self.cache.get_or_compute(state, SOURCE, lambda: self._contents(candidate.patch, files))
        if value is None:
            return Score.failure(SOURCE, "the sandbox failed while reading the touched files")
        if "error" in value:
            return Score.failure(SOURCE, value["error"])
        return static_score(value["before"], value["after"])

    def score_partial(self, task: Task, trajectory_prefix: Any, stage: str) -> Score:
        return Score.failure(SOURCE, "the patch's static reward scores final patches only")

    def _contents(self, patch: str, files: list[str]) -> dict[str, Any] | None:
        """{before: {path: text|None}, after: {...}} or {error: ...}; None when the sandbox failed."""
        root = f"{str(getattr(self.sandbox, 'scratch', '') or '/tmp').rstrip('/')}/swe-ttc-static-{uuid.uuid4().hex[:8]}"
        q = shlex.quote
        base = q(self.sandbox.base_commit)
        self.sandbox.write_file(f"{root}/patch.diff", patch if patch.endswith("\n") else patch + "\n")
        lines = [
            f"cd {q(self.sandbox.workdir)} || exit 1",
            f"export GIT_INDEX_FILE={q(root + '/index')}",
            f"git read-tree {base} || exit 1",
            f"git apply --cached {q(root + '/patch.diff')} || {{ echo APPLY-FAILED; exit 0; }}",
        ]
        for i, path in enumerate(files):
            lines.append(f"git show {base}:{q(path)} > {root}/b{i} 2>/dev/null || echo MISSING b{i}")
            lines.append(f"git show :{q(path)} > {root}/a{i} 2>/dev/null || echo MISSING a{i}")
        script = "(\n" + "\n".join(lines) + "\n)"  # a subshell: the sandbox's shell keeps its state
        try:
            result = self.sandbox.run(script, timeout=self.timeout)
            if result.timed_out or result.exit_code != 0:
                return None
            if "APPLY-FAILED" in result.output:
                return {"error": "no static reward: the patch does not apply to the base commit"}
            missing = {line.split()[1] for line in result.output.splitlines() if line.startswith("MISSING ")}
            before = {
                p: None if f"b{i}" in missing else self.sandbox.read_file(f"{root}/b{i}")
                for i, p in enumerate(files)
            }
            after = {
                p: None if f"a{i}" in missing else self.sandbox.read_file(f"{root}/a{i}")
                for i, p in enumerate(files)
            }
        except (OSError, FileNotFoundError):
            return None
        finally:
            self.sandbox.run(f"rm -rf {q(root)}", timeout=self.timeout)
        return {"before": before, "after": after}
