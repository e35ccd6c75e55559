"""`swe-ttc inspect` on a real searched and graded batch run, opened in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import run_cli
from tests.inspector.conftest import read_json

pytestmark = [pytest.mark.docker, pytest.mark.browser]


def instance_ids(run_dir: Path) -> list[str]:
    return sorted(p.name for p in run_dir.iterdir() if (p / f"{p.name}.traj.json").is_file())


@pytest.fixture
def report(searched_run, tmp_path) -> Path:
    """The page as a user makes it: `swe-ttc inspect RUN --output FILE` prints the file's path."""
    out = tmp_path / "report.html"
    proc = run_cli("inspect", str(searched_run), "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    return out


def test_the_page_is_one_file_that_asks_the_network_for_nothing(report, browser, page):
    html = report.read_text()
    assert "<script src" not in html and 'rel="stylesheet"' not in html
    requests: list[str] = []
    page.tab.on("request", lambda req: requests.append(req.url))
    page.open(report.as_uri())
    assert requests == [report.as_uri()]
    assert page.errors == []


def test_run_page_lists_every_instance_with_its_eval_result_and_plots(searched_run, report, page, tmp_path):
    page.open(report.as_uri())
    shot = tmp_path / "run.png"
    page.tab.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    rows = page.tab.locator("#instances [data-instance]")
    ids = instance_ids(searched_run)
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.instance)")) == ids
    resolved = set(read_json(searched_run / "eval" / "report.json")["resolved_ids"])
    for iid in ids:
        cell = page.tab.locator(f'[data-instance="{iid}"] [role=cell]').nth(2)
        assert cell.inner_text().strip() == ("resolved" if iid in resolved else "unresolved")
    titles = page.tab.locator(".chart h3").all_inner_texts()
    assert {"Exit statuses", "Eval results", "Steps per instance", "Resolved rate by budget"} <= set(titles)
    assert page.tab.locator(".chart canvas").count() == len(titles)
    # filter, then sort by a column
    page.tab.fill("input[type=search]", ids[-1])
    assert rows.count() == 1 and rows.first.get_attribute("data-instance") == ids[-1]
    page.tab.fill("input[type=search]", "")
    page.tab.click('[role=columnheader][data-key="id"]')  # already sorted by id: a click reverses
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.instance)") == ids[::-1]
    assert page.errors == []


def test_trajectory_page_shows_each_step_the_patch_and_the_eval(searched_run, report, page):
    iid = instance_ids(searched_run)[0]
    traj = read_json(searched_run / iid / f"{iid}.traj.json")
    page.open(report.as_uri())
    page.tab.click(f'[data-instance="{iid}"]')
    page.tab.wait_for_function("(h) => document.body.dataset.route === h", arg=f"#/i/{iid}")
    steps = page.tab.locator("#steps .step")
    assert steps.count() == len(traj["steps"]) > 0
    assert steps.locator(".stage").all_inner_texts() == [s["stage"] for s in traj["steps"]]
    first_action = traj["steps"][0]["action"]["tool"]
    assert steps.first.locator(".call").inner_text().startswith(first_action)
    added = next(ln for ln in traj["patch"].splitlines() if ln.startswith("+") and not ln.startswith("+++"))
    assert added in page.tab.locator(".diff-box").inner_text()
    report_entry = read_json(searched_run / "eval" / iid / "report.json")[iid]
    evaluation = page.tab.locator("#eval")
    assert report_entry["status"] in evaluation.inner_text()
    assert "FAIL_TO_PASS" in evaluation.inner_text()
    # the start state the trajectory recorded (what the image already held) is shown with its counts
    counts = traj["environment"]["baseline"]["counts"]
    start = page.tab.locator("#baseline summary").inner_text()
    held = {kind: n for kind, n in counts.items() if n}
    assert all(f"{n} {kind}" in start for kind, n in held.items()) and (held or "clean" in start)
    assert page.errors == []


def test_tree_page_draws_every_node_and_a_click_shows_its_verdicts(searched_run, report, page, tmp_path):
    page.open(report.as_uri())
    for iid in instance_ids(searched_run):
        tree = read_json(searched_run / iid / "tree.json")
        page.show(f"#/tree/{iid}")
        graph = page.tab.evaluate("() => [inspectorGraph.nodes().length, inspectorGraph.edges().length]")
        assert graph == [len(tree["nodes"]), len(tree["edges"])]
        assert page.tab.locator("#nodes tbody tr").count() == len(tree["nodes"])
        chosen = tree["meta"]["selection"]["chosen"]
        parents = {n["id"]: n["parent"] for n in tree["nodes"]}
        path, node = set(), chosen
        while node is not None:
            path.add(node)
            node = parents[node]
        marked = page.tab.evaluate("() => inspectorGraph.nodes('.on-path').map(n => n.id())")
        assert set(marked) == path
        judged = next(n for n in tree["nodes"] if n["verdicts"])
        # a real click on the canvas, where the graph drew the node
        x, y = page.tab.evaluate(
            """(id) => { const p = inspectorGraph.getElementById(id).renderedPosition();
                         const r = document.getElementById('cy').getBoundingClientRect();
                         return [r.left + p.x, r.top + p.y]; }""",
            judged["id"],
        )
        page.tab.mouse.click(x, y)
        panel = page.tab.locator(f'#node-panel [data-node="{judged["id"]}"]')
        panel.wait_for()
        for verdict in judged["verdicts"]:
            box = panel.locator(f'[data-check="{verdict["check"]}"]')
            assert verdict["status"] in box.inner_text()
        assert judged["decision"][:40] in panel.inner_text()
    page.tab.screenshot(path=str(tmp_path / "tree.png"))
    assert page.errors == []


def test_a_node_opens_the_trajectory_of_its_stage(searched_run, report, page):
    iid = instance_ids(searched_run)[0]
    tree = read_json(searched_run / iid / "tree.json")
    node = next(n for n in tree["nodes"] if n["expansion"] and n["expansion"]["trajectory"])
    stage_traj = read_json(searched_run / iid / node["expansion"]["trajectory"])
    page.open(report.as_uri())
    page.show(f"#/tree/{iid}")
    page.tab.click(f'#nodes tr[data-node="{node["id"]}"]')
    page.tab.click("text=open this stage's trajectory")
    page.tab.wait_for_function("(h) => document.body.dataset.route === h", arg=f"#/node/{iid}/{node['id']}")
    assert page.tab.locator("#steps .step").count() == len(stage_traj["steps"])
    assert page.errors == []
