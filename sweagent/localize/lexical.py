"""`Lexical`: one bm25s index over token-id documents, with the vocabulary of its own tokenizer."""

from __future__ import annotations

import bm25s
import numpy as np
from bm25s.tokenization import Tokenized

from sweagent.localize.tokens import Tokenizer


class Lexical:
    """A bm25s index over token-id documents with its own vocabulary; one score per document."""

    def __init__(self, docs: list[list[int]], tokenizer: Tokenizer, k1: float, b: float) -> None:
        self.n_docs = len(docs)
        self.tokenizer = tokenizer
        self.bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        if docs:
            vocab = tokenizer.vocab
            self.bm25.index(Tokenized(ids=docs, vocab=vocab), show_progress=False, create_empty_token=False)

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
