"""Forking a node in a warm sandbox: exact states, in the same sandbox and in a fresh one."""

from __future__ import annotations

from search.pool import SandboxPool
from sweagent.config import SandboxConfig
from sweagent.sandbox.base import RepoState
from verifiers.execution import ExecutionConfig


def test_fork_switches_between_node_states_exactly(median_repo, base_image):
    fixture, repo, task = median_repo
    pool = SandboxPool(
        SandboxConfig(kind="docker", network="none"),
        size=1,
        repo_path=str(repo),
        commit=task.base_commit,
        image=None,
        run_label="test-fork",
        execution=ExecutionConfig(),
    )
    with pool:
        slot = pool.slots[0]
        pool.ensure(slot)
        box = slot.sandbox
        root = box.snapshot()
        box.write_file("reproduce_issue.py", fixture.repro_right)
        box.write_file("statkit/stats.py", box.read_file("statkit/stats.py") + "# elsewhere\n")
        sibling = box.snapshot()
        for _ in range(25):
            pool.fork(slot, sibling)
            seconds, how, replaced = pool.fork(slot, root)
            assert how == "warm" and not replaced and seconds > 0
            assert box.diff() == ""  # nothing of the sibling is left
            # an edit of the same size right after a fork must be seen (file stat can equal the index
            # entry's; only git's racy-entry check tells them apart)
            box.write_file("statkit/fmt.py", box.read_file("statkit/fmt.py").replace("digits=2", "digits=3"))
            assert "digits=3" in box.snapshot().patch

        # a fresh sandbox gets the same state from the patch alone (no tree id from another sandbox)
        pool.discard(slot)
        seconds, how, replaced = pool.fork(slot, RepoState(sibling.base_commit, sibling.patch))
        assert how == "fresh" and replaced
        assert slot.sandbox.read_file("reproduce_issue.py") == fixture.repro_right
        assert slot.sandbox.snapshot().patch == sibling.patch
