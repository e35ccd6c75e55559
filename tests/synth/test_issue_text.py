"""Problem statements from real pytest output: class tests, parametrised tests, errors raised in the
code under test, and a test file that cannot even be collected."""

from __future__ import annotations

import subprocess
import sys

from synth.issue_text import failures, statement_from_tests, writer_prompt

APP = "def half(x):\n    return x // 2\n"
TESTS = """import pytest
from app import half


class TestHalf:
    @pytest.mark.parametrize("n", [3])
    def test_odd(self, n):
        assert half(n) == 1.5


def test_none():
    half(None)


def test_even():
    assert half(4) == 2
"""
NEW = "from app import double\n\n\ndef test_double():\n    assert double(2) == 4\n"


def _pytest_log(tmp_path, files: dict[str, str], target: str) -> str:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider", target],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    return proc.stdout


def test_failures_are_read_from_pytests_own_output(tmp_path):
    log = _pytest_log(tmp_path, {"app.py": APP, "conftest.py": "", "tests/test_app.py": TESTS}, "tests")
    odd, none = failures(log, ["tests/test_app.py::TestHalf::test_odd[3]", "tests/test_app.py::test_none"])
    assert odd.statement == "assert half(n) == 1.5"
    assert odd.comparison == ("1", "1.5") and odd.error_type == "AssertionError"
    assert none.error_type == "TypeError" and none.raised_at == "app.py:2"
    assert any("unsupported operand" in e for e in none.errors)
    statement = statement_from_tests([odd.test_id, none.test_id], log)
    assert statement.startswith("`half(n) == 1.5` is false: got 1, expected 1.5\n")
    assert "2 tests fail" in statement and "Expected: `1.5`\nActual: `1`" in statement
    assert "(raised at app.py:2)" in statement and "return x // 2" not in statement.split("What happens")[0]


def test_a_test_file_that_cannot_be_collected_is_described_by_its_error(tmp_path):
    log = _pytest_log(
        tmp_path, {"app.py": APP, "conftest.py": "", "tests/test_new.py": NEW}, "tests/test_new.py"
    )
    (failure,) = failures(log, ["tests/test_new.py::test_double"])
    assert failure.error_type == "ImportError" or "ImportError" in " ".join(failure.errors)
    statement = statement_from_tests(["tests/test_new.py::test_double"], log)
    assert "cannot import name 'double'" in statement
    prompt = writer_prompt(["tests/test_new.py::test_double"], log)
    assert [m["role"] for m in prompt] == ["system", "user"]
    assert "cannot import name 'double'" in prompt[1]["content"] and "do not propose" in prompt[0]["content"]
