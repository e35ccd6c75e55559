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
        ids = self.tokenizer.query_ids(tokens)
        if not self.n_docs or not ids:
            return np.zeros(self.n_docs, dtype=np.float32)
        return self.bm25.get_scores_from_ids(ids)
