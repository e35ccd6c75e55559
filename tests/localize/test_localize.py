"""The localiser on a small real repository, with issues of the kinds agents meet."""

from __future__ import annotations

import gc

import pytest

from sweagent.errors import UserError
from sweagent.localize import LocalizeConfig, RepoSnapshot, localize, localize_repo
from sweagent.localize.api import CACHE
from sweagent.localize.build import PARSED
from sweagent.localize.files import SOURCE, classify
from tests.helpers.repos import commit_files, git, make_repo
from tests.localize.shop import (
    MESSAGE_ISSUE,
    METHOD_ISSUE,
    PROSE_ISSUE,
    SHOP_FILES,
    line_of,
    traceback_issue,
)


def signals_of(hit) -> set[str]:
    return {s.signal for s in hit.signals}


def test_traceback_names_the_innermost_file_and_function(shop_repo):
    result = localize_repo(shop_repo, None, traceback_issue(), top=5)
    top = result.files[0]
    assert top.path == "shop/pricing.py"
    assert "traceback" in signals_of(top)
    frame = next(s for s in top.signals if s.signal == "traceback")
    tax_line = line_of(SHOP_FILES["shop/pricing.py"], "rate = TAX_RATES[self.region]")
    assert frame.detail == f"traceback line {tax_line} in compute_tax"
    # the function the frame ran in, with its real span
    start = line_of(SHOP_FILES["shop/pricing.py"], "def compute_tax")
    assert (top.symbols[0].qualname, top.symbols[0].start, top.symbols[0].end) == (
        "PriceCalculator.compute_tax",
        start,
        start + 2,
    )
    assert result.functions[0].qualname == "PriceCalculator.compute_tax"
    # the outer frame's file follows; the app's own file (not in the repository) is nowhere
    assert result.files[1].path == "shop/cart.py"
    assert all(h.path != "views.py" for h in result.files + result.other)


def test_issue_naming_only_a_method(shop_repo):
    result = localize_repo(shop_repo, None, METHOD_ISSUE, top=5)
    top = result.files[0]
    assert top.path == "shop/inventory.py"
    symbol = next(s for s in top.signals if s.signal == "symbol")
    assert symbol.detail == "defines restock_from_supplier"
    assert top.symbols[0].qualname == "Inventory.restock_from_supplier"
    assert result.functions[0].qualname == "Inventory.restock_from_supplier"
    assert [t.path for t in result.tests][:1] == ["tests/test_inventory.py"]


def test_issue_quoting_an_error_message_with_values_filled_in(shop_repo):
    result = localize_repo(shop_repo, None, MESSAGE_ISSUE, top=5)
    top = result.files[0]
    assert top.path == "shop/inventory.py"
    message = next(s for s in top.signals if s.signal == "message")
    # the literal is "not enough stock for %s: requested %d, available %d": its pieces matched
    assert message.detail.startswith('message "not enough stock for')
    assert "requested" in message.detail and "available" in message.detail
    assert result.functions[0].qualname == "Inventory.reserve"
    assert "message" in signals_of(result.functions[0])


def test_issue_without_any_code(shop_repo):
    result = localize_repo(shop_repo, None, PROSE_ISSUE, top=5)
    top = result.files[0]
    assert top.path == "shop/pricing.py"
    assert signals_of(top) <= {"bm25", "bm25_path", "bm25_function", "bm25_title"}
    assert result.functions[0].qualname == "PriceCalculator.price_with_promotions"
    # docs are ranked on their own, never mixed into the source ranking
    assert all(h.kind == "source" for h in result.files)
    assert "docs/usage.rst" in [h.path for h in result.other]


def test_prompt_text_and_dict(shop_repo):
    result = localize_repo(shop_repo, None, METHOD_ISSUE, top=5)
    text = result.as_prompt_text(2)
    lines = text.splitlines()
    assert lines[1].startswith("1. shop/inventory.py (score ")
    assert "symbol" in lines[1]
    start = line_of(SHOP_FILES["shop/inventory.py"], "def restock_from_supplier")
    assert f"   - Inventory.restock_from_supplier [method, lines {start}-{start + 2}]" in lines
    assert len([ln for ln in lines if ln[:1].isdigit()]) == 2
    data = result.to_dict()
    assert data["files"][0]["path"] == "shop/inventory.py"
    assert data["files"][0]["symbols"][0]["start"] == start
    assert {"signal", "rank", "detail"} <= set(data["files"][0]["signals"][0])


def test_mapping_and_git_give_the_same_ranking(shop_repo):
    files = {path: text.encode() for path, text in SHOP_FILES.items()}
    from_map = localize(files, MESSAGE_ISSUE, top=5)
    from_git = localize_repo(shop_repo, None, MESSAGE_ISSUE, top=5)
    assert [h.path for h in from_map.files] == [h.path for h in from_git.files]
    assert [(f.path, f.qualname) for f in from_map.functions] == [
        (f.path, f.qualname) for f in from_git.functions
    ]


def test_a_query_leaves_the_garbage_collector_as_it_found_it(shop_repo):
    files = {path: text.encode() for path, text in SHOP_FILES.items()}
    assert gc.isenabled()
    localize(RepoSnapshot(files, identity="gc"), MESSAGE_ISSUE)
    assert gc.isenabled()  # paused while ranking only
    gc.disable()
    try:
        localize(RepoSnapshot(files, identity="gc"), MESSAGE_ISSUE)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_parsing_in_a_worker_process_gives_the_same_index(shop_repo):
    files = {path: text.encode() for path, text in SHOP_FILES.items()}
    here = localize(
        RepoSnapshot(files, identity="inline"), MESSAGE_ISSUE, config=LocalizeConfig(parallel_min_bytes=-1)
    )
    forked = localize(
        RepoSnapshot(files, identity="forked"), MESSAGE_ISSUE, config=LocalizeConfig(parallel_min_bytes=0)
    )
    assert here.to_dict()["files"] == forked.to_dict()["files"]
    assert here.to_dict()["functions"] == forked.to_dict()["functions"]


@pytest.mark.parametrize("parallel_min_bytes", [-1, 0])
def test_a_later_commit_parses_only_the_modules_that_changed(parallel_min_bytes):
    """Consecutive commits share most files: the second index reuses their parsed modules and ranks
    exactly as an index built from nothing."""
    files = {path: text.encode() for path, text in SHOP_FILES.items()}
    changed = next(p for p in sorted(files) if p.endswith(".py") and classify(p) == SOURCE)
    later = dict(files, **{changed: files[changed] + b"\n\ndef added_later():\n    return 1\n"})
    config = LocalizeConfig(parallel_min_bytes=parallel_min_bytes)
    CACHE.clear()  # indexes are cached by content: build each one here
    PARSED.clear()
    first = localize(RepoSnapshot(files, identity=f"first{parallel_min_bytes}"), MESSAGE_ISSUE, config=config)
    second = localize(
        RepoSnapshot(later, identity=f"later{parallel_min_bytes}"), MESSAGE_ISSUE, config=config
    )
    assert first.stats["modules_parsed"] > 1
    assert second.stats["modules_parsed"] == 1
    assert second.stats["modules_reused"] == first.stats["modules_parsed"] - 1
    CACHE.clear()
    PARSED.clear()
    fresh = localize(RepoSnapshot(later, identity=f"fresh{parallel_min_bytes}"), MESSAGE_ISSUE, config=config)
    assert fresh.stats["modules_parsed"] == first.stats["modules_parsed"]
    assert second.to_dict()["files"] == fresh.to_dict()["files"]
    assert second.to_dict()["functions"] == fresh.to_dict()["functions"]


def test_repeated_calls_reuse_the_index(shop_repo, tmp_path):
    CACHE.clear()
    config = LocalizeConfig(disk_cache=True, cache_dir=tmp_path / "cache")
    first = localize_repo(shop_repo, None, METHOD_ISSUE, config=config)
    second = localize_repo(shop_repo, None, PROSE_ISSUE, config=config)
    assert (first.stats["index_source"], second.stats["index_source"]) == ("built", "memory")
    CACHE.clear()  # a new process: only the disk is left
    third = localize_repo(shop_repo, None, METHOD_ISSUE, config=config)
    assert third.stats["index_source"] == "disk"
    assert third.to_dict()["files"] == first.to_dict()["files"]
    assert len(list((tmp_path / "cache").glob("*.pkl"))) == 1


def test_commit_selects_the_version_read_from_git(tmp_path):
    repo = make_repo(tmp_path / "r", {"pkg/alpha.py": "def alpha_feature():\n    return 1\n"})
    old = git(repo, "rev-parse", "HEAD").strip()
    commit_files(repo, {"pkg/beta.py": "def beta_feature():\n    return 2\n"}, "add beta")
    issue = "`beta_feature` returns the wrong value"
    assert localize_repo(repo, None, issue).files[0].path == "pkg/beta.py"
    at_old = localize_repo(repo, old, issue)
    assert "pkg/beta.py" not in [h.path for h in at_old.files]
    assert at_old.stats["commit"] == old


def test_bad_python_and_bad_utf8_are_indexed_lexically(tmp_path):
    files = {
        "pkg/good.py": "def fine():\n    return 'ok'\n",
        "pkg/broken.py": "def broken(:\n    frobnicate_widgets = 1\n",
        "pkg/latin.py": b"NAME = '"
        + "caf\xe9".encode("latin-1")
        + b"'\ndef frobnicate_legacy():\n    pass\n",
    }
    result = localize(files, "frobnicate_widgets stopped working")
    assert result.stats["ast_skipped"] == 2
    assert result.stats["not_utf8"] == 1
    assert result.files[0].path == "pkg/broken.py"
    assert result.files[0].symbols == []  # no AST, no symbols, but still ranked
    assert any("not valid Python or UTF-8" in w for w in result.warnings)
    assert localize(files, "frobnicate legacy").files[0].path == "pkg/latin.py"


def test_repository_without_python_files_is_ranked_by_text(tmp_path):
    repo = make_repo(
        tmp_path / "js",
        {
            "src/router.js": "function resolveRoute(path) { return routes[path]; }\n",
            "README.md": "A router.\n",
        },
    )
    result = localize_repo(repo, None, "resolveRoute returns undefined for nested routes")
    assert result.files[0].path == "src/router.js"
    assert result.warnings == ["no Python files: ranked by text and paths only"]


@pytest.mark.parametrize(
    "repo, commit, issue, message",
    [
        ("missing", None, "x", "repository not found"),
        ("shop", "0" * 40, "x", "commit " + "0" * 40 + " not found"),
        ("shop", "no-such-branch", "x", "commit no-such-branch not found"),
        ("shop", None, "  \n", "the issue text is empty"),
        ("plain", None, "x", "not a git repository"),
    ],
)
def test_bad_input_is_one_line_user_error(shop_repo, tmp_path, repo, commit, issue, message):
    paths = {"missing": tmp_path / "nope", "shop": shop_repo, "plain": tmp_path}
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(UserError) as err:
        localize_repo(paths[repo], commit, issue) if repo != "plain" else localize_repo(
            tmp_path, "HEAD", issue
        )
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_nothing_to_rank(tmp_path):
    with pytest.raises(UserError, match="nothing to rank"):
        localize({"logo.png": b"\x89PNG", "data.bin": b"\0\1\2"}, "the logo is wrong")


def test_plain_directory_is_read_from_disk(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "engine.py").write_text("def ignite_burner():\n    return 'lit'\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "engine.py").write_text("def ignite_burner():\n    pass\n")
    result = localize_repo(tmp_path, None, "ignite_burner never returns")
    assert [h.path for h in result.files] == ["pkg/engine.py"]
    assert result.functions[0].qualname == "ignite_burner"
