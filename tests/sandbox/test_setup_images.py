"""The sandbox's start state on images whose set-up left build output, an edited config file and
changed modes in /testbed (as SWE-bench's do): recorded once, and every diff and state relative to it."""

from __future__ import annotations

import uuid

import pytest

from sweagent.config import SandboxConfig
from sweagent.sandbox.base import RepoState
from sweagent.sandbox.docker_sandbox import DockerSandbox
from sweagent.sandbox.shell_sandbox import SandboxError
from sweagent.swebench.setup_fixtures import setup_task
from tests.helpers.setup_images import (
    AGENT_CHANGES,
    REPRODUCTION,
    SCRATCH_COMMAND,
    SCRATCH_GLOBS,
    TOX_EDIT,
    apply_check_in_fresh_container,
    known_patch,
    normalised,
)

pytestmark = pytest.mark.docker
KINDS = ["build", "config", "modes"]
TRACKED = sorted(setup_task("build").files)


def open_image(row: dict) -> DockerSandbox:
    return DockerSandbox(
        SandboxConfig(network="none", command_timeout=60),
        image=row["image"],
        run_label=f"test-{uuid.uuid4().hex[:8]}",
    )


def do_agent_work(box: DockerSandbox) -> None:
    box.write_file("reproduce_issue.py", REPRODUCTION)
    result = box.run(SCRATCH_COMMAND, timeout=120)
    assert result.ok, result.output
    for path, text in AGENT_CHANGES.items():
        if path == "tox.ini":  # an edit of the file as the sandbox has it (one set-up changed it)
            text = box.read_file(path).replace(*TOX_EDIT)
        box.write_file(path, text)


def expected_start(kind: str) -> dict:
    untracked = ["build/", "calc.egg-info/"] if kind in ("build", "all") else []
    modified = ["tox.ini"] if kind in ("config", "all") else []
    modes = TRACKED if kind in ("modes", "all") else []
    return {"untracked": untracked, "modified": modified, "mode_changed": modes}


@pytest.mark.parametrize("kind", [*KINDS, "all"])
def test_start_state_is_recorded_and_is_not_a_change(setup_rows, kind):
    with open_image(setup_rows[kind]) as box:
        summary = box.baseline.summary()
        got = {key: sorted(summary[key]) for key in ("untracked", "modified", "mode_changed")}
        assert got == expected_start(kind)
        assert summary["head"] == box.base_commit == setup_rows[kind]["base_commit"]
        assert box.diff() == "" and box.snapshot().patch == ""
        # the repository's own view is untouched: git status still shows what the set-up left
        status = box.run("git status --porcelain").output
        assert ("?? build/" in status) == (kind in ("build", "all"))


@pytest.mark.parametrize("kind", KINDS)
def test_patch_is_the_agents_work_and_applies_to_a_fresh_container(setup_rows, docker_client, kind):
    image = setup_rows[kind]["image"]
    with open_image(setup_rows[kind]) as box:
        do_agent_work(box)
        patch = box.diff(exclude_new=SCRATCH_GLOBS)
    assert normalised(patch) == normalised(known_patch())
    assert "old mode" not in patch and "build/" not in patch and "egg-info" not in patch
    code, output = apply_check_in_fresh_container(docker_client, image, patch)
    assert code == 0, output


def test_states_restore_in_warm_and_fresh_sandboxes_of_the_image(setup_rows):
    row = setup_rows["all"]
    with open_image(row) as box:
        start = box.snapshot()
        do_agent_work(box)
        state = RepoState.from_dict(box.snapshot().to_dict())
        assert state.baseline == box.baseline.tree == start.tree
        patch = box.diff(exclude_new=SCRATCH_GLOBS)

        box.restore(RepoState(box.base_commit, ""))  # back to the start: the set-up's state, not the commit
        assert box.diff() == ""
        assert "-rA" in box.read_file("tox.ini") and box.run("stat -c %a setup.py").output.strip() == "755"
        assert box.run("test -f build/lib/calc/ops.py && test -d calc.egg-info").ok
        assert box.run("test -e reproduce_issue.py || test -e calc/debug_utils.py").exit_code == 1

        box.restore(state)  # warm: its own tree
        assert box.diff(exclude_new=SCRATCH_GLOBS) == patch
        with open_image(row) as fresh:  # fresh: start tree plus the state's patch
            assert fresh.baseline.tree == box.baseline.tree
            fresh.restore(RepoState(state.base_commit, state.patch, baseline=state.baseline))
            assert fresh.diff(exclude_new=SCRATCH_GLOBS) == patch
            assert fresh.read_file("reproduce_issue.py") == REPRODUCTION
    with open_image(setup_rows["config"]) as other, pytest.raises(SandboxError, match="same image"):
        other.restore(state)  # another start: its patch would land on different files


def test_agent_cannot_smuggle_start_state_into_the_patch(setup_rows):
    """Deleting the excludes files, staging and committing everything, pruning every unreachable
    object: the patch is still the work, and the start state still restores."""
    with open_image(setup_rows["all"]) as box:
        do_agent_work(box)
        expected = box.diff(exclude_new=SCRATCH_GLOBS)
        tampered = box.run(
            "rm -f .git/swe-ttc-baseline-* && git add -A && git -c user.name=a -c user.email=b commit -qm all "
            "&& git reflog expire --expire=now --all && git gc -q --prune=now"
        )
        assert tampered.ok, tampered.output
        assert box.diff(exclude_new=SCRATCH_GLOBS) == expected
        box.restore(RepoState(box.base_commit, ""))
        assert box.run("git rev-parse HEAD").output.strip() == box.base_commit and box.diff() == ""
        assert box.run("test -f build/lib/calc/ops.py").ok, "the start's untracked files are left alone"
