"""Shared fixtures: the real OSM extract in ../shared and small demo cities."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CAU_OSM = SHARED / "data" / "osm" / "beijing_cau_haidian.osm"


@pytest.fixture(scope="session")
def cau_osm() -> Path:
    """The real OSM extract around China Agricultural University (ODbL), read in place."""
    if not CAU_OSM.exists():
        pytest.fail(f"{CAU_OSM} is missing: the tests need ../shared beside the repository")
    return CAU_OSM


@pytest.fixture(scope="session")
def demo_city(tmp_path_factory):
    """A size-4 demo city generated once per test session."""
    from spatial.demo import generate_demo

    return generate_demo(tmp_path_factory.mktemp("demo"), size=4, seed=7)
