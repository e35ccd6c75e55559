"""Execution checks on real projects, with each repository's own test runner: Django (runtests.py) and
SymPy (bin/test) built from their PyPI sdists, in our own image layout and in the official SWE-bench
layout (conda env `testbed`), on real SWE-bench Verified instances re-based on the releases."""

from __future__ import annotations

import difflib
import io
import json
import tarfile

import pytest

from sweagent.task import Task
from tests.helpers.cli import run_cli
from verifiers.bench import DJANGO_REPRO  # django__django-17087's reproduction, shared with `bench verify`
from verifiers.cache import ResultCache
from verifiers.execution import ExecutionConfig, ExecutionVerifier
from verifiers.types import Candidate

pytestmark = pytest.mark.docker

DJANGO = "swe-ttc-real/django:5.0.14"
ONE_FILE = ExecutionConfig(max_test_files=1)

# Touches a model without configuring settings: crashes before it tests anything.
DJANGO_UNCONFIGURED = """\
from django.contrib.auth.models import User

assert User.objects.count() == 0
"""
# sympy__sympy-24443: the dihedral group's identity map is rejected as a homomorphism (ValueError).
SYMPY_REPRO = """\
from sympy.combinatorics import DihedralGroup
from sympy.combinatorics.homomorphisms import homomorphism

D3 = DihedralGroup(3)
assert homomorphism(D3, D3, D3.generators, D3.generators).is_isomorphism()
"""
SYMPY_TYPO = "from sympy.sets.contain import Contains\n\nprint(Contains)\n"


def by_check(verdicts):
    return {v.check: v for v in verdicts}


def edit_patch(sandbox, path: str, old: str, new: str) -> str:
    """A `git diff`-style patch replacing `old` by `new` in `path` as the sandbox holds it."""
    before = sandbox.read_file(path)
    assert before.count(old) == 1, f"{old!r} is not unique in {path}"
    after = before.replace(old, new)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}"
    )
    return f"diff --git a/{path} b/{path}\n" + "".join(lines)


def test_django_correct_patch_and_reproduction_in_the_official_layout(real_rows, open_real):
    row = real_rows["django__django-17087"]
    task = Task.from_swebench(row)
    sandbox = open_real(row["image"])
    verifier = ExecutionVerifier(sandbox, ONE_FILE)
    crashing = Candidate(id="crashing", patch=row["patch"], reproduction_script=DJANGO_UNCONFIGURED)
    fixed = Candidate(id="fixed", patch=row["patch"], reproduction_script=DJANGO_REPRO)

    shared = verifier.shared_reproduction(task, [crashing, fixed])
    assert shared.script == DJANGO_REPRO and shared.source == "candidate:fixed"
    assert [t["base_outcome"] for t in shared.tried] == ["other", "reproduced"]

    own = by_check(verifier.verify(task, crashing))["reproduction"]  # its own script crashes on the base
    assert own.passed is None and own.status == "no_evidence" and own.outcome == "no_evidence"
    assert "ImproperlyConfigured" in own.explanation and not own.reproduces_on_base

    verdicts = by_check(verifier.verify(task, fixed, reproduction_script=shared.script))
    repro = verdicts["reproduction"]
    assert repro.passed is True and repro.outcome == "resolved" and repro.reproduces_on_base
    regression = verdicts["regression"]
    assert regression.passed is True, regression.explanation
    runner = regression.details["runner"]
    assert runner["name"] == "django" and runner["parser"] == "parse_log_django"
    assert runner["command"] == (
        "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 migrations.test_writer"
    )
    assert regression.details["selection"]["targets"] == ["migrations.test_writer"]
    assert "conda activate testbed" in regression.evidence[0].command  # the eval script's activation
    assert regression.details["passed_before"] == regression.details["passed_after"] >= 50


def test_django_patch_that_breaks_an_existing_test_and_one_whose_tests_hang(real_rows, open_real):
    sandbox = open_real(DJANGO)  # our own layout: Django in the image's system Python
    task = Task(
        instance_id="django-floats",
        repo="django/django",
        version="5.0",
        problem_statement="Serialise floats.",
    )
    cache = ResultCache()
    breaking = edit_patch(
        sandbox,
        "django/db/migrations/serializer.py",
        "return 'float(\"{}\")'.format(self.value), set()",
        "return 'float({})'.format(self.value), set()",
    )
    verdicts = by_check(
        ExecutionVerifier(sandbox, ONE_FILE, cache).verify(task, Candidate(id="b", patch=breaking))
    )
    regression = verdicts["regression"]
    assert regression.passed is False and regression.status == "regressions"
    broken = list(regression.details["regressions"])
    assert broken and all("(migrations.test_writer." in t for t in broken)
    assert any(t.startswith("test_serialize_numbers ") for t in broken), broken
    assert regression.details["flaky"] == {}  # confirmed by a re-run on both states
    assert [e.label for e in regression.evidence] == ["base", "patched", "base-rerun-1", "patched-rerun-1"]

    hanging = edit_patch(
        sandbox,
        "django/db/migrations/serializer.py",
        "class FloatSerializer(BaseSimpleSerializer):\n    def serialize(self):\n",
        "class FloatSerializer(BaseSimpleSerializer):\n    def serialize(self):\n        while True:\n            pass\n",
    )
    quick = ExecutionConfig(max_test_files=1, test_timeout=8, checks=["regression"])
    (hung,) = ExecutionVerifier(sandbox, quick, cache).verify(task, Candidate(id="h", patch=hanging))
    assert hung.passed is False and hung.status == "timed_out", hung.explanation
    assert hung.evidence[0].cached and hung.evidence[-1].timed_out  # base from the cache, patched hung
    assert "./tests/runtests.py" in hung.evidence[-1].command and hung.evidence[-1].duration >= 8
    assert sandbox.run("echo alive", timeout=30).output.strip() == "alive"


FLAKY_TEST = """

class FlakyOnPurposeTests(SimpleTestCase):
    def test_fails_on_its_second_run(self):
        import os

        path = "/tmp/swe-ttc-flaky-runs"
        runs = 1
        if os.path.exists(path):
            with open(path) as handle:
                runs += int(handle.read())
        with open(path, "w") as handle:
            handle.write(str(runs))
        self.assertNotEqual(runs, 2, "this test fails on its second run only")
"""
FLAKY_DOCKERFILE = f"""FROM {DJANGO}
COPY flaky.py /tmp/flaky.py
RUN cat /tmp/flaky.py >> tests/utils_tests/test_http.py && rm /tmp/flaky.py \\
 && git commit -qam "A test made flaky on purpose"
"""


@pytest.fixture(scope="session")
def flaky_django(real_rows, docker_client) -> str:
    """The Django image with a test that fails on its second run only (a flaky test, on purpose)."""
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, text in (("Dockerfile", FLAKY_DOCKERFILE), ("flaky.py", FLAKY_TEST)):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    tag = "swe-ttc-real/django:5.0.14-flaky-test"
    docker_client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True, forcerm=True)
    return tag


def test_a_flaky_test_is_re_run_and_listed_apart_not_counted_as_a_regression(flaky_django, open_real):
    sandbox = open_real(flaky_django)
    task = Task(instance_id="django-flaky", repo="django/django", version="5.0", problem_statement="Tidy up.")
    harmless = edit_patch(sandbox, "django/utils/http.py", "def urlencode(", "# Tidied.\ndef urlencode(")
    config = ExecutionConfig(max_test_files=1, checks=["regression"])
    (verdict,) = ExecutionVerifier(sandbox, config, ResultCache(enabled=False)).verify(
        task, Candidate(id="harmless", patch=harmless)
    )
    assert verdict.details["selection"]["targets"] == ["utils_tests.test_http"]
    flaky = "test_fails_on_its_second_run (utils_tests.test_http.FlakyOnPurposeTests.test_fails_on_its_second_run)"
    assert verdict.details["flaky"] == {
        flaky: {"base": ["passed", "passed"], "patched": ["failed", "passed"]}
    }
    assert verdict.passed is True and verdict.status == "passed" and verdict.details["regressions"] == {}
    assert "1 flaky test(s) not counted" in verdict.explanation


def test_sympy_correct_patch_with_bin_test(real_rows, open_real):
    row = real_rows["sympy__sympy-24443"]
    task = Task.from_swebench(row)
    sandbox = open_real(row["image"])
    fixed = Candidate(id="fixed", patch=row["patch"], reproduction_script=SYMPY_REPRO)
    verdicts = by_check(ExecutionVerifier(sandbox, ONE_FILE).verify(task, fixed))
    repro = verdicts["reproduction"]
    assert repro.passed is True and repro.outcome == "resolved", repro.explanation
    assert "ValueError" in repro.evidence[0].output  # how the issue shows on the base
    regression = verdicts["regression"]
    assert regression.passed is True, regression.explanation
    assert regression.details["runner"]["name"] == "sympy"
    assert regression.details["runner"]["command"] == (
        "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose "
        "sympy/combinatorics/tests/test_homomorphisms.py"
    )
    # every test of the file is read, the last one too (SymPy prints it with the file's verdict)
    assert regression.details["passed_before"] == 3


def test_sympy_fix_that_breaks_an_old_test_and_a_script_with_a_typo(real_rows, open_real):
    """sympy__sympy-23950's real fix makes `Contains.as_set` work, which an existing test asserted raises:
    the repository's own tests catch that (SWE-bench's test patch changed the old test)."""
    row = real_rows["sympy__sympy-23950"]
    task = Task.from_swebench(row)
    sandbox = open_real(row["image"])
    candidate = Candidate(id="fix", patch=row["patch"], reproduction_script=SYMPY_TYPO)
    verdicts = by_check(ExecutionVerifier(sandbox, ONE_FILE).verify(task, candidate))
    regression = verdicts["regression"]
    assert regression.passed is False and regression.status == "regressions"
    assert list(regression.details["regressions"]) == ["sympy/sets/tests/test_contains.py::test_as_set"]
    repro = verdicts["reproduction"]
    assert (
        repro.passed is None and repro.outcome == "no_evidence" and "ModuleNotFoundError" in repro.explanation
    )


def test_real_instances_grade_with_eval(real_rows, tmp_path):
    """The re-based Verified rows are real instances: their gold patch resolves them under `eval`."""
    dataset = tmp_path / "real.jsonl"
    dataset.write_text(json.dumps(real_rows["sympy__sympy-24443"]) + "\n")
    proc = run_cli(
        "eval", "--dataset", str(dataset), "--gold", "--workers", "1",
        "--output-dir", str(tmp_path / "runs"), "--network", "none",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    (report,) = (tmp_path / "runs").glob("*/eval/report.json")
    assert json.loads(report.read_text())["resolved_ids"] == ["sympy__sympy-24443"]
