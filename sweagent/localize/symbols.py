"""Symbols and message-like string literals of one Python module, from its AST.

One pass over the tree collects classes, functions and methods (dotted qualified names, line spans
including decorators) and every string constant that reads like a message, attributed to the innermost
symbol around it. f-strings contribute their constant pieces; `%`/`{}` placeholders split a literal
into pieces, so a message quoted in an issue with its values filled in still matches.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass

_PLACEHOLDER_RE = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]|\{[^{}]*\}")
_WORD_RE = re.compile(r"\w+")
MAX_LITERAL_CHARS = 1000

Pieces = tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class LocalSymbol:
    """A class/function/method of one module; `parent` indexes the module's symbol list (-1: top level)."""

    qualname: str
    kind: str
    start: int
    end: int
    parent: int

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    symbols: list[LocalSymbol]
    literals: list[tuple[int, Pieces]]  # (symbol index or -1, word pieces)


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
        ast.Import,
        ast.ImportFrom,
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
    stack: list[tuple[ast.AST, int]] = [(tree, -1)]
    pop, push = stack.pop, stack.append
    Constant, JoinedStr, AST = ast.Constant, ast.JoinedStr, ast.AST
    leaves = _LEAVES
    while stack:
        node, sym = pop()
        t = type(node)
        if t in leaves:
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
    return ModuleInfo(ordered, [(remap.get(s, -1), p) for s, p in found])


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
