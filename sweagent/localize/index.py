"""`RepoIndex`: everything the localiser looks up about one repository state (see `build.py`).

Three BM25 indexes (bm25s) share a code-aware vocabulary: file contents, file paths, and the source of
every function and method. Non-test Python files are parsed eagerly for symbols and message-like
string literals; test files (often two thirds of a repository's Python) get a cheap name table and are
parsed only when a signal points into them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from sweagent.localize.cochange import CoChange
from sweagent.localize.lexical import Lexical
from sweagent.localize.symbols import ImportRef, ModuleInfo, Pieces, parse_module
from sweagent.localize.tokens import Tokenizer

LAZY_PARSE_MAX_CHARS = 120_000  # test files parsed at query time: larger ones keep their names only


class Symbol(NamedTuple):
    """A class, function or method: `file` indexes `RepoIndex.paths`, `parent` the global symbol list.

    Records are compact named tuples, and the lookup tables hold tuples (which the cyclic garbage
    collector stops tracking): a large index then adds little to every later collection.
    """

    file: int
    qualname: str
    kind: str
    start: int
    end: int
    parent: int

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]


class Literal(NamedTuple):
    file: int
    symbol: int  # global symbol id, -1 at module level
    pieces: Pieces
    words: int


@dataclass
class IndexStats:
    files: int = 0
    python_files: int = 0
    source_files: int = 0
    test_files: int = 0
    other_files: int = 0
    symbols: int = 0
    literals: int = 0
    not_utf8: list[str] = field(default_factory=list)
    ast_skipped: list[str] = field(default_factory=list)
    ast_too_large: list[str] = field(default_factory=list)  # generated code, mostly: text only
    binary_skipped: int = 0
    unreadable: list[str] = field(default_factory=list)  # blobs git could not read: skipped
    build_seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process
    worker_cpu_seconds: float = 0.0  # the parsing worker, when one ran
    parsed_files: int = 0  # source modules parsed by this build
    reused_files: int = 0  # source modules an earlier build had parsed (same bytes)
    reused_share: float = 0.0  # their share of the source text


@dataclass
class RepoIndex:
    """Lookup structures for one repository state (see module docstring)."""

    key: str
    paths: list[str]
    kinds: list[str]
    tokenizer: Tokenizer
    content: Lexical
    path_lex: Lexical
    functions: Lexical
    function_symbols: list[int]  # functions-index document -> global symbol id
    symbols: list[Symbol]
    file_symbols: dict[int, tuple[int, int]]  # file -> [first, last) range into `symbols`
    calls: list[tuple[str, ...]]  # per symbol: the names it calls (classes: bases), see symbols.SELF_PREFIX
    imports: dict[int, tuple[ImportRef, ...]]  # per parsed file: its import statements
    derived: dict[str, tuple[int, ...]]  # base class name -> classes naming it as a base
    names: dict[str, tuple[int, ...]]  # symbol name -> symbol ids
    names_lower: dict[str, tuple[int, ...]]
    literals: list[Literal]
    literal_keys: dict[tuple[str, str], tuple[tuple[int, int], ...]]  # first two words -> (literal, piece)
    modules: dict[str, tuple[int, ...]]  # dotted module name and its dotted suffixes -> files
    path_suffixes: dict[str, tuple[int, ...]]  # "a/b.py", "b.py" -> files
    test_names: dict[str, tuple[int, ...]]  # test function/class names -> test files
    test_texts: dict[int, str]  # text of Python test files, parsed on demand
    source_texts: dict[int, str]  # text of parsed source files (what the optional re-ranker reads)
    categories: dict[int, str]  # source files that are not library code: docs, examples, scripts ...
    stats: IndexStats
    cochange: CoChange | None = None  # from the git history up to the indexed commit, when there is one
    _lazy: dict[int, list[Symbol]] = field(default_factory=dict)
    _lazy_imports: dict[int, tuple[ImportRef, ...]] = field(default_factory=dict)

    def file_of(self, path: str) -> int | None:
        hits = self.path_suffixes.get(path)
        return hits[0] if hits and self.paths[hits[0]] == path else None

    def symbols_of(self, file: int, parse: bool = True) -> list[Symbol]:
        """Symbols of a file: eager for source files, parsed on first use for test files (only when
        `parse`: callers that would touch many files ask for what is already known)."""
        span = self.file_symbols.get(file)
        if span is not None:
            return self.symbols[span[0] : span[1]]
        if file in self._lazy:
            return self._lazy[file]
        if not parse:
            return []
        text = self.test_texts.get(file)
        small = text is not None and len(text) <= LAZY_PARSE_MAX_CHARS  # keeps a query within budget
        info = parse_module(text, literals=False) if small else None
        out = [] if info is None else globalise(file, info, 0)
        self._lazy[file] = out
        self._lazy_imports[file] = () if info is None else info.imports
        return out

    def imports_of(self, file: int, parse: bool = True) -> tuple[ImportRef, ...]:
        """A file's import statements (test files: parsed on first use, like their symbols)."""
        got = self.imports.get(file)
        if got is None:
            self.symbols_of(file, parse)
            got = self._lazy_imports.get(file, ())
        return got

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_lazy"] = {}
        state["_lazy_imports"] = {}
        return state


def globalise(file: int, info: ModuleInfo, offset: int) -> list[Symbol]:
    """A module's symbols as index records of `file` (parents shifted by `offset`)."""
    return [
        Symbol(file, s.qualname, s.kind, s.start, s.end, s.parent + offset if s.parent >= 0 else -1)
        for s in info.symbols
    ]
