"""Find a repository's existing tests related to changed source files. Runs INSIDE the sandbox.

This file is copied into the sandbox and run with the sandbox's own Python (which may be as old as
3.6), so it uses only the standard library and no newer syntax. It is also importable on the host for
unit tests. A test file is related to a changed file when

- it imports the changed module (parsed with `ast`; `import a.b`, `from a import b`, `from a.b import c`,
  and relative imports resolved against the test file's package), or imports a repository module that
  imports it (up to `depth` steps; ranked after direct imports), or
- its name follows the path conventions `test_<module>.py` / `<module>_test.py` / `tests_<module>.py`
  (anywhere, e.g. `tests/test_<module>.py` or `<pkg>/tests/test_<module>.py`), or
- it is itself one of the changed files and existed before.

Usage: python scan_tests.py ROOT MAX_FILES DEPTH CHANGED... ; prints one JSON object between markers.
"""

import ast
import json
import os
import sys

MARK = "@@SWE_TTC_SCAN@@"
SKIP_DIRS = {".git", ".tox", ".venv", "venv", "node_modules", "build", "dist", "__pycache__", ".eggs"}


def is_test_file(rel):
    base = os.path.basename(rel)
    if not base.endswith(".py"):
        return False
    parts = rel.split("/")[:-1]
    named = base.startswith("test_") or base.endswith("_test.py") or base in ("tests.py", "test.py")
    return named or (("tests" in parts or "test" in parts or "testing" in parts) and base.startswith("test"))


def module_name(root, rel):
    """Dotted module name of a file: walk up while the folders are packages (hold __init__.py)."""
    parts = rel[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
        pkg_depth = len(parts)
    else:
        pkg_depth = len(parts) - 1
    start = pkg_depth
    while start > 0 and os.path.isfile(os.path.join(root, *parts[:start], "__init__.py")):
        start -= 1
    return ".".join(parts[start:])


def imported_names(source, own_module, is_package):
    """Every dotted name a module imports, including `pkg.name` for `from pkg import name`."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names = set()
    own_pkg = own_module.split(".") if is_package else own_module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = own_pkg[: len(own_pkg) - (node.level - 1)] if node.level > 1 else own_pkg
                base = ".".join([p for p in anchor + ([base] if base else []) if p])
            if base:
                names.add(base)
            for alias in node.names:
                if alias.name != "*":
                    names.add(base + "." + alias.name if base else alias.name)
    return names


def convention_names(rel):
    stem = os.path.basename(rel)[:-3]
    if stem == "__init__":
        stem = os.path.basename(os.path.dirname(rel)) or stem
    return {"test_" + stem + ".py", stem + "_test.py", "tests_" + stem + ".py"}


def list_python_files(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(".py"):
                out.append(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    return out


def matches(imported, module):
    """An import touches `module` when it names it, a submodule of it, or an attribute of it."""
    return imported == module or imported.startswith(module + ".")


def _imports_of(root, rel):
    try:
        with open(os.path.join(root, rel), "rb") as handle:
            source = handle.read().decode("utf-8", "replace")
    except OSError:
        return set()
    return imported_names(source, module_name(root, rel), rel.endswith("__init__.py"))


def _hits(names, modules):
    return sorted(m for m in modules if m and any(matches(n, m) for n in names))


def related_tests(root, changed, max_files, depth=1):
    """Return {"tests": [...], "reasons": {test: reason}} for the changed files (paths relative to root).

    `depth` follows imports through the repository's own modules: with 1, a test importing a module
    that imports a changed module is related too ("imports X via Y").
    """
    changed = [c for c in changed if c.endswith(".py")]
    files = list_python_files(root)
    existing = set(files)
    tests = [f for f in files if is_test_file(f)]
    modules = {}
    for rel in changed:
        if rel in existing and not is_test_file(rel):
            modules[rel] = module_name(root, rel)
    reasons = {}
    for rel in changed:
        if rel in existing and is_test_file(rel):
            reasons[rel] = "changed test file"
    wanted = set()
    for rel in modules:
        wanted |= convention_names(rel)
    for test in tests:
        if test not in reasons and os.path.basename(test) in wanted:
            reasons[test] = "name convention"
    # reach: module -> how it relates to a change ("" = changed itself, else "via <importer>")
    reach = dict((m, "") for m in modules.values() if m)
    if reach and depth > 0:
        sources = [f for f in files if not is_test_file(f) and f not in modules]
        imports = dict((f, _imports_of(root, f)) for f in sources)
        frontier = dict(reach)
        for _ in range(depth):
            found = {}
            for f in sources:
                mod = module_name(root, f)
                if mod in reach or mod in found:
                    continue
                hit = _hits(imports[f], frontier)
                if hit:
                    found[mod] = hit[0]
            if not found:
                break
            reach.update(found)
            frontier = found
    if reach:
        for test in tests:
            if test in reasons:
                continue
            names = _imports_of(root, test)
            direct = _hits(names, [m for m, via in reach.items() if not via])
            if direct:
                reasons[test] = "imports " + direct[0]
                continue
            indirect = _hits(names, [m for m, via in reach.items() if via])
            if indirect:
                reasons[test] = "imports " + indirect[0] + " which imports " + reach[indirect[0]]
    order = {"changed test file": 0, "name convention": 1}

    def rank(test):
        reason = reasons[test]
        level = order.get(reason, 3 if " which imports " in reason else 2)
        return (level, test.count("/"), test)

    ranked = sorted(reasons, key=rank)
    chosen = ranked[:max_files] if max_files > 0 else ranked
    return {
        "tests": chosen,
        "reasons": dict((t, reasons[t]) for t in chosen),
        "dropped": len(ranked) - len(chosen),
        "modules": modules,
    }


def main(argv):
    root, max_files, depth, changed = argv[1], int(argv[2]), int(argv[3]), argv[4:]
    result = related_tests(root, changed, max_files, depth)
    sys.stdout.write(MARK + json.dumps(result) + MARK + "\n")


if __name__ == "__main__":
    main(sys.argv)
