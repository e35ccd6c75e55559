"""`swe-ttc solve` as a user runs it: the demo end to end, a local server, and every bad input."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.helpers.cli import example_tests_pass, run_cli
from tests.helpers.openai_server import OpenAIServer, Reply
from tests.helpers.repos import make_repo


def assert_one_line_error(proc, *needles: str) -> None:
    assert proc.returncode != 0, proc.stdout
    err = proc.stderr.strip()
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ")
    for needle in needles:
        assert needle in err, err


def test_demo_end_to_end_in_docker(tmp_path, base_image):
    proc = run_cli("solve", "--demo", "--output-dir", str(tmp_path), "--run-id", "d1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "recorded replay" in proc.stdout and "docker sandbox" in proc.stdout
    run = tmp_path / "d1"
    (instance_dir,) = [p for p in run.iterdir() if p.is_dir() and p.name != "example-repo"]
    traj = json.loads(next(instance_dir.glob("*.traj.json")).read_text())
    assert traj["exit_status"] == "submitted" and traj["environment"]["sandbox"] == "docker"
    assert str(next(instance_dir.glob("*.traj.json"))) in proc.stdout
    patch = next(instance_dir.glob("*.patch")).read_text()
    assert "inventory/stats.py" in patch and "reproduce_issue.py" not in patch
    preds = json.loads((run / "preds.json").read_text())
    assert preds[traj["instance_id"]]["model_patch"] == patch
    assert (run / "config.yaml").exists()

    # the example's own tests fail without the patch and pass with it
    work = tmp_path / "check"
    shutil.copytree(run / "example-repo", work)
    assert not example_tests_pass(work)
    subprocess.run(["git", "apply", "-"], input=patch, text=True, cwd=work, check=True)
    assert example_tests_pass(work)


def test_demo_without_docker_falls_back_to_local(tmp_path):
    proc = run_cli(
        "solve",
        "--demo",
        "--output-dir",
        str(tmp_path),
        "--run-id",
        "d2",
        env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no Docker daemon is reachable: running the demo in the local sandbox" in proc.stdout
    traj = json.loads(next((tmp_path / "d2").glob("*/*.traj.json")).read_text())
    assert traj["environment"]["sandbox"] == "local" and "inventory/stats.py" in traj["patch"]


def test_local_openai_compatible_server_through_api_base(tmp_path):
    repo = make_repo(tmp_path / "calc", {"calc.py": "def double(x):\n    return x + x + 1\n"})
    actions = [
        Reply.tool_call(
            "editor",
            {"command": "str_replace", "path": "calc.py", "old_str": "x + x + 1", "new_str": "x + x"},
        ),
        Reply.tool_call("submit", {}),
    ]

    def by_turn(request):
        turns = sum(1 for m in request.body["messages"] if m["role"] == "assistant")
        return actions[min(turns, len(actions) - 1)]

    with OpenAIServer(handler=by_turn) as server:
        proc = run_cli(
            "solve",
            "--repo",
            str(repo),
            "--issue",
            "double(2) returns 5",
            "--model",
            "openai/local-coder",
            "--api-base",
            server.url,
            "--sandbox",
            "local",
            "--output-dir",
            str(tmp_path / "runs"),
            "--run-id",
            "srv",
            env={"OPENAI_API_KEY": ""},
        )
        requests = list(server.requests)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert requests and requests[0].body["model"] == "local-coder"
    assert {t["function"]["name"] for t in requests[0].body["tools"]} == {
        "bash",
        "editor",
        "search",
        "submit",
    }
    patch = next((tmp_path / "runs" / "srv").glob("*/*.patch")).read_text()
    assert "+    return x + x" in patch
    assert (
        (repo / "calc.py").read_text().endswith("x + x + 1\n")
    )  # the user's tree is untouched without --apply


def test_apply_changes_the_users_tree(tmp_path):
    repo = make_repo(tmp_path / "calc", {"calc.py": "def double(x):\n    return x + x + 1\n"})
    script = tmp_path / "script.yaml"
    script.write_text(
        json.dumps(
            {
                "actions": [
                    {
                        "tool": "editor",
                        "args": {
                            "command": "str_replace",
                            "path": "calc.py",
                            "old_str": " + 1",
                            "new_str": "",
                        },
                    },
                    {"tool": "submit", "args": {}},
                ]
            }
        )
    )
    proc = run_cli(
        "solve",
        "--repo",
        str(repo),
        "--issue",
        "off by one",
        "--model",
        f"replay/{script}",
        "--sandbox",
        "local",
        "--output-dir",
        str(tmp_path / "runs"),
        "--apply",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (repo / "calc.py").read_text() == "def double(x):\n    return x + x\n"


@pytest.fixture
def plain_repo(tmp_path):
    return make_repo(tmp_path / "r", {"a.py": "x = 1\n"})


def test_missing_repo_path(tmp_path):
    assert_one_line_error(
        run_cli("solve", "--repo", str(tmp_path / "nope"), "--issue", "x"), "does not exist"
    )


def test_not_a_git_repository(tmp_path):
    (tmp_path / "plain").mkdir()
    assert_one_line_error(
        run_cli("solve", "--repo", str(tmp_path / "plain"), "--issue", "x"), "not a git repository"
    )


def test_unknown_commit(plain_repo):
    proc = run_cli(
        "solve", "--repo", str(plain_repo), "--commit", "deadbeef", "--issue", "x", "--model", "replay/demo"
    )
    assert_one_line_error(proc, "unknown commit deadbeef")


def test_unreadable_issue_file(plain_repo, tmp_path):
    proc = run_cli("solve", "--repo", str(plain_repo), "--issue", f"@{tmp_path / 'missing.md'}")
    assert_one_line_error(proc, "cannot read issue file")


def test_github_issue_url_offline(plain_repo):
    proc = run_cli(
        "solve",
        "--repo",
        str(plain_repo),
        "--issue",
        "https://github.com/swe-ttc-no-such-owner/none/issues/1",
    )
    assert_one_line_error(proc, "cannot fetch GitHub issue", "pass the text or @FILE")


def test_github_repo_url_offline(tmp_path):
    proc = run_cli(
        "solve",
        "--repo",
        "https://github.com/swe-ttc-no-such-owner/none",
        "--issue",
        "x",
        env={"HOME": str(tmp_path)},
    )
    assert_one_line_error(proc, "could not clone")


def test_image_not_present(plain_repo, base_image):
    proc = run_cli(
        "solve",
        "--repo",
        str(plain_repo),
        "--issue",
        "x",
        "--model",
        "replay/demo",
        "--image",
        "swe-ttc/no-such-image:1",
        "--sandbox.pull_timeout",
        "20",
    )
    assert_one_line_error(proc, "swe-ttc/no-such-image:1")


def test_unknown_model(plain_repo):
    proc = run_cli("solve", "--repo", str(plain_repo), "--issue", "x", "--model", "nosuchprovider/some-model")
    assert_one_line_error(proc, "nosuchprovider/some-model")


def test_missing_api_key(plain_repo):
    proc = run_cli(
        "solve",
        "--repo",
        str(plain_repo),
        "--issue",
        "x",
        "--model",
        "anthropic/claude-3-5-sonnet-20241022",
        env={"ANTHROPIC_API_KEY": ""},
    )
    assert_one_line_error(proc, "ANTHROPIC_API_KEY")


def test_invalid_yaml(plain_repo, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("agent: [unclosed\n")
    proc = run_cli("solve", "--repo", str(plain_repo), "--issue", "x", "--config", str(bad))
    assert_one_line_error(proc, "not valid YAML")


def test_unknown_config_key(plain_repo):
    proc = run_cli("solve", "--repo", str(plain_repo), "--issue", "x", "--agent.stepp_limit", "3")
    assert_one_line_error(proc, "unknown config key `agent.stepp_limit`")


def test_docker_daemon_not_running(plain_repo):
    proc = run_cli(
        "solve",
        "--repo",
        str(plain_repo),
        "--issue",
        "x",
        "--model",
        "replay/demo",
        env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"},
    )
    assert_one_line_error(proc, "Docker daemon", "--sandbox local")
