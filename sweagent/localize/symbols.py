"""Symbols, imports, calls and message-like string literals of one Python module, from its AST.

One pass over the tree collects classes, functions and methods (dotted qualified names, line spans
including decorators), the imports (the module's edges in the import graph), the names each function
calls and each class inherits from (its edges in the call graph), and every string constant that reads
like a message, attributed to the innermost symbol around it. f-strings contribute their constant pieces;
`%`/`{}` placeholders split a literal into pieces, so a message quoted in an issue with its values filled
in still matches.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass
from typing import NamedTuple

_PLACEHOLDER_RE = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]|\{[^{}]*\}")
_WORD_RE = re.compile(r"\w+")
MAX_LITERAL_CHARS = 1000

Pieces = tuple[tuple[str, ...], ...]


class LocalSymbol(NamedTuple):
    """A class/function/method of one module; `parent` indexes the module's symbol list (-1: top level).

    A named tuple: a django-sized repository's tens of thousands of them cross from the parsing worker
    process to the main one several times faster than dataclass instances would."""

    qualname: str
    kind: str
    start: int
    end: int
    parent: int

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]


class ImportRef(NamedTuple):
    """`from .a.b import c as d` -> ImportRef("a.b", "c", "d", 1); `import a.b` -> ("a.b", None, "a", 0)."""

    module: str
    name: str | None
    alias: str
    level: int


# How a call is kept: `name(...)` as "name", `self.name(...)` (or cls) as ".name" (the caller's own class
# first), `mod.name(...)` as "mod.name" (resolved through the module's imports), and a call on any other
# expression, `a.b().name(...)`, as "..name" (receiver unknown). A class's base `Base` / `mod.Base` is
# kept among its calls as "^Base" / "^mod.Base".
SELF_PREFIX = "."
BASE_PREFIX = "^"


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    symbols: list[LocalSymbol]
    literals: list[tuple[int, Pieces]]  # (symbol index or -1, word pieces)
    imports: tuple[ImportRef, ...] = ()
    calls: tuple[tuple[str, ...], ...] = ()  # per symbol: the calls it makes and (classes) its bases


def message_pieces(parts: list[str]) -> Pieces:
    """Lower-cased word sequences of the constant parts of a string, split at placeholders."""
    out: list[tuple[str, ...]] = []
    for part in parts:
        for chunk in _PLACEHOLDER_RE.split(part):
            words = tuple(_WORD_RE.findall(chunk.lower()))
            if words:
                out.append(words)
    return tuple(out) if any(len(p) >= 2 for p in out) else ()


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# Nodes that hold neither a string constant nor a definition: the walk does not descend into them.
_LEAVES = frozenset(
    {
        ast.Name,
        ast.Load,
        ast.Store,
        ast.Del,
        ast.alias,
        ast.Pass,
        ast.Break,
        ast.Continue,
        ast.Global,
        ast.Nonlocal,
    }
    | {cls for base in (ast.operator, ast.unaryop, ast.cmpop, ast.boolop) for cls in base.__subclasses__()}
)


def _docstring_node(node: ast.AST) -> ast.AST | None:
    body = getattr(node, "body", None)
    if body and type(body[0]) is ast.Expr:
        value = body[0].value
        if type(value) is ast.Constant and type(value.value) is str:
            return body[0]
    return None


_BLOCK_FIELDS = ("body", "orelse", "handlers", "finalbody", "cases")


def parse_module(text: str, literals: bool = True) -> ModuleInfo | None:
    """Symbols and literals of `text`, or None when it is not valid Python.

    With `literals=False` only statements are walked (symbols alone, several times faster): that is
    what files parsed at query time need.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    symbols: list[LocalSymbol] = []
    found: list[tuple[int, Pieces]] = []
    imports: list[ImportRef] = []
    calls: list[tuple[int, str]] = []
    stack: list[tuple[ast.AST, int]] = [(tree, -1)]
    pop, push = stack.pop, stack.append
    Constant, JoinedStr, AST, Call = ast.Constant, ast.JoinedStr, ast.AST, ast.Call
    Name, Attribute, Import, ImportFrom = ast.Name, ast.Attribute, ast.Import, ast.ImportFrom
    leaves = _LEAVES
    while stack:
        node, sym = pop()
        t = type(node)
        if t in leaves:
            continue
        if t is Call and sym >= 0:
            func = node.func
            tf = type(func)
            if tf is Name:
                calls.append((sym, func.id))
            elif tf is Attribute:
                value = func.value
                if type(value) is not Name:
                    calls.append((sym, SELF_PREFIX + SELF_PREFIX + func.attr))
                elif value.id in ("self", "cls"):
                    calls.append((sym, SELF_PREFIX + func.attr))
                else:
                    calls.append((sym, f"{value.id}.{func.attr}"))
        elif t is ImportFrom:
            for alias in node.names:
                imports.append(
                    ImportRef(node.module or "", alias.name, alias.asname or alias.name, node.level)
                )
            continue
        elif t is Import:
            for alias in node.names:
                bound = alias.asname or alias.name.split(".", 1)[0]
                imports.append(ImportRef(alias.name, None, bound, 0))
            continue
        if t is Constant:
            value = node.value
            if type(value) is str and 8 <= len(value) <= MAX_LITERAL_CHARS and " " in value:
                pieces = message_pieces([value])
                if pieces:
                    found.append((sym, pieces))
            continue
        if t is JoinedStr:
            parts = [v.value for v in node.values if type(v) is Constant and type(v.value) is str]
            pieces = message_pieces(parts)
            if pieces:
                found.append((sym, pieces))
            for v in node.values:
                if type(v) is not Constant:
                    push((v, sym))
            continue
        if t in _DEFS:
            parent = symbols[sym] if sym >= 0 else None
            qual = f"{parent.qualname}.{node.name}" if parent else node.name
            if t is ast.ClassDef:
                kind = "class"
            else:
                kind = "method" if parent is not None and parent.kind == "class" else "function"
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            symbols.append(LocalSymbol(qual, kind, start, node.end_lineno or node.lineno, sym))
            inner = len(symbols) - 1
            if t is ast.ClassDef:
                for base in node.bases:
                    if type(base) is Name:
                        calls.append((inner, BASE_PREFIX + base.id))
                    elif type(base) is Attribute and type(base.value) is Name:
                        calls.append((inner, f"{BASE_PREFIX}{base.value.id}.{base.attr}"))
            if not literals:
                stack.extend((item, inner) for item in node.body)
                continue
            doc = _docstring_node(node)
            for field in node._fields:
                value = getattr(node, field)
                if type(value) is list:
                    for item in value:
                        if isinstance(item, AST) and item is not doc:
                            push((item, inner))
                elif isinstance(value, AST):
                    push((value, inner))
            continue
        if not literals:
            for field in _BLOCK_FIELDS:
                for item in getattr(node, field, ()):
                    push((item, sym))
            continue
        doc = _docstring_node(node) if t is ast.Module else None
        for field in node._fields:
            value = getattr(node, field)
            if type(value) is list:
                for item in value:
                    if isinstance(item, AST) and item is not doc:
                        push((item, sym))
            elif isinstance(value, AST):
                push((value, sym))
    symbols_sorted = sorted(range(len(symbols)), key=lambda i: (symbols[i].start, -symbols[i].end))
    remap = {old: new for new, old in enumerate(symbols_sorted)}
    ordered = [
        LocalSymbol(s.qualname, s.kind, s.start, s.end, remap.get(s.parent, -1))
        for s in (symbols[i] for i in symbols_sorted)
    ]
    called: list[dict[str, None]] = [{} for _ in symbols]
    for owner, name in calls:
        called[remap[owner]][name] = None
    return ModuleInfo(
        ordered,
        [(remap.get(s, -1), p) for s, p in found],
        tuple(imports),
        tuple(tuple(c) for c in called),
    )


def innermost(
    symbols: list[LocalSymbol], line: int, kinds: tuple[str, ...] = ("function", "method", "class")
) -> int:
    """Index of the innermost symbol whose span holds `line` (symbols sorted by start), or -1."""
    best = -1
    for i, s in enumerate(symbols):
        if s.start > line:
            break
        if s.end >= line and s.kind in kinds:
            best = i  # later starts are nested deeper
    return best
