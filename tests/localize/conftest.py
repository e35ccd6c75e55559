"""Fixtures: the "shop" repository as a real git repository (tests/helpers/repos.py)."""

from __future__ import annotations

import pytest

from tests.helpers.repos import make_repo
from tests.localize.shop import SHOP_FILES


@pytest.fixture(scope="session")
def shop_repo(tmp_path_factory):
    return make_repo(tmp_path_factory.mktemp("localize") / "shop", SHOP_FILES)
