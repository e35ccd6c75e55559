"""Signals: each turns the facts of an issue into votes for files and symbols of one index.

A vote carries a score (orders the signal's own ranking), a confidence in (0, 1] (scales its share
in the fusion: a name defined in n files gives each 1/n) and a one-line reason shown to the user.
Symbols are keyed by (file, qualified name), so test files parsed on demand work the same way.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sweagent.localize.config import LocalizeConfig
from sweagent.localize.files import TEST
from sweagent.localize.graph import CodeGraph
from sweagent.localize.index import RepoIndex, Symbol
from sweagent.localize.issue import Frame, IssueFacts

SymKey = tuple[int, str]
MAX_DEFINITIONS = 30  # a name defined in more files than this says nothing about where to look
MAX_PARSE = 3  # test files are parsed on demand only for references this specific
# An exception class named in an issue is mostly the symptom (`FieldError: ...`), not where it is raised.
_EXCEPTION_RE = re.compile(r"(?:Error|Exception|Warning|Exit)$")
SYMPTOM_WEIGHT = 0.25


def _symptom(name: str) -> float:
    return SYMPTOM_WEIGHT if _EXCEPTION_RE.search(name) else 1.0


_IMPORT_RE = re.compile(r"(?a)from[ \t]+([A-Za-z_][\w.]*)[ \t]+import[ \t]+(?:\(([\w\s,]+)\)|([\w \t,]+))")


@dataclass
class Vote:
    score: float
    conf: float
    detail: str
    via: tuple[str, ...] = ()  # for votes that travelled along the code graph: the path, seed first


@dataclass
class SignalVotes:
    """One signal's votes for files and symbols; each key keeps its strongest vote."""

    name: str
    files: dict[int, Vote] = field(default_factory=dict)
    symbols: dict[SymKey, Vote] = field(default_factory=dict)

    def add_file(self, fid: int, conf: float, detail: str, score: float | None = None) -> None:
        _keep_best(self.files, fid, Vote(conf if score is None else score, min(conf, 1.0), detail))

    def add_symbol(self, key: SymKey, conf: float, detail: str, score: float | None = None) -> None:
        _keep_best(self.symbols, key, Vote(conf if score is None else score, min(conf, 1.0), detail))


def _keep_best(table: dict, key: object, vote: Vote) -> None:
    old = table.get(key)
    if old is None or vote.score > old.score:
        table[key] = vote


def _outside(parts: list[str]) -> bool:
    """A path into the Python installation itself (the standard library), not an installed package."""
    return any(p.startswith("python") and p[6:7].isdigit() for p in parts) and not (
        {"site-packages", "dist-packages"} & set(parts)
    )


def resolve_path(index: RepoIndex, path: str) -> tuple[Sequence[int], float]:
    """Files a mentioned path refers to (longest matching suffix) and the confidence of that match.

    A bare file name matches only when it says something: never `__init__.py` below directories that
    did not match, and nothing under the standard library."""
    parts = [p for p in path.replace("\\", "/").split("/") if p and p != "."]
    for i in range(len(parts)):
        hits = index.path_suffixes.get("/".join(parts[i:]))
        if hits:
            matched = len(parts) - i
            if matched == 1 and len(parts) > 1 and (parts[-1] == "__init__.py" or _outside(parts)):
                return (), 0.0
            partial = 1.0 if matched == len(parts) or matched >= 2 else 0.5
            return hits, partial / len(hits)
    return (), 0.0


def _symbol_for_frame(index: RepoIndex, fid: int, frame: Frame, parse: bool) -> Symbol | None:
    """The function a frame ran in: by name when the issue names it (line numbers drift between
    versions), else the innermost function around the line."""
    syms = index.symbols_of(fid, parse)
    if frame.func and not frame.func.startswith("<"):
        name = frame.func.rsplit(".", 1)[-1]
        named = [s for s in syms if s.name == name and s.kind != "class"]
        if named:
            return min(
                named, key=lambda s: 0 if s.start <= frame.line <= s.end else abs(s.start - frame.line)
            )
    around = [s for s in syms if s.start <= frame.line <= s.end and s.kind != "class"]
    return max(around, key=lambda s: s.start) if around else None


def traceback_votes(index: RepoIndex, facts: IssueFacts, decay: float = 0.5) -> SignalVotes:
    """Frames that resolve to repository files; the innermost counts most (confidence 1/(1+decay*n))."""
    votes = SignalVotes("traceback")
    rank = 0
    for frame in sorted(facts.frames, key=lambda f: f.depth):
        fids, conf = resolve_path(index, frame.path)
        if not fids or len(fids) > MAX_DEFINITIONS:
            continue
        depth_conf = conf / (1.0 + decay * rank)
        rank += 1
        for fid in fids:
            where = f"line {frame.line}" + (f" in {frame.func}" if frame.func else "")
            votes.add_file(fid, depth_conf, f"traceback {where}")
            sym = _symbol_for_frame(index, fid, frame, parse=len(fids) <= MAX_PARSE)
            if sym is not None:
                votes.add_symbol((fid, sym.qualname), depth_conf, f"traceback {where}")
    return votes


def path_votes(index: RepoIndex, facts: IssueFacts) -> SignalVotes:
    votes = SignalVotes("path")
    for path in facts.paths:
        fids, conf = resolve_path(index, path)
        if len(fids) > MAX_DEFINITIONS:
            continue
        for fid in fids:
            votes.add_file(fid, conf, f"names {path}")
    return votes


def _dotted_names(facts: IssueFacts) -> list[str]:
    names = dict.fromkeys(facts.dotted)
    for module, grouped, inline in _IMPORT_RE.findall(facts.text):
        for item in (grouped or inline).split(","):
            name = item.split()[0] if item.split() else ""  # `X as Y` imports X
            if name.isidentifier():
                names.setdefault(f"{module}.{name}", None)
    return list(names)


def _find_qualname(index: RepoIndex, fids: list[int], rest: list[str]) -> list[Symbol]:
    """Symbols of `fids` whose qualified name is the longest prefix of `rest` that exists."""
    for cut in range(len(rest), 0, -1):
        qual = ".".join(rest[:cut])
        found = [
            s for fid in fids for s in index.symbols_of(fid, len(fids) <= MAX_PARSE) if s.qualname == qual
        ]
        if found:
            return found
    return []


def dotted_votes(index: RepoIndex, facts: IssueFacts) -> SignalVotes:
    """`pkg.mod.Class.method`: the longest module prefix, then the symbol path inside it. A name that a
    package only re-exports (`django.db.models.Q`) is looked up among definitions below the package;
    without a module prefix, `Class.method` must match the end of a qualified name. A one-part module
    prefix with no such symbol (`cart.checkout`) is a variable, not a module, and says nothing."""
    votes = SignalVotes("dotted")
    for name in _dotted_names(facts):
        parts = name.split(".")
        cut, modules = 0, []
        for c in range(len(parts), 0, -1):
            modules = index.modules.get(".".join(parts[:c]), [])
            if modules:
                cut = c
                break
        rest = parts[cut:]
        if cut and not rest:
            if cut > 1 or len(modules) == 1:
                for fid in modules:
                    package = index.paths[fid].endswith("__init__.py")  # imports name packages all the time
                    votes.add_file(fid, (0.2 if package else 0.7) / len(modules), f"module {name}")
            continue
        found = _find_qualname(index, modules, rest) if modules else []
        if not found and cut > 1:
            prefixes = tuple(index.paths[fid].rsplit("/", 1)[0] + "/" for fid in modules)
            found = [
                s
                for s in (index.symbols[i] for i in index.names.get(rest[0], []))
                if index.paths[s.file].startswith(prefixes)
            ]
        elif not found and cut == 0 and len(rest) > 1:
            tail = "." + ".".join(rest[-2:])
            found = [
                s
                for s in (index.symbols[i] for i in index.names.get(rest[-1], []))
                if ("." + s.qualname).endswith(tail)
            ]
        files = {s.file for s in found}
        if not files or len(files) > MAX_DEFINITIONS:
            continue
        conf = _symptom(parts[-1]) / len(files)
        for sym in found:
            votes.add_file(sym.file, conf, f"{name} -> {sym.qualname}")
            votes.add_symbol((sym.file, sym.qualname), conf, f"named as {name}")
    return votes


def symbol_votes(index: RepoIndex, facts: IssueFacts) -> SignalVotes:
    """Identifiers from the issue's code that name a class/function defined in few files."""
    votes = SignalVotes("symbol")
    per_file: dict[int, float] = defaultdict(float)
    reasons: dict[int, list[str]] = defaultdict(list)
    for ident, weight in facts.identifiers.items():
        if ident.startswith("__") or ident not in index.names:
            continue
        defs = [index.symbols[i] for i in index.names[ident]]
        files = {s.file for s in defs}
        if len(files) > MAX_DEFINITIONS:
            continue
        spec = weight * _symptom(ident) / len(files)
        for sym in defs:
            votes.add_symbol((sym.file, sym.qualname), spec, f"defines {sym.qualname}")
        for fid in files:
            per_file[fid] += spec
            reasons[fid].append(ident)
    for fid, total in per_file.items():
        votes.add_file(fid, min(total, 1.0), "defines " + ", ".join(reasons[fid][:3]), score=total)
    return votes


def message_votes(index: RepoIndex, facts: IssueFacts) -> SignalVotes:
    """String literals of the code (split at placeholders) that the issue quotes word for word."""
    votes = SignalVotes("message")
    words = facts.message_words
    matched: dict[int, set[int]] = defaultdict(set)
    keys = index.literal_keys
    for i in range(len(words) - 1):
        hits = keys.get((words[i], words[i + 1]))
        if not hits:
            continue
        for lid, pid in hits:
            piece = index.literals[lid].pieces[pid]
            n = len(piece)
            if n == 2 or tuple(words[i : i + n]) == piece:
                matched[lid].add(pid)
    found: dict[tuple, list[int]] = defaultdict(list)
    strength: dict[int, float] = {}
    present = set(words)
    for lid, pids in matched.items():
        lit = index.literals[lid]
        pids |= {p for p, piece in enumerate(lit.pieces) if len(piece) == 1 and piece[0] in present}
        got = sum(len(lit.pieces[p]) for p in pids)
        longest = max(len(lit.pieces[p]) for p in pids)
        if got < 4 and not (longest >= 3 and (got >= 4 or len(pids) == len(lit.pieces))):
            continue
        strength[lid] = min(got / 6.0, 1.0) * (got / lit.words) ** 0.5
        found[tuple(lit.pieces[p] for p in sorted(pids))].append(lid)
    for pieces, lids in found.items():
        files = {index.literals[lid].file for lid in lids}
        text = " … ".join(" ".join(p) for p in pieces)
        detail = f'message "{text[:70]}"'
        for lid in lids:
            lit = index.literals[lid]
            conf = strength[lid] / len(files)
            votes.add_file(lit.file, conf, detail, score=strength[lid] / len(files))
            if lit.symbol >= 0:
                sym = index.symbols[lit.symbol]
                votes.add_symbol((sym.file, sym.qualname), conf, detail)
    return votes


def _stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    for pre in ("test_", "tests_"):
        if name.startswith(pre):
            return name[len(pre) :]
    for suf in ("_tests", "_test"):
        if name.endswith(suf):
            return name[: -len(suf)]
    if name in ("tests", "test") and "/" in path:
        return path.rsplit("/", 2)[-2]
    return name


_NAME_RE = re.compile(r"(?a)\b[A-Za-z_]\w*\b")
IMPORTED_ONLY = 0.3  # a module the test file imports but the named test does not use


def tested_code(index: RepoIndex, graph: CodeGraph, fid: int, test: str, conf: float) -> list[tuple]:
    """The source code a named test exercises, through its file's imports: the names its body uses that
    the file imports from source modules (full confidence, shared among them), then the other imported
    source modules (IMPORTED_ONLY). Entries: (file, qualname or "", confidence, imported name)."""
    bindings = {alias: b for alias, b in graph.bindings(fid).items() if index.kinds[b.file] != TEST}
    if not bindings:
        return []
    text = index.test_texts.get(fid, "")
    lines = text.split("\n")
    body = [s for s in index.symbols_of(fid, parse=False) if s.name == test]
    used = set()
    for sym in body:
        used.update(_NAME_RE.findall("\n".join(lines[sym.start - 1 : sym.end])))
    out: list[tuple] = []
    hit = [alias for alias in bindings if alias in used]
    for alias in hit:
        b = bindings[alias]
        keys = graph.resolve(b.file, b.name) if b.name else []
        for tfid, qual in keys or [(b.file, "")]:
            out.append((tfid, qual, conf / len(hit), alias))
    rest = {b.file for alias, b in bindings.items() if alias not in hit} - {f for f, *_ in out}
    for src in rest:
        out.append((src, "", IMPORTED_ONLY * conf / len(rest), ""))
    return out


def tests_votes(index: RepoIndex, facts: IssueFacts, graph: CodeGraph) -> SignalVotes:
    """Tests named in the issue: the test files defining them, and the code they test (through the
    test module's imports; by file name when the imports say nothing)."""
    votes = SignalVotes("tests")
    if not facts.test_names:
        return votes
    stems: dict[str, list[int]] = defaultdict(list)
    for fid, path in enumerate(index.paths):
        if index.kinds[fid] != TEST and path.endswith(".py"):
            stems[path.rsplit("/", 1)[-1][:-3]].append(fid)
    for test in facts.test_names:
        fids = index.test_names.get(test, [])
        if fids and len(fids) <= MAX_DEFINITIONS:
            for fid in fids:
                votes.add_file(fid, 1.0 / len(fids), f"defines test {test}")
                for sym in index.symbols_of(fid, len(fids) <= MAX_PARSE):
                    if sym.name == test:
                        votes.add_symbol((fid, sym.qualname), 1.0 / len(fids), f"test {test}")
            for fid in fids:
                path = index.paths[fid]
                mapped = (
                    tested_code(index, graph, fid, test, 1.0 / len(fids)) if len(fids) <= MAX_PARSE else []
                )
                for src, qual, conf, alias in mapped:
                    why = f"{test} uses {alias}" if alias else f"imported by {path}"
                    votes.add_file(src, conf, why)
                    if qual:
                        votes.add_symbol((src, qual), conf, why)
                if not mapped:
                    tested = stems.get(_stem(path), [])
                    for src in tested[:MAX_DEFINITIONS]:
                        votes.add_file(src, 0.5 / len(tested), f"tested by {path} (file name)")
        if test.startswith("test_"):
            parts = test[5:].split("_")
            for cut in range(len(parts), 0, -1):
                name = "_".join(parts[:cut])
                defs = [index.symbols[i] for i in index.names.get(name, [])] if len(name) > 2 else []
                files = {s.file for s in defs}
                if defs and len(files) <= MAX_DEFINITIONS:
                    for sym in defs:
                        votes.add_symbol((sym.file, sym.qualname), 0.5 / len(files), f"tested by {test}")
                        votes.add_file(sym.file, 0.5 / len(files), f"tested by {test}")
                    break
    return votes


def _top(scores: np.ndarray, depth: int) -> list[int]:
    if not len(scores):
        return []
    depth = min(depth, len(scores))
    idx = np.argpartition(-scores, depth - 1)[:depth]
    idx = idx[scores[idx] > 0]
    return idx[np.argsort(-scores[idx], kind="stable")].tolist()


def lexical_votes(index: RepoIndex, facts: IssueFacts, config: LocalizeConfig) -> list[SignalVotes]:
    """BM25 rankings over contents, paths and functions (the function ranking also ranks files)."""
    tokens = index.tokenizer.tokens(facts.text)
    content = SignalVotes("bm25")
    scores = index.content.scores(tokens)
    for rank, fid in enumerate(_top(scores, config.depth)):
        content.add_file(fid, 1.0, f"text match #{rank + 1}", score=float(scores[fid]))
    paths = SignalVotes("bm25_path")
    scores = index.path_lex.scores(tokens)
    for rank, fid in enumerate(_top(scores, config.depth)):
        paths.add_file(fid, 1.0, f"path match #{rank + 1}", score=float(scores[fid]))
    functions = SignalVotes("bm25_function")
    scores = index.functions.scores(index.functions.tokenizer.tokens(facts.text))
    for rank, doc in enumerate(_top(scores, config.function_depth)):
        sym = index.symbols[index.function_symbols[doc]]
        detail = f"function text match #{rank + 1}"
        functions.add_symbol((sym.file, sym.qualname), 1.0, detail, score=float(scores[doc]))
        functions.add_file(sym.file, 1.0, f"{sym.qualname} text match #{rank + 1}", score=float(scores[doc]))
    out = [content, paths, functions]
    if config.weights.bm25_title or config.function_weights.bm25_title:
        out.append(title_votes(index, facts, config))
    return out


def title_votes(index: RepoIndex, facts: IssueFacts, config: LocalizeConfig) -> SignalVotes:
    """BM25 of the issue's title (its first line) over function source: a title states the bug in a
    few words, which the whole text's ranking dilutes."""
    votes = SignalVotes("bm25_title")
    title = next((line for line in facts.text.splitlines() if line.strip()), "")
    scores = index.functions.scores(index.functions.tokenizer.tokens(title))
    for rank, doc in enumerate(_top(scores, config.function_depth)):
        sym = index.symbols[index.function_symbols[doc]]
        votes.add_symbol((sym.file, sym.qualname), 1.0, f"title match #{rank + 1}", score=float(scores[doc]))
        votes.add_file(sym.file, 1.0, f"{sym.qualname} title match #{rank + 1}", score=float(scores[doc]))
    return votes


def collect(index: RepoIndex, facts: IssueFacts, config: LocalizeConfig) -> list[SignalVotes]:
    """Every signal with a non-zero weight, in a fixed order; the graph signal expands from the others."""
    from sweagent.localize.expansion import graph_votes

    weights = config.weights
    graph = CodeGraph(index)
    out = []
    for name, fn in (
        ("traceback", lambda index, facts: traceback_votes(index, facts, config.traceback_decay)),
        ("path", path_votes),
        ("dotted", dotted_votes),
        ("symbol", symbol_votes),
        ("message", message_votes),
        ("tests", lambda index, facts: tests_votes(index, facts, graph)),
    ):
        if getattr(weights, name) or getattr(config.function_weights, name):
            out.append(fn(index, facts))
    out.extend(lexical_votes(index, facts, config))
    if weights.graph or config.function_weights.graph:
        out.append(
            graph_votes(
                index, out, facts, graph, config.graph_hops, config.graph_decay, config.traceback_decay
            )
        )
    return out
