"""Code-aware tokenisation shared by every lexical index and by the issue text.

Identifiers are split at snake_case and CamelCase boundaries and also kept whole, all lower-cased, so
`bulk_create`, `BulkCreate` and "bulk create" meet; dotted names (`models.QuerySet`) are kept whole too.
Splitting is memoised per distinct identifier, which is what makes indexing a large repository cheap:
a file is reduced to identifier counts by C-level regex and `Counter`, and only distinct identifiers
reach Python code.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

# One pass finds identifiers and dotted names together (a separate dotted-name regex costs 5x more).
WORD_RE = re.compile(r"(?a)[A-Za-z_][\w.]*")
_PART_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_A-Za-z]+")

# A light list: English glue words and Python keywords that occur in nearly every file.
STOP_WORDS = frozenset(
    """
    a an and are as at be been but by can could did do does for from had has have he her his how i if in
    into is it its me my no not of on or our she so such than that the their them then there these they
    this those to was we were what when where which while who why will with would you your
    def self cls return import none true false pass elif else try except finally raise lambda yield
    """.split()
)
MIN_LEN = 2


_SPLIT_MEMO: dict[str, tuple[str, ...]] = {}
_SPLIT_MEMO_LIMIT = 2_000_000


def split_identifier(ident: str) -> tuple[str, ...]:
    """`getHTTPResponse_code` -> ('gethttpresponse_code', 'get', 'http', 'response', 'code').

    Memoised process-wide: identifiers repeat across files, commits and repositories.
    """
    got = _SPLIT_MEMO.get(ident)
    if got is not None:
        return got
    whole = ident.lower()
    out = [whole] if len(whole) >= MIN_LEN and whole not in STOP_WORDS else []
    if "_" in ident.strip("_") or not (ident.islower() or ident.isupper()):
        for chunk in ident.split("_"):
            for part in _PART_RE.findall(chunk):
                part = part.lower()
                if len(part) >= MIN_LEN and part not in STOP_WORDS and part not in out:
                    out.append(part)
    if len(_SPLIT_MEMO) >= _SPLIT_MEMO_LIMIT:
        _SPLIT_MEMO.clear()
    got = _SPLIT_MEMO[ident] = tuple(out)
    return got


class Tokenizer:
    """Turns text into tokens (and token ids, with a growing vocabulary) with a per-identifier memo."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self._memo_ids: dict[str, tuple[int, ...]] = {}
        # word -> row of a CSR table (ptr, tokens) of its token ids, for vectorised expansion
        self._word_ids: dict[str, int] = {}
        self._word_ptr: list[int] = [0]
        self._word_tokens: list[int] = []

    def _ident(self, ident: str) -> tuple[str, ...]:
        return split_identifier(ident)

    def split(self, word: str) -> tuple[str, ...]:
        """`self.getHTTPResponse_code` -> whole dotted name, each whole identifier, and their parts."""
        if "." not in word:
            return self._ident(word)
        idents = [w for w in word.split(".") if w]
        if len(idents) == 1:
            return self._ident(idents[0])
        out = [".".join(idents).lower()]
        for ident in idents:
            out.extend(t for t in self._ident(ident) if t not in out)
        return tuple(out)

    def tokens(self, text: str) -> list[str]:
        """All tokens of `text` in order (used for queries and small texts)."""
        out: list[str] = []
        for word in WORD_RE.findall(text):
            out.extend(self.split(word))
        return out

    def counts(self, text: str) -> Counter[str]:
        """Token counts of `text`, computed from distinct words (fast path for documents)."""
        counts: Counter[str] = Counter()
        for word, n in Counter(WORD_RE.findall(text)).items():
            for tok in self.split(word):
                counts[tok] += n
        return counts

    def corpus_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids of many documents at once (order within a document is irrelevant to BM25)."""
        tokens, bounds = self.corpus_arrays(texts)
        return _split(tokens, bounds)

    def corpus_arrays(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """All documents' token ids as one flat array plus document boundaries (len(texts) + 1).

        Vectorised: per text one regex pass and a C-level `Counter`; then one dict lookup per distinct
        (document, word) pair, and the expansion of words into repeated token ids done by numpy.
        """
        if not texts:
            return np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int64)
        word_ids = self._word_ids
        lengths = np.empty(len(texts), dtype=np.int64)
        words: list[str] = []
        counts: list[int] = []
        findall = WORD_RE.findall
        for i, text in enumerate(texts):
            counter = Counter(findall(text))
            lengths[i] = len(counter)
            words.extend(counter)
            counts.extend(counter.values())
        for word in set(words).difference(word_ids):
            self._add_word(word)
        pairs = np.fromiter(map(word_ids.__getitem__, words), dtype=np.int64, count=len(words))
        times = np.asarray(counts, dtype=np.int64)
        ptr = np.asarray(self._word_ptr, dtype=np.int64)
        flat = np.asarray(self._word_tokens, dtype=np.int32)
        starts, ends = ptr[pairs], ptr[pairs + 1]
        per_pair = ends - starts
        total = int(per_pair.sum())
        # gather flat[starts[i] : ends[i]] for every pair i, each token repeated by the pair's count
        offsets = np.repeat(starts - (np.cumsum(per_pair) - per_pair), per_pair) + np.arange(total)
        tokens = np.repeat(flat[offsets], np.repeat(times, per_pair))
        pair_bounds = np.concatenate(([0], np.cumsum(per_pair * times)))
        return tokens, pair_bounds[np.concatenate(([0], np.cumsum(lengths)))]

    def adopt(self, vocab: list[str], tokens: np.ndarray, bounds: np.ndarray) -> list[list[int]]:
        """Documents tokenised by another Tokenizer (in a worker process), mapped into this vocabulary."""
        mine = self.vocab
        remap = np.fromiter((mine.setdefault(t, len(mine)) for t in vocab), dtype=np.int32, count=len(vocab))
        return _split(remap[tokens] if len(tokens) else tokens, bounds)

    def vocab_list(self) -> list[str]:
        """Tokens by id."""
        out = [""] * len(self.vocab)
        for tok, i in self.vocab.items():
            out[i] = tok
        return out

    def _add_word(self, word: str) -> None:
        self._word_ids[word] = len(self._word_ptr) - 1
        out = self._word_tokens
        if "." in word:
            idents = [w for w in word.split(".") if w]
            if len(idents) > 1:
                vocab = self.vocab
                out.append(vocab.setdefault(".".join(idents).lower(), len(vocab)))
            for ident in idents:
                out.extend(self._ident_ids(ident))
        else:
            out.extend(self._ident_ids(word))
        self._word_ptr.append(len(out))

    def _ident_ids(self, ident: str) -> tuple[int, ...]:
        got = self._memo_ids.get(ident)
        if got is None:
            vocab = self.vocab
            got = self._memo_ids[ident] = tuple(
                vocab.setdefault(t, len(vocab)) for t in split_identifier(ident)
            )
        return got

    def freeze(self) -> None:
        """Drop the tables only indexing needs; the vocabulary (all a query needs) stays."""
        self._word_ids, self._word_ptr, self._word_tokens, self._memo_ids = {}, [0], [], {}

    def doc_ids(self, text: str) -> list[int]:
        """Token ids of one document."""
        return self.corpus_ids([text])[0]

    def query_ids(self, tokens: list[str]) -> list[int]:
        """Distinct ids of the query tokens the vocabulary knows (unknown tokens cannot score)."""
        vocab = self.vocab
        seen: dict[int, None] = {}
        for tok in tokens:
            tid = vocab.get(tok)
            if tid is not None:
                seen[tid] = None
        return list(seen)


def _split(tokens: np.ndarray, bounds: np.ndarray) -> list[list[int]]:
    return [tokens[bounds[i] : bounds[i + 1]].tolist() for i in range(len(bounds) - 1)]
