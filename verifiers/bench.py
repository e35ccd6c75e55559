"""`swe-ttc bench verify`: time to verify N candidates of one task, without and with the result cache.

Builds a small repository with an issue, starts one container on it, and verifies the same N
candidates twice in one run: once with the cache disabled and once with a fresh cache. Candidates are
what sampling produces: several copies of the right fix (some reformatted), an alternative fix, one
that breaks a test and one that does not compile, each with the same reproduction script.
Prints one JSON object.
"""

from __future__ import annotations

import difflib
import json
import subprocess
import tempfile
import time
from pathlib import Path

import click

from verifiers.cache import ResultCache
from verifiers.execution import ExecutionVerifier
from verifiers.types import Candidate

ISSUE = "stats.mean([]) raises ZeroDivisionError; it should return None for an empty sequence."
OPS = "def mean(values):\n    return sum(values) / len(values)\n\n\ndef spread(values):\n    return max(values) - min(values)\n"
REPO = {
    "stats/__init__.py": "",
    "stats/core.py": OPS,
    "stats/report.py": "from stats.core import mean, spread\n\n\ndef summary(v):\n    return f'{mean(v):.2f}+-{spread(v)}'\n",
    "tests/test_core.py": (
        "import pytest\nfrom stats.core import mean, spread\n\n\n"
        "@pytest.mark.parametrize('n', range(1, 60))\ndef test_mean(n):\n    assert mean(list(range(n))) == (n - 1) / 2\n\n\n"
        "def test_spread():\n    assert spread([3, 1, 2]) == 2\n"
    ),
    "tests/test_report.py": "from stats.report import summary\n\n\ndef test_summary():\n    assert summary([1, 2, 3]) == '2.00+-2'\n",
    "tests/test_unrelated.py": "def test_nothing():\n    assert True\n",
}
REPRO = (
    "from stats.core import mean\n"
    "try:\n    result = mean([])\nexcept ZeroDivisionError:\n    print('Issue reproduced')\n"
    "else:\n    print('Issue resolved' if result is None else 'Other issues')\n"
)
BODIES = [
    "    if not values:\n        return None\n    return sum(values) / len(values)",
    "    if not values:\n        return None\n    return sum(values)/len(values)",  # same fix, reformatted
    "    return sum(values) / len(values) if values else None",  # another fix
    "    if not values:\n        return None\n    return sum(values) // len(values)",  # breaks test_mean
    "    if not values\n        return None\n    return sum(values) / len(values)",  # does not compile
]


def _patch(body: str) -> str:
    after = OPS.replace("    return sum(values) / len(values)", body)
    lines = difflib.unified_diff(
        OPS.splitlines(), after.splitlines(), "a/stats/core.py", "b/stats/core.py", lineterm=""
    )
    return "diff --git a/stats/core.py b/stats/core.py\n" + "\n".join(lines) + "\n"


def _make_repo(root: Path) -> Path:
    for rel, text in REPO.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    env = {
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@b",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@b",
    }
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "initial"]):
        subprocess.run(
            ["git", *args],
            cwd=root,
            env={**env, "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(root)},
            check=True,
        )
    return root


def candidates(n: int) -> list[Candidate]:
    """N candidates cycling through the patch kinds above (so equal patches recur, as in sampling)."""
    order = [0, 1, 2, 0, 3, 1, 4, 0]
    return [
        Candidate(id=f"c{i}", patch=_patch(BODIES[order[i % len(order)]]), reproduction_script=REPRO)
        for i in range(n)
    ]


class _Counting:
    """Counts the commands a verifier sends to the sandbox (everything else passes through)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.count = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def run(self, command, timeout=None):
        self.count += 1
        return self.inner.run(command, timeout)


def _verify_all(sandbox, task, cands: list[Candidate], cache: ResultCache) -> dict:
    counting = _Counting(sandbox)
    verifier = ExecutionVerifier(counting, cache=cache)
    start = time.perf_counter()
    statuses = {}
    for cand in cands:
        statuses[cand.id] = [f"{v.check}:{v.status}" for v in verifier.verify(task, cand)]
    return {"seconds": time.perf_counter() - start, "commands": counting.count, "statuses": statuses}


@click.command("verify")
@click.option(
    "--n", "n", default=8, show_default=True, type=click.IntRange(1, 200), help="candidates to verify"
)
@click.option("--image", default=None, help="container image (default: the sandbox config's image)")
def bench_verify(n: int, image: str | None) -> None:
    """Verify N candidates of one task with and without the result cache; print JSON."""
    from sweagent.config import SandboxConfig
    from sweagent.sandbox.factory import open_sandbox
    from sweagent.task import Task

    config = SandboxConfig(image=image) if image else SandboxConfig()
    cands = candidates(n)
    with tempfile.TemporaryDirectory(prefix="swe-ttc-bench-verify-") as tmp:
        repo = _make_repo(Path(tmp) / "repo")
        task = Task(instance_id="bench-verify", repo=str(repo), problem_statement=ISSUE)
        with open_sandbox(config, repo_path=str(repo), run_label="bench-verify") as sandbox:
            _verify_all(sandbox, task, cands[:1], ResultCache(enabled=False))  # warm-up, not timed
            cold = _verify_all(sandbox, task, cands, ResultCache(enabled=False))
            cache = ResultCache()
            warm = _verify_all(sandbox, task, cands, cache)
    result = {
        "bench": "verify",
        "candidates": n,
        "distinct_patches": len({c.patch for c in cands}),
        "checks": ["apply", "reproduction", "regression"],
        "seconds_without_cache": round(cold["seconds"], 3),
        "seconds_with_cache": round(warm["seconds"], 3),
        "speedup": round(cold["seconds"] / warm["seconds"], 2) if warm["seconds"] else None,
        "seconds_per_candidate": {
            "without_cache": round(cold["seconds"] / n, 3),
            "with_cache": round(warm["seconds"] / n, 3),
        },
        "sandbox_commands": {"without_cache": cold["commands"], "with_cache": warm["commands"]},
        "cache": cache.stats(),
        "same_verdicts": cold["statuses"] == warm["statuses"],
        "verdicts": warm["statuses"],
    }
    click.echo(json.dumps(result, indent=2))
