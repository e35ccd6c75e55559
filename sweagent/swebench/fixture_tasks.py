"""The fixture dataset's tasks: three tiny Python repositories, each with one issue.

Each task is the repository at its base commit (`files`), the reference fix (`fix`), the tests that
grade it (`tests`: FAIL_TO_PASS fail before the fix and pass after it, PASS_TO_PASS pass on both),
and `breaking_fix`: a change that fixes the issue but breaks a PASS_TO_PASS test (graded unresolved).
`layout` picks how the row describes grading: `classic` rows carry only the test patch (the eval
script is built from defaults because the repository is unknown to swebench's specs); `task_repo`
rows carry `image`, `eval_script`, `log_parser` and `eval_type` like swebench 5's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FixtureTask:
    instance_id: str
    repo: str
    problem_statement: str
    files: dict[str, str]
    fix: dict[str, str]
    tests: dict[str, str]
    breaking_fix: dict[str, str]
    fail_to_pass: list[str]
    pass_to_pass: list[str]
    layout: str = "classic"
    created_at: str = "2024-01-01T00:00:00Z"
    extra: dict[str, str] = field(default_factory=dict)


CALC_OPS = '''"""Arithmetic helpers."""


def add(a, b):
    return a + b


def divide(a, b):
    return a // b


def mean(values):
    return divide(sum(values), len(values))
'''

CALC = FixtureTask(
    instance_id="swe-ttc-fixtures__calc-1",
    repo="swe-ttc-fixtures/calc",
    problem_statement=(
        "divide() truncates fractions\n\n"
        "`calc.divide(7, 2)` returns `3` but should return `3.5`. Because `mean()` uses `divide()`, "
        "`calc.mean([1, 2])` returns `1` instead of `1.5`.\n"
    ),
    files={
        "README.md": "# calc\n\nSmall arithmetic helpers.\n",
        "calc/__init__.py": 'from calc.ops import add, divide, mean\n\n__all__ = ["add", "divide", "mean"]\n',
        "calc/ops.py": CALC_OPS,
        "tests/__init__.py": "",
        "tests/test_ops.py": (
            "from calc import add, divide, mean\n\n\n"
            "def test_add():\n    assert add(2, 3) == 5\n\n\n"
            "def test_divide_exact():\n    assert divide(6, 3) == 2\n\n\n"
            "def test_mean_exact():\n    assert mean([2, 4]) == 3\n"
        ),
    },
    fix={"calc/ops.py": CALC_OPS.replace("return a // b", "return a / b")},
    breaking_fix={"calc/ops.py": CALC_OPS.replace("return a // b", "return a / b").replace("a + b", "a - b")},
    tests={
        "tests/test_ops.py": (
            "from calc import add, divide, mean\n\n\n"
            "def test_add():\n    assert add(2, 3) == 5\n\n\n"
            "def test_divide_exact():\n    assert divide(6, 3) == 2\n\n\n"
            "def test_divide_fraction():\n    assert divide(7, 2) == 3.5\n\n\n"
            "def test_mean_exact():\n    assert mean([2, 4]) == 3\n\n\n"
            "def test_mean_fraction():\n    assert mean([1, 2]) == 1.5\n"
        ),
    },
    fail_to_pass=["tests/test_ops.py::test_divide_fraction", "tests/test_ops.py::test_mean_fraction"],
    pass_to_pass=[
        "tests/test_ops.py::test_add",
        "tests/test_ops.py::test_divide_exact",
        "tests/test_ops.py::test_mean_exact",
    ],
)

SLUG = '''"""Turn titles into URL slugs."""

import re


def slugify(text):
    text = text.strip().lower()
    return re.sub(r"\\s+", "-", text)
'''

SLUG_FIXED = '''"""Turn titles into URL slugs."""

import re


def slugify(text):
    text = re.sub(r"[^\\w\\s-]", "", text.strip().lower())
    return re.sub(r"[\\s_-]+", "-", text).strip("-")
'''


def _slug_tests(cases: list[tuple[str, str, str]]) -> str:
    rows = "".join(f"        ({text!r}, {want!r}),\n" for _, text, want in cases)
    ids = ", ".join(repr(i) for i, _, _ in cases)
    return (
        "import pytest\n\nfrom textkit.slug import slugify\nfrom textkit.words import word_count\n\n\n"
        '@pytest.mark.parametrize(\n    "text,want",\n    [\n' + rows + f"    ],\n    ids=[{ids}],\n)\n"
        "def test_slugify(text, want):\n    assert slugify(text) == want\n\n\n"
        'def test_word_count():\n    assert word_count("one two  three") == 3\n'
    )


BASE_CASES = [("plain", "hello", "hello"), ("spaces", "Hello  World", "hello-world")]
NEW_CASES = [("punctuation", "Hello, World!", "hello-world"), ("dashes", "a - b", "a-b")]

SLUG_TASK = FixtureTask(
    instance_id="swe-ttc-fixtures__textkit-2",
    repo="swe-ttc-fixtures/textkit",
    problem_statement=(
        "slugify keeps punctuation\n\n"
        '`slugify("Hello, World!")` gives `hello,-world!`; slugs should only hold letters, digits and '
        'single dashes, so it should be `hello-world`. Runs of dashes and spaces (`"a - b"`) should '
        "collapse to one dash (`a-b`).\n"
    ),
    files={
        "pyproject.toml": '[project]\nname = "textkit"\nversion = "0.1"\n\n[tool.pytest.ini_options]\npythonpath = ["."]\n',
        "textkit/__init__.py": "",
        "textkit/slug.py": SLUG,
        "textkit/words.py": '"""Word statistics."""\n\n\ndef word_count(text):\n    return len(text.split())\n',
        "tests/test_textkit.py": _slug_tests(BASE_CASES),
    },
    fix={"textkit/slug.py": SLUG_FIXED},
    breaking_fix={
        "textkit/slug.py": SLUG_FIXED,
        "textkit/words.py": '"""Word statistics."""\n\n\ndef word_count(text):\n    return len(text.split(" "))\n',
    },
    tests={"tests/test_textkit.py": _slug_tests(BASE_CASES + NEW_CASES)},
    fail_to_pass=[
        "tests/test_textkit.py::test_slugify[punctuation]",
        "tests/test_textkit.py::test_slugify[dashes]",
    ],
    pass_to_pass=[
        "tests/test_textkit.py::test_slugify[plain]",
        "tests/test_textkit.py::test_slugify[spaces]",
        "tests/test_textkit.py::test_word_count",
    ],
    layout="task_repo",
)

INVENTORY = '''"""Stock counts by item name."""


class Inventory:
    def __init__(self):
        self._items = {}

    def add(self, name, qty=1):
        self._items[name] = self._items.get(name, 0) + qty

    def remove(self, name, qty=1):
        self._items[name] = self._items.get(name, 0) - qty

    def count(self, name):
        return self._items.get(name, 0)

    def names(self):
        return sorted(self._items)
'''

INVENTORY_FIXED = INVENTORY.replace(
    "        self._items[name] = self._items.get(name, 0) - qty\n",
    "        have = self._items.get(name, 0)\n"
    "        if qty > have:\n"
    '            raise ValueError(f"only {have} of {name} in stock")\n'
    "        if qty == have:\n"
    "            del self._items[name]\n"
    "        else:\n"
    "            self._items[name] = have - qty\n",
)

INVENTORY_TASK = FixtureTask(
    instance_id="swe-ttc-fixtures__inventory-3",
    repo="swe-ttc-fixtures/inventory",
    problem_statement=(
        "Inventory.remove allows negative stock\n\n"
        "Removing more items than are in stock leaves a negative count; it should raise `ValueError` and "
        "leave the stock unchanged. Removing the last item should drop the name from `names()`.\n"
    ),
    files={
        "conftest.py": '"""Puts the repository root on sys.path for the tests."""\n',
        "inventory.py": INVENTORY,
        "tests/test_inventory.py": (
            "from inventory import Inventory\n\n\n"
            "def test_add():\n    inv = Inventory()\n    inv.add('apple', 2)\n    assert inv.count('apple') == 2\n\n\n"
            "def test_remove_some():\n    inv = Inventory()\n    inv.add('apple', 3)\n    inv.remove('apple')\n"
            "    assert inv.count('apple') == 2\n"
        ),
    },
    fix={"inventory.py": INVENTORY_FIXED},
    breaking_fix={"inventory.py": INVENTORY_FIXED.replace("self._items.get(name, 0) + qty", "qty")},
    tests={
        "tests/test_inventory.py": (
            "from inventory import Inventory\n\n\n"
            "def test_add():\n    inv = Inventory()\n    inv.add('apple', 2)\n    inv.add('apple', 1)\n"
            "    assert inv.count('apple') == 3\n\n\n"
            "def test_remove_some():\n    inv = Inventory()\n    inv.add('apple', 3)\n    inv.remove('apple')\n"
            "    assert inv.count('apple') == 2\n\n\n"
            "def test_remove_all_drops_name():\n    inv = Inventory()\n    inv.add('apple')\n    inv.remove('apple')\n"
            "    assert inv.names() == []\n"
        ),
        "tests/test_errors.py": (
            "import pytest\n\nfrom inventory import Inventory\n\n\n"
            "def test_remove_too_many():\n    inv = Inventory()\n    inv.add('pear')\n"
            "    with pytest.raises(ValueError):\n        inv.remove('pear', 2)\n    assert inv.count('pear') == 1\n"
        ),
    },
    fail_to_pass=[
        "tests/test_errors.py::test_remove_too_many",
        "tests/test_inventory.py::test_remove_all_drops_name",
    ],
    pass_to_pass=["tests/test_inventory.py::test_add", "tests/test_inventory.py::test_remove_some"],
)

FIXTURE_TASKS: list[FixtureTask] = [CALC, SLUG_TASK, INVENTORY_TASK]
