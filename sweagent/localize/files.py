"""Which kind of file a path is: source, test, or other (docs, configs, data); and Python module names.

Rankings are kept per kind, because an issue names test files and docs for different reasons than the
code that needs the change. `django/test/testcases.py` is source (a framework's test utilities are
code users call), `tests/...` and `test_*.py` are tests.
"""

from __future__ import annotations

SOURCE_SUFFIXES = frozenset(
    """
    .py .pyi .pyx .pxd .c .h .cc .cpp .cxx .hpp .hh .js .mjs .cjs .ts .tsx .jsx .go .rs .java .kt .scala
    .rb .php .cs .swift .m .mm .r .jl .lua .pl .sh .bash .sql
    """.split()
)
TEST_DIRS = frozenset({"tests", "test_utils", "testing_utils"})
TOP_TEST_DIRS = frozenset({"test", "testing"})

SOURCE, TEST, OTHER = "source", "test", "other"


def suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def is_test_path(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    dirs = parts[:-1]
    if any(d in TEST_DIRS for d in dirs) or (dirs and dirs[0] in TOP_TEST_DIRS):
        return True
    stem = name.rsplit(".", 1)[0]
    return (
        stem.startswith("test_")
        or stem.endswith(("_test", "_tests"))
        or stem in ("tests", "conftest", "test")
        or ".test." in name
        or ".spec." in name
    )


def classify(path: str) -> str:
    """SOURCE, TEST or OTHER for a repository-relative path."""
    if is_test_path(path):
        return TEST
    return SOURCE if suffix(path) in SOURCE_SUFFIXES else OTHER


def is_python(path: str) -> bool:
    return path.endswith((".py", ".pyi"))


def module_name(path: str) -> str:
    """`src/pkg/sub/__init__.py` -> `src.pkg.sub`; `pkg/mod.py` -> `pkg.mod` (suffix matching does the rest)."""
    stem = path.rsplit(".", 1)[0]
    if stem.endswith("/__init__"):
        stem = stem[: -len("/__init__")]
    return stem.replace("/", ".")
