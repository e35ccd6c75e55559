"""`swe-ttc inspect --serve` on a run that grows, bad input in one line, and run text kept as text."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.helpers.cli import SWE_TTC, run_cli
from tests.inspector.test_page import instance_ids

pytestmark = [pytest.mark.docker, pytest.mark.browser]


class Server:
    """`swe-ttc inspect RUN --serve --port 0` as a subprocess; its URL is read from its first line."""

    def __init__(self, run_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [*SWE_TTC, "inspect", str(run_dir), "--serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout=60)
        assert line and "http://127.0.0.1:" in line[0], (line, self.proc.poll())
        self.url = line[0].split(" at ")[1].split()[0]

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def test_serve_refreshes_the_page_as_the_run_grows(run_copy, page, tmp_path):
    ids = instance_ids(run_copy)
    later = ids[-1]
    # the run as the batch left it before `later` finished: no folder, prediction or status for it, no eval
    shutil.rmtree(run_copy / "eval")
    finished = {name: (run_copy / name).read_text() for name in ("preds.json", "exit_statuses.yaml")}
    preds = json.loads(finished["preds.json"])
    (run_copy / "preds.json").write_text(json.dumps({k: v for k, v in preds.items() if k != later}))
    statuses = yaml.safe_load(finished["exit_statuses.yaml"])
    for members in statuses["instances_by_exit_status"].values():
        members.remove(later)
    (run_copy / "exit_statuses.yaml").write_text(yaml.safe_dump(statuses))
    parked = Path(shutil.move(str(run_copy / later), str(tmp_path / later)))
    server = Server(run_copy)
    try:
        page.open(server.url)
        rows = page.tab.locator("#instances [data-instance]")
        assert rows.count() == len(ids) - 1
        assert page.tab.locator("#live").is_visible()
        shutil.move(str(parked), str(run_copy / later))  # the batch finishes it
        for name, text in finished.items():
            (run_copy / name).write_text(text)
        page.tab.wait_for_function(
            "(n) => document.querySelectorAll('#instances [data-instance]').length === n",
            arg=len(ids),
            timeout=20_000,
        )
        assert later in rows.evaluate_all("rs => rs.map(r => r.dataset.instance)")
        status, body = server.get(f"files/{later}/{later}.traj.json")
        assert status == 200 and json.loads(body)["instance_id"] == later
        assert server.get("files/../../etc/passwd")[0] == 404
        assert server.get("files/%2e%2e/%2e%2e/etc/hostname")[0] == 404
        assert page.errors == []
    finally:
        server.stop()
    assert not (run_copy / "inspector.html").exists()  # serving writes nothing into the run


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode != 0
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: {**d, "format": "swe-ttc/trajectory@0"}, "an older trajectory format"),
        (lambda d: {k: v for k, v in d.items() if k != "format"}, 'has no "format" key'),
        (lambda d: {"trajectory": d["steps"], "info": {}, "history": d["messages"]}, 'has no "format" key'),
    ],
    ids=["older-version", "no-format-key", "another-agent"],
)
def test_a_trajectory_of_another_format_fails_in_one_line(run_copy, change, expected):
    iid = instance_ids(run_copy)[0]
    path = run_copy / iid / f"{iid}.traj.json"
    path.write_text(json.dumps(change(json.loads(path.read_text()))))
    err = one_line_error(run_cli("inspect", str(run_copy)))
    assert str(path) in err and expected in err
    assert not (run_copy / "inspector.html").exists()
    served = subprocess.run(
        [*SWE_TTC, "inspect", str(run_copy), "--serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert expected in one_line_error(served)


def test_a_newer_tree_format_and_a_folder_that_is_no_run_fail_in_one_line(run_copy, tmp_path):
    iid = instance_ids(run_copy)[0]
    tree = run_copy / iid / "tree.json"
    tree.write_text(json.dumps({**json.loads(tree.read_text()), "format": "swe-ttc/search-tree@2"}))
    assert "a newer search-tree format" in one_line_error(run_cli("inspect", str(run_copy)))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "holds no trajectories" in one_line_error(run_cli("inspect", str(empty)))
    assert "is not a folder" in one_line_error(run_cli("inspect", str(tmp_path / "missing")))


def test_text_from_the_run_is_shown_as_text_and_long_output_is_folded(run_copy, page, tmp_path):
    iid = instance_ids(run_copy)[0]
    path = run_copy / iid / f"{iid}.traj.json"
    traj = json.loads(path.read_text())
    hostile = "</script><script>alert('script')</script><img src=x onerror=\"alert('img')\"><!--"
    traj["steps"][0]["observation"] = hostile + "\n" + "\n".join(f"line {n}" for n in range(1, 301))
    traj["steps"][0]["thought"] = "<b>not bold</b>"
    path.write_text(json.dumps(traj))
    out = tmp_path / "page.html"
    assert run_cli("inspect", str(run_copy), "-o", str(out)).returncode == 0
    page.open(out.as_uri())
    page.show(f"#/i/{iid}")
    step = page.tab.locator("#step-0")
    assert step.locator(".thought").inner_text() == "<b>not bold</b>"
    observation = step.locator("pre.obs")
    assert hostile in observation.inner_text() and "line 300" not in observation.inner_text()
    step.get_by_role("button", name="show all 301 lines").click()
    assert "line 300" in observation.inner_text()
    assert page.tab.locator("#step-0 img").count() == 0
    assert page.errors == []  # no alert dialog, no error
