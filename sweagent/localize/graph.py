"""The repository's import and call graph, resolved on demand from what indexing parsed (AST).

Edges are resolved lazily and memoised per query, because a query only ever walks a few hundred nodes
around what the issue names:

- import edges: a module's `import`/`from ... import` statements bound to files of the repository
  (relative imports included; a package `__init__` that re-exports a name is followed to the definition);
- call edges: the names a function calls, resolved as Python would look them up where it can (its own
  class for `self.x()`, the module's imports for `mod.x()` and imported names, its own module), and
  otherwise by name among the modules the caller imports. Unresolved names (builtins, third-party code)
  are dropped. A class's edges are its methods, its base classes and its subclasses (a call on the
  base dispatches to them); a method's also go to its overrides in subclasses.

Each edge carries a weight in (0, 1]: 1 for a resolved lookup, 1/n when a name could mean n files.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from sweagent.localize.files import module_name
from sweagent.localize.index import RepoIndex, Symbol
from sweagent.localize.symbols import BASE_PREFIX, ImportRef

SymKey = tuple[int, str]
MAX_CANDIDATE_FILES = 3  # an attribute call matching methods of more files than this says nothing
MAX_REEXPORT_HOPS = 3


class Binding(NamedTuple):
    """What a name bound by an import refers to: a module file, or a name inside one."""

    file: int
    name: str | None  # None: the module itself


class Edge(NamedTuple):
    target: SymKey
    weight: float
    kind: str  # "call", "method", "base", "subclass", "override", "import"


class CodeGraph:
    """Import and call edges of one `RepoIndex`, memoised (build one per query)."""

    def __init__(self, index: RepoIndex) -> None:
        self.index = index
        self._bindings: dict[int, dict[str, Binding]] = {}
        self._by_name: dict[int, dict[str, list[Symbol]]] = {}
        self._edges: dict[SymKey, list[Edge]] = {}
        self._modules: dict[str, int | None] = {}
        self._packages: dict[int, list[str]] = {}
        self._bases: dict[SymKey, list[SymKey]] = {}
        self._ids: dict[int, dict[str, int]] = {}
        self._children: dict[int, dict[str, list[str]]] = {}

    # modules and imports -------------------------------------------------------------------------
    def module_file(self, dotted: str) -> int | None:
        """The file of a module given by its full dotted name (`pkg.sub.mod`), if the repository has it.

        `modules` holds every dotted suffix of every module's name, so `pkg.mod` finds `src/pkg/mod.py`;
        several copies (`src/pkg/mod.py`, `build/lib/pkg/mod.py`): the shortest path is the package."""
        got = self._modules.get(dotted, -2)
        if got != -2:
            return got
        hits = self.index.modules.get(dotted, ()) if dotted else ()
        found = min(hits, key=lambda f: len(self.index.paths[f])) if hits else None
        self._modules[dotted] = found
        return found

    def _package(self, fid: int) -> list[str]:
        got = self._packages.get(fid)
        if got is None:
            path = self.index.paths[fid]
            got = module_name(path).split(".")
            if not path.endswith("/__init__.py"):
                got = got[:-1]
            self._packages[fid] = got
        return got

    def _absolute(self, fid: int, ref: ImportRef) -> str:
        if not ref.level:
            return ref.module
        package = self._package(fid)
        if ref.level > 1:
            package = package[: len(package) - (ref.level - 1)]
        return ".".join(p for p in [*package, *ref.module.split(".")] if p)

    def bindings(self, fid: int) -> dict[str, Binding]:
        """Names a file binds by importing repository modules or their contents."""
        got = self._bindings.get(fid)
        if got is not None:
            return got
        out: dict[str, Binding] = {}
        for ref in self.index.imports_of(fid):
            module = self._absolute(fid, ref)
            if ref.name is None:
                # `import a.b` binds `a`; `import a.b as c` binds c to a.b
                target = module if ref.alias != module.split(".", 1)[0] else ref.alias
                mfid = self.module_file(target)
                if mfid is not None:
                    out[ref.alias] = Binding(mfid, None)
                continue
            if ref.name == "*":
                continue
            sub = self.module_file(f"{module}.{ref.name}" if module else ref.name)
            if sub is not None:
                out[ref.alias] = Binding(sub, None)
                continue
            mfid = self.module_file(module)
            if mfid is not None:
                out[ref.alias] = Binding(mfid, ref.name)
        self._bindings[fid] = out
        return out

    def imported_files(self, fid: int) -> set[int]:
        """Repository files a file imports from (modules, or modules holding the imported names)."""
        return {b.file for b in self.bindings(fid).values()} - {fid}

    # symbols -------------------------------------------------------------------------------------
    def _names(self, fid: int) -> dict[str, list[Symbol]]:
        got = self._by_name.get(fid)
        if got is None:
            got = defaultdict(list)
            for sym in self.index.symbols_of(fid, parse=False):
                got[sym.name].append(sym)
            self._by_name[fid] = got
        return got

    def top_level(self, fid: int, name: str) -> list[SymKey]:
        return [(fid, s.qualname) for s in self._names(fid).get(name, ()) if s.qualname == name]

    def resolve(self, fid: int, name: str, hops: int = 0) -> list[SymKey]:
        """Definition(s) a module-level name of `fid` refers to: its own, or followed through imports."""
        own = self.top_level(fid, name)
        if own or hops >= MAX_REEXPORT_HOPS:
            return own
        binding = self.bindings(fid).get(name)
        if binding is None or binding.name is None:
            return []
        return self.resolve(binding.file, binding.name, hops + 1)

    def _owner_class(self, key: SymKey) -> str | None:
        fid, qual = key
        parts = qual.split(".")
        names = self._names(fid)
        for cut in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:cut])
            if any(s.qualname == prefix and s.kind == "class" for s in names.get(parts[cut - 1], ())):
                return prefix
        return None

    def _method(self, cls: SymKey, name: str, depth: int = 0) -> list[SymKey]:
        """`name` defined in class `cls` or (two levels deep) in its bases."""
        fid, qual = cls
        found = [(fid, s.qualname) for s in self._names(fid).get(name, ()) if s.qualname == f"{qual}.{name}"]
        if found or depth >= 2:
            return found
        for base_cls in self.bases(cls):
            found += self._method(base_cls, name, depth + 1)
        return found

    def bases(self, cls: SymKey) -> list[SymKey]:
        """The repository classes a class derives from."""
        got = self._bases.get(cls)
        if got is None:
            sid = self.symbol_id(cls)
            got = []
            for call in self.index.calls[sid] if sid >= 0 else ():
                if call.startswith(BASE_PREFIX):
                    got += [k for k, _ in self.callee(cls, call[1:])]
            self._bases[cls] = got
        return got

    def symbol_id(self, key: SymKey) -> int:
        """Global id of an eagerly indexed symbol, or -1 (test files' symbols have none)."""
        ids = self._ids.get(key[0])
        if ids is None:
            span = self.index.file_symbols.get(key[0], (0, 0))
            ids = self._ids[key[0]] = {self.index.symbols[i].qualname: i for i in range(*span)}
        return ids.get(key[1], -1)

    def subclasses(self, cls: SymKey) -> list[SymKey]:
        """Classes deriving directly from `cls` (their base name resolves to it): a call on the base
        class dispatches to them."""
        name = cls[1].rsplit(".", 1)[-1]
        out = []
        for sid in self.index.derived.get(name, ()):
            sub = self.index.symbols[sid]
            key = (sub.file, sub.qualname)
            if cls in self.bases(key):
                out.append(key)
        return out

    def _by_attribute(self, fid: int, name: str) -> list[tuple[SymKey, float]]:
        """A method/function `name` called on an object of unknown type: looked up in the caller's file
        and the files it imports, else anywhere when few files define it."""
        near = {fid} | self.imported_files(fid)
        ids = self.index.names.get(name, ())
        defs = [self.index.symbols[i] for i in ids]
        close = [s for s in defs if s.file in near and s.kind != "class"]
        pool, scale = (close, 1.0) if close else ([s for s in defs if s.kind != "class"], 0.5)
        files = {s.file for s in pool}
        if not files or len(files) > MAX_CANDIDATE_FILES:
            return []
        return [((s.file, s.qualname), scale / len(files)) for s in pool]

    def callee(self, key: SymKey, call: str) -> list[tuple[SymKey, float]]:
        """Where one call made by `key` (encoded as in `symbols.SELF_PREFIX`) may land, with weights."""
        fid, qual = key
        if call.startswith(".."):
            return self._by_attribute(fid, call[2:])
        if call.startswith("."):
            name = call[1:]
            owner = self._owner_class(key)
            if owner is not None:
                found = self._method((fid, owner), name)
                if found:
                    return [(k, 1.0 / len(found)) for k in found]
            return self._by_attribute(fid, name)
        if "." in call:
            receiver, name = call.split(".", 1)
            binding = self.bindings(fid).get(receiver)
            if binding is not None and binding.name is None:
                found = self.resolve(binding.file, name)
            else:
                classes = self.resolve(fid, receiver)
                found = [m for cls in classes for m in self._method(cls, name)]
            if found:
                return [(k, 1.0 / len(found)) for k in found]
            return self._by_attribute(fid, name)
        nested = [(fid, s.qualname) for s in self._names(fid).get(call, ()) if s.qualname == f"{qual}.{call}"]
        found = nested or self.resolve(fid, call)
        return [(k, 1.0 / len(found)) for k in found]

    def members(self, fid: int) -> dict[str, list[str]]:
        """A file's qualified names by the qualified name they are defined in (a class's methods ...)."""
        got = self._children.get(fid)
        if got is None:
            got = self._children[fid] = defaultdict(list)
            for sym in self.index.symbols_of(fid, parse=False):
                if "." in sym.qualname:
                    got[sym.qualname.rsplit(".", 1)[0]].append(sym.qualname)
        return got

    def edges(self, key: SymKey) -> list[Edge]:
        """Outgoing edges of a symbol: a function's calls; a class's methods and base classes."""
        got = self._edges.get(key)
        if got is not None:
            return got
        fid, qual = key
        out: dict[SymKey, Edge] = {}
        sid = self.symbol_id(key)
        sym = self.index.symbols[sid] if sid >= 0 else None
        if sym is not None and sym.kind == "class":
            for child in self.members(fid).get(qual, ()):
                out[(fid, child)] = Edge((fid, child), 1.0, "method")
            for sub in self.subclasses(key):
                out.setdefault(sub, Edge(sub, 1.0, "subclass"))
        elif sym is not None and sym.kind == "method":
            owner = self._owner_class(key)
            name = qual.rsplit(".", 1)[-1]
            for sub in self.subclasses((fid, owner)) if owner else ():
                for override in self._names(sub[0]).get(name, ()):
                    if override.qualname == f"{sub[1]}.{name}":
                        target = (sub[0], override.qualname)
                        out.setdefault(target, Edge(target, 1.0, "override"))
        for call in self.index.calls[sid] if sym is not None else ():
            kind = "base" if call.startswith(BASE_PREFIX) else "call"
            for target, weight in self.callee(key, call.lstrip(BASE_PREFIX)):
                if target != key and (target not in out or out[target].weight < weight):
                    out[target] = Edge(target, weight, kind)
        got = self._edges[key] = list(out.values())
        return got

    def module_edges(self, fid: int) -> list[Edge]:
        """A module's imports as edges to the imported definitions (or to the module, as `(file, "")`)."""
        out: dict[SymKey, Edge] = {}
        for alias, binding in self.bindings(fid).items():
            targets = (
                [(binding.file, "")] if binding.name is None else self.resolve(binding.file, binding.name)
            )
            for target in targets or [(binding.file, "")]:
                out.setdefault(target, Edge(target, 1.0, f"import {alias}"))
        return list(out.values())
