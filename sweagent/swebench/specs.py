"""How one instance is graded: its eval script, log parser and eval type.

Rows in swebench's newer layout carry `eval_script`, `log_parser` and `eval_type`; those are used as
given. Rows in the classic layout (the Hugging Face Verified/Lite/full rows) carry only the test
patch, so the eval script is built the way swebench 4.x built it, from the per-repository,
per-version settings in `specs_py.yaml`, and the parser comes from swebench's repository map.
A repository neither knows (a user's own dataset, tasks mined later) gets pytest's command and parser.
The `TestSpec` itself is made by swebench (`make_test_spec`), so the script is wrapped exactly as
the official harness wraps it (it records the test command's exit code for grading).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import yaml
from swebench.harness.constants import (
    END_TEST_OUTPUT,
    FAIL_ONLY_REPOS,
    NON_TEST_EXTS,
    START_TEST_OUTPUT,
    EvalType,
)
from swebench.harness.log_parsers import PARSER_REGISTRY
from swebench.harness.utils import make_test_spec
from swebench.types import TestSpec
from swebench.utils import get_modified_files

from sweagent.task import Task

REPO_DIR = "/testbed"
ENV_NAME = "testbed"
DEFAULT_TEST_CMD = "pytest -rA"
DEFAULT_PARSER = "parse_log_pytest"
HEREDOC = "EOF_114329324912"
CONDA_ACTIVATE = ["source /opt/miniconda3/bin/activate", f"conda activate {ENV_NAME}"]
# Images without conda (a user's own, our fixtures) run the tests with the image's own Python.
CONDA_IF_PRESENT = f"if [ -f /opt/miniconda3/bin/activate ]; then source /opt/miniconda3/bin/activate && conda activate {ENV_NAME}; fi"


class SpecError(ValueError):
    """An instance cannot be graded as described (unknown parser, bad eval type); one line."""


@cache
def python_specs() -> dict[str, dict[str, dict[str, Any]]]:
    """Per-repository, per-version settings (test_cmd, eval_commands, install)."""
    text = resources.files("sweagent.swebench").joinpath("specs_py.yaml").read_text()
    return yaml.safe_load(text)


def repo_spec(repo: str, version: str | None) -> dict[str, Any] | None:
    """The settings for `repo` at `version`, or None when the repository or version is unknown."""
    if version is None:
        return None
    return python_specs().get(repo, {}).get(str(version))


def directives_for(repo: str, test_patch: str) -> list[str]:
    """Test files (or Django test modules) the test patch touches: what the test command runs."""
    if repo == "swe-bench/humaneval":
        return ["test.py"]
    directives = re.findall(r"diff --git a/.* b/(.*)", test_patch)
    directives = [d for d in directives if not any(d.endswith(ext) for ext in NON_TEST_EXTS)]
    if repo == "django/django":
        out = []
        for d in directives:
            d = d[: -len(".py")] if d.endswith(".py") else d
            d = d[len("tests/") :] if d.startswith("tests/") else d
            out.append(d.replace("/", "."))
        directives = out
    return directives


def build_eval_script(repo: str, version: str | None, base_commit: str, test_patch: str) -> str:
    """The eval script for a classic-layout row, in the shape the official harness runs."""
    spec = repo_spec(repo, version)
    known = spec is not None
    spec = spec or {"test_cmd": DEFAULT_TEST_CMD}
    activate = CONDA_ACTIVATE if known else [CONDA_IF_PRESENT]
    test_files = get_modified_files(test_patch)
    reset_tests = f"git checkout {base_commit} {' '.join(test_files)}"
    apply_tests = f"git apply -v - <<'{HEREDOC}'\n{test_patch}\n{HEREDOC}"
    test_command = " ".join([spec["test_cmd"], *directives_for(repo, test_patch)])
    lines = [*activate, f"cd {REPO_DIR}", *spec.get("eval_commands", [])]
    lines += [
        f"git config --global --add safe.directory {REPO_DIR}",
        f"cd {REPO_DIR}",
        "git status",
        "git show",
        f"git -c core.fileMode=false diff {base_commit}",
        *activate,
    ]
    if "install" in spec:
        lines.append(spec["install"])
    lines += [
        reset_tests,
        apply_tests,
        f": '{START_TEST_OUTPUT}'",
        test_command,
        f": '{END_TEST_OUTPUT}'",
        reset_tests,
    ]
    return "\n".join(["#!/bin/bash", "set -uxo pipefail", *lines]) + "\n"


@cache
def _repo_parsers() -> dict[str, str]:
    """Repository -> parser registry name, over every language swebench ships parsers for."""
    from swebench.harness.log_parsers import c, go, java, javascript, php, python, ruby, rust

    by_function = {}
    for name, func in PARSER_REGISTRY.items():
        by_function.setdefault(func, name)
    out: dict[str, str] = {}
    for module in (python, javascript, c, go, java, php, ruby, rust):
        for attr in dir(module):
            if attr.startswith("MAP_REPO_TO_PARSER"):
                for repo, func in getattr(module, attr).items():
                    if func in by_function:
                        out[repo] = by_function[func]
    return out


def normalize_parser(name: str) -> str:
    """Accept `parse_log_pytest` or `pytest`; anything swebench does not know is a SpecError."""
    for candidate in (name, f"parse_log_{name}"):
        if candidate in PARSER_REGISTRY:
            return candidate
    raise SpecError(f"unknown log parser `{name}`: use a swebench parser name such as parse_log_pytest")


def log_parser_for(repo: str, row_parser: str | None = None) -> str:
    """The row's parser when it names one, else swebench's parser for the repository, else pytest's."""
    if row_parser:
        return normalize_parser(row_parser)
    return _repo_parsers().get(repo, DEFAULT_PARSER)


def eval_type_for(repo: str, row_eval_type: str | None = None) -> str:
    if row_eval_type:
        try:
            return EvalType(row_eval_type).value
        except ValueError:
            allowed = ", ".join(e.value for e in EvalType)
            raise SpecError(f"unknown eval_type `{row_eval_type}`: use one of {allowed}") from None
    return EvalType.FAIL_ONLY.value if repo in FAIL_ONLY_REPOS else EvalType.PASS_AND_FAIL.value


def eval_script_for(task: Task) -> str:
    """The row's eval script when it has one, else one built from the specs (or pytest's default)."""
    if task.eval_script:
        return task.eval_script
    if not task.base_commit or not task.test_patch:
        missing = "base_commit" if not task.base_commit else "test_patch"
        raise SpecError(f"row has neither `eval_script` nor `{missing}`: cannot build an eval script")
    return build_eval_script(task.repo, task.version, task.base_commit, task.test_patch)


def grading_spec(task: Task, image: str) -> TestSpec:
    """swebench's TestSpec for grading `task` in `image` (hidden fields included: grading only)."""
    return make_test_spec(
        {
            "instance_id": task.instance_id,
            "image": image,
            "eval_script": eval_script_for(task),
            "repo": task.repo,
            "version": task.version or "",
            "FAIL_TO_PASS": task.FAIL_TO_PASS,
            "PASS_TO_PASS": task.PASS_TO_PASS,
            "log_parser": log_parser_for(task.repo, task.log_parser),
            "eval_type": eval_type_for(task.repo, task.eval_type),
        }
    )
