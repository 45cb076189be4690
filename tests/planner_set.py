"""A planner's file set built from a real OSM extract, the way a district hands it over:

- ``小区调查.xlsx`` — the compound survey (台账) with Chinese headers, polygons as WKT;
- ``高德POI.csv`` — facilities as an Amap (高德) export: GCJ-02 lon/lat, 类型编码;
- ``道路中心线.gpkg`` — street centrelines in CGCS2000 Gauss-Krüger, one line per
  segment, ends jittered by up to ``jitter_m`` (CAD lines that do not meet), with a
  道路等级 column in Chinese.

The extract is read in place from ../shared (ODbL); nothing is copied into the repository.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.io.crs.chinese import wgs84_to_gcj02
from spatial.io.osm.read import read_osm
from spatial.lifecircle.pois import classify_pois
from spatial.standards import load_categories

__all__ = ["ROAD_CLASS_ZH", "STREET_CLASSES", "planner_set"]

ROAD_CLASS_ZH = {
    "trunk": "主干路",
    "primary": "主干路",
    "primary_link": "主干路",
    "secondary": "次干路",
    "secondary_link": "次干路",
    "tertiary": "支路",
    "tertiary_link": "支路",
    "unclassified": "支路",
    "residential": "街巷",
    "living_street": "街巷",
    "service": "小区路",
    "pedestrian": "步行街",
    "footway": "人行道",
    "steps": "台阶",
    "path": "游步道",
}

#: The classes of a district's road-centreline layer without the paths inside compounds
#: (most survey polygons then have no path into them).
STREET_CLASSES = ("主干路", "次干路", "支路", "街巷", "步行街")


def planner_set(osm: Path, out: Path, *, jitter_m: float = 0.3, seed: int = 0) -> dict[str, Path]:
    """Write the three files of :mod:`planner_set` built from ``osm`` into ``out``."""
    rng = np.random.default_rng(seed)
    layers = read_osm(osm)
    out.mkdir(parents=True, exist_ok=True)

    comp = layers.compounds.reset_index(drop=True)
    n = len(comp)
    survey = pd.DataFrame(
        {
            "序号": np.arange(1, n + 1),
            "区县": "海淀区" if "beijing" in osm.name else "宝山区",
            "街道": "学院路街道",
            "小区名称": comp["name"],
            "建成年代": [["1985年", "1990年代", "1998", ""][i % 4] for i in range(n)],
            "户数": [int(v) for v in rng.integers(200, 900, n)],
            "楼栋数": [int(v) for v in rng.integers(3, 20, n)],
            "几何": shapely.to_wkt(comp.geometry.to_numpy(), rounding_precision=7),
        }
    )
    paths = {"compounds": out / "小区调查.xlsx"}
    survey.to_excel(paths["compounds"], index=False, sheet_name="台账")

    pois = layers.pois.reset_index(drop=True)
    cats = classify_pois(pois)
    codes = {c.id: (c.amap[0] if c.amap else "") for c in load_categories()}
    zh = {c.id: c.zh for c in load_categories()}
    first = cats.str.split(";").str[0].fillna("")
    keep = first != ""
    pts = pois.geometry[keep].representative_point()
    lon, lat = wgs84_to_gcj02(pts.x.to_numpy(), pts.y.to_numpy())
    amap = pd.DataFrame(
        {
            "名称": pois.loc[keep, "name"].fillna("").to_numpy(),
            "类型": [zh[c] for c in first[keep]],
            "类型编码": [codes[c] for c in first[keep]],
            "地址": "",
            "经度": np.round(lon, 7),
            "纬度": np.round(lat, 7),
        }
    )
    paths["pois"] = out / "高德POI.csv"
    amap.to_csv(paths["pois"], index=False, encoding="utf-8-sig")

    walk = layers.walk
    assert walk is not None
    order = np.argsort(walk.node_ids)
    ends = walk.lonlat[order[np.searchsorted(walk.node_ids[order], walk.pairs)]]
    lines = gpd.GeoSeries(shapely.linestrings(ends), crs=4326)
    cm = round(float(np.mean(walk.lonlat[:, 0])) / 3) * 3
    gk = lines.to_crs(4534 + (cm - 75) // 3)  # CGCS2000 3-degree Gauss-Krüger, CM cm°E
    xy, idx = shapely.get_coordinates(gk.to_numpy(), return_index=True)
    xy = xy + rng.uniform(-jitter_m, jitter_m, xy.shape) / np.sqrt(2)
    roads = gpd.GeoDataFrame(
        {"道路等级": [ROAD_CLASS_ZH.get(str(h), str(h)) for h in walk.highway]},
        geometry=shapely.linestrings(xy, indices=idx),
        crs=gk.crs,
    )
    paths["network"] = out / "道路中心线.gpkg"
    roads.to_file(paths["network"], layer="道路中心线", engine="pyogrio")
    return paths
