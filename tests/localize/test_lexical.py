"""Token counting and the BM25 matrix, against word-by-word tokenising and bm25s's own `BM25.index`,
on a real corpus: this project's own code and docs (a few hundred files)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import bm25s
import numpy as np
import pytest
from bm25s.tokenization import Tokenized

from sweagent.localize.lexical import Lexical, bm25_matrix
from sweagent.localize.tokens import (
    MIN_LEN,
    STOP_WORDS,
    WORD_RE,
    TokenCounts,
    Tokenizer,
    split_identifier,
    word_tokens,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    paths = sorted(p for top in ("sweagent", "tests") for p in (ROOT / top).rglob("*.[pm][yd]"))
    assert len(paths) > 200
    return [p.read_text("utf-8", "replace") for p in paths] + ["", "() = ."]  # two without tokens


def word_by_word(text: str) -> Counter[str]:
    return Counter(t for word in WORD_RE.findall(text) for t in word_tokens(word))


def by_document(tok: Tokenizer, counts: TokenCounts) -> list[Counter[str]]:
    words = tok.vocab_list()
    out: list[Counter[str]] = [Counter() for _ in range(counts.n_docs)]
    for doc, token, n in zip(
        counts.docs.tolist(), counts.tokens.tolist(), counts.counts.tolist(), strict=True
    ):
        out[doc][words[token]] += n
    return out


def test_word_tokens_keep_dotted_names_whole_and_repeats():
    assert word_tokens("self.getHTTP") == ("self.gethttp", "gethttp", "get", "http")
    assert word_tokens("path.path") == ("path.path", "path", "path")
    assert word_tokens("x.") == () and word_tokens("the") == ()


def split_chunk_by_chunk(ident: str) -> tuple[str, ...]:
    """`split_identifier` as first written: each snake_case chunk split on its own."""
    out = [ident.lower()] if len(ident) >= MIN_LEN and ident.lower() not in STOP_WORDS else []
    if "_" in ident.strip("_") or not (ident.islower() or ident.isupper()):
        for chunk in ident.split("_"):
            for part in re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+", chunk):
                if len(part) >= MIN_LEN and part.lower() not in STOP_WORDS and part.lower() not in out:
                    out.append(part.lower())
    return tuple(out)


def test_identifiers_split_in_one_pass_as_chunk_by_chunk(texts):
    idents = {i for text in texts for word in WORD_RE.findall(text) for i in word.split(".") if i}
    idents |= {"HTTPResponse_code", "_private__Name", "ABC_Def", "x2_Y3z", "__dunder__", "CONSTANT_VALUE"}
    assert len(idents) > 5000
    assert {i: split_identifier(i) for i in idents} == {i: split_chunk_by_chunk(i) for i in idents}


def test_corpus_counts_equal_word_by_word_tokenising(texts):
    tok = Tokenizer()
    half = len(texts) // 2
    first = tok.corpus_counts(texts[:half])
    both = tok.corpus_counts(texts)  # the first half's words are known by now, the rest are new
    expected = [word_by_word(t) for t in texts]
    assert by_document(tok, first) == expected[:half]
    assert by_document(tok, both) == expected
    assert both.lengths.tolist() == [sum(c.values()) for c in expected]
    assert sum(1 for c in expected if c) > 200


def test_counts_adopted_from_another_tokenizer_equal_counting_all_in_one(texts):
    alone = Tokenizer()
    whole = alone.corpus_counts(texts)
    here, there = Tokenizer(), Tokenizer()
    odd = np.arange(1, len(texts), 2)
    even = np.arange(0, len(texts), 2)
    mine = here.corpus_counts([texts[i] for i in even]).placed(even, len(texts))
    counted_there = there.corpus_counts([texts[i] for i in odd])
    theirs = here.adopt(there.vocab_list(), counted_there)
    merged = TokenCounts.merged([mine, theirs.placed(odd, len(texts))])
    assert by_document(here, merged) == by_document(alone, whole)
    assert merged.lengths.tolist() == whole.lengths.tolist()


def test_bm25_matrix_equals_bm25s_own_index(texts):
    tok = Tokenizer()
    counts = tok.corpus_counts(texts)
    tok.corpus_counts(["tokens_only_in_the_vocabulary AndNotInTheIndex"])  # columns with no documents
    lex = Lexical(counts, tok, k1=1.2, b=0.75)
    reference = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    docs = [[tok.vocab[t] for word in WORD_RE.findall(text) for t in word_tokens(word)] for text in texts]
    reference.index(Tokenized(ids=docs, vocab=tok.vocab), show_progress=False, create_empty_token=False)
    ours, theirs = lex.bm25.scores, reference.scores
    assert ours["num_docs"] == theirs["num_docs"] == len(texts)
    np.testing.assert_array_equal(ours["indptr"], theirs["indptr"])
    np.testing.assert_array_equal(ours["indices"], theirs["indices"])
    assert ours["data"].dtype == theirs["data"].dtype == np.float32
    np.testing.assert_allclose(ours["data"], theirs["data"], rtol=1e-6, atol=0)
    assert len(ours["data"]) > 50_000
    query = tok.tokens("build_index tokenises every file and QuerySet.bulk_create")
    expected = reference.get_scores_from_ids(tok.query_ids(query))
    np.testing.assert_allclose(lex.scores(query), expected, rtol=1e-6)
    assert np.count_nonzero(expected) > 10


def test_bm25_matrix_refuses_methods_that_score_absent_tokens():
    tok = Tokenizer()
    counts = tok.corpus_counts(["one document"])
    with pytest.raises(ValueError, match="bm25l"):
        bm25_matrix(bm25s.BM25(method="bm25l"), counts, len(tok.vocab))
