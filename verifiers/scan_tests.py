"""Find a repository's existing tests related to changed source files. Runs INSIDE the sandbox.

This file is copied into the sandbox and run with the sandbox's own Python (which may be as old as
3.6), so it uses only the standard library and no newer syntax. It is also importable on the host for
unit tests. It also tells the repository's test layout (`detect_layout`: Django's `tests/runtests.py`,
SymPy's `bin/test`, else pytest). A test file is related to a changed file when

- it is itself one of the changed files and existed before, or
- its name follows the path conventions `test_<module>.py` / `<module>_test.py` / `tests_<module>.py`
  (`<pkg>/tests/test_<module>.py` first, as SymPy lays them out; in Django's layout, only in a test app
  named like the module's package: `django/utils/http.py` -> `tests/utils_tests/test_http.py`), or
- it imports the changed module (parsed with `ast`; `import a.b`, `from a import b`, `from a.b import c`,
  and relative imports resolved against the test file's package), or imports a repository module that
  imports it (up to `depth` steps; ranked after direct imports), or
- it imports the changed module's package, when that package is specific enough (three or more dotted
  parts: a change under `django/db/models/` selects the test apps importing `django.db.models`).

In Django's layout only `tests/` holds tests, and `tests/gis_tests/` is left out: runtests.py refuses
the whole run when given a GIS label without a GIS database (the specs run it on SQLite).

Usage: python scan_tests.py [--max-bytes=N] ROOT MAX_FILES DEPTH CHANGED... ; prints one JSON object
between markers.
"""

import json
import os
import re
import sys

MARK = "@@SWE_TTC_SCAN@@"
# Django's runtests.py aborts the whole run ("A GIS database backend is required to run gis_tests") when
# given a GIS test label on a database without GIS, as the specs' `--settings=test_sqlite` is.
DJANGO_UNRUNNABLE = ("tests/gis_tests/",)
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


# `import a.b as c, d` and `from .a import (b as c, d)`, at any indentation, continued by parentheses
# or backslashes. A regular expression over the text is ~20x faster than walking an AST (Django has
# ~2,700 Python files) and reads files with syntax errors too; an import quoted inside a docstring
# can count, which only widens the selection.
_IMPORT_RE = re.compile(
    r"^[ \t]*(?:from[ \t]+(\.*)[ \t]*([\w.]*)[ \t]+import[ \t]+((?:\\\n[ \t]*)?\([^)]*\)|(?:[^\n#;\\]|\\\n)*)"
    r"|import[ \t]+((?:[^\n#;\\]|\\\n)+))",
    re.M,
)


def _names(text):
    out = []
    text = " ".join(line.split("#")[0] for line in text.replace("\\\n", " ").splitlines())
    for item in text.strip().strip("()").split(","):
        name = item.strip().split(" as ")[0].strip()
        if name and all(part.isidentifier() for part in name.split(".")):
            out.append(name)
    return out


def imported_names(source, own_module, is_package):
    """Every dotted name a module imports, including `pkg.name` for `from pkg import name`."""
    names = set()
    own_pkg = own_module.split(".") if is_package else own_module.split(".")[:-1]
    for dots, module, from_names, plain in _IMPORT_RE.findall(source):
        if plain:
            names.update(_names(plain))
            continue
        base = module
        level = len(dots)
        if level:
            anchor = own_pkg[: len(own_pkg) - (level - 1)] if level > 1 else own_pkg
            base = ".".join([p for p in anchor + ([module] if module else []) if p])
        if base:
            names.add(base)
        for alias in _names(from_names):
            names.add(base + "." + alias if base else alias)
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


def detect_layout(root):
    """How the repository runs its tests: 'django' (tests/runtests.py), 'sympy' (bin/test), or 'pytest'."""

    def has(*parts):
        return os.path.isfile(os.path.join(root, *parts))

    if has("tests", "runtests.py") and has("django", "__init__.py"):
        return "django"
    if has("sympy", "__init__.py") and (has("bin", "test") or has("sympy", "testing", "runtests.py")):
        return "sympy"
    return "pytest"


def _stem_tokens(word):
    word = word.lower()
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


GENERIC_TOKENS = {"", "py", "init", "test", "tests", "testing", "django", "sympy", "src", "lib", "core"}


def path_tokens(rel):
    """Words of a path (`tests/utils_tests/test_http.py` -> {util, http}), for matching names to names."""
    words = set()
    for part in rel[:-3].split("/") if rel.endswith(".py") else rel.split("/"):
        for word in part.replace("-", "_").split("_"):
            words.add(_stem_tokens(word))
    return words - GENERIC_TOKENS


def _package_of(module):
    return module.rsplit(".", 1)[0] if "." in module else ""


def related_tests(root, changed, max_files, depth=1, layout=None, max_bytes=0):
    """Return {"tests": [...], "reasons": {test: reason}, "layout": ...} for the changed files.

    Tiers, best first: a changed test file; a test named after a changed module (`test_<module>.py`,
    in the same package or, for Django, in a test app named like the module's package:
    `django/utils/http.py` -> `tests/utils_tests/test_http.py`); a test importing a changed module;
    one importing a module that imports it (up to `depth` steps); one importing the changed module's
    package when that package is specific (three or more dotted parts, e.g. `django.db.models`).
    Within a tier, tests whose path shares words with the changed file's come first, then smaller
    files. At most `max_files` tests, and (beyond the first) at most `max_bytes` of test source in all:
    a bound on the run's time that a count alone is not (one Django test module can hold 1,000 tests).
    """
    layout = layout or detect_layout(root)
    changed = [c for c in changed if c.endswith(".py")]
    files = list_python_files(root)
    existing = set(files)
    tests = [f for f in files if is_test_file(f)]
    if layout == "django":
        tests = [
            t
            for t in tests
            if t.startswith("tests/") and t != "tests/runtests.py" and not t.startswith(DJANGO_UNRUNNABLE)
        ]
    modules = {}
    for rel in changed:
        if rel in existing and not is_test_file(rel):
            modules[rel] = module_name(root, rel)
    reasons = {}
    tier = {}
    affinity = {}
    changed_words = set()
    for rel in modules:
        changed_words |= path_tokens(rel)

    def add(test, why, level):
        if test not in reasons:
            reasons[test] = why
            tier[test] = level
            affinity[test] = len(path_tokens(test) & changed_words)

    for rel in changed:
        if rel in existing and is_test_file(rel):
            add(rel, "changed test file", 0)
    for rel in modules:
        names = convention_names(rel)
        home = os.path.dirname(rel)
        package_words = path_tokens(home)
        for test in tests:
            if os.path.basename(test) not in names:
                continue
            test_dir = os.path.dirname(test)
            if test_dir in (home, home + "/tests", home + "/test"):
                add(test, "name convention (same package as " + rel + ")", 1)
            elif layout == "django":
                if package_words & path_tokens(test_dir):
                    add(test, "name convention (test app named like " + home + ")", 1)
            else:
                add(test, "name convention", 2)
    # reach: module -> how it relates to a change ("" = changed itself, else the module it imports)
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
    packages = {}
    for mod in modules.values():
        pkg = _package_of(mod)
        level = 0
        while pkg.count(".") >= 2:
            packages.setdefault(pkg, (level, mod))
            pkg = _package_of(pkg)
            level += 1
    if reach or packages:
        direct_mods = [m for m, via in reach.items() if not via]
        indirect_mods = [m for m, via in reach.items() if via]
        for test in tests:
            if test in reasons:
                continue
            names = _imports_of(root, test)
            direct = _hits(names, direct_mods)
            if direct:
                add(test, "imports " + direct[0], 3)
                continue
            indirect = _hits(names, indirect_mods)
            if indirect:
                add(test, "imports " + indirect[0] + " which imports " + reach[indirect[0]], 4)
                continue
            pkg_hits = sorted((packages[p][0], p) for p in _hits(names, list(packages)))
            if pkg_hits:
                level, pkg = pkg_hits[0]
                add(test, "imports " + pkg + ", the package of " + packages[pkg][1], 5 + level)

    sizes = dict((t, _size(root, t)) for t in reasons)

    def rank(test):
        return (tier[test], -affinity[test], sizes[test], test)

    ranked = sorted(reasons, key=rank)
    chosen = []
    total = 0
    for test in ranked:
        if max_files > 0 and len(chosen) >= max_files:
            break
        if max_bytes > 0 and chosen and total + sizes[test] > max_bytes:
            continue  # a smaller file further down may still fit
        chosen.append(test)
        total += sizes[test]
    return {
        "tests": chosen,
        "reasons": dict((t, reasons[t]) for t in chosen),
        "dropped": len(ranked) - len(chosen),
        "bytes": total,
        "modules": modules,
        "layout": layout,
    }


def _size(root, rel):
    try:
        return os.path.getsize(os.path.join(root, rel))
    except OSError:
        return 0


def main(argv):
    args = argv[1:]
    max_bytes = 0
    if args and args[0].startswith("--max-bytes="):
        max_bytes = int(args.pop(0).split("=", 1)[1])
    root, max_files, depth, changed = args[0], int(args[1]), int(args[2]), args[3:]
    result = related_tests(root, changed, max_files, depth, max_bytes=max_bytes)
    sys.stdout.write(MARK + json.dumps(result) + MARK + "\n")


if __name__ == "__main__":
    main(sys.argv)
