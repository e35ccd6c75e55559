"""Building a `RepoIndex` from a path -> bytes mapping, in two processes when the repository is large.

Parsing Python (the AST side: symbols, literals, the function index) and tokenising plus BM25-indexing
all text (the lexical side) are each about half the work; a forked worker does the first while this
process does the second, with a share of the tokenising handed over when that balances the two. On a
django-sized repository this halves the wall time of indexing on two cores.

Parsed modules are kept by content for later builds in the same process (`PARSED`): the commits of one
repository share most of their files, so the next commit's build parses only the files that changed,
and the worker takes over more of the tokenising instead.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import re
import time
from collections import OrderedDict, defaultdict
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from sweagent.localize.files import OTHER, SOURCE, TEST, classify, is_python, module_name
from sweagent.localize.index import IndexStats, Literal, RepoIndex, Symbol, globalise
from sweagent.localize.lexical import Lexical
from sweagent.localize.priors import file_categories
from sweagent.localize.snapshot import DEFAULT_MAX_BYTES, indexable
from sweagent.localize.symbols import BASE_PREFIX, ModuleInfo, parse_module
from sweagent.localize.tokens import TokenCounts, Tokenizer

_TEST_DEF_RE = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+(test\w*)|^[ \t]*class[ \t]+(\w+)", re.M)


def _frozen(table: dict) -> dict:
    return {key: tuple(value) for key, value in table.items()}


def _suffixes(parts: list[str], sep: str, min_parts: int = 1) -> list[str]:
    return [sep.join(parts[i:]) for i in range(len(parts) - min_parts + 1)]


class ParseMemo:
    """Parsed modules by a digest of their bytes, least recently used first out, up to `max_chars` of
    source text in all (0 keeps nothing)."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.chars = 0
        self.table: OrderedDict[bytes, tuple[ModuleInfo | None, int]] = OrderedDict()

    @staticmethod
    def key(data: bytes) -> bytes:
        return hashlib.blake2b(data, digest_size=16).digest()

    def get(self, key: bytes) -> tuple[ModuleInfo | None] | None:
        """(info,) when `key` was parsed before (info None: not valid Python), else None."""
        got = self.table.get(key)
        if got is None:
            return None
        self.table.move_to_end(key)
        return (got[0],)

    def clear(self) -> None:
        self.table.clear()
        self.chars = 0

    def put(self, key: bytes, info: ModuleInfo | None, chars: int) -> None:
        if key in self.table or chars > self.max_chars:
            return
        self.table[key] = (info, chars)
        self.chars += chars
        while self.chars > self.max_chars:
            _, (_, old) = self.table.popitem(last=False)
            self.chars -= old


PARSED = ParseMemo(max_chars=40_000_000)


@dataclass
class _Parsed:
    """What the AST side of indexing produces (possibly in a worker process)."""

    infos: dict[int, ModuleInfo | None]  # the modules parsed in this build (not those `known` before)
    functions: Lexical
    function_symbols: list[tuple[int, int]]  # (file, local symbol index) per functions-index document
    # the `extra` texts tokenised in the worker's own vocabulary: (tokens by id, their counts)
    extra: tuple[list[str], TokenCounts] | None = None
    cpu_seconds: float = 0.0


def _parse_sources(
    items: list[tuple[int, str]],
    k1: float,
    b: float,
    extra: list[str] | None = None,
    known: dict[int, ModuleInfo | None] | None = None,
) -> _Parsed:
    """Parse source modules (but those `known` already), index every function/method's source with
    BM25, tokenise `extra` texts."""
    cpu = time.process_time()
    gc.disable()
    tok = Tokenizer()
    extra_arrays = None
    if extra:
        counted = tok.corpus_counts(extra)
        extra_arrays = (tok.vocab_list(), counted)
    known = known or {}
    infos: dict[int, ModuleInfo | None] = {}
    segments: list[str] = []
    owners: list[tuple[int, int]] = []
    for fid, text in items:
        if fid in known:
            info = known[fid]
        else:
            info = infos[fid] = parse_module(text)
        if info is None:
            continue
        lines = text.split("\n")
        for i, sym in enumerate(info.symbols):
            if sym.kind != "class":
                owners.append((fid, i))
                segments.append(sym.qualname + "\n" + "\n".join(lines[sym.start - 1 : sym.end]))
    functions = Lexical(tok.corpus_counts(segments), tok, k1, b)
    tok.freeze()
    return _Parsed(infos, functions, owners, extra_arrays, time.process_time() - cpu)


_KNOWN: dict[int, ModuleInfo | None] = {}  # what a forked worker inherits instead of receiving it


def _parse_known(items: list[tuple[int, str]], k1: float, b: float, extra: list[str]) -> _Parsed:
    return _parse_sources(items, k1, b, extra, _KNOWN)


def _parse_in_worker(
    items: list[tuple[int, str]], k1: float, b: float, extra: list[str], known: dict[int, ModuleInfo | None]
) -> Future[_Parsed] | None:
    """Run `_parse_sources` in a forked process so it overlaps the lexical indexing; None if unavailable.

    The modules `known` from earlier builds reach the worker through the fork, not through a pipe."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    try:
        _KNOWN.clear()
        _KNOWN.update(known)
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
        future = pool.submit(_parse_known, items, k1, b, extra)
        pool.shutdown(wait=False)
        return future
    except (OSError, RuntimeError):
        return None


# Measured on django (24 MB of text, 5.5 MB of source to parse): the worker's parsing and function index
# take about as long as this process's tokenising of everything plus its own share (test names, paths),
# so a cold build hands nothing over; a build whose modules were parsed before hands over up to 35%.
HANDOFF_SHARE = 0.0
KNOWN_HANDOFF_SHARE = 0.35  # more, when all source modules were parsed by earlier builds


def _handoff(texts: list[str], kinds: list[str], paths: list[str], known_share: float = 0.0) -> list[int]:
    """Files whose tokenising the worker takes over (non-Python first), about HANDOFF_SHARE of the text,
    to balance the two processes; with a `known_share` of the source already parsed by earlier builds
    (less parsing for the worker), it takes more."""
    budget = (HANDOFF_SHARE + KNOWN_HANDOFF_SHARE * known_share) * sum(len(t) for t in texts)
    order = sorted(range(len(texts)), key=lambda i: (is_python(paths[i]), kinds[i] != OTHER, -len(texts[i])))
    chosen, total = [], 0
    for i in order:
        if total >= budget:
            break
        chosen.append(i)
        total += len(texts[i])
    return sorted(chosen)


def build_index(
    files: Mapping[str, bytes],
    key: str,
    k1: float = 1.2,
    b: float = 0.75,
    parallel_min_bytes: int = 2_000_000,
    max_file_bytes: int = DEFAULT_MAX_BYTES,
    max_ast_bytes: int = 200_000,
) -> RepoIndex:
    """Index a path -> bytes mapping (see module docstring).

    When the source Python files add up to `parallel_min_bytes` or more, the AST side runs in a forked
    worker process while this process builds the lexical indexes (0 forces it, -1 disables it).
    Python files larger than `max_ast_bytes` (generated tables, mostly) are indexed as text only.
    """
    started = time.perf_counter(), time.process_time()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of short-lived AST nodes otherwise trigger repeated full collections
    try:
        kept = {p: data for p, data in files.items() if indexable(p, len(data), max_file_bytes)}
        index = _build(kept, key, k1, b, parallel_min_bytes, max_ast_bytes, started)
        index.stats.unreadable = list(getattr(files, "unreadable", ()))
        return index
    finally:
        if gc_was_enabled:
            gc.enable()
            # one full collection now, while indexing, instead of during the first query: it also
            # promotes the index to the oldest generation, which later collections rarely scan
            gc.collect()


def _build(
    files: Mapping[str, bytes],
    key: str,
    k1: float,
    b: float,
    parallel_min_bytes: int,
    max_ast_bytes: int,
    started: tuple[float, float],
) -> RepoIndex:
    stats = IndexStats()
    paths: list[str] = []
    kinds: list[str] = []
    texts: list[str] = []
    sources: list[tuple[int, str]] = []
    source_keys: dict[int, bytes] = {}
    test_texts: dict[int, str] = {}
    for path in sorted(files):
        data = files[path]
        if b"\0" in data[:8192]:
            stats.binary_skipped += 1
            continue
        try:
            text = data.decode("utf-8")
            utf8 = True
        except UnicodeDecodeError:
            text = data.decode("utf-8", "replace")
            utf8 = False
            stats.not_utf8.append(path)
        fid = len(paths)
        kind = classify(path)
        paths.append(path)
        kinds.append(kind)
        texts.append(text)
        if not is_python(path):
            continue
        stats.python_files += 1
        if kind == TEST:
            test_texts[fid] = text
        elif not utf8:
            stats.ast_skipped.append(path)
        elif len(data) > max_ast_bytes:
            stats.ast_too_large.append(path)
        else:
            sources.append((fid, text))
            if PARSED.max_chars:
                source_keys[fid] = ParseMemo.key(data)

    known: dict[int, ModuleInfo | None] = {}
    for fid, digest in source_keys.items():
        hit = PARSED.get(digest)
        if hit is not None:
            known[fid] = hit[0]
    source_bytes = sum(len(t) for _, t in sources)
    known_bytes = sum(len(t) for fid, t in sources if fid in known)
    worker = None
    handed: list[int] = []
    if parallel_min_bytes >= 0 and source_bytes >= parallel_min_bytes:
        handed = _handoff(texts, kinds, paths, known_bytes / max(source_bytes, 1))
        worker = _parse_in_worker(sources, k1, b, [texts[i] for i in handed], known)
    # meanwhile this process finds the tests' names and tokenises the rest; the worker's share comes
    # back as token counts
    test_names: dict[str, list[int]] = defaultdict(list)
    for fid, text in test_texts.items():
        for fn, cls in _TEST_DEF_RE.findall(text):
            test_names[fn or cls].append(fid)
    tok = Tokenizer()
    skip = set(handed)
    kept = [i for i in range(len(texts)) if i not in skip]
    kept_counts = tok.corpus_counts([texts[i] for i in kept]).placed(np.asarray(kept, np.int64), len(texts))
    path_counts = tok.corpus_counts([p.replace("/", " ") for p in paths])
    parsed = None
    if worker is not None:
        try:
            parsed = worker.result()
            stats.worker_cpu_seconds = round(parsed.cpu_seconds, 3)
        except Exception:  # a broken worker only costs time: do its work here instead
            parsed = None
    if parsed is not None and parsed.extra is not None:
        handed_counts = tok.adopt(*parsed.extra)
    else:
        handed_counts = tok.corpus_counts([texts[i] for i in handed])
    content_counts = TokenCounts.merged(
        [kept_counts, handed_counts.placed(np.asarray(handed, np.int64), len(texts))]
    )
    if parsed is None:
        parsed = _parse_sources(sources, k1, b, known=known)
    for fid, info in parsed.infos.items():
        if fid in source_keys:
            PARSED.put(source_keys[fid], info, len(files[paths[fid]]))
    infos = known | parsed.infos
    stats.parsed_files, stats.reused_files = len(parsed.infos), len(known)
    stats.reused_share = round(known_bytes / source_bytes, 3) if source_bytes else 0.0
    # the content and path indexes share the vocabulary: built once it is complete
    content = Lexical(content_counts, tok, k1, b)
    path_lex = Lexical(path_counts, tok, k1, b)
    tok.freeze()
    del texts, content_counts, path_counts

    symbols: list[Symbol] = []
    calls: list[tuple[str, ...]] = []
    imports: dict[int, tuple] = {}
    file_symbols: dict[int, tuple[int, int]] = {}
    literals: list[Literal] = []
    for fid, _text in sources:
        info = infos.get(fid)
        if info is None:
            stats.ast_skipped.append(paths[fid])
            continue
        offset = len(symbols)
        symbols.extend(globalise(fid, info, offset))
        calls.extend(info.calls)
        imports[fid] = info.imports
        file_symbols[fid] = (offset, len(symbols))
        for sym_local, pieces in info.literals:
            words = sum(len(p) for p in pieces)
            literals.append(Literal(fid, sym_local + offset if sym_local >= 0 else -1, pieces, words))
    function_symbols = [file_symbols[fid][0] + i for fid, i in parsed.function_symbols]

    names: dict[str, list[int]] = defaultdict(list)
    names_lower: dict[str, list[int]] = defaultdict(list)
    derived: dict[str, list[int]] = defaultdict(list)
    for sid, sym in enumerate(symbols):
        names[sym.name].append(sid)
        names_lower[sym.name.lower()].append(sid)
        if sym.kind == "class":
            for call in calls[sid]:
                if call.startswith(BASE_PREFIX):
                    derived[call.rsplit(".", 1)[-1].lstrip(BASE_PREFIX)].append(sid)
    literal_keys: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for lid, lit in enumerate(literals):
        for pid, piece in enumerate(lit.pieces):
            if len(piece) >= 2:  # one-word pieces only confirm a match found through a longer one
                literal_keys[(piece[0], piece[1])].append((lid, pid))
    modules: dict[str, list[int]] = defaultdict(list)
    path_suffixes: dict[str, list[int]] = defaultdict(list)
    for fid, path in enumerate(paths):
        for suf in _suffixes(path.split("/"), "/"):
            path_suffixes[suf].append(fid)
        if is_python(path):
            for suf in _suffixes(module_name(path).split("."), "."):
                modules[suf].append(fid)

    stats.files = len(paths)
    stats.source_files = kinds.count(SOURCE)
    stats.test_files = kinds.count(TEST)
    stats.other_files = kinds.count(OTHER)
    stats.symbols = len(symbols)
    stats.literals = len(literals)
    stats.build_seconds = round(time.perf_counter() - started[0], 3)
    stats.cpu_seconds = round(time.process_time() - started[1], 3)
    return RepoIndex(
        key=key,
        paths=paths,
        kinds=kinds,
        tokenizer=tok,
        content=content,
        path_lex=path_lex,
        functions=parsed.functions,
        function_symbols=function_symbols,
        symbols=symbols,
        file_symbols=file_symbols,
        calls=calls,
        imports=imports,
        derived=_frozen(derived),
        names=_frozen(names),
        names_lower=_frozen(names_lower),
        literals=literals,
        literal_keys=_frozen(literal_keys),
        modules=_frozen(modules),
        path_suffixes=_frozen(path_suffixes),
        test_names=_frozen(test_names),
        test_texts=test_texts,
        source_texts=dict(sources),
        categories=file_categories(paths, kinds),
        stats=stats,
    )
