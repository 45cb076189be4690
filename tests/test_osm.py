"""Reading the real OpenStreetMap extract (© OpenStreetMap contributors, ODbL) as XML and PBF."""

from __future__ import annotations

import json

import osmium
import pytest

from spatial.io import check_file, read_osm

NAMED = {
    "富润家园",
    "石科院生活区",
    "农大小区-北区",
    "清华东路27号院",
    "静淑苑",
    "中建壹品·学府公馆",
    "双泉嘉苑",
    "学士居",
    "大华花园别墅",
    "双泉堡甲2号院",
}


@pytest.fixture(scope="module")
def cau(cau_osm):
    return read_osm(cau_osm)


def test_all_eleven_residential_polygons_with_chinese_names(cau):
    c = cau.compounds
    assert len(c) == 11
    assert set(c.loc[c.name_source == "osm", "name"]) == NAMED
    assert c.geom_type.isin(["Polygon", "MultiPolygon"]).all() and c.is_valid.all()
    [unnamed] = c.loc[c.name_source == "placeholder", "name"]
    assert unnamed == "未命名小区 w609225889"
    assert c["id"].is_unique


def test_multipolygon_with_a_member_outside_the_extract_is_kept_and_reported(cau):
    rel = cau.compounds.set_index("id").loc["r14400092"]
    assert rel["partial"] and rel["name"] == "双泉堡甲2号院"
    notes = [n for n in cau.notes if n.row == "relation 14400092"]
    assert len(notes) == 1 and "1 of 2 member ways outside the extract" in notes[0].message
    assert any(n.row == "node 2943228133" for n in cau.notes)  # residential node, not an area


def test_pois_entrances_and_barriers(cau):
    p = cau.pois
    assert 200 < len(p) < 500
    assert (p["shop"] == "convenience").sum() == 17
    assert {"kindergarten", "school", "pharmacy", "hospital"} <= set(p["amenity"].dropna())
    assert json.loads(p["tags"].iloc[0])  # full tags kept for classification
    assert len(cau.entrances) >= 5
    kinds = cau.barriers.groupby("kind")["subtype"].apply(set).to_dict()
    assert "primary" in kinds["road"] and "water" in kinds
    assert not cau.barriers["subtype"].isin(["footway", "service", "residential"]).any()
    lon0, lat0, lon1, lat1 = cau.bounds
    assert (lon0, lat0, lon1, lat1) == pytest.approx((116.34403, 39.99767, 116.35974, 40.00888))


def test_pbf_gives_the_same_layers(cau, cau_osm, tmp_path):
    pbf = tmp_path / "cau.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(cau_osm)):
            writer.add(obj)
    again = read_osm(pbf)
    assert sorted(again.compounds["name"]) == sorted(cau.compounds["name"])
    assert len(again.pois) == len(cau.pois)
    assert again.compounds.to_crs(32650).area.sum() == pytest.approx(
        cau.compounds.to_crs(32650).area.sum()
    )


def test_osm_compounds_through_the_normal_loader(cau_osm):
    loaded = check_file(cau_osm, "compounds")
    assert loaded.ok and len(loaded.frame) == 11
    assert {p.severity for p in loaded.problems} == {"warning"}


@pytest.mark.parametrize(
    "name", ["beijing_cau_haidian", "beijing_bupt_haidian", "shanghai_shu_baoshan"]
)
def test_walk_only_reading_equals_the_whole_reading(name):
    """``read_osm_walk`` (streets and gates only) gives the walk ways ``read_osm`` gives."""
    import numpy as np
    from conftest import SHARED

    from spatial.io.osm.network import read_osm_walk
    from spatial.io.osm.read import _CACHE

    path = SHARED / "data" / "osm" / f"{name}.osm"
    _CACHE.clear()
    alone = read_osm_walk(path)
    whole = read_osm(path).walk
    assert whole is not None and len(alone.pairs) > 100
    for key in ("node_ids", "lonlat", "pairs", "highway", "gate_ids"):
        assert np.array_equal(getattr(alone, key), getattr(whole, key)), key
    assert alone.n_missing == whole.n_missing


def test_walk_node_coordinates_are_those_of_the_file(cau_osm):
    """The coordinates decoded in bulk from the ways' WKB are each node's own location, and
    the distinct ids are those ``np.unique`` gives (read independently with osmium)."""
    import numpy as np

    from spatial.io.osm.network import read_osm_walk
    from spatial.io.osm.read import _CACHE
    from spatial.io.osm.walk import _distinct

    _CACHE.clear()
    walk = read_osm_walk(cau_osm)
    where = {
        n.id: (n.location.lon, n.location.lat)
        for n in osmium.FileProcessor(str(cau_osm), osmium.osm.NODE)
    }
    expected = np.array([where[i] for i in walk.node_ids.tolist()])
    assert len(expected) > 1000 and np.array_equal(walk.lonlat, expected)
    refs = np.random.default_rng(3).integers(0, 5000, 20_000)
    ids, first = _distinct(refs)
    want_ids, want_first = np.unique(refs, return_index=True)
    assert np.array_equal(ids, want_ids) and np.array_equal(first, want_first)
