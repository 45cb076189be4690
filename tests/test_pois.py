"""POIs as planners have them: Amap/Baidu exports, Chinese coordinate systems, classification."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point
from typer.testing import CliRunner

from spatial.cli import app
from spatial.io import check_file, read_osm
from spatial.io.crs.chinese import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    bd09mc_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from spatial.lifecircle.pois import classify_pois, deduplicate, normalize_name
from spatial.standards import load_categories

runner = CliRunner()
CATS = load_categories()


def test_round_trip_on_a_grid_over_china():
    lon, lat = np.meshgrid(np.arange(74.0, 135.0, 0.5), np.arange(18.0, 54.0, 0.5))
    lon, lat = lon.ravel(), lat.ravel()
    for forward, inverse in ((wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)):
        x, y = inverse(*forward(lon, lat))
        err_m = np.hypot((x - lon) * 111_320 * np.cos(np.radians(lat)), (y - lat) * 110_574)
        assert err_m.max() < 0.01
    gx, gy = wgs84_to_gcj02(lon, lat)
    shift = np.hypot((gx - lon) * 111_320 * np.cos(np.radians(lat)), (gy - lat) * 110_574)
    assert 50 < np.median(shift) < 1500  # the GCJ-02 offset is real and of the known size


@pytest.mark.parametrize(
    ("fn", "point", "published"),
    [  # values published with the widely used coordTransform library (README examples)
        (gcj02_to_wgs84, (116.404, 39.915), (116.39775550083061, 39.91359571849836)),
        (bd09_to_gcj02, (116.404, 39.915), (116.39762729119315, 39.90865673957631)),
        (wgs84_to_gcj02, (116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    ],
)
def test_published_pairs_within_one_metre(fn, point, published):
    x, y = fn(*point)
    err = np.hypot((x - published[0]) * 85_000, (y - published[1]) * 111_000)
    assert err < 1.0


def test_baidu_mercator_metres():
    # Tiananmen in Baidu Mercator metres, as seen in Baidu map URLs.
    lon, lat = bd09mc_to_bd09([12958160.97], [4825907.72])
    assert lon[0] == pytest.approx(116.404, abs=0.001) and lat[0] == pytest.approx(
        39.915, abs=0.001
    )


def test_outside_china_untouched():
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(-74.0, 40.7) == (-74.0, 40.7)


def _amap_rows(points, codes, names):
    gx, gy = wgs84_to_gcj02(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
    return pd.DataFrame(
        {
            "名称": names,
            "类型": ["科教文化服务;学校;幼儿园"] * len(points),
            "类型编码": codes,
            "地址": ["海淀区"] * len(points),
            "location": [f"{x:.6f},{y:.6f}" for x, y in zip(gx, gy, strict=True)],
        }
    )


def test_amap_csv_and_json_exports(tmp_path):
    pts = [(116.3500, 40.0000), (116.3520, 40.0010)]
    csv = tmp_path / "amap.csv"
    _amap_rows(pts, ["141204", "060200"], ["阳光幼儿园", "好邻居便利店"]).to_csv(csv, index=False)
    loaded = check_file(csv, "pois", coords="gcj02")
    assert loaded.ok
    got = loaded.frame.geometry
    assert np.allclose(got.x, [p[0] for p in pts], atol=1e-8)
    assert loaded.frame["typecode"].tolist() == ["141204", "060200"]
    gx, gy = wgs84_to_gcj02(116.35, 40.0)
    amap_json = tmp_path / "amap_api.json"
    amap_json.write_text(
        json.dumps(
            {
                "status": "1",
                "pois": [
                    {
                        "id": "B0FF1",
                        "name": "阳光幼儿园",
                        "type": "科教文化服务;学校;幼儿园",
                        "typecode": "141204",
                        "address": [],
                        "location": f"{gx},{gy}",
                    }
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    loaded = check_file(amap_json, "pois", coords="gcj02")
    assert loaded.ok and loaded.frame.loc[0, "address"] is None
    assert loaded.frame.geometry.iloc[0].distance(Point(116.35, 40.0)) < 1e-8
    bx, by = wgs84_to_bd09(116.35, 40.0)
    baidu_json = tmp_path / "baidu.json"
    baidu_json.write_text(
        json.dumps(
            {
                "status": 0,
                "results": [
                    {
                        "name": "社区卫生服务站",
                        "location": {"lat": float(by), "lng": float(bx)},
                        "address": "某路1号",
                        "detail_info": {"tag": "医疗;诊所"},
                    }
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    loaded = check_file(baidu_json, "pois", coords="bd09")
    assert loaded.ok and loaded.frame.geometry.iloc[0].distance(Point(116.35, 40.0)) < 1e-8
    assert loaded.frame.loc[0, "type"] == "医疗;诊所"


def test_baidu_file_read_as_wgs84_and_mercator_numbers_are_flagged(tmp_path):
    path = tmp_path / "baidu_export.csv"
    pd.DataFrame({"名称": ["a"], "经度": [116.35], "纬度": [40.0]}).to_csv(path, index=False)
    [err] = [p for p in check_file(path, "pois").problems if p.severity == "error"]
    assert "bd09" in err.message and "--coords bd09" in err.hint
    mc = tmp_path / "pois.csv"
    pd.DataFrame({"名称": ["a"], "x": [12958160.97], "y": [4825907.72]}).to_csv(mc, index=False)
    [err] = [p for p in check_file(mc, "pois").problems if p.severity == "error"]
    assert "BD-09MC" in err.message and "--coords bd09mc" in err.hint
    fixed = check_file(mc, "pois", coords="bd09mc")
    assert fixed.ok
    wgs = fixed.frame.geometry.iloc[0]
    assert wgs.x == pytest.approx(116.391, abs=0.005) and wgs.y == pytest.approx(39.907, abs=0.005)


@pytest.mark.parametrize("cat", [c for c in CATS if c.amap], ids=lambda c: c.id)
def test_each_category_by_amap_code(cat):
    code = cat.amap[0]
    sub = code if not code.endswith("00") else code[:4] + "01"  # a subtype of a mid class
    got = classify_pois(pd.DataFrame({"name": ["x"], "typecode": [sub]}), categories=CATS)
    assert cat.id in got.iloc[0].split(";")


@pytest.mark.parametrize("cat", [c for c in CATS if c.osm], ids=lambda c: c.id)
def test_each_category_by_osm_tag(cat):
    key, value = cat.osm[0].split("=", 1)
    tags = json.dumps({key: "yes" if value == "*" else value})
    got = classify_pois(pd.DataFrame({"name": [None], "tags": [tags]}), categories=CATS)
    assert cat.id in got.iloc[0].split(";")


@pytest.mark.parametrize("cat", [c for c in CATS if c.keywords], ids=lambda c: c.id)
def test_each_category_by_name(cat):
    got = classify_pois(pd.DataFrame({"name": [f"某某{cat.keywords[0]}"]}), categories=CATS)
    assert cat.id in got.iloc[0].split(";")


def test_named_examples_from_the_plans():
    names = [
        "海淀区社区卫生服务站",
        "东升日间照料中心",
        "长者助餐点",
        "双清路菜市场",
        "菜鸟驿站",
        "中通快递",
        "某某小学",
    ]
    got = classify_pois(pd.DataFrame({"name": names}), categories=CATS).tolist()
    assert got == [
        "health_station",
        "elderly_daycare",
        "meal_service",
        "fresh_market",
        "parcel_point",
        "parcel_point",
        "primary_school",
    ]
    assert classify_pois(pd.DataFrame({"name": ["星巴克"]}), categories=CATS).iloc[0] == ""


def test_deduplicate_merges_the_same_facility_from_two_sources():
    base = Point(440000, 4428000)
    pois = gpd.GeoDataFrame(
        {
            "id": ["osm1", "amap1", "baidu1", "amap2", "amap3"],
            "name": [
                "阳光幼儿园",
                "阳光幼儿园(北区分园)",
                "阳光 幼儿园",
                "育才幼儿园",
                "阳光幼儿园",
            ],
            "category": ["kindergarten"] * 5,
        },
        geometry=[
            base,
            Point(440010, 4428005),
            Point(439990, 4428020),
            Point(440030, 4428000),
            Point(440300, 4428000),
        ],
        crs=32650,
    )
    out = deduplicate(pois, distance_m=50)
    assert out["id"].tolist() == ["osm1", "amap2", "amap3"]
    assert out.loc[0, "merged_ids"] == "amap1;baidu1" and out.loc[0, "duplicates"] == 2
    assert normalize_name("阳光幼儿园（北区分园）") == "阳光幼儿园"


def test_pois_command_and_amap_csv_through_gaps(tmp_path, cau_osm):
    """A hand-made Amap export (GCJ-02) gives the same gaps as its WGS84 original."""
    osm_pois = read_osm(cau_osm).pois
    conv = osm_pois[osm_pois["shop"].eq("convenience")].geometry
    pts = [(p.x, p.y) for p in conv]
    amap = tmp_path / "amap_pois.csv"
    _amap_rows(pts, ["060200"] * len(pts), [f"便利店{i}" for i in range(len(pts))]).to_csv(
        amap, index=False, encoding="utf-8-sig"
    )
    wgs = tmp_path / "wgs_pois.csv"
    pd.DataFrame(
        {
            "名称": [f"便利店{i}" for i in range(len(pts))],
            "类型编码": "060200",
            "经度": [p[0] for p in pts],
            "纬度": [p[1] for p in pts],
        }
    ).to_csv(wgs, index=False)
    out_pois = tmp_path / "pois.gpkg"
    res = runner.invoke(
        app,
        ["pois", str(amap), "--coords", "gcj02", "--out", str(out_pois), "--area", str(cau_osm)],
        terminal_width=200,
    )
    assert res.exit_code == 0, res.output
    assert "便利店 Convenience store" in res.output and "0 off the map" in res.output
    assert (gpd.read_file(out_pois)["category"] == "convenience_store").all()
    runs = {}
    for name, args in (
        ("amap", ["--pois", str(amap), "--coords", "gcj02"]),
        ("wgs", ["--pois", str(wgs)]),
        ("gpkg", ["--pois", str(out_pois)]),
    ):
        out = tmp_path / name
        res = runner.invoke(
            app,
            ["gaps", "--osm", str(cau_osm), *args, "--out", str(out), "--no-service-areas"],
            terminal_width=200,
        )
        assert res.exit_code == 0, res.output
        g = pd.read_csv(out / "gaps.csv")
        runs[name] = g[g["category"] == "convenience_store"].set_index("compound_id")
    assert runs["amap"]["distance_m"].notna().sum() >= 5
    for other in ("wgs", "gpkg"):
        # Amap writes 6 decimals (about 0.1 m): the export itself is that precise.
        np.testing.assert_allclose(runs["amap"]["distance_m"], runs[other]["distance_m"], atol=0.1)
    bad = runner.invoke(
        app,
        ["gaps", "--osm", str(cau_osm), "--pois", str(amap), "--out", str(tmp_path / "bad")],
        terminal_width=200,
    )
    assert bad.exit_code == 1 and "gcj02" in bad.output
