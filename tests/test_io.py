"""Atomic outputs: a failed run leaves earlier outputs intact and no half-written files."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from spatial import InputError
from spatial.io import atomic_path, write_csv, write_gpkg
from spatial.pipeline import run_demo


def test_failure_inside_atomic_path_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_writers_replace_whole_files(tmp_path):
    csv = write_csv(pd.DataFrame({"小区": ["甲"]}), tmp_path / "a.csv")
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel shows Chinese
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(116, 40)], crs=4326)
    path = write_gpkg({"x": gdf, "y": gdf}, tmp_path / "a.gpkg")
    assert sorted(n for n, _ in __import__("pyogrio").list_layers(path)) == ["x", "y"]
    with pytest.raises(ValueError, match="no CRS"):
        write_gpkg({"x": gdf.set_crs(None, allow_override=True)}, path)
    assert len(gpd.read_file(path, layer="x")) == 1


def test_bad_input_leaves_no_partial_outputs(tmp_path, demo_city):
    data = tmp_path / "data"
    data.mkdir()
    gpkg = data / "demo_city.gpkg"
    (data / "demo_city.osm").write_bytes(demo_city.osm.read_bytes())
    for layer in ("compounds", "pois", "parcels"):
        gdf = gpd.read_file(demo_city.gpkg, layer=layer)
        if layer == "compounds":
            gdf["户数"] = gdf["户数"].astype(str)  # a text column, as Excel exports often are
            gdf.loc[3, "户数"] = "很多"
        gdf.to_file(gpkg, layer=layer, engine="pyogrio")
    out, maps = tmp_path / "results", tmp_path / "maps"
    out.mkdir()
    (out / "inventory.csv").write_text("earlier run")
    with pytest.raises(InputError) as info:
        run_demo(data_dir=data, out_dir=out, maps_dir=maps)
    [err] = info.value.errors
    assert (err.row, err.column) == ("feature 3", "户数")
    assert sorted(p.name for p in out.iterdir()) == ["inventory.csv"]
    assert (out / "inventory.csv").read_text() == "earlier run"
    assert not maps.exists()
