"""Shared fixtures. Docker tests use the real engine and the locally built base image;
they fail (not skip) when the engine is missing, because CI always provides it."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

BASE_IMAGE = os.environ.get("SWE_TTC_TEST_IMAGE", "swe-ttc/base:bookworm")


@pytest.fixture(scope="session")
def docker_client():
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # pragma: no cover - environment problem, reported loudly
        pytest.fail(f"Docker engine not reachable ({exc}); run `bash .ci/run` or start dockerd")
    return client


@pytest.fixture(scope="session")
def base_image(docker_client) -> str:
    import docker

    try:
        docker_client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"image {BASE_IMAGE} missing: build it with `swe-ttc image build-base`")
    return BASE_IMAGE


@pytest.fixture(scope="session")
def setup_rows(docker_client, base_image) -> dict[str, dict]:
    """Set-up kind -> dataset row of an image whose set-up left state in /testbed, as SWE-bench's do
    (`sweagent.swebench.setup_fixtures`); images are built once and reused while their inputs hold."""
    from sweagent.swebench.setup_fixtures import SETUPS, build

    kinds = list(SETUPS)
    return dict(zip(kinds, build(kinds, client=docker_client, base_image=base_image), strict=True))
