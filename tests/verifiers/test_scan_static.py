"""Related-test selection (run on a real directory tree) and the static process reward."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from verifiers import scan_tests
from verifiers.static import diagnostics, reward_from_delta, static_score


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


LAYOUT = {
    "src/shop/__init__.py": "",
    "src/shop/cart.py": "def total(items):\n    return sum(items)\n",
    "src/shop/tax.py": "RATE = 0.2\n",
    "src/shop/api.py": "from .cart import total\n",  # imports the changed module
    "tests/test_api.py": "from shop import api\n",  # related through shop.api
    "src/shop/tests/__init__.py": "",
    "src/shop/tests/test_cart.py": "from shop.cart import total\n",  # name convention + import
    "src/shop/tests/test_relative.py": "from ..cart import total\n",  # relative import
    "tests/test_checkout.py": "import shop.cart as c\n",  # dotted import
    "tests/test_pkg.py": "from shop import cart\n",  # from package import module
    "tests/test_tax.py": "from shop.tax import RATE\n",  # unrelated to cart
    "tests/test_shop.py": "import shop\n",  # imports the package only: not specific enough
    "tests/test_broken.py": "def broken(:\n",  # unparsable: ignored
    "docs/conf.py": "from shop.cart import total\n",  # not a test file
}


def test_related_tests_by_import_and_name(tmp_path):
    root = write(tmp_path, LAYOUT)
    result = scan_tests.related_tests(str(root), ["src/shop/cart.py"], 0)
    assert result["modules"] == {"src/shop/cart.py": "shop.cart"}
    assert set(result["tests"]) == {
        "src/shop/tests/test_cart.py",
        "src/shop/tests/test_relative.py",
        "tests/test_checkout.py",
        "tests/test_pkg.py",
        "tests/test_api.py",
    }
    assert result["reasons"]["src/shop/tests/test_cart.py"].startswith("name convention (same package")
    assert result["reasons"]["tests/test_api.py"] == "imports shop.api which imports shop.cart"
    assert result["tests"][-1] == "tests/test_api.py"  # indirect imports rank last
    direct_only = scan_tests.related_tests(str(root), ["src/shop/cart.py"], 0, depth=0)
    assert "tests/test_api.py" not in direct_only["tests"]
    assert result["reasons"]["tests/test_checkout.py"] == "imports shop.cart"
    assert result["tests"][0] == "src/shop/tests/test_cart.py"  # convention hits rank first


def test_changed_package_init_and_changed_test_files(tmp_path):
    root = write(tmp_path, LAYOUT)
    result = scan_tests.related_tests(
        str(root), ["src/shop/__init__.py", "tests/test_tax.py", "new_file.py"], 0
    )
    assert "tests/test_shop.py" in result["tests"]  # `import shop` relates to shop/__init__.py
    assert result["reasons"]["tests/test_tax.py"] == "changed test file"


def test_max_files_caps_the_selection(tmp_path):
    root = write(tmp_path, LAYOUT)
    result = scan_tests.related_tests(str(root), ["src/shop/cart.py"], 2)
    assert len(result["tests"]) == 2 and result["dropped"] == 3


def test_scanner_runs_as_a_script_and_prints_marked_json(tmp_path):
    root = write(tmp_path, LAYOUT)
    out = subprocess.run(
        [sys.executable, scan_tests.__file__, str(root), "5", "1", "src/shop/tax.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    payload = json.loads(out.split(scan_tests.MARK)[1])
    assert payload["tests"] == ["tests/test_tax.py"]


def test_pyflakes_diagnostics_and_syntax_errors():
    kinds = [d.kind for d in diagnostics("import os\nprint(y)\n", "a.py")]
    assert sorted(kinds) == ["UndefinedName", "UnusedImport"]
    [syntax] = diagnostics("def f(:\n", "a.py")
    assert syntax.kind == "SyntaxError" and syntax.weight == 10


def test_static_reward_prefers_fewer_diagnostics():
    before = {"a.py": "import os\nx = 1\n"}
    assert static_score(before, {"a.py": "import os\nx = 1\n"}).value == pytest.approx(0.5)
    fixed = static_score(before, {"a.py": "x = 1\n"})
    unused = static_score({"a.py": "x = 1\n"}, {"a.py": "import sys\nx = 1\n"})
    undefined = static_score({"a.py": "x = 1\n"}, {"a.py": "x = y\n"})
    syntax = static_score({"a.py": "x = 1\n"}, {"a.py": "x = (\n"})
    assert fixed.value > 0.5 > unused.value > undefined.value > syntax.value
    assert undefined.value < 0.1 and syntax.value < 0.01
    assert "undefined name 'y'" in undefined.explanation


def test_static_reward_ignores_moved_lines_non_python_and_counts_new_and_deleted_files():
    moved = static_score({"a.py": "import os\n\nx = 1\n"}, {"a.py": "\n\n\nimport os\nx = 1\n"})
    assert moved.value == pytest.approx(0.5) and moved.details["new"] == []
    assert static_score({"README": "x"}, {"README": "y = ("}).value == pytest.approx(0.5)
    new_file = static_score({}, {"b.py": "import os\n"})
    assert new_file.value == pytest.approx(reward_from_delta(1))
    deleted = static_score({"b.py": "import os\n"}, {"b.py": None})
    assert deleted.value == pytest.approx(reward_from_delta(-1))
