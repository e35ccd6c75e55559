"""The structural parts of the localiser on a small real repository: the call graph and its expansion,
structural priors, and mapping tests to the code they test through imports."""

from __future__ import annotations

import json

import pytest

from sweagent.localize import LocalizeConfig, localize_repo
from sweagent.localize.build import build_index
from sweagent.localize.graph import CodeGraph
from sweagent.localize.priors import (
    BENCHMARKS,
    DOCS,
    EXAMPLES,
    SCRIPTS,
    TEST_HELPERS,
    VENDORED,
    VERSION_INFO,
    categorise,
    package_dirs,
)
from sweagent.localize.symbols import parse_module
from tests.helpers.repos import make_repo
from tests.localize.test_cli import run
from tests.localize.tmpl import (
    EXAMPLE_ISSUE,
    NAMED_API_ISSUE,
    PASS_THROUGH_ISSUE,
    TEST_NAMED_ISSUE,
    TMPL_FILES,
    VERSIONS_ISSUE,
)


@pytest.fixture(scope="module")
def tmpl_repo(tmp_path_factory):
    return make_repo(tmp_path_factory.mktemp("structure") / "tmpl", TMPL_FILES)


@pytest.fixture(scope="module")
def tmpl_index():
    return build_index({p: t.encode() for p, t in TMPL_FILES.items()}, "tmpl", parallel_min_bytes=-1)


def no_graph() -> LocalizeConfig:
    config = LocalizeConfig()
    config.weights.graph = config.function_weights.graph = 0.0
    return config


def paths(hits) -> list[str]:
    return [h.path for h in hits]


def signal(hit, name):
    return next((s for s in hit.signals if s.signal == name), None)


# ---- parsing: imports and calls --------------------------------------------------------------------


def test_parse_keeps_imports_calls_and_bases():
    info = parse_module(
        "import os.path as osp, json\n"
        "from .base import Thing as T\n"
        "from .. import sibling\n"
        "class A(T, mod.Base):\n"
        "    size = compute_size()\n"
        "    def f(self):\n"
        "        self.g(); json.dumps(1); make().h(); helper()\n"
        "def helper():\n"
        "    from .lazy import later\n"
        "    return later()\n"
    )
    imports = {(i.module, i.name, i.alias, i.level) for i in info.imports}
    assert imports == {
        ("os.path", None, "osp", 0),
        ("json", None, "json", 0),
        ("base", "Thing", "T", 1),
        ("", "sibling", "sibling", 2),
        ("lazy", "later", "later", 1),
    }
    calls = {s.qualname: set(c) for s, c in zip(info.symbols, info.calls, strict=True)}
    assert calls == {
        "A": {"^T", "^mod.Base", "compute_size"},
        "A.f": {".g", "json.dumps", "..h", "make", "helper"},
        "helper": {"later"},
    }


# ---- the graph ----------------------------------------------------------------------------------------


def test_graph_resolves_imports_and_calls(tmpl_index):
    index = tmpl_index
    graph = CodeGraph(index)
    context = index.file_of("tmpl/context.py")
    filters = index.file_of("tmpl/filters.py")
    engine = index.file_of("tmpl/engine.py")
    # `from tmpl import filters` binds a module; `from tmpl.context import Context` a class in a module
    assert graph.bindings(context)["filters"].file == filters
    assert graph.bindings(engine)["Context"] == (context, "Context")
    # the package re-exports Context: resolving it through tmpl/__init__.py reaches the definition
    package = index.file_of("tmpl/__init__.py")
    assert graph.resolve(package, "Context") == [(context, "Context")]
    # Context.render calls filters.apply_escaping; a class's edges are its methods
    render = {e.target: e for e in graph.edges((context, "Context.render"))}
    assert render[(filters, "apply_escaping")].weight == 1.0
    assert render[(filters, "apply_escaping")].kind == "call"
    methods = {e.target[1] for e in graph.edges((context, "Context")) if e.kind == "method"}
    assert methods == {"Context.__init__", "Context.render", "Context.push"}
    # Engine.run calls Context (a class: its constructor) and compile_nodes in another module
    run = {e.target for e in graph.edges((engine, "Engine.run"))}
    assert (index.file_of("tmpl/compiler.py"), "compile_nodes") in run
    assert (context, "Context") in run


def test_expansion_reaches_the_code_the_named_api_calls(tmpl_repo):
    result = localize_repo(tmpl_repo, None, NAMED_API_ISSUE, top=10)
    assert result.files[0].path == "tmpl/context.py"
    filters = next(h for h in result.files if h.path == "tmpl/filters.py")
    graph = signal(filters, "graph")
    assert graph is not None and 0 < graph.weight <= 1 and graph.contribution > 0
    assert graph.via[0].startswith("tmpl/context.py:Context.render")
    assert graph.via[-1] == "call tmpl/filters.py:apply_escaping"
    callee = next(
        f for f in result.functions if (f.path, f.qualname) == ("tmpl/filters.py", "apply_escaping")
    )
    assert signal(callee, "graph").via == graph.via
    # the issue's words do not match filters.py: without the graph nothing finds it
    plain = localize_repo(tmpl_repo, None, NAMED_API_ISSUE, top=10, config=no_graph())
    assert "tmpl/filters.py" not in paths(plain.files)


def test_expansion_follows_what_a_traceback_line_calls(tmpl_repo):
    result = localize_repo(tmpl_repo, None, PASS_THROUGH_ISSUE, top=5)
    assert result.files[0].path == "tmpl/engine.py"
    compiler = next(h for h in result.files if h.path == "tmpl/compiler.py")
    graph = signal(compiler, "graph")
    assert graph.via[0] == "traceback line engine.py:10 calls compile_nodes"
    assert graph.via[-1] == "tmpl/compiler.py:compile_nodes"
    # the frame outside the repository (html/__init__.py) is nowhere
    assert all("html" not in h.path for h in result.files + result.other)


# ---- structural priors ------------------------------------------------------------------------------


def test_categories_come_from_the_layout():
    files = [*TMPL_FILES, "src/other/__init__.py", "tools/release.py", "tmpl/extern/six.py"]
    packages = package_dirs(files)
    assert packages == {"tmpl", "tmpl/util", "tmpl/test", "tests", "src/other"}
    expected = {
        "tmpl/context.py": None,
        "tmpl/util/show_versions.py": VERSION_INFO,
        "tmpl/test/case.py": TEST_HELPERS,
        "docs/conf.py": DOCS,
        "examples/render_context.py": EXAMPLES,
        "benchmarks/bench_render.py": BENCHMARKS,
        "setup.py": SCRIPTS,
        "tools/release.py": SCRIPTS,
        "tmpl/extern/six.py": VENDORED,
        "src/other/__init__.py": None,
    }
    assert {p: categorise(p, packages) for p in expected} == expected
    # a flat project (no packages): its modules are the library, its setup script is not
    assert categorise("calc.py", set()) is None
    assert categorise("setup.py", set()) == SCRIPTS


def test_library_code_ranks_above_examples_and_benchmarks(tmpl_repo):
    result = localize_repo(tmpl_repo, None, NAMED_API_ISSUE, top=10)
    ranked = paths(result.files)
    example = result.files[ranked.index("examples/render_context.py")]
    assert (example.prior, example.category) == (0.5, EXAMPLES)
    assert ranked.index("tmpl/context.py") < ranked.index("examples/render_context.py")
    # the example matches the issue's words best: without the prior it would lead
    flat = localize_repo(
        tmpl_repo, None, NAMED_API_ISSUE, top=10, config=LocalizeConfig(nonlibrary_prior=1.0)
    )
    flat_ranked = paths(flat.files)
    assert flat_ranked.index("examples/render_context.py") < ranked.index("examples/render_context.py")
    assert all(h.prior == 1.0 for h in flat.files)


def test_an_issue_pointing_at_a_file_lifts_its_prior(tmpl_repo):
    result = localize_repo(tmpl_repo, None, EXAMPLE_ISSUE, top=5)
    top = result.files[0]
    assert (top.path, top.prior, top.category) == ("examples/render_context.py", 1.0, EXAMPLES)


def test_a_version_printer_named_by_the_issue_template_stays_down(tmpl_repo):
    result = localize_repo(tmpl_repo, None, VERSIONS_ISSUE, top=10)
    printer = next(h for h in result.files if h.path == "tmpl/util/show_versions.py")
    assert (printer.prior, printer.category) == (0.5, VERSION_INFO)
    assert signal(printer, "dotted") is not None  # named, yet only as the template asks
    assert paths(result.files).index("tmpl/context.py") < paths(result.files).index(printer.path)


# ---- tests mapped to source through imports -----------------------------------------------------------


def test_named_test_maps_to_the_code_it_uses_through_imports(tmpl_repo):
    result = localize_repo(tmpl_repo, None, TEST_NAMED_ISSUE, top=5)
    assert result.tests[0].path == "tests/test_rendering.py"
    context = next(h for h in result.files if h.path == "tmpl/context.py")
    tests = signal(context, "tests")
    assert tests.detail == "test_quotes_in_values uses Context"
    assert tests.weight == 1.0
    # filters.py is imported by the test file, but the named test does not use it: a weaker vote
    filters = next(h for h in result.files if h.path == "tmpl/filters.py")
    assert signal(filters, "tests").detail == "imported by tests/test_rendering.py"
    assert signal(filters, "tests").weight < tests.weight
    # the file stem (test_rendering -> rendering) names no source file: imports were the only way
    assert result.files[0].path == "tmpl/context.py"


# ---- what the CLI shows -------------------------------------------------------------------------------


def test_cli_json_explains_expansion_and_priors(tmpl_repo, capsys):
    code, out, _ = run(
        capsys, "localize", "--repo", str(tmpl_repo), "--issue", NAMED_API_ISSUE, "--json", "--no-cache"
    )
    assert code == 0
    data = json.loads(out)
    files = {f["path"]: f for f in data["files"]}
    graph = next(s for s in files["tmpl/filters.py"]["signals"] if s["signal"] == "graph")
    assert graph["via"] == [
        "tmpl/context.py:Context.render (named as Context.render)",
        "call tmpl/filters.py:apply_escaping",
    ]
    assert graph["detail"] == "reached from tmpl/context.py:Context.render in 1 step"
    assert 0 < graph["weight"] <= 1 and graph["contribution"] > 0
    # a file's score is the sum of its signals' contributions, scaled by its prior
    for entry in data["files"]:
        total = sum(s["contribution"] for s in entry["signals"])
        assert abs(entry["score"] - total * entry["prior"]) < 1e-3
    example = files["examples/render_context.py"]
    assert (example["prior"], example["category"]) == (0.5, EXAMPLES)
    assert data["stats"]["signals"]["graph"] >= 1
