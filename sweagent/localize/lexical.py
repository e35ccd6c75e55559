"""`Lexical`: one bm25s index over token-counted documents, with the vocabulary of its own tokenizer.

bm25s's `BM25.index` counts each document's tokens in Python (a `Counter` and a set intersection per
document), which on a django-sized repository costs more than a second. Here the term and document
frequencies come from the flat `TokenCounts` arrays in one sparse-matrix conversion, and the scores
from bm25s's own idf and term-frequency functions, into the matrix `BM25.index` would have built (the
same `scores` dict, the same float32 values): bm25s stays the owner of the formula and of the query.
"""

from __future__ import annotations

import bm25s
import numpy as np
import scipy.sparse as sp
from bm25s.scoring import _select_idf_scorer, _select_tfc_scorer

from sweagent.localize.tokens import TokenCounts, Tokenizer


def bm25_matrix(model: bm25s.BM25, counts: TokenCounts, n_vocab: int) -> dict:
    """`model`'s score matrix for these documents, as `model.index` stores it in `model.scores`:
    per token id (column) the documents holding it, in order, and their scores."""
    if model.method in model.methods_requiring_nonoccurrence:
        raise ValueError(f"bm25 method {model.method!r} scores absent tokens too; use bm25s's own index")
    n_docs = counts.n_docs
    # tokens x documents, repeated (document, token) entries summed: term frequencies by column
    tf = sp.csr_matrix((counts.counts, (counts.tokens, counts.docs)), shape=(n_vocab, n_docs), dtype=np.int64)
    tf.sum_duplicates()
    indptr = tf.indptr.astype(np.int64)
    docs = tf.indices.astype(model.int_dtype)
    doc_freqs = np.diff(indptr)
    # idf by bm25s's function once per distinct document frequency, stored as `_build_idf_array` does
    idf_of = _select_idf_scorer(model.idf_method)
    idf_by_freq = np.zeros(n_docs + 1, dtype=model.dtype)
    for freq in np.unique(doc_freqs[doc_freqs > 0]).tolist():
        idf_by_freq[freq] = idf_of(freq, N=n_docs)
    idf = np.repeat(idf_by_freq[doc_freqs], doc_freqs)  # per entry
    # the term-frequency component as `_build_scores_and_indices_for_matrix` computes it per document
    tfc = _select_tfc_scorer(model.method)(
        tf_array=tf.data.astype(model.dtype),
        l_d=counts.lengths[docs],
        l_avg=counts.lengths.mean(),
        k1=model.k1,
        b=model.b,
        delta=model.delta,
    )
    data = (idf * tfc).astype(model.dtype)
    return {"data": data, "indices": docs, "indptr": indptr, "num_docs": n_docs}


class Lexical:
    """A bm25s index over token-counted documents with its own vocabulary; one score per document."""

    def __init__(self, counts: TokenCounts, tokenizer: Tokenizer, k1: float, b: float) -> None:
        self.n_docs = counts.n_docs
        self.tokenizer = tokenizer
        self.bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        if self.n_docs:
            self.bm25.scores = bm25_matrix(self.bm25, counts, len(tokenizer.vocab))
            self.bm25.vocab_dict = tokenizer.vocab

    def scores(self, tokens: list[str]) -> np.ndarray:
        """bm25s's own sum over the query tokens' postings (`get_scores_from_ids`), in one `np.add.at`
        over all of them instead of one per token: the same additions in the same order, less overhead
        for a long issue's hundreds of tokens."""
        ids = self.tokenizer.query_ids(tokens)
        if not self.n_docs or not ids:
            return np.zeros(self.n_docs, dtype=np.float32)
        matrix = self.bm25.scores
        data, indices, indptr = matrix["data"], matrix["indices"], matrix["indptr"]
        query = np.asarray(ids, dtype=np.int64)
        query = query[query < len(indptr) - 1]  # ids past the index's vocabulary have no postings
        starts, lengths = indptr[query], indptr[query + 1] - indptr[query]
        total = int(lengths.sum())
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)
        scores = np.zeros(self.n_docs, dtype=data.dtype)
        np.add.at(scores, indices[offsets], data[offsets])
        return scores
