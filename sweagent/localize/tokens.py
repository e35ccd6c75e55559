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
from dataclasses import dataclass
from itertools import accumulate, chain

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
        # no part spans a "_" (nor looks past one), so one pass finds every snake_case chunk's parts
        for part in _PART_RE.findall(ident):
            part = part.lower()
            if len(part) >= MIN_LEN and part not in STOP_WORDS and part not in out:
                out.append(part)
    if len(_SPLIT_MEMO) >= _SPLIT_MEMO_LIMIT:
        _SPLIT_MEMO.clear()
    got = _SPLIT_MEMO[ident] = tuple(out)
    return got


def word_tokens(word: str) -> tuple[str, ...]:
    """What one regex word adds to a document: `a.b_c` -> a dotted name whole (when it has two parts or
    more), then every identifier's tokens in turn, repeats kept (`x.x` counts `x` twice)."""
    if "." not in word:
        return split_identifier(word)
    idents = [w for w in word.split(".") if w]
    out = [".".join(idents).lower()] if len(idents) > 1 else []
    for ident in idents:
        out.extend(split_identifier(ident))
    return tuple(out)


@dataclass
class TokenCounts:
    """The tokens of many documents as flat arrays: document `docs[i]` holds token `tokens[i]`
    `counts[i]` times, and a (document, token) pair may have several entries (one per word that yields
    the token); `lengths` are the documents' token totals. What BM25 needs, without per-document lists."""

    docs: np.ndarray  # int64, non-decreasing
    tokens: np.ndarray  # int32 token ids
    counts: np.ndarray  # int64
    lengths: np.ndarray  # int64, one per document

    @classmethod
    def empty(cls, n_docs: int = 0) -> TokenCounts:
        none = np.zeros(0, dtype=np.int64)
        return cls(none, np.zeros(0, dtype=np.int32), none, np.zeros(n_docs, dtype=np.int64))

    @property
    def n_docs(self) -> int:
        return len(self.lengths)

    def placed(self, positions: np.ndarray, n_docs: int) -> TokenCounts:
        """These documents as documents `positions` of a corpus of `n_docs`."""
        lengths = np.zeros(n_docs, dtype=np.int64)
        lengths[positions] = self.lengths
        return TokenCounts(positions[self.docs], self.tokens, self.counts, lengths)

    @staticmethod
    def merged(parts: list[TokenCounts]) -> TokenCounts:
        """Parts covering disjoint documents of one corpus (all placed with the same `n_docs`)."""
        return TokenCounts(
            np.concatenate([p.docs for p in parts]),
            np.concatenate([p.tokens for p in parts]),
            np.concatenate([p.counts for p in parts]),
            np.sum([p.lengths for p in parts], axis=0),
        )


class Tokenizer:
    """Turns text into tokens (and token ids, with a growing vocabulary) with a per-word memo."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
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

    def corpus_counts(self, texts: list[str]) -> TokenCounts:
        """The token counts of many documents at once (what `word_tokens` yields for every word).

        Vectorised: per text one regex pass and a C-level `Counter`; words new to this tokenizer are
        split (memoised process-wide) and given ids in bulk; then one dict lookup per distinct
        (document, word) pair, and the expansion of words into their token ids done by numpy.
        """
        if not texts:
            return TokenCounts.empty()
        word_ids = self._word_ids
        distinct = np.empty(len(texts), dtype=np.int64)
        words: list[str] = []
        counts: list[int] = []
        findall = WORD_RE.findall
        for i, text in enumerate(texts):
            counter = Counter(findall(text))
            distinct[i] = len(counter)
            words.extend(counter)
            counts.extend(counter.values())
        self._learn(list(set(words).difference(word_ids)))
        rows = np.fromiter(map(word_ids.__getitem__, words), dtype=np.int64, count=len(words))
        times = np.asarray(counts, dtype=np.int64)
        ptr = np.asarray(self._word_ptr, dtype=np.int64)
        flat = np.asarray(self._word_tokens, dtype=np.int32)
        starts = ptr[rows]
        per_word = ptr[rows + 1] - starts
        total = int(per_word.sum())
        # gather flat[starts[i] : starts[i] + per_word[i]] for every (document, word) pair i
        offsets = np.repeat(starts - (np.cumsum(per_word) - per_word), per_word) + np.arange(total)
        word_docs = np.repeat(np.arange(len(texts), dtype=np.int64), distinct)
        lengths = np.bincount(word_docs, weights=per_word * times, minlength=len(texts)).astype(np.int64)
        return TokenCounts(np.repeat(word_docs, per_word), flat[offsets], np.repeat(times, per_word), lengths)

    def _learn(self, words: list[str]) -> None:
        """Give `words` rows of token ids, new tokens the next ids (in bulk: a large repository has
        a hundred thousand distinct words)."""
        split = [word_tokens(w) for w in words]
        vocab = self.vocab
        setdefault = vocab.setdefault
        self._word_tokens.extend([setdefault(t, len(vocab)) for t in chain.from_iterable(split)])
        first = len(self._word_ptr) - 1
        self._word_ids.update(zip(words, range(first, first + len(words)), strict=True))
        end = self._word_ptr[-1]
        self._word_ptr.extend(end + n for n in accumulate(map(len, split)))

    def adopt(self, vocab: list[str], counts: TokenCounts) -> TokenCounts:
        """Documents tokenised by another Tokenizer (in a worker process), mapped into this vocabulary."""
        mine = self.vocab
        remap = np.fromiter((mine.setdefault(t, len(mine)) for t in vocab), dtype=np.int32, count=len(vocab))
        tokens = remap[counts.tokens] if len(counts.tokens) else counts.tokens
        return TokenCounts(counts.docs, tokens, counts.counts, counts.lengths)

    def vocab_list(self) -> list[str]:
        """Tokens by id."""
        out = [""] * len(self.vocab)
        for tok, i in self.vocab.items():
            out[i] = tok
        return out

    def freeze(self) -> None:
        """Drop the tables only indexing needs; the vocabulary (all a query needs) stays."""
        self._word_ids, self._word_ptr, self._word_tokens = {}, [0], []

    def query_ids(self, tokens: list[str]) -> list[int]:
        """Distinct ids of the query tokens the vocabulary knows (unknown tokens cannot score)."""
        vocab = self.vocab
        seen: dict[int, None] = {}
        for tok in tokens:
            tid = vocab.get(tok)
            if tid is not None:
                seen[tid] = None
        return list(seen)
