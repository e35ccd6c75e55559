"""Pure parts of verifiers: records, patches, JUnit XML, the reproduction protocol, caching."""

from __future__ import annotations

import json
import threading
import time

import pytest

from verifiers.cache import ResultCache, state_hash
from verifiers.diffs import PatchParseError, normalised_patch, patch_key, python_files_after, touched_files
from verifiers.junit import COLLECTION, JUnitParseError, parse_junit
from verifiers.reproduction import extract_script, read_outcome
from verifiers.types import Candidate, Evidence, Judged, Score, Verdict, cap_output

PATCH = """\
diff --git a/pkg/mod.py b/pkg/mod.py
index 1111111..2222222 100644
--- a/pkg/mod.py
+++ b/pkg/mod.py
@@ -1,4 +1,4 @@
 def f(x):
-    return x
+    return x + 1


diff --git a/pkg/gone.py b/pkg/gone.py
deleted file mode 100644
index 3333333..0000000
--- a/pkg/gone.py
+++ /dev/null
@@ -1 +0,0 @@
-X = 1
diff --git a/README.md b/README.md
new file mode 100644
index 0000000..4444444
--- /dev/null
+++ b/README.md
@@ -0,0 +1 @@
+hello
"""

SAME_FIX_REFORMATTED = """\
--- a/pkg/mod.py
+++ b/pkg/mod.py
@@ -10,3 +10,3 @@ class Other:
 # different context line
-    return x
+    return  x+1
 # another
diff --git a/pkg/gone.py b/pkg/gone.py
deleted file mode 100644
--- a/pkg/gone.py
+++ /dev/null
@@ -1 +0,0 @@
-X = 1
diff --git a/README.md b/README.md
new file mode 100644
--- /dev/null
+++ b/README.md
@@ -0,0 +1 @@
+hello
"""


def test_records_round_trip_through_json():
    cand = Candidate(id="c1", patch=PATCH, reproduction_script="print('Issue reproduced')", metadata={"k": 1})
    verdict = Verdict.make(
        "apply", True, "passed", "ok", evidence=[Evidence(command="git apply", exit_code=0, output="x")]
    )
    judged = Judged(candidate=cand, verdicts=[verdict], scores={"judge": Score(value=0.7, explanation="e")})
    text = json.dumps(judged.model_dump(mode="json"))
    again = Judged.model_validate(json.loads(text))
    assert again == judged
    assert again.verdict("apply").score == 1.0
    assert Verdict.make("x", None, "no_tests", "").score is None
    assert Score.failure("rm", "down").failed


def test_score_value_must_be_a_probability():
    with pytest.raises(ValueError):
        Score(value=1.5)


def test_cap_output_keeps_head_and_tail():
    text = "A" * 5000 + "B" * 5000
    capped = cap_output(text, 1000)
    assert capped.startswith("A" * 500) and capped.endswith("B" * 500)
    assert "9000 characters cut" in capped
    assert cap_output("short", 1000) == "short"


def test_touched_files_and_python_files_to_compile():
    files = touched_files(PATCH)
    assert [(f.path, f.added, f.removed) for f in files] == [
        ("pkg/mod.py", False, False),
        ("pkg/gone.py", False, True),
        ("README.md", True, False),
    ]
    assert python_files_after(PATCH) == ["pkg/mod.py"]


@pytest.mark.parametrize("bad", ["", "   \n", "this is not a diff\n"])
def test_empty_or_garbage_patch_raises(bad):
    with pytest.raises(PatchParseError):
        touched_files(bad)


def test_normalised_patch_ignores_context_offsets_and_whitespace():
    assert normalised_patch(PATCH) == normalised_patch(SAME_FIX_REFORMATTED)
    assert patch_key(PATCH) == patch_key(SAME_FIX_REFORMATTED)
    different = SAME_FIX_REFORMATTED.replace("x+1", "x+2")
    assert patch_key(different) != patch_key(PATCH)
    assert "+returnx+1" in normalised_patch(PATCH)
    assert patch_key("garbage") == patch_key("  garbage\n")


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5">
<testcase classname="tests.test_a.TestX" name="test_one" file="tests/test_a.py" line="2" time="0.001"/>
<testcase classname="tests.test_a.TestX" name="test_p[2]" file="tests/test_a.py" line="4" time="0.001">
  <failure message="assert 2 == 1">boom</failure></testcase>
<testcase classname="tests.test_a" name="test_skip" file="tests/test_a.py" line="6" time="0.0">
  <skipped type="pytest.skip" message="no">skip</skipped></testcase>
<testcase classname="tests.test_a" name="test_err" file="tests/test_a.py" line="8" time="0.0">
  <error message="fixture">e</error></testcase>
<testcase classname="" name="tests.test_b" file="tests/test_b.py" time="0.000">
  <error message="collection failure">ImportError</error></testcase>
</testsuite></testsuites>"""


def test_parse_junit_reads_outcomes_per_file():
    parsed = parse_junit(JUNIT)
    assert parsed["tests/test_a.py"] == {
        "tests/test_a.py::TestX::test_one": "passed",
        "tests/test_a.py::TestX::test_p[2]": "failed",
        "tests/test_a.py::test_skip": "skipped",
        "tests/test_a.py::test_err": "error",
    }
    assert parsed["tests/test_b.py"] == {f"tests/test_b.py::{COLLECTION}": "error"}


@pytest.mark.parametrize("bad", ["", "not xml", "<html/>"])
def test_parse_junit_rejects_non_reports(bad):
    with pytest.raises(JUnitParseError):
        parse_junit(bad)


@pytest.mark.parametrize(
    ("output", "code", "timed_out", "expected"),
    [
        ("Issue reproduced\n", 0, False, ("reproduced", "marker")),
        ("Issue resolved\n", 1, False, ("resolved", "marker")),
        ("Other issues\n", 0, False, ("other", "marker")),
        ("Issue reproduced\n...\nIssue resolved\n", 0, False, ("resolved", "marker")),
        ("Traceback ... AssertionError\n", 1, False, ("reproduced", "exit code")),
        ("all good\n", 0, False, ("resolved", "exit code")),
        ("", None, True, ("other", "timeout")),
    ],
)
def test_reproduction_outcome_protocol(output, code, timed_out, expected):
    assert read_outcome(output, code, timed_out) == expected


def test_extract_script_from_reply():
    reply = "Here:\n```python\nprint('Issue reproduced')\n```\nthanks"
    assert extract_script(reply) == "print('Issue reproduced')\n"
    assert extract_script("import os\nprint(os.sep)") == "import os\nprint(os.sep)\n"
    assert extract_script("I cannot write that script.") is None


def test_state_hash_depends_on_commit_patch_and_environment():
    assert state_hash("abc", "") == state_hash("abc", "")
    assert state_hash("abc", "") != state_hash("abc", "p")
    assert state_hash("abc", "p") != state_hash("abd", "p")
    assert state_hash("abc", "p", "img1") != state_hash("abc", "p", "img2")


def test_cache_computes_each_key_once_under_concurrency():
    cache = ResultCache()
    calls = []

    def compute():
        calls.append(1)
        time.sleep(0.05)
        return {"v": 1}

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_compute("s", "cmd", compute)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert sorted(hit for _, hit in results) == [False] + [True] * 7
    assert cache.stats() == {"entries": 1, "hits": 7, "misses": 1}


def test_cache_does_not_store_failures_and_can_be_disabled():
    cache = ResultCache()
    assert cache.get_or_compute("s", "x", lambda: None) == (None, False)
    assert cache.get("s", "x") is None
    off = ResultCache(enabled=False)
    off.put("s", "x", 1)
    assert off.get("s", "x") is None
    assert off.get_or_compute("s", "x", lambda: 2) == (2, False)


def test_cache_persists_to_disk(tmp_path):
    path = tmp_path / "cache.jsonl"
    first = ResultCache(path)
    first.get_or_compute("state", "pytest:tests/test_a.py", lambda: {"outcomes": {"t": "passed"}})
    with path.open("a") as handle:
        handle.write('{"key": "torn')  # a crash mid-write must not break loading
    second = ResultCache(path)
    assert second.get("state", "pytest:tests/test_a.py") == {"outcomes": {"t": "passed"}}
    value, hit = second.get_or_compute("state", "pytest:tests/test_a.py", lambda: pytest.fail("recomputed"))
    assert hit and value["outcomes"]["t"] == "passed"


def test_cache_merge_takes_only_new_entries_and_persists_them(tmp_path):
    run = ResultCache(tmp_path / "cache.jsonl")
    run.put("s1", "a", 1)
    node = ResultCache(tmp_path / "node.jsonl")  # what a remote worker filled for one instance
    node.put("s1", "a", 99)
    node.put("s2", "b", {"x": 2})
    run.merge(node)
    assert run.get("s1", "a") == 1 and run.get("s2", "b") == {"x": 2}
    reloaded = ResultCache(tmp_path / "cache.jsonl")
    assert reloaded.get("s2", "b") == {"x": 2} and reloaded.stats()["entries"] == 2


def test_reformatting_an_unchanged_line_is_not_a_change():
    plain = "--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,3 @@\n+if b == 0: return None\n return a / b\n x = 1\n"
    reformatted = (
        "--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,3 @@\n+if b==0: return None\n-return a / b\n+return a/b\n x = 1\n"
    )
    assert patch_key(plain) == patch_key(reformatted)
    assert normalised_patch(reformatted) == "m.py\n+ifb==0:returnNone"
