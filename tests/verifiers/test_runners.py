"""Test runners from the specs eval uses, outcomes read with swebench's parsers, reproduction outcomes,
and test selection in Django's and SymPy's layouts (no container needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifiers import scan_tests
from verifiers.reproduction import outcome_on_base, read_outcome
from verifiers.runners import UNATTRIBUTED, django_label, runner_for

# ---- choosing the runner ----------------------------------------------------------------------------


def test_django_runs_runtests_with_labels_from_its_spec():
    runner = runner_for("django/django", "5.0")
    assert runner.name == "django" and runner.parser == "parse_log_django"
    assert runner.test_cmd == "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1"
    files = [
        "tests/utils_tests/test_http.py",
        "tests/db_functions/text/test_lower.py",
        "tests/queries/tests.py",
    ]
    assert runner.test_command(files).endswith(
        "--parallel 1 utils_tests.test_http db_functions.text.test_lower queries.tests"
    )


def test_sympy_runs_bin_test_on_files_and_pytest_projects_write_junit():
    sympy = runner_for("sympy/sympy", "1.12")
    assert sympy.name == "sympy" and sympy.parser == "parse_log_sympy" and not sympy.junit
    assert sympy.test_command(["sympy/sets/tests/test_contains.py"]) == (
        "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose "
        "sympy/sets/tests/test_contains.py"
    )
    flask = runner_for("pallets/flask", "2.3")
    assert flask.name == "pytest" and flask.junit and flask.repo == "pallets/flask"
    assert flask.test_command(["tests/test_x.py"], "/tmp/r.xml").startswith("pytest -rA -p no:cacheprovider")
    assert "--junitxml=/tmp/r.xml" in flask.test_command(["tests/test_x.py"], "/tmp/r.xml")


def test_unknown_repositories_fall_back_to_pytest_unless_the_layout_says_otherwise():
    fallback = runner_for("someone/tool", "1.0")
    assert fallback.name == "pytest-fallback" and fallback.repo is None and fallback.parser == "junit"
    assert fallback.test_cmd.startswith("python3 -m pytest")
    checkout = runner_for("/home/me/src/django", None, layout="django")  # a user's own checkout
    assert checkout.name == "django" and checkout.repo == "django/django"
    newer = runner_for("django/django", "9.9")  # a version the specs do not list: the newest they do
    assert newer.name == "django" and newer.spec_version != "9.9"
    assert newer.spec_version == max(
        ["5.0", "5.1", "5.2", newer.spec_version], key=lambda v: tuple(map(int, v.split(".")))
    )


def test_command_activates_the_environment_in_a_subshell_and_keeps_the_whole_log():
    command = runner_for("django/django", "5.0").command("/testbed", ["tests/a/tests.py"], "/tmp/log")
    assert command.startswith(
        "( if [ -f /opt/miniconda3/bin/activate ]; then source /opt/miniconda3/bin/activate"
    )
    assert "conda activate testbed" in command and "cd /testbed" in command
    assert "./tests/runtests.py" in command and " a.tests " in command + " "
    assert "> /tmp/log 2>&1" in command and "swe-ttc-tests-exit=$?" in command
    assert django_label("tests/a/b/test_c.py") == "a.b.test_c"


# ---- reading outcomes -------------------------------------------------------------------------------

DJANGO_LOG = """\
Testing against Django installed in '/testbed/django' with up to 2 processes
Found 5 test(s).
System check identified no issues (0 silenced).
test_parsing (utils_tests.test_http.HttpDateProcessingTests.test_parsing) ... ok
test_roundtrip (utils_tests.test_http.Base64Tests.test_roundtrip) ... FAIL
test_parsing_rfc2231 (utils_tests.test_http.ParseHeaderTests.test_parsing_rfc2231)
Test wrongly formatted RFC 2231 headers (missing double single quotes). ... ok
test_serialize (migrations.test_writer.WriterTests.test_serialize) ... ERROR
test_postgres_only (migrations.test_writer.WriterTests.test_postgres_only) ... skipped 'PostgreSQL specific'

======================================================================
FAIL: test_roundtrip (utils_tests.test_http.Base64Tests.test_roundtrip)
----------------------------------------------------------------------
AssertionError: 1 != 2
"""

SYMPY_LOG = """\
============================= test process starts ==============================
executable:         /usr/local/bin/python  (3.11.2-final-0) [CPython]

sympy/combinatorics/tests/test_homomorphisms.py[2]
test_homomorphism ok
test_isomorphisms F                                                         [FAIL]

sympy/sets/tests/test_contains.py[2]
test_contains_basic ok
test_as_set E                                                               [FAIL]

________________________________________________________________________________
________ sympy/combinatorics/tests/test_homomorphisms.py:test_isomorphisms _____
AssertionError
===== tests finished: 2 passed, 1 failed, 1 exceptions, in 0.81 seconds =====
"""


def test_django_outcomes_per_test_module_with_swebench_parser():
    files = ["tests/utils_tests/test_http.py", "tests/migrations/test_writer.py"]
    out = runner_for("django/django", "5.0").outcomes(files, DJANGO_LOG)
    http, writer = out["tests/utils_tests/test_http.py"], out["tests/migrations/test_writer.py"]
    assert http["test_parsing (utils_tests.test_http.HttpDateProcessingTests.test_parsing)"] == "passed"
    assert http["test_roundtrip (utils_tests.test_http.Base64Tests.test_roundtrip)"] == "failed"
    # a test shown by its docstring belongs to the module named on the line before
    assert http["Test wrongly formatted RFC 2231 headers (missing double single quotes)."] == "passed"
    assert writer["test_serialize (migrations.test_writer.WriterTests.test_serialize)"] == "error"
    assert writer["test_postgres_only (migrations.test_writer.WriterTests.test_postgres_only)"] == "skipped"
    assert UNATTRIBUTED not in out


def test_sympy_outcomes_per_file_from_its_verbose_report():
    files = ["sympy/combinatorics/tests/test_homomorphisms.py", "sympy/sets/tests/test_contains.py"]
    out = runner_for("sympy/sympy", "1.12").outcomes(files, SYMPY_LOG)
    assert out[files[0]] == {
        f"{files[0]}::test_homomorphism": "passed",
        f"{files[0]}::test_isomorphisms": "failed",
    }
    assert out[files[1]] == {
        f"{files[1]}::test_contains_basic": "passed",
        f"{files[1]}::test_as_set": "error",
    }


def test_no_recognisable_output_is_no_result():
    assert runner_for("django/django", "5.0").outcomes(["tests/a/tests.py"], "ImportError: boom\n") is None
    assert runner_for("x/y").outcomes(["tests/test_a.py"], "", junit_xml="<not xml") is None


# ---- reproduction outcomes --------------------------------------------------------------------------

TRACEBACK = 'Traceback (most recent call last):\n  File "/tmp/repro.py", line 1, in <module>\n{line}\n'


@pytest.mark.parametrize(
    ("output", "exit_code", "issue", "expected"),
    [
        ("Issue reproduced\n", 0, "", ("reproduced", "marker")),
        ("Other issues\nIssue resolved\n", 0, "", ("resolved", "marker")),
        ("", 0, "", ("resolved", "exit code")),
        (TRACEBACK.format(line="AssertionError: wrong result"), 1, "", ("reproduced", "exit code")),
        (TRACEBACK.format(line="ZeroDivisionError: division by zero"), 1, "", ("reproduced", "exit code")),
        (
            TRACEBACK.format(line="ModuleNotFoundError: No module named 'djang'"),
            1,
            "",
            ("other", "unrelated ModuleNotFoundError"),
        ),
        (
            TRACEBACK.format(line="django.core.exceptions.ImproperlyConfigured: Requested setting"),
            1,
            "",
            ("other", "unrelated ImproperlyConfigured"),
        ),
        (
            "  File \"/tmp/repro.py\", line 2\n    x = (\n        ^\nSyntaxError: '(' was never closed\n",
            1,
            "",
            ("other", "unrelated SyntaxError"),
        ),  # fmt: skip
        # the issue itself is about the import failing: then the crash is the issue
        (
            TRACEBACK.format(line="ImportError: cannot import name 'x'"),
            1,
            "Importing x raises ImportError since 4.1",
            ("reproduced", "exit code"),
        ),
        ("", 137, "", ("other", "killed by signal 9")),
        ("", None, "", ("other", "timeout")),
    ],
)
def test_read_outcome(output, exit_code, issue, expected):
    assert read_outcome(output, exit_code, exit_code is None, issue) == expected


def test_four_outcomes_on_the_base():
    assert [outcome_on_base(o) for o in ("reproduced", "resolved", "other")] == [
        "reproduces",
        "does_not_reproduce",
        "no_evidence",
    ]


# ---- selection in Django's and SymPy's layouts -----------------------------------------------------

DJANGO_TREE = {
    "tests/runtests.py": "",
    "django/__init__.py": "",
    "django/utils/__init__.py": "",
    "django/utils/http.py": "def quote(x):\n    return x\n",
    "django/db/__init__.py": "",
    "django/db/models/__init__.py": "from django.db.models.query_utils import Q\n",
    "django/db/models/query_utils.py": "class Q:\n    pass\n",
    "django/db/models/sql/__init__.py": "",
    "django/db/models/sql/where.py": "AND = 'AND'\n",
    "tests/utils_tests/__init__.py": "",
    "tests/utils_tests/test_http.py": "from django.test import SimpleTestCase\n",
    "tests/sessions_tests/__init__.py": "",
    "tests/sessions_tests/test_http.py": "import json\n",  # named alike, but its app has nothing to do with utils
    "tests/queries/__init__.py": "",
    "tests/queries/tests.py": "from django.db import models\nfrom django.db.models import Q\n",
    "tests/queries/test_where.py": "from django.db.models.sql.where import AND\n",
    "tests/forms_tests/__init__.py": "",
    "tests/forms_tests/tests.py": "from django import forms\n",
}
SYMPY_TREE = {
    "bin/test": "",
    "sympy/__init__.py": "",
    "sympy/sets/__init__.py": "",
    "sympy/sets/contains.py": "class Contains:\n    pass\n",
    "sympy/sets/tests/__init__.py": "",
    "sympy/sets/tests/test_contains.py": "from sympy import Symbol\n",
    "sympy/sets/tests/test_sets.py": "from sympy.sets.contains import Contains\n",
    "sympy/logic/__init__.py": "",
    "sympy/logic/tests/__init__.py": "",
    "sympy/logic/tests/test_contains.py": "x = 1\n",
}


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_django_labels_by_name_and_by_package_imports(tmp_path):
    root = write(tmp_path, DJANGO_TREE)
    assert scan_tests.detect_layout(str(root)) == "django"
    http = scan_tests.related_tests(str(root), ["django/utils/http.py"], 10)
    assert http["layout"] == "django" and http["tests"] == ["tests/utils_tests/test_http.py"]
    assert "test app named like django/utils" in http["reasons"]["tests/utils_tests/test_http.py"]
    where = scan_tests.related_tests(str(root), ["django/db/models/sql/where.py"], 10)
    assert where["tests"] == ["tests/queries/test_where.py", "tests/queries/tests.py"]
    assert where["reasons"]["tests/queries/tests.py"].startswith("imports django.db.models, the package of")
    assert "tests/forms_tests/tests.py" not in where["tests"]


def test_django_gis_tests_are_never_selected(tmp_path):
    # runtests.py aborts every label of a run that names a gis_tests module on SQLite (the specs' settings)
    files = dict(DJANGO_TREE)
    files["tests/gis_tests/__init__.py"] = ""
    files["tests/gis_tests/gis_migrations/__init__.py"] = ""
    files["tests/gis_tests/gis_migrations/test_where.py"] = "from django.db.models.sql.where import AND\n"
    root = write(tmp_path, files)
    where = scan_tests.related_tests(str(root), ["django/db/models/sql/where.py"], 10)
    assert where["tests"] == ["tests/queries/test_where.py", "tests/queries/tests.py"]


def test_sympy_tests_next_to_the_module_come_first(tmp_path):
    root = write(tmp_path, SYMPY_TREE)
    assert scan_tests.detect_layout(str(root)) == "sympy"
    result = scan_tests.related_tests(str(root), ["sympy/sets/contains.py"], 10)
    assert result["tests"] == [
        "sympy/sets/tests/test_contains.py",
        "sympy/logic/tests/test_contains.py",
        "sympy/sets/tests/test_sets.py",
    ]
    assert result["reasons"]["sympy/sets/tests/test_contains.py"].startswith("name convention (same package")


def test_selection_is_bounded_by_test_source_size(tmp_path):
    files = dict(DJANGO_TREE)
    files["tests/queries/tests.py"] += "# padding\n" * 5_000  # a huge module, as some Django apps have
    root = write(tmp_path, files)
    small = scan_tests.related_tests(str(root), ["django/db/models/sql/where.py"], 10, max_bytes=1_000)
    assert small["tests"] == ["tests/queries/test_where.py"] and small["dropped"] == 1
    assert small["bytes"] <= 1_000
    first_always = scan_tests.related_tests(str(root), ["django/db/models/sql/where.py"], 10, max_bytes=1)
    assert first_always["tests"] == ["tests/queries/test_where.py"]
