"""Each kind of bad input gives a clear problem with file, row and column, all at once."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from spatial import InputError, InputWarning
from spatial.io import LoadSpec, check_file, load_layer, load_layers, read_osm
from spatial.io.crs.chinese import wgs84_to_gcj02

BEIJING = (116.35, 40.0)


def _square(lon: float, lat: float, d: float = 0.001) -> Polygon:
    return box(lon, lat, lon + d, lat + d)


def _compounds_gdf(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"小区名称": [f"小区{i}" for i in range(n)], "建成年份": ["1988"] * n, "户数": [120] * n},
        geometry=[_square(BEIJING[0] + 0.002 * i, BEIJING[1]) for i in range(n)],
        crs="EPSG:4326",
    )


def _errors(loaded):
    return [p for p in loaded.problems if p.severity == "error"]


def test_good_csv_with_chinese_headers_loads_projected(tmp_path):
    path = tmp_path / "小区.csv"
    pd.DataFrame(
        {
            "小区名称": ["农大小区"],
            "经度": [116.353],
            "纬度": [40.003],
            "建成年份": ["1985年"],
            "户数": ["1,200"],
        }
    ).to_csv(path, index=False)
    gdf = load_layer(path, "compounds")
    assert gdf.crs.to_epsg() == 32650  # UTM 50N, metres
    assert gdf.loc[0, "households"] == 1200 and gdf.loc[0, "build_year"] == 1985


def test_gbk_csv_and_excel_are_read(tmp_path):
    df = pd.DataFrame({"小区名称": ["静淑苑"], "经度": [116.353], "纬度": [40.003]})
    gbk = tmp_path / "gbk.csv"
    df.to_csv(gbk, index=False, encoding="gbk")
    xlsx = tmp_path / "survey.xlsx"
    df.to_excel(xlsx, index=False)
    for path in (gbk, xlsx):
        loaded = check_file(path, "compounds")
        assert loaded.ok and loaded.frame.loc[0, "name"] == "静淑苑"


def test_missing_crs_in_a_shapefile(tmp_path):
    path = tmp_path / "compounds.shp"
    # GBK, as Chinese shapefiles are: UTF-8 names would overflow DBF's 10-byte field names
    _compounds_gdf().to_file(path, engine="pyogrio", encoding="gbk")
    path.with_suffix(".prj").unlink()
    loaded = check_file(path, "compounds")
    [err] = _errors(loaded)
    assert "no coordinate reference system" in err.message and ".prj" in err.hint
    assert loaded.frame["name"].tolist() == ["小区0", "小区1", "小区2"]  # GBK names decoded


def test_swapped_lon_lat_in_a_table(tmp_path):
    path = tmp_path / "pois.csv"
    pd.DataFrame({"名称": ["a", "b"], "经度": [116.35, 40.0], "纬度": [40.0, 116.35]}).to_csv(
        path, index=False
    )
    [err] = _errors(check_file(path, "pois"))
    assert (err.row, err.column) == (3, "纬度") and "swapped" in err.message


def test_swapped_xy_in_a_geojson(tmp_path):
    path = tmp_path / "pois.geojson"
    gpd.GeoDataFrame(
        {"name": ["a", "b"]}, geometry=[Point(116.35, 40.0), Point(40.0, 116.35)], crs="EPSG:4326"
    ).to_file(path, engine="pyogrio")
    [err] = _errors(check_file(path, "pois"))
    assert err.row == "feature 1" and "swapped" in err.message


def test_projected_numbers_in_a_lonlat_table(tmp_path):
    path = tmp_path / "pois.csv"
    pd.DataFrame({"name": ["a"], "lon": [441000.0], "lat": [4428000.0]}).to_csv(path, index=False)
    [err] = _errors(check_file(path, "pois"))
    assert "not degrees" in err.message and "--crs" in err.hint


def test_wkt_in_metres_needs_a_crs(tmp_path):
    path = tmp_path / "parcels.csv"
    pd.DataFrame(
        {
            "地块类型": ["棚户区"],
            "wkt": ["POLYGON ((441000 4428000, 441100 4428000, 441100 4428100, 441000 4428000))"],
        }
    ).to_csv(path, index=False)
    [err] = _errors(check_file(path, "parcels"))
    assert "no CRS" in err.message
    assert check_file(path, "parcels", crs="EPSG:32650").ok


def test_invalid_geometry_is_repaired_and_reported(tmp_path):
    gdf = _compounds_gdf(2)
    bowtie = Polygon([(116.35, 40.0), (116.351, 40.001), (116.351, 40.0), (116.35, 40.001)])
    gdf.loc[1, "geometry"] = bowtie
    path = tmp_path / "c.gpkg"
    gdf.to_file(path, layer="compounds", engine="pyogrio")
    loaded = check_file(path, "compounds")
    assert loaded.ok
    [warn] = loaded.problems
    assert warn.severity == "warning" and warn.row == "feature 1" and "repaired" in warn.message
    assert loaded.frame.geometry.iloc[1].is_valid
    assert loaded.frame.geometry.iloc[1].area == pytest.approx(bowtie.buffer(0).area * 2, rel=0.01)


def test_empty_and_wrong_type_geometries(tmp_path):
    path = tmp_path / "parcels.csv"
    pd.DataFrame(
        {
            "地块类型": ["棚户区", "城中村"],
            "wkt": ["POLYGON EMPTY", "LINESTRING (116.35 40, 116.36 40)"],
        }
    ).to_csv(path, index=False)
    problems = _errors(check_file(path, "parcels"))
    assert {(p.row, p.message) for p in problems} == {
        (2, "geometry is empty"),
        (3, "LineString is not allowed for parcels"),
    }


def test_duplicate_ids_name_both_rows(tmp_path):
    path = tmp_path / "c.csv"
    pd.DataFrame(
        {"小区编号": ["X1", "X2", "X1"], "经度": [116.35] * 3, "纬度": [40.0, 40.001, 40.002]}
    ).to_csv(path, index=False)
    problems = _errors(check_file(path, "compounds"))
    assert sorted(p.row for p in problems) == [2, 4]
    assert all(p.column == "小区编号" and "X1" in p.message for p in problems)


def test_non_numeric_households_and_future_build_year(tmp_path):
    path = tmp_path / "c.csv"
    pd.DataFrame(
        {
            "小区名称": ["a", "b", "c"],
            "经度": [116.35] * 3,
            "纬度": [40.0] * 3,
            "户数": ["120", "约一百", "80"],
            "建成年份": ["1990", "1995", "2035"],
        }
    ).to_csv(path, index=False)
    problems = _errors(check_file(path, "compounds"))
    assert {(p.row, p.column) for p in problems} == {(3, "户数"), (4, "建成年份")}
    assert any("in the future" in p.message for p in problems)


def test_file_name_that_says_amap_is_flagged(tmp_path):
    path = tmp_path / "高德POI导出.csv"
    pd.DataFrame({"名称": ["a"], "经度": [116.35], "纬度": [40.0]}).to_csv(path, index=False)
    [err] = _errors(check_file(path, "pois"))
    assert "gcj02" in err.message and "--coords gcj02" in err.hint
    assert check_file(path, "pois", coords="gcj02").ok


def test_gcj02_passed_as_wgs84_is_detected_against_real_osm(tmp_path, cau_osm):
    """POIs of the real extract shifted to GCJ-02 (as Amap exports them) and declared WGS84."""
    osm_pois = read_osm(cau_osm).pois
    pts = osm_pois.geometry.iloc[::3]
    lon, lat = wgs84_to_gcj02(pts.x.to_numpy(), pts.y.to_numpy())
    path = tmp_path / "export.csv"
    pd.DataFrame(
        {"名称": osm_pois["name"].iloc[::3].fillna("x").to_numpy(), "lng": lon, "lat": lat}
    ).to_csv(path, index=False)
    [err] = _errors(check_file(path, "pois", reference=osm_pois.geometry))
    assert "GCJ-02" in err.message and "coords='gcj02'" in err.hint
    fixed = check_file(path, "pois", coords="gcj02", reference=osm_pois.geometry)
    assert fixed.ok
    back = fixed.frame.geometry.to_crs(32650).distance(pts.to_crs(32650).reset_index(drop=True))
    assert back.max() < 0.01  # metres


def test_every_problem_of_every_file_at_once(tmp_path):
    a = tmp_path / "a.csv"
    pd.DataFrame({"户数": ["x"], "经度": [116.35], "纬度": [40.0]}).to_csv(a, index=False)
    b = tmp_path / "b.csv"
    pd.DataFrame({"地块类型": ["工地"], "经度": [40.0], "纬度": [116.35]}).to_csv(b, index=False)
    with pytest.raises(InputError) as info:
        load_layers([LoadSpec(a, "compounds"), LoadSpec(b, "parcels")])
    files = {(p.file.rsplit("/", 1)[-1], p.row, p.column) for p in info.value.errors}
    assert ("a.csv", 2, "户数") in files and ("b.csv", 2, "地块类型") in files
    assert ("b.csv", 2, "纬度") in files
    assert "a.csv, row 2, column '户数'" in str(info.value)


def test_warnings_are_emitted_once_and_data_returned(tmp_path):
    gdf = _compounds_gdf(2)
    gdf.loc[0, "geometry"] = Polygon(
        [(116.35, 40.0), (116.351, 40.001), (116.351, 40.0), (116.35, 40.001)]
    )
    path = tmp_path / "c.geojson"
    gdf.to_file(path, engine="pyogrio")
    with pytest.warns(InputWarning, match="repaired"):
        out = load_layer(path, "compounds")
    assert len(out) == 2 and out.is_valid.all()
    assert np.isfinite(out.area).all()


def test_missing_file_is_a_problem_not_a_crash(tmp_path):
    [err] = check_file(tmp_path / "nope.gpkg", "compounds").problems
    assert err.message == "file not found"


def test_cgcs2000_is_accepted_as_wgs84(tmp_path):
    path = tmp_path / "c.gpkg"
    _compounds_gdf(1).set_crs(4490, allow_override=True).to_file(path, engine="pyogrio")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gdf = load_layer(path, "compounds")
    assert gdf.crs.is_projected
