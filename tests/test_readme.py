"""The README is true: every ``spatial …`` line of its Usage runs on the demo city.

Placeholder file names (小区调查.xlsx, amap.csv, roads.shp …) are made from the demo city
in the shapes planners hand over (Chinese headers, GCJ-02 and BD-09 exports, a road
shapefile); the one line that downloads (``--place``) gets osmnx's answer from the demo
OSM file instead of Overpass.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import SHARED
from typer.testing import CliRunner

from spatial.cli import app
from spatial.io.crs.chinese import wgs84_to_bd09, wgs84_to_gcj02

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo"
runner = CliRunner()


def usage_lines() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("## Usage", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [
        line.split("  #")[0].strip() for line in block.splitlines() if line.startswith("spatial ")
    ]


def _poi_table(pois: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "名称": pois["名称"],
            "类型编码": pois["类型编码"],
            "地址": pois["地址"],
            "经度": np.round(lon, 7),
            "纬度": np.round(lat, 7),
        }
    )


def _planner_files(folder: Path) -> None:
    """The placeholder files of the Usage lines, from the demo city."""
    gpkg = DEMO / "demo_city.gpkg"
    comp = gpd.read_file(gpkg, layer="compounds")
    pois = gpd.read_file(gpkg, layer="pois")
    parcels = gpd.read_file(gpkg, layer="parcels")
    # the subdistricts' boundaries as a district hands them over (a shapefile: field names
    # of at most 10 bytes, so 街道 rather than 街道名称)
    gpd.read_file(gpkg, layer="subdistricts").rename(columns={"街道名称": "街道"}).to_file(
        folder / "街道.shp", engine="pyogrio", encoding="utf-8"
    )
    shutil.copytree(DEMO, folder / "data" / "demo")
    shutil.copy(DEMO / "demo_city.osm", folder / "area.osm")
    import osmium

    with osmium.SimpleWriter(str(folder / "area.osm.pbf")) as writer:
        for obj in osmium.FileProcessor(str(DEMO / "demo_city.osm")):
            writer.add(obj)
    survey = pd.DataFrame(comp.drop(columns="geometry")).assign(
        几何=shapely.to_wkt(comp.geometry.to_numpy(), rounding_precision=7)
    )
    survey.to_excel(folder / "小区调查.xlsx", index=False)
    survey.to_excel(folder / "小区.xlsx", index=False)
    ledger = survey[["小区编号", "街道", "社区", "小区名称", "地址", "户数"]]  # 台账: no geometry
    ledger.rename(columns={"小区编号": "序号"}).to_excel(folder / "台账.xlsx", index=False)
    comp.to_file(folder / "小区.gpkg", layer="compounds", engine="pyogrio")
    ids = comp["小区编号"].iloc[:3].tolist()
    pd.DataFrame({"小区编号": ids, "年度": [2026] * 3, "状态": ["在建", "在建", "完工"]}).to_excel(
        folder / "改造状态.xlsx", index=False
    )
    pd.DataFrame(
        {"层级": ["全部"], "名称": ["全部"], "年度": [2026], "小区数": [30], "户数": [6000],
         "投资（万元）": [50000]}
    ).to_excel(folder / "年度目标.xlsx", index=False)  # fmt: skip
    parcels.to_file(folder / "parcels.gpkg", layer="parcels", engine="pyogrio")
    parcels.to_file(folder / "地块.gpkg", layer="parcels", engine="pyogrio")
    pd.DataFrame(parcels.drop(columns="geometry")).assign(
        几何=shapely.to_wkt(parcels.geometry.to_numpy(), rounding_precision=7)
    ).to_excel(folder / "地块.xlsx", index=False)
    pois.to_file(folder / "pois.gpkg", layer="pois", engine="pyogrio")
    x, y = pois.geometry.x.to_numpy(), pois.geometry.y.to_numpy()
    _poi_table(pois, x, y).to_csv(folder / "pois.csv", index=False, encoding="utf-8-sig")
    gcj = wgs84_to_gcj02(x, y)
    _poi_table(pois, *gcj).to_csv(folder / "amap.csv", index=False, encoding="utf-8-sig")
    _poi_table(pois, *gcj).to_csv(folder / "amap_pois.csv", index=False, encoding="utf-8-sig")
    bx, by = wgs84_to_bd09(x, y)
    results = [
        {"name": n, "location": {"lng": float(a), "lat": float(b)}, "detail_info": {"tag": "美食"}}
        for n, a, b in zip(pois["名称"], bx, by, strict=True)
    ][:20]
    (folder / "baidu.json").write_text(json.dumps({"results": results}, ensure_ascii=False))
    from spatial.network import walk_network_from_osm

    net = walk_network_from_osm(DEMO / "demo_city.osm")
    edges = net.edges_gdf().rename(columns={"highway": "fclass"})
    edges[["fclass", "geometry"]].to_file(folder / "roads.shp", engine="pyogrio")
    shutil.copy(REPO / "spatial" / "standards" / "finance.toml", folder / "my_finance.toml")
    # one GeoPackage of a district, its layers named as exported, two of each kind
    district = folder / "区县.gpkg"
    for name, frame in (
        ("xq2023", comp),
        ("xq2019", comp.iloc[: len(comp) // 2]),
        ("poi_gd", pois),
        ("poi_old", pois.iloc[:10]),
        ("dl", edges[["fclass", "geometry"]]),
        ("dl_2015", edges[["fclass", "geometry"]].iloc[:100]),
    ):
        frame.to_file(district, layer=name, engine="pyogrio")


_DONE: set[str] = set()  # usage lines already run in this session's usage folder


@pytest.fixture(scope="module")
def usage_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("usage")
    _planner_files(folder)
    return folder


def test_the_usage_block_is_found():
    lines = usage_lines()
    assert len(lines) >= 15 and all(line.startswith("spatial ") for line in lines)


@pytest.mark.parametrize("line", usage_lines())
def test_every_usage_line_runs_on_the_demo(line, usage_folder, monkeypatch):
    monkeypatch.chdir(usage_folder)
    args = shlex.split(line)[1:]
    if "--size" in args:  # the larger demo district is generated, not read; keep it small
        args[args.index("--size") + 1] = "3"
    if args[0] == "gaps" and not {"--compounds", "--pois"} & set(args):
        # everything from OSM: the demo's OSM file holds streets only; use a real extract
        args[args.index("area.osm")] = str(SHARED / "data" / "osm" / "beijing_bupt_haidian.osm")
    if "--place" in args:
        import osmnx as ox

        def from_demo_file(query, **kwargs):
            assert query == "海淀区, 北京市" and kwargs["network_type"] == "walk"
            return ox.graph_from_xml(DEMO / "demo_city.osm", simplify=False, retain_all=True)

        monkeypatch.setattr(ox, "graph_from_place", from_demo_file)
    # lines of one database run after the lines before them that use it (init, import …)
    if "--db" in args and line not in _DONE:
        target = args[args.index("--db") + 1]
        for other in usage_lines()[: usage_lines().index(line)]:
            if f"--db {target}" in other and other not in _DONE:
                test_every_usage_line_runs_on_the_demo(other, usage_folder, monkeypatch)
    if line in _DONE:
        return
    # lines that read another line's output folder run after it
    for needed in re.findall(
        r"--(?:gaps|bundles|compounds|parcels|assess) (results/\w+)", " ".join(args)
    ):
        if not (usage_folder / needed).exists():
            producer = next(
                other for other in usage_lines() if f"--out {needed}" in other and other != line
            )
            test_every_usage_line_runs_on_the_demo(producer, usage_folder, monkeypatch)
    if "--scheduler" in args:  # the cluster of the line: a real scheduler with 2 workers
        from distributed import LocalCluster

        spec = (
            (DEMO / "province.toml")
            .read_text("utf-8")
            .replace('"demo_city.', '"data/demo/demo_city.')
        )
        (usage_folder / args[1]).write_text(spec, encoding="utf-8")
        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
            args[args.index("--scheduler") + 1] = cluster.scheduler_address
            result = runner.invoke(app, args, terminal_width=200)
        assert "3 of 3 units ready" in result.output
    else:
        result = runner.invoke(app, args, terminal_width=200)
    out = result.output + (repr(result.exception) if result.exception else "")
    assert "Traceback" not in out
    assert result.exit_code == 0, f"{line}\n{out}"
    _DONE.add(line)
