"""Inputs say what they are: kinds from layer names, geometry and columns; --layer; a
network layer validated; messages name the layer; the user's ids kept."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point, Polygon
from typer.testing import CliRunner

from spatial.cli import app
from spatial.io.kinds import guess_kinds, guess_table_kind
from spatial.io.load import check_file

runner = CliRunner()
LON, LAT = 116.35, 40.0


def _square(dx: float, dy: float, size: float = 0.002) -> Polygon:
    x, y = LON + dx, LAT + dy
    return Polygon([(x, y), (x + size, y), (x + size, y + size), (x, y + size)])


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_tables_are_told_by_columns_and_kind_values():
    amap = pd.DataFrame(
        {"名称": ["阳光幼儿园"], "类型": ["科教文化服务;学校;幼儿园"], "经度": [1], "纬度": [2]}
    )
    assert guess_table_kind(amap) == "pois"
    plots = pd.DataFrame({"地块编号": ["D1", "D2"], "类型": ["棚户区", "旧厂区"], "几何": ["", ""]})
    assert guess_table_kind(plots) == "parcels"
    survey = pd.DataFrame(
        {"序号": [1], "小区名称": ["农大小区"], "户数": [300], "经度": [1], "纬度": [2]}
    )
    assert guess_table_kind(survey) == "compounds"  # lon/lat points, but a survey
    assert guess_table_kind(pd.DataFrame({"name": ["x"], "wkt": ["POLYGON EMPTY"]})) == "compounds"


def test_gis_layers_are_told_by_geometry_and_names(tmp_path):
    path = tmp_path / "district.gpkg"
    gpd.GeoDataFrame(
        {
            "小区编号": ["XQ-01", "XQ-02"],
            "序号": [1, 2],
            "小区名称": ["甲", "乙"],
            "户数": [300, 200],
        },
        geometry=[_square(0, 0), _square(0.003, 0)],
        crs=4326,
    ).to_file(path, layer="layer_a", engine="pyogrio")
    gpd.GeoDataFrame(
        {"名称": ["幼儿园"], "类型编码": ["141204"]},
        geometry=[Point(LON + 0.001, LAT - 0.001)],
        crs=4326,
    ).to_file(path, layer="layer_b", engine="pyogrio")
    gpd.GeoDataFrame(
        {"道路等级": ["支路"]},
        geometry=[LineString([(LON - 0.001, LAT - 0.0005), (LON + 0.006, LAT - 0.0005)])],
        crs=4326,
    ).to_file(path, layer="layer_c", engine="pyogrio")
    gpd.GeoDataFrame(
        {"地块编号": ["D1"], "地块类型": ["旧厂区"]}, geometry=[_square(0.01, 0)], crs=4326
    ).to_file(path, layer="layer_d", engine="pyogrio")
    assert guess_kinds(path) == [
        ("compounds", "layer_a"),
        ("pois", "layer_b"),
        ("network", "layer_c"),
        ("parcels", "layer_d"),
    ]
    # the compound layer is found without naming it, ids are the survey's own
    loaded = check_file(path, "compounds")
    assert loaded.ok and loaded.frame["id"].tolist() == ["XQ-01", "XQ-02"]
    assert "序号" in loaded.frame.columns  # a row number beside 小区编号 is kept, not an error

    result = runner.invoke(app, ["validate", str(path)], terminal_width=200)
    out = _flat(result.output)
    assert result.exit_code == 0, out
    assert "[layer_a]: compounds: 2 records" in out and "[layer_b]: pois: 1 records" in out
    assert "[layer_c]: walk network: 2 nodes, 1 edges" in out
    assert "[layer_d]: parcels: 1 records" in out
    result = runner.invoke(app, ["validate", str(path), "--layer", "layer_b"], terminal_width=200)
    assert "pois: 1 records" in _flat(result.output) and "layer_a" not in result.output


def test_messages_name_the_layer_and_a_polygon_network_is_refused(tmp_path):
    path = tmp_path / "survey.gpkg"
    gpd.GeoDataFrame(
        {"小区名称": ["甲"], "户数": ["三百"]}, geometry=[_square(0, 0)], crs=4326
    ).to_file(path, layer="小区", engine="pyogrio")
    gpd.GeoDataFrame({"名称": ["x"]}, geometry=[_square(0.01, 0)], crs=4326).to_file(
        path, layer="建筑", engine="pyogrio"
    )
    loaded = check_file(path, "compounds")
    bad = [p for p in loaded.problems if p.severity == "error"]
    assert bad and bad[0].file.endswith("survey.gpkg [小区]") and bad[0].column == "户数"
    result = runner.invoke(
        app, ["validate", str(path), "--kind", "network", "--layer", "建筑"], terminal_width=200
    )
    assert result.exit_code == 1
    assert "not lines" in _flat(result.output) and "Traceback" not in result.output
    # two polygon layers neither of which says compounds: the user is asked to choose
    two = tmp_path / "two.gpkg"
    for name in ("a", "b"):
        gpd.GeoDataFrame({"名称": ["x"]}, geometry=[_square(0, 0)], crs=4326).to_file(
            two, layer=name, engine="pyogrio"
        )
    problems = check_file(two, "compounds").problems
    assert "2 layers (a, b) and 2 look like compounds" in problems[0].message
    assert "--layer" in problems[0].hint


def test_commands_take_the_layer_of_each_kind(demo_city, tmp_path, monkeypatch):
    """gaps, bundles and eligibility read the layer named per kind from files whose
    layers do not say what they hold; without it they ask for the right option."""
    import pyogrio

    from spatial.cli._common import console

    # the problem table unwrapped; ``_width`` so that the automatic width comes back after
    monkeypatch.setattr(console, "_width", 250)

    src = demo_city.gpkg
    comp = gpd.read_file(src, layer="compounds", engine="pyogrio")
    pois = gpd.read_file(src, layer="pois", engine="pyogrio")
    parcels = gpd.read_file(src, layer="parcels", engine="pyogrio")
    mixed = tmp_path / "mixed.gpkg"
    few = comp.iloc[:5]
    for name, frame in (("a", comp), ("b", few), ("p", pois), ("q", pois.iloc[:3])):
        frame.to_file(mixed, layer=name, engine="pyogrio")
    parcels.to_file(mixed, layer="c", engine="pyogrio")
    assert len(pyogrio.list_layers(mixed)) == 5
    assert guess_kinds(mixed, layer="c") == [("parcels", "c")]  # by its kind column
    base = ["gaps", "--network", str(demo_city.osm), "--compounds", str(mixed)]
    base += ["--pois", str(mixed)]
    asked = runner.invoke(app, [*base, "--out", str(tmp_path / "g0")], terminal_width=200)
    assert asked.exit_code == 1 and "Traceback" not in asked.output
    assert "--compounds-layer" in _flat(asked.output) and "--pois-layer" in _flat(asked.output)
    out = tmp_path / "g1"
    args = [*base, "--compounds-layer", "b", "--pois-layer", "q"]
    done = runner.invoke(app, [*args, "--out", str(out)], terminal_width=200)
    assert done.exit_code == 0, done.output
    gaps = pd.read_csv(out / "gaps.csv")
    assert gaps["compound_id"].nunique() == len(few)
    summary = pd.read_csv(out / "summary.csv")
    assert summary["facilities"].sum() <= 3 and summary["facilities"].sum() > 0
    # bundles: only the layers named, each classed by its own name, geometry and columns
    bout = tmp_path / "b"
    two = ["--parcels-layer", "b", "--parcels-layer", "c"]
    done = runner.invoke(
        app, ["bundles", "--parcels", str(mixed), *two, "--out", str(bout)], terminal_width=200
    )
    assert done.exit_code == 0, done.output
    members = pd.read_csv(bout / "bundles.csv")
    assert members["n_compounds"].sum() == len(few)
    assert members["kinds"].str.contains("old_compound").any()
    layer_b = ["--compounds", str(mixed), "--compounds-layer", "b"]
    elig = runner.invoke(
        app,
        ["eligibility", "--profile", "shandong", *layer_b, "--out", str(tmp_path / "e.csv")],
        terminal_width=200,
    )
    assert elig.exit_code == 0, elig.output
    assert len(pd.read_csv(tmp_path / "e.csv")) == len(few)


def test_an_osm_extract_as_parcels_gives_the_kinds_it_holds(tmp_path):
    """``bundles --parcels area.osm``: an extract with old compounds but no other parcel
    (BUPT) bundles its compounds; it is not an error that it holds no parcels."""
    from conftest import SHARED

    from spatial.cli._common import kind_specs

    bupt = SHARED / "data" / "osm" / "beijing_bupt_haidian.osm"
    cau = SHARED / "data" / "osm" / "beijing_cau_haidian.osm"
    both = ("compounds", "parcels")
    assert [s.layer for s in kind_specs([bupt], both, layers=None)] == ["compounds"]
    assert [s.layer for s in kind_specs([cau], both, layers=None)] == ["compounds", "parcels"]
    out = tmp_path / "b"
    done = runner.invoke(app, ["bundles", "--parcels", str(bupt), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert pd.read_csv(out / "bundles.csv")["n_compounds"].sum() == 3
