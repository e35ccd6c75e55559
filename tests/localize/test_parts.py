"""The localiser's parts on their own: tokens, symbols, issue facts, gold targets, sdist repositories."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from collections import Counter

import pytest

from sweagent.localize.bench import build_context, predict
from sweagent.localize.build import build_index
from sweagent.localize.config import LocalizeConfig
from sweagent.localize.files import OTHER, SOURCE, TEST, classify
from sweagent.localize.gold import gold_targets
from sweagent.localize.issue import parse_issue
from sweagent.localize.sdist_repos import main as sdist_main
from sweagent.localize.symbols import message_pieces, parse_module
from sweagent.localize.tokens import Tokenizer
from sweagent.task import Task
from tests.helpers.repos import git, make_repo


def test_tokens_split_code_names_and_keep_them_whole():
    tok = Tokenizer()
    assert tok.tokens("self.getHTTPResponse_code") == [
        "self.gethttpresponse_code",
        "gethttpresponse_code",
        "get",
        "http",
        "response",
        "code",
    ]
    assert tok.tokens("QuerySet.bulk_create is not the answer") == [
        "queryset.bulk_create",
        "queryset",
        "query",
        "set",
        "bulk_create",
        "bulk",
        "create",
        "answer",
    ]
    counted = tok.corpus_counts(["QuerySet QuerySet", "", "bulk_create"])
    words = tok.vocab_list()
    docs: list[Counter[str]] = [Counter(), Counter(), Counter()]
    for doc, token, n in zip(counted.docs, counted.tokens, counted.counts, strict=True):
        docs[doc][words[token]] += int(n)
    assert docs == [{"query": 2, "queryset": 2, "set": 2}, {}, {"bulk": 1, "bulk_create": 1, "create": 1}]
    assert counted.lengths.tolist() == [6, 0, 3]


def test_symbols_spans_qualnames_and_messages():
    source = '''"""Module docstring is not a message at all."""
import functools


class Outer:
    """Class docstring is not a message either."""

    @functools.cache
    def method(self, value):
        def helper():
            return f"cannot frobnicate {value!r} with the widget"
        raise ValueError("value %(name)s is out of range for %s" % {})

    async def later(self):
        pass


def top():
    return "x"
'''
    info = parse_module(source)
    table = [(s.qualname, s.kind, s.start, s.end) for s in info.symbols]
    assert table == [
        ("Outer", "class", 5, 15),
        ("Outer.method", "method", 8, 12),  # the span starts at the decorator
        ("Outer.method.helper", "function", 10, 11),
        ("Outer.later", "method", 14, 15),
        ("top", "function", 18, 19),
    ]
    owners = {info.symbols[i].qualname: pieces for i, pieces in info.literals}
    assert owners == {
        "Outer.method.helper": (("cannot", "frobnicate"), ("with", "the", "widget")),
        "Outer.method": (("value",), ("is", "out", "of", "range", "for")),
    }
    assert parse_module("def broken(:\n") is None
    assert message_pieces(["%s"]) == ()


def test_issue_facts():
    facts = parse_issue(
        "`QuerySet.bulk_create()` fails, see django/db/models/query.py and test_bulk_update_fields\n"
        'Traceback (most recent call last):\n  File "/venv/site-packages/pkg/a.py", line 3, in outer\n'
        '  File "pkg/b.py", line 9, in inner\nKeyError: 1\n'
        "```\nfrom pkg.models import Widget\nWidget.objects.create()\n```\n"
    )
    assert [(f.path, f.line, f.func, f.depth) for f in facts.frames] == [
        ("/venv/site-packages/pkg/a.py", 3, "outer", 1),
        ("pkg/b.py", 9, "inner", 0),
    ]
    assert facts.paths == ["django/db/models/query.py"]
    assert "QuerySet.bulk_create" in facts.dotted and "pkg.models" in facts.dotted
    assert facts.identifiers["bulk_create"] == 1.0  # talked about
    assert facts.identifiers["Widget"] < 1.0  # only used in an example
    assert "test_bulk_update_fields" in facts.test_names


def test_file_kinds():
    assert classify("django/test/testcases.py") == SOURCE
    assert classify("tests/queries/tests.py") == TEST
    assert classify("pkg/sub/test_thing.py") == TEST
    assert classify("testing/conftest.py") == TEST
    assert classify("docs/index.rst") == OTHER
    assert classify("src/app.js") == SOURCE


def test_gold_targets_map_hunks_to_enclosing_functions(tmp_path):
    files = {
        "pkg/mod.py": "X = 1\n\n\ndef alpha():\n    return 1\n\n\nclass Beta:\n    size = 2\n\n    def gamma(self):\n        return 3\n",
        "tests/test_mod.py": "def test_alpha():\n    pass\n",
    }
    repo = make_repo(tmp_path / "r", files)
    text = files["pkg/mod.py"].replace("return 1", "return 10").replace("size = 2", "size = 20")
    text = text.replace("        return 3\n", "        value = 3\n        return value\n").replace(
        "X = 1", "X = 2"
    )
    (repo / "pkg/mod.py").write_text(text)
    (repo / "pkg/new.py").write_text("def fresh():\n    pass\n")
    (repo / "tests/test_mod.py").write_text("def test_alpha():\n    assert True\n")
    git(repo, "add", "-A")
    patch = git(repo, "diff", "--cached")
    index = build_index({p: t.encode() for p, t in files.items()}, "k")
    gold = gold_targets(patch, index)
    assert gold.files == {"pkg/mod.py"}  # tests are not source; new files cannot be found at the base
    assert gold.new_files == {"pkg/new.py"}
    assert gold.functions == {("pkg/mod.py", "alpha"), ("pkg/mod.py", "Beta"), ("pkg/mod.py", "Beta.gamma")}
    assert gold.outside_functions  # X = 2 is at module level


def test_gold_targets_place_hunks_where_an_other_version_has_them(tmp_path):
    """A patch written against one version, scored on a release where the same code sits lower."""
    base = "def alpha():\n    return 1\n\n\ndef beta():\n    return 2\n"
    repo = make_repo(tmp_path / "r", {"pkg/mod.py": base})
    (repo / "pkg/mod.py").write_text(base.replace("return 2", "return 20"))
    git(repo, "add", "-A")
    patch = git(repo, "diff", "--cached")
    release = "import os\n\n\ndef gamma():\n    return os.sep\n\n\n" + base  # five lines more on top
    gold = gold_targets(patch, build_index({"pkg/mod.py": release.encode()}, "k"))
    assert gold.functions == {("pkg/mod.py", "beta")}
    same = gold_targets(patch, build_index({"pkg/mod.py": base.encode()}, "k2"))
    assert same.functions == {("pkg/mod.py", "beta")}


def test_gold_targets_give_a_new_method_to_its_class_not_to_the_method_above(tmp_path):
    base = (
        "class Paginator:\n    def page(self):\n        return 1\n\n    def count(self):\n        return 2\n"
    )
    repo = make_repo(tmp_path / "r", {"pkg/pages.py": base})
    new_method = "        return 1\n    def __iter__(self):\n        yield 1\n"
    (repo / "pkg/pages.py").write_text(base.replace("        return 1\n", new_method))
    git(repo, "add", "-A")
    patch = git(repo, "diff", "--cached")
    git(repo, "reset", "-q", "--hard")
    (repo / "pkg/pages.py").write_text(
        base.replace("        return 2\n", "        total = 2\n        return total\n")
    )
    git(repo, "add", "-A")
    in_body = git(repo, "diff", "--cached")
    index = build_index({"pkg/pages.py": base.encode()}, "k")
    assert gold_targets(patch, index).functions == {("pkg/pages.py", "Paginator")}
    assert gold_targets(in_body, index).functions == {("pkg/pages.py", "Paginator.count")}


def _sdist(path, version: str, files: dict[str, str]) -> None:
    with tarfile.open(path / f"widget-{version}.tar.gz", "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"widget-{version}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_sdist_repos_keep_instances_whose_patch_applies(tmp_path):
    _sdist(tmp_path, "1.0", {"widget/core.py": "def spin():\n    return 1\n"})
    _sdist(tmp_path, "1.1", {"widget/core.py": "def spin():\n    return 2\n"})
    patch = "--- a/widget/core.py\n+++ b/widget/core.py\n@@ -1,2 +1,2 @@\n def spin():\n-    return 1\n+    return 3\n"
    rows = [
        {
            "instance_id": "w-1",
            "repo": "acme/widget",
            "version": "1.1",
            "patch": patch,
            "problem_statement": "x",
        },
        {
            "instance_id": "w-2",
            "repo": "acme/widget",
            "version": "1.1",
            "patch": patch.replace("1\n+", "9\n+"),
            "problem_statement": "y",
        },
        {
            "instance_id": "o-1",
            "repo": "other/repo",
            "version": "1.0",
            "patch": patch,
            "problem_statement": "z",
        },
    ]
    dataset = tmp_path / "data.jsonl"
    dataset.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    try:
        sdist_main.main(
            [
                "--dataset",
                str(dataset),
                "--repo",
                "acme/widget",
                "--out",
                str(out),
                "--sdist",
                str(tmp_path / "widget-1.1.tar.gz"),
                "--sdist",
                str(tmp_path / "widget-1.0.tar.gz"),
            ],
            standalone_mode=False,
        )
    except SystemExit:
        pass
    kept = [json.loads(line) for line in (out / "acme__widget.jsonl").read_text().splitlines()]
    assert [r["instance_id"] for r in kept] == ["w-1"]
    assert kept[0]["sdist_version"] == "1.0"  # 1.1 already differs; 1.0 is where the patch applies
    repo = out / "repos" / "acme__widget"
    assert git(repo, "show", f"{kept[0]['base_commit']}:widget/core.py") == "def spin():\n    return 1\n"


def test_bench_prediction_refuses_a_task_with_its_answer(tmp_path):
    repo = make_repo(tmp_path / "r", {"pkg/mod.py": "def spin():\n    return 1\n"})
    sha = git(repo, "rev-parse", "HEAD").strip()
    ctx = build_context(repo, sha, LocalizeConfig())
    task = Task(instance_id="t", repo="a/b", base_commit=sha, problem_statement="spin is wrong", patch="diff")
    with pytest.raises(ValueError, match="task.public"):
        predict(task, ctx, LocalizeConfig())
    assert predict(task.public(), ctx, LocalizeConfig()).files == ["pkg/mod.py"]


def test_issue_names_come_out_in_the_same_order_whatever_the_hash_seed():
    """The order of the names an issue mentions decides ties further on (graph seeds, kept votes); it
    must not follow Python's per-process string hashing, or two runs rank differently."""
    issue = (
        "Calling `bulk_update` after `select_related` loses `pk_set`; the fix_ups in "
        "`get_prefetch_queryset`, `_check_values`, `to_python`, `resolve_expression` and "
        "`as_sql` should call `make_hashable` and `get_db_prep_value` first (see `QuerySet.update`)."
    )
    script = (
        "import sys; from sweagent.localize.issue import parse_issue; "
        "print(list(parse_issue(sys.stdin.read()).identifiers))"
    )
    orders = {
        subprocess.run(
            [sys.executable, "-c", script],
            input=issue,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            check=True,
        ).stdout
        for seed in range(6)
    }
    assert len(orders) == 1
    assert "make_hashable" in orders.pop()
