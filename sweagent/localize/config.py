"""`LocalizeConfig`: the weights of the fusion and the knobs of indexing, in one pydantic model.

Fusion (see `fusion.py`): each signal ranks files (and functions) by its own evidence; a file's score is
the weighted reciprocal-rank sum  sum_s  w_s * c_s(f) / (k + rank_s(f)),  where c_s(f) in (0, 1] is the
signal's confidence in that entry (1 for lexical rankings; e.g. 1/n for a name defined in n files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SIGNALS = (
    "traceback",
    "path",
    "dotted",
    "symbol",
    "message",
    "tests",
    "bm25",
    "bm25_path",
    "bm25_function",
    "bm25_title",
    "graph",
    "cochange",
    "embedding",
)


class SignalWeights(BaseModel):
    """Weight of each signal in the fusion; 0 switches a signal off."""

    model_config = ConfigDict(extra="forbid")

    traceback: float = Field(3.0, description="frames of a traceback (file, line, function)")
    path: float = Field(2.0, description="file paths named in the issue")
    dotted: float = Field(2.0, description="dotted names resolved to modules and their symbols")
    symbol: float = Field(
        1.5, description="class/function names from code in the issue, matched to definitions"
    )
    message: float = Field(2.0, description="error messages quoted in the issue, matched to string literals")
    tests: float = Field(1.0, description="tests named in the issue: their files and the code they test")
    bm25: float = Field(1.0, description="BM25 over file contents")
    bm25_path: float = Field(0.5, description="BM25 over file paths")
    bm25_function: float = Field(0.7, description="BM25 over function and method source")
    bm25_title: float = Field(0.5, description="BM25 of the issue's title (first line) over function source")
    graph: float = Field(1.0, description="code reached along the call graph from what the issue names")
    cochange: float = Field(1.0, description="files that usually change together with a top-ranked file")
    embedding: float = Field(1.0, description="similarity to the issue under the optional re-ranker")


class LocalizeConfig(BaseModel):
    """How the localiser indexes and fuses; defaults are what `swe-ttc localize` uses."""

    model_config = ConfigDict(extra="forbid")

    weights: SignalWeights = Field(default_factory=SignalWeights)
    function_weights: SignalWeights = Field(
        default_factory=lambda: SignalWeights(bm25=0.0, bm25_path=0.0, bm25_title=0.0, bm25_function=1.5),
        description="weights for the function ranking (the file's own fused rank enters as `file_prior`)",
    )
    file_prior: float = Field(2.0, description="weight of a function's file rank in the function ranking")
    traceback_decay: float = Field(0.5, description="frame n (0 = innermost) has confidence 1/(1+decay*n)")
    nonlibrary_prior: float = Field(
        0.5,
        description="score factor for docs, examples, scripts, benchmarks, test helpers, vendored code and "
        "version printers (see priors.py), unless the issue points at the file; 1 switches it off",
    )
    cochange_commits: int = Field(
        2000, description="commits of history (up to the indexed commit) read for co-change; 0: none"
    )
    cochange_max_files: int = Field(20, description="commits changing more files are left out")
    cochange_min_support: int = Field(3, description="commits two files must share to be partners")
    cochange_min_confidence: float = Field(
        0.3, description="P(partner changes | file changes) a partner needs"
    )
    cochange_top: int = Field(3, description="top source files whose partners are surfaced")
    class_prior: float = Field(
        1.0,
        description="score factor of a class in the function ranking: a named class is mostly where to "
        "look, the change itself mostly inside one of its methods",
    )
    rerank: Literal["embedding"] | None = Field(
        None, description="optional second pass: `embedding` (sentence-transformers, offline, extra deps)"
    )
    rerank_model: Path | None = Field(
        None, description="sentence-transformers model directory (default: bundled)"
    )
    rerank_depth: int = Field(30, description="functions of the first ranking the re-ranker scores")
    rerank_files: int = Field(5, description="top files whose every function the re-ranker scores too")
    graph_hops: int = Field(2, description="call-graph steps the graph signal takes from a named symbol")
    graph_decay: float = Field(0.5, description="share of weight kept per call-graph step")
    rrf_k: float = Field(5.0, description="k of reciprocal-rank fusion: smaller trusts top ranks more")
    depth: int = Field(100, description="entries of each lexical ranking that take part in the fusion")
    function_depth: int = Field(300, description="entries of the function BM25 ranking that take part")
    k1: float = Field(1.2, description="BM25 k1")
    b: float = Field(0.75, description="BM25 b")
    symbols_per_file: int = Field(3, description="functions/classes listed under each file")
    max_file_bytes: int = Field(512_000, description="larger files are not indexed")
    max_ast_bytes: int = Field(
        200_000, description="larger Python files (generated code) are indexed as text only"
    )
    parallel_min_bytes: int = Field(
        2_000_000, description="parse in a second process when source Python adds up to this (-1: never)"
    )
    memory_cache: int = Field(4, description="indexes kept in memory (LRU); 0 disables")
    disk_cache: bool = Field(False, description="also keep indexes on disk under cache_dir")
    cache_dir: Path | None = Field(
        None, description="default: $XDG_CACHE_HOME or ~/.cache, then swe-ttc/localize"
    )
