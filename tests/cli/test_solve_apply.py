"""`swe-ttc solve --apply` on a working tree that holds build output, an edited config file and
changed modes: the patch is the agent's work only, and applying it keeps everything the user had."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from sweagent.swebench.fixtures import make_repo
from sweagent.swebench.setup_fixtures import setup_task
from tests.helpers.cli import run_cli
from tests.helpers.setup_images import TOX_EDIT, agent_actions, known_patch, normalised

pytestmark = pytest.mark.docker


def user_tree(root) -> tuple:
    """The task's repository with what `pip install .` and a set-up leave: untracked build/ and
    calc.egg-info/, an edited tox.ini, every tracked file made executable."""
    task = setup_task("build")
    make_repo(task, root)
    (root / "build/lib/calc").mkdir(parents=True)
    shutil.copy(root / "calc/ops.py", root / "build/lib/calc/ops.py")
    (root / "calc.egg-info").mkdir()
    (root / "calc.egg-info/PKG-INFO").write_text("Name: calc\n")
    tox = root / "tox.ini"
    tox.write_text(tox.read_text().replace("commands = pytest\n", "commands = pytest -rA\n"))
    for rel in task.files:
        (root / rel).chmod(0o755)
    return task


def status(root) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=root, capture_output=True, text=True
    ).stdout


@pytest.mark.parametrize("search", [None, "best-of-n"])
def test_solve_apply_brings_exactly_the_agents_work(tmp_path, base_image, search):
    repo = tmp_path / "calc"
    task = user_tree(repo)
    before = status(repo)
    script = tmp_path / "agent.json"
    script.write_text(json.dumps({"actions": agent_actions()}))
    args = ["solve", "--repo", str(repo), "--issue", task.problem_statement, "--model", f"replay/{script}"]
    args += ["--output-dir", str(tmp_path / "runs"), "--run-id", "apply", "--apply"]
    args += ["--search", search, "--budget", "1"] if search else []
    proc = run_cli(*args, "--agent.localize_hint", "false")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"applied the patch to {repo}" in proc.stdout

    (patch_file,) = (tmp_path / "runs" / "apply").glob("*/*.patch")
    patch = patch_file.read_text()
    assert normalised(patch) == normalised(known_patch())
    # the user's tree: everything it had, plus the agent's work
    assert (repo / "build/lib/calc/ops.py").read_text().count("a // b") == 1
    assert (repo / "calc.egg-info/PKG-INFO").exists()
    assert (repo / "calc/ops.py").read_text() == task.fix["calc/ops.py"]
    assert (repo / "calc/debug_utils.py").exists()
    tox = (repo / "tox.ini").read_text()
    assert "commands = pytest -rA" in tox and TOX_EDIT[1] in tox
    assert (repo / "setup.py").stat().st_mode & 0o777 == 0o755
    assert not (repo / "reproduce_issue.py").exists() and not (repo / "scratch").exists()
    after = status(repo)
    assert set(after.splitlines()) - set(before.splitlines()) == {"?? calc/debug_utils.py"}
    assert set(before.splitlines()) <= set(after.splitlines())  # nothing the user had is lost
