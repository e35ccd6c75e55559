"""The first message's localisation hint, for a repository that lives only inside the sandbox."""

from __future__ import annotations

from sweagent.config import load_config
from sweagent.runner import localization_hint, sandbox_python_files
from sweagent.task import Task


def test_sandbox_files_are_exported_at_the_base_commit(box):
    box.run("echo 'def extra(): pass' > pkg/uncommitted.py")
    files = sandbox_python_files(box)
    assert set(files) == {"pkg/__init__.py", "pkg/core.py", "pkg/dup.py"}
    assert files["pkg/core.py"].startswith(b"def add(a, b):")


def test_hint_names_the_file_of_the_function_in_the_issue(box):
    task = Task(instance_id="t", problem_statement="`sub` returns a + b instead of the difference")
    hint = localization_hint(task, load_config(), None, box)
    assert hint.splitlines()[1].startswith("1. pkg/core.py")
    assert "sub [function, lines 5-6]" in hint


def test_hint_can_be_switched_off(box):
    task = Task(instance_id="t", problem_statement="`sub` is wrong")
    config = load_config(overrides={"agent": {"localize_hint": False}})
    assert localization_hint(task, config, None, box) == ""
