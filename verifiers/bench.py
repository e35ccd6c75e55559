"""`swe-ttc bench verify`: time to verify N candidates of one task, without and with the result cache.

Two cases. `--project fixture` (default) builds a small repository with an issue and starts one
container on it. `--project django` uses a real SWE-bench Verified instance re-based on Django's
release sdist (django__django-17087, official image layout; `swe-ttc image build-real` makes it, and
the bench builds it if missing), whose tests run with Django's own runner (runtests.py).

Either way the same N candidates are verified twice in one run: once with the cache disabled and once
with a fresh cache. Candidates are what sampling produces: several copies of the right fix (some
reformatted), an alternative fix, one that breaks an existing test and one that does not compile,
each with the same reproduction script. Prints one JSON object.
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
from verifiers.execution import ExecutionConfig, ExecutionVerifier
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


ORDER = [0, 1, 2, 0, 3, 1, 4, 0]  # right, reformatted, alternative, right, breaking, ..., not compiling


def candidates(n: int) -> list[Candidate]:
    """N candidates cycling through the patch kinds above (so equal patches recur, as in sampling)."""
    return [
        Candidate(id=f"c{i}", patch=_patch(BODIES[ORDER[i % len(ORDER)]]), reproduction_script=REPRO)
        for i in range(n)
    ]


# ---- the real-project case: django__django-17087 ----------------------------------------------------

DJANGO_INSTANCE = "django__django-17087"
DJANGO_FILE = "django/db/migrations/serializer.py"
DJANGO_REPRO = """\
from django.db.migrations.writer import MigrationWriter


class Outer:
    class Inner:
        @classmethod
        def default(cls):
            return "x"


string, imports = MigrationWriter.serialize(Outer.Inner.default)
print("Issue resolved" if "Outer.Inner.default" in string else "Issue reproduced")
"""
_BUGGY = 'return "%s.%s.%s" % (module, klass.__name__, self.value.__name__), {'
DJANGO_EDITS = [
    (_BUGGY, 'return "%s.%s.%s" % (module, klass.__qualname__, self.value.__name__), {'),  # the fix
    (_BUGGY, 'return "%s.%s.%s" % (module,klass.__qualname__,self.value.__name__), {'),  # reformatted
    (_BUGGY, 'return "%s.%s" % (module, self.value.__qualname__), {'),  # another fix
    (  # breaks test_serialize_numbers
        "return 'float(\"{}\")'.format(self.value), set()",
        "return 'float({})'.format(self.value), set()",
    ),
    (_BUGGY, 'return "%s.%s.%s" % (module, klass.__qualname__ self.value.__name__), {'),  # no compile
]


def _edit(path: str, before: str, old: str, new: str) -> str:
    after = before.replace(old, new, 1)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}"
    )
    return f"diff --git a/{path} b/{path}\n" + "".join(lines)


def django_candidates(n: int, source: str) -> list[Candidate]:
    """N candidates on the Django instance, cycling through the same kinds as the fixture case."""
    patches = [_edit(DJANGO_FILE, source, old, new) for old, new in DJANGO_EDITS]
    return [
        Candidate(id=f"c{i}", patch=patches[ORDER[i % len(ORDER)]], reproduction_script=DJANGO_REPRO)
        for i in range(n)
    ]


def _django_task_and_image():
    from sweagent.swebench.real_projects import SOURCE_ROWS, build, instance_image, read_rows
    from sweagent.task import Task

    build(
        projects=["django"], layouts=(), instances=True, out=None, log=lambda line: click.echo(line, err=True)
    )
    row = next(r for r in read_rows(SOURCE_ROWS) if r["instance_id"] == DJANGO_INSTANCE)
    return Task.from_swebench(row).public(), instance_image(DJANGO_INSTANCE)


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


def _verify_all(sandbox, task, cands: list[Candidate], cache: ResultCache, config: ExecutionConfig) -> dict:
    counting = _Counting(sandbox)
    verifier = ExecutionVerifier(counting, config, cache=cache)
    start = time.perf_counter()
    statuses = {}
    commands: set[str] = set()
    for cand in cands:
        verdicts = verifier.verify(task, cand)
        statuses[cand.id] = [f"{v.check}:{v.status}" for v in verdicts]
        commands |= {v.details["runner"]["command"] for v in verdicts if "runner" in v.details}
    return {
        "seconds": time.perf_counter() - start,
        "commands": counting.count,
        "statuses": statuses,
        "runner_commands": sorted(commands),
    }


@click.command("verify")
@click.option(
    "--n", "n", default=8, show_default=True, type=click.IntRange(1, 200), help="candidates to verify"
)
@click.option(
    "--project",
    type=click.Choice(["fixture", "django"]),
    default="fixture",
    show_default=True,
    help="fixture: a small repository; django: a real Verified instance with Django's own test runner",
)
@click.option(
    "--max-test-files",
    default=2,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="related test files run per candidate (Django: test modules)",
)
@click.option("--image", default=None, help="container image (default: the sandbox config's image)")
def bench_verify(n: int, project: str, max_test_files: int, image: str | None) -> None:
    """Verify N candidates of one task with and without the result cache; print JSON."""
    from sweagent.config import SandboxConfig
    from sweagent.sandbox.factory import open_sandbox
    from sweagent.task import Task

    config = ExecutionConfig(max_test_files=max_test_files)
    with tempfile.TemporaryDirectory(prefix="swe-ttc-bench-verify-") as tmp:
        if project == "django":
            task, default_image = _django_task_and_image()
            box_config, repo_path = SandboxConfig(image=image or default_image), None
        else:
            repo = _make_repo(Path(tmp) / "repo")
            task = Task(instance_id="bench-verify", repo=str(repo), problem_statement=ISSUE)
            box_config = SandboxConfig(image=image) if image else SandboxConfig()
            repo_path = str(repo)
        with open_sandbox(box_config, repo_path=repo_path, run_label="bench-verify") as sandbox:
            if project == "django":
                cands = django_candidates(n, sandbox.read_file(DJANGO_FILE))
            else:
                cands = candidates(n)
            _verify_all(sandbox, task, cands[:1], ResultCache(enabled=False), config)  # warm-up, not timed
            cold = _verify_all(sandbox, task, cands, ResultCache(enabled=False), config)
            cache = ResultCache()
            warm = _verify_all(sandbox, task, cands, cache, config)
    result = {
        "bench": "verify",
        "project": project,
        "instance": task.instance_id,
        "image": box_config.image if project == "django" or image else None,
        "candidates": n,
        "distinct_patches": len({c.patch for c in cands}),
        "checks": config.checks,
        "runner_commands": warm["runner_commands"],
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
