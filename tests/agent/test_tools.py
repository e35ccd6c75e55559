"""The agent-computer interface against real sandboxes (Docker and local)."""

from __future__ import annotations

import pytest

from sweagent.tools.base import ToolInputError
from sweagent.tools.bash import BashTool
from sweagent.tools.editor import EditorTool
from sweagent.tools.search import MAX_RESULTS, SearchTool


def test_view_file_with_numbers_and_range(box):
    out = EditorTool().run(box, {"command": "view", "path": "pkg/core.py", "view_range": [5, 6]}).observation
    assert "     5\tdef sub(a, b):" in out
    assert "     6\t    return a - b" in out
    assert "def add" not in out


def test_view_directory_lists_two_levels(box):
    out = EditorTool().run(box, {"command": "view", "path": box.workdir}).observation
    assert "./pkg/core.py" in out and ".git" not in out


def test_view_range_outside_file_is_explained(box):
    with pytest.raises(ToolInputError, match="outside the file's 6 lines"):
        EditorTool().run(box, {"command": "view", "path": "pkg/core.py", "view_range": [50, 60]})


def test_str_replace_unique_edits_and_shows_snippet(box):
    editor = EditorTool()
    result = editor.run(
        box,
        {
            "command": "str_replace",
            "path": "pkg/core.py",
            "old_str": "return a - b",
            "new_str": "return a - b  # sub",
        },
    )
    assert "# sub" in result.observation
    assert box.read_file("pkg/core.py").count("# sub") == 1


def test_str_replace_ambiguous_names_lines_and_changes_nothing(box):
    before = box.read_file("pkg/dup.py")
    with pytest.raises(ToolInputError, match=r"occurs 2 times .*lines 1, 3"):
        EditorTool().run(
            box, {"command": "str_replace", "path": "pkg/dup.py", "old_str": "x = 1", "new_str": "x = 3"}
        )
    assert box.read_file("pkg/dup.py") == before


def test_str_replace_missing_hints_at_whitespace(box):
    with pytest.raises(ToolInputError, match="different surrounding whitespace"):
        EditorTool().run(
            box,
            {"command": "str_replace", "path": "pkg/core.py", "old_str": "  return a + b  ", "new_str": ""},
        )


def test_create_refuses_existing_and_undo_removes_new_file(box):
    editor = EditorTool()
    with pytest.raises(ToolInputError, match="already exists"):
        editor.run(box, {"command": "create", "path": "pkg/core.py", "file_text": "x"})
    editor.run(box, {"command": "create", "path": "pkg/new/mod.py", "file_text": "A = 'é $HOME `x` \\\\n'\n"})
    assert box.read_file("pkg/new/mod.py") == "A = 'é $HOME `x` \\\\n'\n"
    editor.run(box, {"command": "undo_edit", "path": "pkg/new/mod.py"})
    assert BashTool().run(box, {"command": "test -e pkg/new/mod.py"}).error


def test_insert_and_undo_restore_exact_text(box):
    editor = EditorTool()
    original = box.read_file("pkg/core.py")
    editor.run(box, {"command": "insert", "path": "pkg/core.py", "insert_line": 0, "new_str": "import os"})
    assert box.read_file("pkg/core.py") == "import os\n" + original
    editor.run(box, {"command": "undo_edit", "path": "pkg/core.py"})
    assert box.read_file("pkg/core.py") == original
    with pytest.raises(ToolInputError, match="no edit"):
        editor.run(box, {"command": "undo_edit", "path": "pkg/core.py"})


def test_insert_line_out_of_range(box):
    with pytest.raises(ToolInputError, match="outside 0..6"):
        EditorTool().run(box, {"command": "insert", "path": "pkg/core.py", "insert_line": 9, "new_str": "x"})


def test_search_text_and_files(box):
    text = SearchTool().run(box, {"pattern": "def (add|sub)"}).observation
    assert "pkg/core.py:1:def add(a, b):" in text and "pkg/core.py:5:def sub(a, b):" in text
    files = SearchTool().run(box, {"pattern": "core", "kind": "files"}).observation
    assert "pkg/core.py" in files
    assert "No matches" in SearchTool().run(box, {"pattern": "no_such_thing_here"}).observation


def test_search_caps_results(box):
    BashTool().run(
        box, {"command": "mkdir -p many && for i in $(seq 1 150); do echo needle > many/f$i.txt; done"}
    )
    out = SearchTool().run(box, {"pattern": "needle"}).observation
    assert out.startswith("150 matches") and f"first {MAX_RESULTS}" in out
    assert out.count("needle") == MAX_RESULTS + 1  # the pattern in the header line, plus each shown match


def test_bash_reports_exit_code_and_refuses_interactive(box):
    result = BashTool().run(box, {"command": "sh -c 'echo out; exit 3'"})
    assert "out" in result.observation and "[exit code 3]" in result.observation
    with pytest.raises(ToolInputError, match="interactive"):
        BashTool().run(box, {"command": "vim pkg/core.py"})
