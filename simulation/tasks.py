"""The simulation's fixture tasks: tiny repositories with a real bug and a hidden test.

Each `Fixture` is a small Python package with a bug, a decoy module, existing tests (the regression
tests verifiers may run), a hidden test that decides "resolved" (grading only: never in the repo the
search sees, only in the Task's hidden fields), and the work a simulated model can do at each stage:

- three reproduction scripts: right (shows the bug, passes once it is fixed); wrong and detectable
  (checks behaviour that already works, so it does not reproduce on the unchanged code, which the
  search can see by running it); wrong and misleading (fails on the unchanged code, so it looks like a
  reproduction, but encodes a wrong expectation: the right fix does not pass it);
- a right and a wrong localisation;
- five edits: right; incomplete (passes the issue's example and every existing test, fails the hidden
  test); regression (breaks an existing test); ineffective; and a decoy edit in the wrong module.

What each script says about each edit is not written down here: it is what running them gives
(`tests/simulation` runs them all and checks the properties above).
"""

from __future__ import annotations

import difflib
import hashlib
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sweagent.task import Task

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "swe-ttc fixture",
    "GIT_AUTHOR_EMAIL": "fixture@swe-ttc.invalid",
    "GIT_COMMITTER_NAME": "swe-ttc fixture",
    "GIT_COMMITTER_EMAIL": "fixture@swe-ttc.invalid",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}


@dataclass(frozen=True)
class Edit:
    """One `str_replace` a simulated model may make; `marker` is text only this edit adds."""

    label: str
    path: str
    old: str
    new: str
    marker: str = ""


@dataclass(frozen=True)
class Localisation:
    pattern: str
    path: str
    summary: str


@dataclass
class Fixture:
    name: str
    files: dict[str, str]
    issue: str
    hidden_tests: dict[str, str]
    repro_right: str
    repro_wrong: str
    repro_misleading: str
    repro_marker: str
    loc_right: Localisation
    loc_wrong: Localisation
    loc_marker: str
    edits: dict[str, Edit] = field(default_factory=dict)

    @property
    def right(self) -> Edit:
        return self.edits["right"]

    def gold_patch(self) -> str:
        return self.patch_for("right")

    def patch_for(self, kind: str) -> str:
        """The unified diff of one of the fixture's edits."""
        edit = self.edits[kind]
        before = self.files[edit.path]
        after = before.replace(edit.old, edit.new, 1)
        return "".join(
            difflib.unified_diff(
                before.splitlines(True), after.splitlines(True), f"a/{edit.path}", f"b/{edit.path}"
            )
        )

    def test_patch(self) -> str:
        parts = []
        for path, text in self.hidden_tests.items():
            lines = text.splitlines(True)
            body = "".join("+" + line for line in lines)
            parts.append(
                f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
                f"@@ -0,0 +1,{len(lines)} @@\n{body}"
            )
        return "".join(parts)

    def make_repo(self, dest: Path) -> tuple[Path, str]:
        """Write the repository at `dest` as one git commit; return (path, commit)."""
        if dest.exists():
            shutil.rmtree(dest)
        for rel, text in self.files.items():
            path = dest / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        env = _GIT_ENV | {"HOME": str(dest)}
        for args in (
            ["init", "-q", "-b", "main"],
            ["add", "-A"],
            ["commit", "-q", "-m", f"{self.name}: initial"],
        ):
            subprocess.run(["git", *args], cwd=dest, env=env, check=True, capture_output=True)
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=dest, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        return dest, commit

    def task(self, repo: Path, commit: str) -> Task:
        """The task, hidden fields filled (the search must only ever see `task.public()`)."""
        tests = [f"{p}::{name}" for p, text in self.hidden_tests.items() for name in _test_names(text)]
        return Task(
            instance_id=f"fixture__{self.name}",
            repo=str(repo),
            base_commit=commit,
            problem_statement=self.issue,
            patch=self.gold_patch(),
            test_patch=self.test_patch(),
            FAIL_TO_PASS=tests,
            PASS_TO_PASS=[],
        )


def _test_names(text: str) -> list[str]:
    return [line.split("(")[0][4:] for line in text.splitlines() if line.startswith("def test_")]


class Grader:
    """Decides "resolved" with the hidden tests in a private copy; memoised per (fixture, patch)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, str], bool] = {}
        self._lock = threading.Lock()

    def resolved(self, fixture: Fixture, repo: Path, patch: str) -> bool:
        if not patch.strip():
            return False
        key = (fixture.name, hashlib.sha256(patch.encode()).hexdigest())
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        ok = _grade(fixture, repo, patch)
        with self._lock:
            self._memo[key] = ok
        return ok


def _grade(fixture: Fixture, repo: Path, patch: str) -> bool:
    with tempfile.TemporaryDirectory(prefix="swe-ttc-grade-") as tmp:
        work = Path(tmp) / "repo"
        shutil.copytree(repo, work, ignore=shutil.ignore_patterns(".git"))
        applied = subprocess.run(
            ["git", "apply", "--unsafe-paths", "--directory", ".", "-"],
            input=patch,
            text=True,
            cwd=work,
            capture_output=True,
        )
        if applied.returncode != 0:
            return False
        for rel, text in fixture.hidden_tests.items():
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            (work / rel).write_text(text)
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
            cwd=work,
            capture_output=True,
            text=True,
            env={"PATH": _GIT_ENV["PATH"], "PYTHONDONTWRITEBYTECODE": "1"},
            timeout=120,
        )
        return proc.returncode == 0


# ---------------------------------------------------------------------------------------------------
# The fixtures

_MEDIAN_SRC = """def mean(values):
    values = list(values)
    if not values:
        raise ValueError("mean of empty data")
    return sum(values) / len(values)


def median(values):
    ordered = sorted(values)
    if not ordered:
        raise ValueError("median of empty data")
    middle = len(ordered) // 2
    return ordered[middle]
"""

MEDIAN = Fixture(
    name="median",
    files={
        "statkit/__init__.py": "from statkit.fmt import fmt_number\nfrom statkit.stats import mean, median\n",
        "statkit/stats.py": _MEDIAN_SRC,
        "statkit/fmt.py": 'def fmt_number(value, digits=2):\n    return f"{value:.{digits}f}"\n',
        "tests/__init__.py": "",
        "tests/test_stats.py": (
            "from statkit import mean, median\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n\n\n"
            "def test_median_odd():\n    assert median([3, 1, 2]) == 2\n"
        ),
        "tests/test_fmt.py": "from statkit import fmt_number\n\n\ndef test_fmt():\n    assert fmt_number(1.5) == '1.50'\n",
    },
    issue=(
        "median() is wrong for lists with an even number of values: median([4, 1, 3, 2]) returns 3, "
        "but the median of an even-length list is the mean of the two middle values (2.5)."
    ),
    hidden_tests={
        "tests/test_median_even.py": (
            "from statkit import median\n\n\ndef test_median_even():\n    assert median([4, 1, 3, 2]) == 2.5\n"
            "    assert median([6, 1, 5, 2, 4, 3]) == 3.5\n    assert median([5, 1]) == 3\n\n\n"
            "def test_median_odd_still():\n    assert median([7, 1, 4]) == 4\n"
        )
    },
    repro_right=(
        "# checks the even-length median from the issue\nfrom statkit import median\n\n"
        "result = median([4, 1, 3, 2])\nprint('median([4, 1, 3, 2]) =', result)\n"
        "print('Issue resolved' if result == 2.5 else 'Issue reproduced')\n"
    ),
    repro_wrong=(
        "from statkit import median\n\nresult = median([3, 1, 2])\nprint('median([3, 1, 2]) =', result)\n"
        "print('Issue resolved' if result == 2 else 'Issue reproduced')\n"
    ),
    repro_misleading=(
        "# checks the median of an even-length list (the lower middle value)\nfrom statkit import median\n\n"
        "result = median([4, 1, 3, 2])\nprint('median([4, 1, 3, 2]) =', result)\n"
        "print('Issue resolved' if result == 2 else 'Issue reproduced')\n"
    ),
    repro_marker="checks the even-length median",
    loc_right=Localisation(
        "def median",
        "statkit/stats.py",
        "The fault is in statkit/stats.py, function median: for an even count it returns the upper middle value.",
    ),
    loc_wrong=Localisation(
        "def fmt_number",
        "statkit/fmt.py",
        "The fault is in statkit/fmt.py, function fmt_number: results are rounded when printed.",
    ),
    loc_marker="fault is in statkit/stats.py",
    edits={
        "right": Edit(
            "right",
            "statkit/stats.py",
            "    middle = len(ordered) // 2\n    return ordered[middle]\n",
            "    middle = len(ordered) // 2\n    if len(ordered) % 2 == 0:\n"
            "        return (ordered[middle - 1] + ordered[middle]) / 2\n    return ordered[middle]\n",
            marker="% 2 == 0",
        ),
        "incomplete": Edit(
            "incomplete",
            "statkit/stats.py",
            "    middle = len(ordered) // 2\n    return ordered[middle]\n",
            "    middle = len(ordered) // 2\n    if len(ordered) == 4:\n"
            "        return (ordered[1] + ordered[2]) / 2\n    return ordered[middle]\n",
            marker="== 4",
        ),
        "regression": Edit(
            "regression",
            "statkit/stats.py",
            "    return ordered[middle]\n",
            "    return (ordered[middle - 1] + ordered[middle]) / 2\n",
        ),
        "ineffective": Edit(
            "ineffective",
            "statkit/stats.py",
            "    middle = len(ordered) // 2\n",
            "    middle = (len(ordered) - 1) // 2\n",
        ),
        "decoy": Edit("decoy", "statkit/fmt.py", "digits=2", "digits=3"),
    },
)

_SLUG_SRC = """import re


def slugify(text):
    text = text.strip().lower()
    text = re.sub(r"[^a-z0-9]+", "-", text)
    return text
"""

SLUGIFY = Fixture(
    name="slugify",
    files={
        "textkit/__init__.py": "from textkit.slug import slugify\nfrom textkit.wrap import truncate\n",
        "textkit/slug.py": _SLUG_SRC,
        "textkit/wrap.py": (
            "def truncate(text, width=20):\n    if len(text) <= width:\n        return text\n"
            '    return text[: width - 3] + "..."\n'
        ),
        "tests/__init__.py": "",
        "tests/test_slug.py": (
            "from textkit import slugify\n\n\ndef test_slugify_words():\n    assert slugify('Hello World') == 'hello-world'\n"
        ),
        "tests/test_wrap.py": "from textkit import truncate\n\n\ndef test_truncate():\n    assert truncate('a' * 30, 10) == 'aaaaaaa...'\n",
    },
    issue=(
        "slugify('Hello, World!') returns 'hello-world-' with a trailing dash. Slugs must never start or "
        "end with '-', whatever punctuation the text starts or ends with."
    ),
    hidden_tests={
        "tests/test_slug_edges.py": (
            "from textkit import slugify\n\n\ndef test_trailing():\n    assert slugify('Hello, World!') == 'hello-world'\n\n\n"
            "def test_leading():\n    assert slugify('...Hi there') == 'hi-there'\n\n\n"
            "def test_words_still():\n    assert slugify('a b') == 'a-b'\n"
        )
    },
    repro_right=(
        "# checks the trailing dash from the issue\nfrom textkit import slugify\n\n"
        "result = slugify('Hello, World!')\nprint(repr(result))\n"
        "print('Issue resolved' if result == 'hello-world' else 'Issue reproduced')\n"
    ),
    repro_wrong=(
        "from textkit import slugify\n\nresult = slugify('Hello World')\nprint(repr(result))\n"
        "print('Issue resolved' if result == 'hello-world' else 'Issue reproduced')\n"
    ),
    repro_misleading=(
        "# checks the dash at the end (dashes the text starts with are kept)\nfrom textkit import slugify\n\n"
        "result = (slugify('Hello, World!'), slugify('-a'))\nprint(repr(result))\n"
        "print('Issue resolved' if result == ('hello-world', '-a') else 'Issue reproduced')\n"
    ),
    repro_marker="checks the trailing dash",
    loc_right=Localisation(
        "def slugify",
        "textkit/slug.py",
        "The fault is in textkit/slug.py, function slugify: separators at the ends are not stripped.",
    ),
    loc_wrong=Localisation(
        "def truncate",
        "textkit/wrap.py",
        "The fault is in textkit/wrap.py, function truncate: it appends characters to the text.",
    ),
    loc_marker="fault is in textkit/slug.py",
    edits={
        "right": Edit(
            "right",
            "textkit/slug.py",
            "    return text\n",
            '    return text.strip("-")\n',
            marker='strip("-")',
        ),
        "incomplete": Edit(
            "incomplete",
            "textkit/slug.py",
            "    return text\n",
            '    if text.endswith("-"):\n        text = text[:-1]\n    return text\n',
            marker='endswith("-")',
        ),
        "regression": Edit("regression", "textkit/slug.py", 'r"[^a-z0-9]+", "-"', 'r"[^a-z0-9]+", ""'),
        "ineffective": Edit("ineffective", "textkit/slug.py", 'r"[^a-z0-9]+"', 'r"[^a-z0-9]"'),
        "decoy": Edit("decoy", "textkit/wrap.py", '"..."', '"…"'),
    },
)

_VALUES_SRC = """TRUE_WORDS = ("true", "yes", "on", "1")


def parse_bool(text):
    return text in TRUE_WORDS


def parse_int(text, default=0):
    try:
        return int(text)
    except ValueError:
        return default
"""

PARSE_BOOL = Fixture(
    name="parse_bool",
    files={
        "confkit/__init__.py": "from confkit.paths import expand\nfrom confkit.values import parse_bool, parse_int\n",
        "confkit/values.py": _VALUES_SRC,
        "confkit/paths.py": "import os\n\n\ndef expand(path):\n    return os.path.expanduser(path)\n",
        "tests/__init__.py": "",
        "tests/test_values.py": (
            "from confkit import parse_bool, parse_int\n\n\ndef test_parse_bool():\n    assert parse_bool('yes')\n"
            "    assert not parse_bool('false')\n    assert not parse_bool('no')\n\n\n"
            "def test_parse_int():\n    assert parse_int('x', 3) == 3\n"
        ),
    },
    issue=(
        "parse_bool('True') returns False. Values in config files are often capitalised or padded "
        "(e.g. ' Yes '); parse_bool should accept them regardless of case and surrounding spaces."
    ),
    hidden_tests={
        "tests/test_bool_forms.py": (
            "from confkit import parse_bool\n\n\ndef test_case():\n    assert parse_bool('True')\n    assert parse_bool('ON')\n\n\n"
            "def test_spaces():\n    assert parse_bool(' Yes ')\n\n\ndef test_false_still():\n    assert not parse_bool('False')\n"
        )
    },
    repro_right=(
        "# checks the capitalised value from the issue\nfrom confkit import parse_bool\n\n"
        "result = parse_bool('True')\nprint('parse_bool(True) =', result)\n"
        "print('Issue resolved' if result is True else 'Issue reproduced')\n"
    ),
    repro_wrong=(
        "from confkit import parse_bool\n\nresult = parse_bool('yes')\nprint('parse_bool(yes) =', result)\n"
        "print('Issue resolved' if result is True else 'Issue reproduced')\n"
    ),
    repro_misleading=(
        "# checks capitalised values (padded values stay false)\nfrom confkit import parse_bool\n\n"
        "result = (parse_bool('True'), parse_bool(' yes '))\nprint('parse_bool:', result)\n"
        "print('Issue resolved' if result == (True, False) else 'Issue reproduced')\n"
    ),
    repro_marker="checks the capitalised value",
    loc_right=Localisation(
        "def parse_bool",
        "confkit/values.py",
        "The fault is in confkit/values.py, function parse_bool: it compares the raw text, case-sensitively.",
    ),
    loc_wrong=Localisation(
        "def expand",
        "confkit/paths.py",
        "The fault is in confkit/paths.py, function expand: values are not normalised when read.",
    ),
    loc_marker="fault is in confkit/values.py",
    edits={
        "right": Edit(
            "right",
            "confkit/values.py",
            "    return text in TRUE_WORDS\n",
            "    return text.strip().lower() in TRUE_WORDS\n",
            marker="strip().lower()",
        ),
        "incomplete": Edit(
            "incomplete",
            "confkit/values.py",
            "    return text in TRUE_WORDS\n",
            "    return text.lower() in TRUE_WORDS\n",
            marker="return text.lower()",
        ),
        "regression": Edit(
            "regression", "confkit/values.py", "    return text in TRUE_WORDS\n", "    return bool(text)\n"
        ),
        "ineffective": Edit("ineffective", "confkit/values.py", '"on", "1")', '"on", "1", "y")'),
        "decoy": Edit(
            "decoy", "confkit/paths.py", "os.path.expanduser(path)", "os.path.expanduser(path.strip())"
        ),
    },
)

FIXTURES: dict[str, Fixture] = {f.name: f for f in (MEDIAN, SLUGIFY, PARSE_BOOL)}
