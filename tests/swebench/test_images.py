"""Instance image names and the one-line error when an image is neither local nor pullable."""

from __future__ import annotations

import pytest
from swebench.image_builder.image_spec import ImageSpec

from sweagent.errors import ImageNotFound
from sweagent.swebench.images import ensure_image, instance_image, official_image_name
from sweagent.task import Task


@pytest.mark.parametrize("iid", ["django__django-11099", "astropy__astropy-12907", "Own__Repo-1"])
def test_official_names_match_swebench(iid):
    for namespace in ("swebench", None):
        assert official_image_name(iid, namespace) == ImageSpec(iid, "FROM x", namespace).name


def test_row_image_wins():
    t = Task(instance_id="a__b-1", problem_statement="p", image="mine:1")
    assert instance_image(t) == "mine:1"
    t = Task(instance_id="a__b-1", problem_statement="p")
    assert instance_image(t, "reg.example/ns") == "reg.example/ns/sweb.eval.x86_64.a_1776_b-1:latest"


@pytest.mark.docker
def test_missing_image_is_one_line(docker_client):
    with pytest.raises(ImageNotFound) as err:
        ensure_image(docker_client, "swebench/sweb.eval.x86_64.no_1776_such-1:latest", pull_timeout=30)
    assert "could not be pulled" in str(err.value) and "\n" not in str(err.value)
