"""A small template engine ("tmpl") laid out like a real project, and issues written against it.

Unlike "shop", it has the structure the structural parts of the localiser read: a package whose modules
import and call each other, docs, an example, a benchmark, a release script, a version printer, a test
package inside the library, and tests that import what they test from modules with other names.
"""

from __future__ import annotations

TMPL_FILES: dict[str, str] = {
    "setup.py": """from setuptools import setup

setup(name="tmpl", version="1.0", packages=["tmpl"])  # render context templates
""",
    "README.md": "# tmpl\n\nA tiny template engine: a Context renders values through filters.\n",
    "docs/conf.py": """project = "tmpl"
extensions = []
# the docs show how a Context renders a title with quotes
""",
    "docs/rendering.rst": """Rendering
=========

A Context renders each value through the escaping filter before it reaches the page.
""",
    "tmpl/__init__.py": '''"""tmpl: contexts, filters and an engine."""

from tmpl.context import Context
from tmpl.engine import Engine

__all__ = ["Context", "Engine"]
''',
    "tmpl/context.py": '''"""The rendering context: the variables a template sees."""

from tmpl import filters


class Context:
    """Values by name, rendered on request."""

    def __init__(self, values):
        self.values = dict(values)

    def render(self, name):
        value = self.values[name]
        return filters.apply_escaping(value)

    def push(self, **extra):
        merged = dict(self.values)
        merged.update(extra)
        return Context(merged)
''',
    "tmpl/filters.py": '''"""Value filters applied while rendering."""

import html


def apply_escaping(value):
    text = str(value)
    return html.escape(text, quote=False)


def upper(value):
    return str(value).upper()
''',
    "tmpl/compiler.py": '''"""Turning template source into nodes."""


def compile_nodes(source):
    nodes = []
    for chunk in source.split("{{"):
        head, _, tail = chunk.partition("}}")
        nodes.append((head.strip(), tail))
    return nodes
''',
    "tmpl/engine.py": '''"""The engine: compile a template, then render it against a context."""

from tmpl.compiler import compile_nodes
from tmpl.context import Context


class Engine:
    def run(self, source, values):
        context = Context(values)
        return "".join(context.render(name) + tail for name, tail in compile_nodes(source))
''',
    "tmpl/util/__init__.py": "",
    "tmpl/util/show_versions.py": '''"""Print the versions a bug report needs."""

import platform
import sys


def show_versions():
    print("INSTALLED VERSIONS")
    print("python: %s" % sys.version.split()[0])
    print("platform: %s" % platform.platform())
    print("tmpl: 1.0")
''',
    "tmpl/test/__init__.py": "",
    "tmpl/test/case.py": '''"""Test helpers users build their template tests on."""


class TemplateTestCase:
    def assertRenders(self, context, name, expected):
        assert context.render(name) == expected
''',
    "examples/render_context.py": '''"""Example: render a title with quotes through a Context."""

from tmpl import Context

context = Context({"title": 'say "hi"', "quotes": "double quotes"})
print(context.render("title"))  # a title with double quotes, rendered
''',
    "benchmarks/bench_render.py": '''"""Benchmark: render many titles with quotes through a Context."""

from tmpl import Context


def time_render_titles():
    context = Context({"title": 'say "hi"'})
    for _ in range(1000):
        context.render("title")
''',
    "tests/__init__.py": "",
    "tests/test_rendering.py": """from tmpl.context import Context
from tmpl.filters import upper


def test_quotes_in_values():
    context = Context({"q": '"x"'})
    assert context.render("q") == "&quot;x&quot;"


def test_upper():
    assert upper("a") == "A"
""",
}

# The API the issue names (Context.render) is not where the fix goes (filters.apply_escaping).
NAMED_API_ISSUE = """`Context.render` leaves double quotes unescaped

`Context({"title": 'say "hi"'}).render("title")` returns the double quotes as they are, so a title
placed inside an attribute breaks the page.
"""

# A traceback that passes through engine.py on a line calling code defined in another module, and
# ends outside the repository.
PASS_THROUGH_ISSUE = """Engine.run fails on an unterminated tag

```
Traceback (most recent call last):
  File "app.py", line 3, in <module>
    Engine().run("{{ title", {})
  File "/usr/lib/python3/site-packages/tmpl/engine.py", line 10, in run
    return "".join(context.render(name) + tail for name, tail in compile_nodes(source))
  File "/usr/lib/python3.11/html/__init__.py", line 19, in escape
    s = s.replace("&", "&amp;")
KeyError: 'title'
```
"""

TEST_NAMED_ISSUE = """test_quotes_in_values fails on main

Running the test suite, test_quotes_in_values now fails: the rendered value keeps its quotes.
"""

VERSIONS_ISSUE = """Rendering a title with double quotes through `Context.render` keeps the quotes

<details><summary>Output of tmpl.util.show_versions()</summary>

```
INSTALLED VERSIONS
------------------
commit: None
python: 3.11.4
python-bits: 64
platform: Linux-6.1-x86_64
machine: x86_64
tmpl: 1.0
markupsafe: 2.1.3
```
</details>
"""

EXAMPLE_ISSUE = """examples/render_context.py prints the title with double quotes unescaped"""
