"""`swe-ttc batch --search`: every instance is a search, with its tree saved beside the trajectory."""

from __future__ import annotations

import json

import pytest

from sweagent.model.scripted import register_oracle
from sweagent.trajectory import Trajectory, trajectory_path
from tests.swebench.test_batch import IDS, batch_cli
from tests.swebench.util import read_json

pytestmark = pytest.mark.docker


def test_batch_with_best_of_n_search_writes_trees_and_predictions(fixture_dataset, fixture_rows, tmp_path):
    for iid, row in fixture_rows.items():
        register_oracle(f"bs-{iid}", row["patch"])
    code = batch_cli(
        fixture_dataset, tmp_path, "bs", "oracle/bs-{instance_id}", "--search", "best-of-n", "--budget", "1"
    )
    assert code == 0
    run_dir = tmp_path / "bs"
    preds = read_json(run_dir / "preds.json")
    assert sorted(preds) == IDS
    for iid in IDS:
        tree = json.loads((run_dir / iid / "tree.json").read_text())
        assert tree and (run_dir / iid / "tree.graphml").exists()
        traj = Trajectory.load(trajectory_path(run_dir, iid))
        assert traj.is_final and traj.patch == preds[iid]["model_patch"]
        changed = {line[6:] for line in fixture_rows[iid]["patch"].splitlines() if line.startswith("+++ b/")}
        assert changed <= {line[6:] for line in traj.patch.splitlines() if line.startswith("+++ b/")}
    assert "strategy: best-of-n" in (run_dir / "config.yaml").read_text()
