"""Containers: configuration, removal on every way out, images, and the image/bench commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from sweagent.cli import main
from sweagent.config import DEFAULT_IMAGE, HOST_CA_BUNDLE, SandboxConfig
from sweagent.errors import DockerUnavailable, ImageNotFound
from sweagent.sandbox.docker_sandbox import PID_LABEL, RUN_LABEL, DockerSandbox, docker_client, how_to_get
from tests.sandbox.conftest import open_kind

pytestmark = pytest.mark.docker
REPO_ROOT = Path(__file__).resolve().parents[2]


def _labelled(client, label: str) -> list:
    return client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={label}"})


def test_container_config_labels_and_removal_on_close(docker_client, base_image, repo, run_label):
    label = f"{run_label}-close"
    config = SandboxConfig(memory="256m", pids_limit=200, network="none", env={"MY_SETTING": "on"})
    box = DockerSandbox(config, image=base_image, repo_path=str(repo), run_label=label)
    try:
        [container] = _labelled(docker_client, label)
        attrs = container.attrs
        assert attrs["Config"]["Labels"]["swe-ttc"] == "1"
        assert attrs["Config"]["Labels"][PID_LABEL] == str(os.getpid())
        assert attrs["HostConfig"]["Memory"] == 256 * 1024 * 1024
        assert attrs["HostConfig"]["PidsLimit"] == 200
        assert attrs["HostConfig"]["NetworkMode"] == "none"
        assert box.run("echo $MY_SETTING").output == "on\n"
        assert box.alive
    finally:
        box.close()
    box.close()  # idempotent
    assert not box.alive
    assert _labelled(docker_client, label) == []


def test_container_removed_after_exception_in_with(docker_client, base_image, repo, run_label):
    label = f"{run_label}-raise"
    with pytest.raises(ZeroDivisionError):
        with DockerSandbox(SandboxConfig(network="none"), repo_path=str(repo), run_label=label) as box:
            assert box.run("true").ok
            assert len(_labelled(docker_client, label)) == 1
            1 / 0  # noqa: B018
    assert _labelled(docker_client, label) == []


def test_ca_bundle_is_mounted_and_trusted(base_image, repo, run_label):
    if not Path(HOST_CA_BUNDLE).is_file():
        pytest.skip(f"no host CA bundle at {HOST_CA_BUNDLE}")
    config = SandboxConfig(network="none", ca_bundle=HOST_CA_BUNDLE)
    with DockerSandbox(config, repo_path=str(repo), run_label=run_label) as box:
        out = box.run(
            'for v in SSL_CERT_FILE REQUESTS_CA_BUNDLE PIP_CERT GIT_SSL_CAINFO; do echo "${!v}"; done'
        )
        paths = set(out.output.split())
        assert len(paths) == 1
        [path] = paths
        assert box.read_file(path) == Path(HOST_CA_BUNDLE).read_text()
        assert box.run(f"touch {path}").exit_code != 0, "the bundle is mounted read-only"


CHILD = textwrap.dedent(
    """
    import sys
    from sweagent.config import SandboxConfig
    from sweagent.sandbox.factory import open_sandbox

    kind, repo, label = sys.argv[1:4]
    with open_sandbox(SandboxConfig(kind=kind, network="none"), repo_path=repo, run_label=label) as box:
        print("ready", box.workdir, flush=True)
        box.run("sleep 60")
    """
)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("kind", ["docker", "local"])
def test_signalled_process_leaves_nothing_behind(docker_client, base_image, repo, run_label, kind, signum):
    label = f"{run_label}-{kind}-{signum}"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, kind, str(repo), label],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()
        assert line.startswith("ready"), child.stderr.read()
        workdir = line.split(maxsplit=1)[1].strip()
        if kind == "docker":
            assert len(_labelled(docker_client, label)) == 1
        child.send_signal(signum)
        child.wait(timeout=60)
    finally:
        child.kill()
    assert child.returncode != 0
    assert _labelled(docker_client, label) == []
    if kind == "local":
        assert not Path(workdir).exists(), "the private copy was not removed"


def test_missing_image_is_one_line(repo):
    image = f"swe-ttc/no-such-image:{uuid.uuid4().hex[:6]}"
    with pytest.raises(ImageNotFound) as err:
        DockerSandbox(SandboxConfig(image=image, pull_timeout=30), repo_path=str(repo))
    message = str(err.value)
    assert "\n" not in message and image in message and f"docker pull {image}" in message
    assert "swe-ttc image build-base" in how_to_get(DEFAULT_IMAGE)


def test_missing_image_through_the_cli_is_one_line():
    proc = subprocess.run(
        [sys.executable, "-m", "sweagent.cli", "bench", "sandbox", "--n", "1", "--image", "swe-ttc/absent:x"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: image swe-ttc/absent:x is not available locally")
    assert proc.stderr.count("\n") == 1


def test_docker_unreachable(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with pytest.raises(DockerUnavailable) as err:
        docker_client()
    assert "\n" not in str(err.value) and "--sandbox local" in str(err.value)


def test_image_with_repository_needs_no_copy(docker_client, base_image, repo, run_label):
    """SWE-bench-style images hold /testbed already: the sandbox uses it as it is."""
    tag = f"swe-ttc-test/with-testbed:{uuid.uuid4().hex[:8]}"
    with DockerSandbox(SandboxConfig(network="none"), repo_path=str(repo), run_label=run_label) as box:
        box.write_file("baked_in.txt", "from the image\n")
        box.container.commit(repository=tag.split(":")[0], tag=tag.split(":")[1])
        expected = box.base_commit
    try:
        with DockerSandbox(SandboxConfig(network="none"), image=tag, run_label=run_label) as box:
            assert box.base_commit == expected
            assert box.read_file("baked_in.txt") == "from the image\n"
            # what the image held is the start state: not the work of this sandbox
            assert box.baseline.untracked == ("baked_in.txt",) and box.diff() == ""
        # given a repository too, the copy replaces what the image has there (also at another path)
        with DockerSandbox(
            SandboxConfig(network="none"), image=tag, repo_path=str(repo), run_label=run_label
        ) as box:
            assert box.run("test -e baked_in.txt").exit_code == 1 and box.diff() == ""
        config = SandboxConfig(network="none", workdir="/srv/code")
        with DockerSandbox(config, image=tag, repo_path=str(repo), run_label=run_label) as box:
            assert box.run("pwd; git status --porcelain").output == "/srv/code\n"
            assert box.read_file("pkg/core.py") == (repo / "pkg/core.py").read_text()
        with pytest.raises(Exception, match="unknown commit `deadbeef`"):
            DockerSandbox(SandboxConfig(network="none"), image=tag, commit="deadbeef", run_label=run_label)
        with pytest.raises(Exception, match="has no git repository at /elsewhere"):
            DockerSandbox(SandboxConfig(network="none", workdir="/elsewhere"), image=tag, run_label=run_label)
        assert _labelled(docker_client, run_label) == []
    finally:
        docker_client.images.remove(tag, force=True)


def test_image_clean_removes_leftovers_of_a_run(docker_client, base_image, capsys):
    label = f"test-clean-{uuid.uuid4().hex[:8]}"
    dead = docker_client.containers.create(
        base_image, ["sleep", "infinity"], labels={"swe-ttc": "1", RUN_LABEL: label, PID_LABEL: "999999999"}
    )
    from sweagent.sandbox.image import owner_alive

    assert not owner_alive(dead)
    main(["image", "clean", "--run", label])
    assert f"removed 1 container(s): {dead.short_id}" in capsys.readouterr().out
    assert _labelled(docker_client, label) == []


def test_owner_alive_reads_the_pid_label(docker_client, base_image):
    from sweagent.sandbox.image import owner_alive

    mine = docker_client.containers.create(base_image, ["true"], labels={PID_LABEL: str(os.getpid())})
    try:
        assert owner_alive(mine)
    finally:
        mine.remove(force=True)


def test_build_base_without_mmdebstrap_says_how_to_install(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "sweagent.cli", "image", "build-base", "--tag", "swe-ttc-test/never:x"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "apt-get install mmdebstrap" in proc.stderr


def test_ensure_base_image_reports_present(docker_client, base_image):
    from sweagent.sandbox.image import ensure_base_image

    assert ensure_base_image(docker_client, base_image) is False


def test_bench_sandbox_prints_json(base_image, capsys):
    main(["bench", "sandbox", "--n", "5", "--image", base_image])
    report = json.loads(capsys.readouterr().out)
    for key in ("persistent_shell", "docker_exec_per_command", "local_shell"):
        assert report[key]["n"] == 5 and report[key]["median_ms"] > 0
    ratio = report["docker_exec_per_command"]["median_ms"] / report["persistent_shell"]["median_ms"]
    assert report["speedup_median"] == pytest.approx(ratio, rel=0.01)
    assert set(report["targets"]) == {"persistent_median_le_1ms", "speedup_ge_50x"}


def test_local_sandbox_is_a_private_copy(repo, run_label):
    with open_kind("local", repo, run_label) as box:
        assert Path(box.workdir) != repo and Path(box.workdir).is_dir()
        box.write_file("pkg/core.py", "changed in the copy\n")
        assert (repo / "pkg/core.py").read_text() != "changed in the copy\n"
        workdir = box.workdir
    assert not Path(workdir).exists()
