"""A small repository with a known history, for mining tests, the synth benchmark and a demo.

`mathkit` grows over ten commits. Two of them fix a bug and add the test that shows it (the tasks);
the others are what real histories are full of: docs-only, tests-only and code-only commits, a
change whose new test already passed before it, one whose tests need a missing dependency, and one
that touches too many files. `SOLUTIONS` holds, per task commit, the edits a simulated model may
make: the right fix, a wrong one, and a test edit.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "mathkit dev",
    "GIT_AUTHOR_EMAIL": "dev@mathkit.invalid",
    "GIT_COMMITTER_NAME": "mathkit dev",
    "GIT_COMMITTER_EMAIL": "dev@mathkit.invalid",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
}

RANGES = '''"""Keeping numbers in range."""


def clamp(value, low, high):
    """Limit `value` to the interval [low, high]."""
    if value < low:
        return low
    return value
'''
RANGES_FIXED = RANGES.replace(
    "        return low\n    return value\n",
    "        return low\n    if value > high:\n        return high\n    return value\n",
)

STATS = '''"""Summary statistics."""


def total(values):
    return sum(values)


def mean(values):
    return sum(values) / len(values)
'''
STATS_REFACTORED = STATS.replace("return sum(values) / len(values)", "return total(values) / len(values)")
STATS_GENERATORS = STATS_REFACTORED.replace(
    "def total(values):\n    return sum(values)", "def total(values):\n    return sum(list(values))"
)
STATS_FIXED = STATS_GENERATORS.replace(
    "def mean(values):\n    return total(values) / len(values)",
    "def mean(values):\n    values = list(values)\n    if not values:\n        return 0.0\n    return total(values) / len(values)",
)

TEST_RANGES = "from mathkit.ranges import clamp\n\n\ndef test_clamp_low():\n    assert clamp(-5, 0, 10) == 0\n\n\ndef test_clamp_inside():\n    assert clamp(5, 0, 10) == 5\n"
TEST_RANGES_FIXED = TEST_RANGES + "\n\ndef test_clamp_high():\n    assert clamp(15, 0, 10) == 10\n"
TEST_STATS = "from mathkit.stats import mean, total\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n"
TEST_STATS_TOTAL = TEST_STATS + "\n\ndef test_total():\n    assert total([1, 2, 3]) == 6\n"
TEST_STATS_GEN = (
    TEST_STATS_TOTAL + "\n\ndef test_total_generator():\n    assert total(x for x in (1, 2)) == 3\n"
)
TEST_STATS_FIXED = TEST_STATS_GEN + "\n\ndef test_mean_empty():\n    assert mean([]) == 0.0\n"


@dataclass(frozen=True)
class HistoryCommit:
    label: str
    message: str
    files: dict[str, str]


HISTORY: list[HistoryCommit] = [
    HistoryCommit(
        "initial",
        "Start mathkit",
        {
            "README.md": "# mathkit\n",
            ".gitignore": "__pycache__/\n*.pyc\n.pytest_cache/\n",
            "conftest.py": '"""Puts the repository root on sys.path for the tests."""\n',
            "mathkit/__init__.py": "",
            "mathkit/ranges.py": RANGES,
            "mathkit/stats.py": STATS,
            "tests/test_ranges.py": TEST_RANGES,
            "tests/test_stats.py": TEST_STATS,
        },
    ),
    HistoryCommit(
        "docs", "Describe the package in the README", {"README.md": "# mathkit\n\nSmall numeric helpers.\n"}
    ),
    HistoryCommit(
        "clamp_fix",
        "clamp() ignores the upper bound\n\n`clamp(15, 0, 10)` returns 15; values above `high` should be limited to `high`.",
        {"mathkit/ranges.py": RANGES_FIXED, "tests/test_ranges.py": TEST_RANGES_FIXED},
    ),
    HistoryCommit("tests_only", "Test total()", {"tests/test_stats.py": TEST_STATS_TOTAL}),
    HistoryCommit("code_only", "Compute mean() with total()", {"mathkit/stats.py": STATS_REFACTORED}),
    HistoryCommit(
        "no_flip",
        "Let total() take any iterable",
        {"mathkit/stats.py": STATS_GENERATORS, "tests/test_stats.py": TEST_STATS_GEN},
    ),
    HistoryCommit(
        "mean_fix",
        "mean() of an empty list raises ZeroDivisionError\n\n`mean([])` should return 0.0 instead of raising.\n\nSigned-off-by: mathkit dev <dev@mathkit.invalid>",
        {"mathkit/stats.py": STATS_FIXED, "tests/test_stats.py": TEST_STATS_FIXED},
    ),
    HistoryCommit(
        "cannot_run",
        "Add a fast median",
        {
            "mathkit/median.py": '"""Median."""\n\n\ndef median(values):\n    ordered = sorted(values)\n    return ordered[len(ordered) // 2]\n',
            "tests/test_median.py": "import numpy\n\nfrom mathkit.median import median\n\n\ndef test_median():\n    assert median([3, 1, 2]) == numpy.median([3, 1, 2])\n",
        },
    ),
    HistoryCommit(
        "too_many",
        "Add unit helpers",
        {
            **{f"mathkit/units_{n}.py": f"def to_{n}(x):\n    return x\n" for n in ("m", "cm", "mm", "km")},
            "tests/test_units.py": "from mathkit.units_m import to_m\n\n\ndef test_to_m():\n    assert to_m(1) == 1\n",
        },
    ),
    HistoryCommit(
        "docs_again",
        "Mention median in the README",
        {"README.md": "# mathkit\n\nSmall numeric helpers, now with median.\n"},
    ),
]

# The commits that become tasks, and what their tests decide.
TASK_LABELS = ("clamp_fix", "mean_fix")


@dataclass(frozen=True)
class Edit:
    path: str
    old: str
    new: str


SOLUTIONS: dict[str, dict[str, Edit]] = {
    "clamp_fix": {
        "right": Edit(
            "mathkit/ranges.py",
            "        return low\n    return value\n",
            "        return low\n    if value > high:\n        return high\n    return value\n",
        ),
        "wrong": Edit(
            "mathkit/ranges.py",
            "        return low\n    return value\n",
            "        return low\n    return min(value, high - 1)\n",
        ),
        "test": Edit(
            "tests/test_ranges.py",
            "def test_clamp_low():",
            "def test_clamp_upper():\n    assert clamp(15, 0, 10) == 10\n\n\ndef test_clamp_low():",
        ),
    },
    "mean_fix": {
        "right": Edit(
            "mathkit/stats.py",
            "def mean(values):\n    return total(values) / len(values)",
            "def mean(values):\n    if not values:\n        return 0.0\n    return total(values) / len(values)",
        ),
        "wrong": Edit(
            "mathkit/stats.py",
            "def mean(values):\n    return total(values) / len(values)",
            "def mean(values):\n    if not values:\n        return None\n    return total(values) / len(values)",
        ),
        "test": Edit(
            "tests/test_stats.py",
            "def test_mean():",
            "def test_mean_none():\n    assert mean([]) is None\n\n\ndef test_mean():",
        ),
    },
}

REPRODUCTIONS = {
    "clamp_fix": "from mathkit.ranges import clamp\n\nprint(clamp(15, 0, 10))\nassert clamp(15, 0, 10) == 10\n",
    "mean_fix": "from mathkit.stats import mean\n\nprint(mean([]))\n",
}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env=_GIT_ENV, check=True, capture_output=True, text=True
    ).stdout


def build_history_repo(dest: str | Path, history: list[HistoryCommit] | None = None) -> dict[str, str]:
    """Create the repository at `dest` (dated commits, so shas are stable); returns label -> sha."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    _git(dest, "init", "-q", "-b", "main")
    shas: dict[str, str] = {}
    for n, commit in enumerate(history or HISTORY):
        for rel, text in commit.files.items():
            path = dest / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        date = f"2024-01-{n + 1:02d}T12:00:00+00:00"
        env = {**_GIT_ENV, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        subprocess.run(["git", "add", "-A"], cwd=dest, env=env, check=True, capture_output=True)
        subprocess.run(
            ["git", "commit", "-q", "-m", commit.message], cwd=dest, env=env, check=True, capture_output=True
        )
        shas[commit.label] = _git(dest, "rev-parse", "HEAD").strip()
    return shas


def _act(tool: str, thought: str, **args: object) -> dict[str, object]:
    return {"thought": thought, "tool": tool, "args": args}


def behaviours(label: str) -> dict[str, list[dict[str, object]]]:
    """Action lists a simulated model may play on the task made from commit `label`.

    - `clean`: look, reproduce, fix, rerun the reproduction and the tests, submit (resolves);
    - `clean_alt`: the same fix reached through a search first (resolves; a different action sequence);
    - `loop`: views the same file three times in a row, then works cleanly (resolves);
    - `wrong`: edits without reproducing or verifying, with a fix that does not resolve;
    - `dawdle`: fixes and verifies, then keeps looking around until the step limit;
    - `test_edit`: reproduces, applies a wrong fix and edits a test to match it (does not resolve).
    """
    edits = SOLUTIONS[label]
    right, wrong, test = edits["right"], edits["wrong"], edits["test"]
    look = _act("bash", "Look at the layout.", command="ls mathkit tests")
    view = _act("editor", "Read the code the issue is about.", command="view", path=right.path)
    write_repro = _act(
        "editor",
        "Write a script that shows the bug.",
        command="create",
        path="reproduce_issue.py",
        file_text=REPRODUCTIONS[label],
    )
    run_repro = _act("bash", "Run it.", command="python3 reproduce_issue.py")
    fix = _act(
        "editor",
        "Fix the root cause.",
        command="str_replace",
        path=right.path,
        old_str=right.old,
        new_str=right.new,
    )
    rerun = _act("bash", "Rerun the reproduction.", command="python3 reproduce_issue.py")
    tests = _act("bash", "Run the tests.", command="python3 -m pytest -q tests")
    submit = _act("submit", "The fix is verified.")
    search = _act(
        "search", "Find the definition.", pattern=right.old.strip().splitlines()[0].strip()[:30], kind="text"
    )
    bad_fix = _act(
        "editor",
        "Change the function.",
        command="str_replace",
        path=wrong.path,
        old_str=wrong.old,
        new_str=wrong.new,
    )
    edit_test = _act(
        "editor",
        "Adjust the test.",
        command="str_replace",
        path=test.path,
        old_str=test.old,
        new_str=test.new,
    )
    idle = [
        _act("bash", "Check the state.", command="git status --short"),
        _act("bash", "Look at the diff.", command="git diff --stat"),
    ]
    return {
        "clean": [look, view, write_repro, run_repro, fix, rerun, tests, submit],
        "clean_alt": [search, view, write_repro, run_repro, fix, rerun, tests, submit],
        "loop": [look, view, view, view, write_repro, run_repro, fix, rerun, tests, submit],
        "wrong": [view, bad_fix, submit],
        "dawdle": [look, view, write_repro, run_repro, fix, rerun, tests] + idle * 20,
        "test_edit": [view, write_repro, run_repro, bad_fix, edit_test, tests, submit],
    }


def search_behaviours(label: str) -> dict[str, dict[str, list[dict[str, object]]]]:
    """Per-stage action lists for a search (`synth run --search`) on the task made from commit `label`.

    - `clean`: reproduce (write and run a script), localize (read the code), patch (fix, rerun the
      script and the tests);
    - `wrong`: the same first two stages, then a fix that does not resolve, submitted unchecked.
    """
    plain = behaviours(label)["clean"]
    look, view, write_repro, run_repro, fix, rerun, tests, _ = plain
    bad_fix = behaviours(label)["wrong"][1]

    def done(summary: str) -> dict[str, object]:
        return _act("submit", "This stage is done.", summary=summary)

    reproduce = [write_repro, run_repro, done("reproduce_issue.py shows the bug")]
    localize = [view, done(f"the bug is in {SOLUTIONS[label]['right'].path}")]
    return {
        "clean": {"reproduce": reproduce, "localize": localize, "patch": [fix, rerun, tests, done("fixed")]},
        "wrong": {"reproduce": reproduce, "localize": localize, "patch": [bad_fix, done("changed it")]},
    }
