"""Structural priors: which files are the library a repository ships, and which are around it.

An issue is about the library almost always; its words also match the code around the library: docs and
their examples, release and packaging scripts, benchmarks, test helpers, vendored third-party code, and
the module that prints `show_versions()` output pasted into so many issues. Those files are told apart
by the repository's structure alone (its package directories, i.e. where `__init__.py` files are, and
conventional directory and module names), never by any benchmark's answers. Fusion scales their score
down unless the issue points at the file itself (its path, a traceback frame in it, its module by name).
A test package inside the library (`django/test/`) counts as test helpers: it is what an issue's example
tests import, so its names fill issues that are about something else.
"""

from __future__ import annotations

from sweagent.localize.files import SOURCE, is_python

DOCS, EXAMPLES, BENCHMARKS, SCRIPTS, TEST_HELPERS, VENDORED, VERSION_INFO = (
    "docs",
    "examples",
    "benchmarks",
    "release/packaging scripts",
    "test helpers",
    "vendored code",
    "version/environment printer",
)

_DIR_CATEGORIES: dict[str, str] = {
    **dict.fromkeys(("doc", "docs", "documentation"), DOCS),
    **dict.fromkeys(
        ("examples", "example", "gallery", "galleries", "tutorials", "tutorial", "demo"), EXAMPLES
    ),
    **dict.fromkeys(("benchmarks", "benchmark", "asv_bench", "asv_benchmarks", "bench"), BENCHMARKS),
    **dict.fromkeys(("test", "testing", "testutils", "test_utils", "_testing"), TEST_HELPERS),
    **dict.fromkeys(
        ("extern", "externals", "_externals", "_vendor", "vendor", "vendored", "_vendored", "third_party"),
        VENDORED,
    ),
}
# directories that hold scripts when they are not packages (tools/, ci/, release/ ...)
_SCRIPT_DIRS = frozenset(
    """tools tool scripts script release releases ci .ci .github .circleci build_tools maint_tools dev devtools
    bin utils util extra extras misc contrib""".split()
)
_SCRIPT_FILES = frozenset(
    "setup conftest noxfile tasks fabfile versioneer runtests manage bootstrap release make build".split()
)
_MODULE_CATEGORIES: dict[str, str] = {
    **dict.fromkeys(("testing", "_testing", "testutils", "test_utils", "conftest"), TEST_HELPERS),
    **dict.fromkeys(
        (
            "show_versions",
            "_show_versions",
            "print_versions",
            "_print_versions",
            "sys_info",
            "sysinfo",
            "_sysinfo",
            "_version",
            "versioneer",
        ),
        VERSION_INFO,
    ),
}


def _stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def package_dirs(paths: list[str]) -> set[str]:
    """Directories holding an `__init__.py`: the repository's Python packages."""
    return {p.rsplit("/", 1)[0] for p in paths if p.endswith("/__init__.py")}


def categorise(path: str, packages: set[str]) -> str | None:
    """The non-library category of a source path, or None for library code."""
    parts = path.split("/")
    dirs = parts[:-1]
    for d in dirs:
        category = _DIR_CATEGORIES.get(d.lower())
        if category is not None:
            return category
    stem = _stem(path).lower()
    category = _MODULE_CATEGORIES.get(stem)
    if category is not None:
        return category
    if not packages:
        return SCRIPTS if stem in _SCRIPT_FILES else None  # a flat layout: every module is the library
    top = dirs[1:] if dirs and dirs[0] in ("src", "lib") else dirs
    root = parts[0] if dirs and dirs[0] not in ("src", "lib") else "/".join(parts[:2])
    if not top:
        return SCRIPTS  # a module next to the packages: setup.py, noxfile.py, a tool
    if root not in packages and root.split("/")[-1] in _SCRIPT_DIRS:
        return SCRIPTS
    if root not in packages and is_python(path):
        return SCRIPTS  # Python outside every package is run, not imported
    return None


def file_categories(paths: list[str], kinds: list[str]) -> dict[int, str]:
    """Non-library category of every source file that has one (library files are left out)."""
    packages = package_dirs(paths)
    out: dict[int, str] = {}
    for fid, path in enumerate(paths):
        if kinds[fid] != SOURCE:
            continue
        category = categorise(path, packages)
        if category is not None:
            out[fid] = category
    return out
