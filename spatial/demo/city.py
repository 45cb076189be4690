"""A deterministic synthetic district of a Chinese city, from a few blocks to a whole city.

The demo city is written as *real files* that the normal loaders read, so the demo
runs the same code path as a planner's data:

- ``<name>.osm``: the street network as OSM XML — arterial grid (经/纬 roads) of
  300–600 m superblocks, local streets, gated compounds with gates
  (``barrier=gate``) and internal footways, a river with a few bridges, a railway
  with a few underpasses, a motorway along the southern edge (never walkable) and
  one building outline per compound (never an edge);
- ``<name>.gpkg``: layers ``compounds`` (Chinese headers as in a survey database,
  CGCS2000), ``pois`` (every life-circle category, placed sparsely enough that real
  gaps appear), ``parcels`` (棚户区, 城中村, 旧厂区, 危旧房, 功能转换, 低效用地) and
  ``subdistricts`` (街道).

Everything follows from ``seed`` and ``size`` (superblocks per side): the same
arguments give byte-identical files."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon, box

from spatial.demo._attributes import (
    ORDINAL,
    PARCEL_ZH,
    ROAD_NAMES_H,
    ROAD_NAMES_V,
    SETBACK_M,
    SUBDISTRICTS,
    cn_number,
    parcel_row,
    place_pois,
)
from spatial.demo._compound import compound
from spatial.demo._osm_writer import Builder, Line, write_osm
from spatial.io.outputs.write import write_gpkg
from spatial.io.survey.names import normalize_name
from spatial.settings import Progress, no_progress
from spatial.standards import load_categories

__all__ = ["NODES_PER_SUPERBLOCK", "DemoCity", "generate_demo", "size_for_nodes"]

#: Centre of the demo district (lon, lat): an invented district at the latitude of Jinan.
_CENTRE_LONLAT = (117.02, 36.66)


_UTM = "EPSG:32650"


#: Walk-network nodes per superblock, measured on generated cities (for sizing benchmarks).
NODES_PER_SUPERBLOCK = 45.0


_BUILD_TIMESTAMP = "2026-01-01T00:00:00.000Z"


def size_for_nodes(n_nodes: int) -> int:
    """Superblocks per side for a city of about ``n_nodes`` walk-network nodes.

    Parameters
    ----------
    n_nodes
        Wanted number of walk-network nodes.

    Returns
    -------
    int
        Superblocks per side (at least 1).
    """
    return max(1, round(math.sqrt(n_nodes / NODES_PER_SUPERBLOCK)))


@dataclass
class DemoCity:
    """Paths and counts of a generated demo city.

    Attributes
    ----------
    gpkg
        GeoPackage with the compounds, POIs and parcels.
    osm
        OSM XML file with the streets.
    size
        Superblocks per side.
    seed
        Seed the city was generated with.
    counts
        Number of features per layer.
    """

    gpkg: Path
    osm: Path
    size: int
    seed: int
    counts: dict[str, int] = field(default_factory=dict)


def generate_demo(
    out_dir: str | Path,
    *,
    size: int = 6,
    seed: int = 2021,
    name: str = "demo_city",
    centre_lonlat: tuple[float, float] = _CENTRE_LONLAT,
    progress: Progress | None = None,
) -> DemoCity:
    """Generate the demo city and write ``<name>.osm`` and ``<name>.gpkg`` in ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder for the files (created if missing).
    size
        Superblocks per side (≥ 1). 6 gives a ~2.7 km district of ~2,000 network
        nodes; :func:`size_for_nodes` picks it for a node count (≈140 for 1M nodes).
    seed
        Seed of every random choice.
    name
        File stem.
    centre_lonlat
        Where the district lies (WGS84 lon, lat; default near Jinan): demo units of a
        batch side by side. Must stay in UTM zone 50 (114°–120° E).
    progress
        ``progress(stage, done, total)`` at each stage and as superblock rows are laid out.

    Returns
    -------
    DemoCity
        Paths and counts (``nodes`` = walk-network nodes in the OSM file).
    """
    if size < 1:
        raise ValueError("size must be at least 1 superblock per side")
    if not (114.0 <= centre_lonlat[0] < 120.0 and 0.0 < centre_lonlat[1] < 84.0):
        raise ValueError(f"centre_lonlat {centre_lonlat} is outside UTM zone 50 (114°-120° E)")
    say = progress or no_progress
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cats = load_categories()

    say("laying out streets", 0, 0)
    widths = rng.uniform(300, 600, size)
    heights = rng.uniform(300, 600, size)
    xs = np.concatenate([[0.0], np.cumsum(widths)])
    ys = np.concatenate([[0.0], np.cumsum(heights)])
    river_j = size // 2 if size >= 2 else None  # horizontal line replaced by a river
    rail_i = (2 * size) // 3 if size >= 3 else None  # vertical line replaced by a railway
    b = Builder()
    half_river, half_rail = 30.0, 25.0

    def v_spans(i: int) -> list[tuple[float, float, dict]]:
        if river_j is None:
            return [(ys[0], ys[-1], {})]
        s, n = ys[river_j] - half_river, ys[river_j] + half_river
        spans: list[tuple[float, float, dict]] = [(ys[0], s, {}), (n, ys[-1], {})]
        if i % 2 == 0:  # bridges on every other 经 road
            spans.insert(1, (s, n, {"bridge": "yes", "layer": "1"}))
        return spans

    def h_spans(j: int) -> list[tuple[float, float, dict]]:
        if rail_i is None:
            return [(xs[0], xs[-1], {})]
        w, e = xs[rail_i] - half_rail, xs[rail_i] + half_rail
        spans: list[tuple[float, float, dict]] = [(xs[0], w, {}), (e, xs[-1], {})]
        if j % 3 == 0:  # underpasses on every third 纬 road
            spans.insert(1, (w, e, {"tunnel": "yes", "layer": "-1"}))
        return spans

    def arterial(i: int) -> dict[str, str]:
        return {"highway": "primary" if i % 3 == 0 else "secondary"}

    vlines: dict[float, Line] = {}
    hlines: dict[float, Line] = {}
    for i, x in enumerate(xs):
        if i == rail_i:
            for side, dx in (("西", -half_rail), ("东", half_rail)):
                vlines[x + dx] = b.line(
                    True, x + dx, v_spans(i), {"highway": "tertiary", "name": f"铁路{side}侧路"}
                )
        else:
            vlines[x] = b.line(
                True,
                x,
                v_spans(i),
                {**arterial(i), "name": ROAD_NAMES_V.format(cn_number(i + 1))},
            )
    for j, y in enumerate(ys):
        if j == river_j:
            for side, dy in (("南", -half_river), ("北", half_river)):
                hlines[y + dy] = b.line(
                    False, y + dy, h_spans(j), {"highway": "tertiary", "name": f"滨河{side}路"}
                )
        else:
            hlines[y] = b.line(
                False,
                y,
                h_spans(j),
                {**arterial(j), "name": ROAD_NAMES_H.format(cn_number(j + 1))},
            )
    for vx, vl in vlines.items():
        for hy, hl in hlines.items():
            if any(lo <= hy <= hi for lo, hi, _ in vl.spans) and any(
                lo <= vx <= hi for lo, hi, _ in hl.spans
            ):
                vl.add(hy)
                hl.add(vx)

    # Superblock edges: the streets that bound each superblock.
    vkeys, hkeys = sorted(vlines), sorted(hlines)
    col_edges = [
        (vkeys[k], vkeys[k + 1])
        for k in range(len(vkeys) - 1)
        if not (rail_i is not None and math.isclose(vkeys[k], xs[rail_i] - half_rail))
    ]
    row_edges = [
        (hkeys[k], hkeys[k + 1])
        for k in range(len(hkeys) - 1)
        if not (river_j is not None and math.isclose(hkeys[k], ys[river_j] - half_river))
    ]
    cx_city, cy_city = xs[-1] / 2, ys[-1] / 2
    radius_city = math.hypot(cx_city, cy_city)
    n_super = len(col_edges) * len(row_edges)
    factory_super = (
        set(rng.choice(n_super, size=max(1, round(0.06 * n_super)), replace=False).tolist())
        if n_super >= 4
        else set()
    )

    compounds: list[dict] = []
    parcels: list[dict] = []
    blocks: list[tuple[Polygon, str]] = []  # every block, for POI placement
    supers: list[dict] = []
    sub_group = 3
    names_used: dict[str, int] = {}
    produced: set[str] = set()

    def unique(name: str) -> str:
        # names a survey match or the database takes for one (建工宿舍30区 and
        # 建工宿舍区30区: the same once 宿舍/宿舍区 are set aside) are never both given
        k = names_used.get(name, 0)
        while (
            normalize_name(out := name + (ORDINAL[k] if k < len(ORDINAL) else f"{k + 1}区"))
            in produced
        ):
            k += 1
        names_used[name] = k + 1
        produced.add(normalize_name(out))
        return out

    for r, (y0, y1) in enumerate(row_edges):
        say("placing compounds, gates and parcels", r, len(row_edges))
        for c, (x0, x1) in enumerate(col_edges):
            sid = r * len(col_edges) + c
            sub_idx = (r // sub_group) * math.ceil(len(col_edges) / sub_group) + c // sub_group
            subdistrict = (
                SUBDISTRICTS[sub_idx]
                if sub_idx < len(SUBDISTRICTS)
                else f"第{cn_number(sub_idx + 1)}"
            ) + "街道"
            community = f"{vlines[x0].tags['name'].removesuffix('路')}{cn_number(r + 1)}社区"
            supers.append(
                {"geometry": box(x0, y0, x1, y1), "街道名称": subdistrict, "社区": community}
            )
            if sid in factory_super:
                parcels.append(
                    parcel_row(
                        rng,
                        "old_factory",
                        box(x0, y0, x1, y1).buffer(-SETBACK_M, join_style="mitre"),
                        subdistrict,
                        community,
                        cx_city,
                        cy_city,
                        radius_city,
                    )
                )
                continue
            nx_ = max(1, round((x1 - x0) / 200))
            ny_ = max(1, round((y1 - y0) / 200))
            bx = np.linspace(x0, x1, nx_ + 1)
            by = np.linspace(y0, y1, ny_ + 1)
            bx[1:-1] += rng.uniform(-20, 20, nx_ - 1)
            by[1:-1] += rng.uniform(-20, 20, ny_ - 1)
            local_v = {
                x: b.line(True, x, [(y0, y1, {})], {"highway": "residential"}) for x in bx[1:-1]
            }
            local_h = {
                y: b.line(False, y, [(x0, x1, {})], {"highway": "residential"}) for y in by[1:-1]
            }
            for x in local_v:
                hlines[y0].add(x)
                hlines[y1].add(x)
                for y, hl in local_h.items():
                    local_v[x].add(y)
                    hl.add(x)
            for y in local_h:
                vlines[x0].add(y)
                vlines[x1].add(y)
            line_at_x = {x0: vlines[x0], x1: vlines[x1], **local_v}
            line_at_y = {y0: hlines[y0], y1: hlines[y1], **local_h}
            for a in range(nx_):
                for d in range(ny_):
                    bx0, bx1, by0, by1 = bx[a], bx[a + 1], by[d], by[d + 1]
                    block = box(bx0, by0, bx1, by1)
                    use = rng.choice(["compound", "other", "parcel"], p=[0.74, 0.14, 0.12])
                    inner = (bx0 + SETBACK_M, by0 + SETBACK_M, bx1 - SETBACK_M, by1 - SETBACK_M)
                    if use == "parcel":
                        kind = rng.choice(
                            [
                                "shantytown",
                                "urban_village",
                                "dilapidated",
                                "function_conversion",
                                "low_efficiency",
                            ]
                        )
                        parcels.append(
                            parcel_row(
                                rng,
                                str(kind),
                                box(*inner),
                                subdistrict,
                                community,
                                cx_city,
                                cy_city,
                                radius_city,
                            )
                        )
                    elif use == "compound":
                        compounds.append(
                            compound(
                                rng,
                                b,
                                inner,
                                line_at_x,
                                line_at_y,
                                (bx0, by0, bx1, by1),
                                subdistrict,
                                community,
                                cx_city,
                                cy_city,
                                radius_city,
                                unique,
                            )
                        )
                    blocks.append((block, community))

    for kind in PARCEL_ZH:  # every parcel kind appears at least once
        if len(compounds) > 1 and not any(p["kind_id"] == kind for p in parcels):
            taken = compounds.pop(int(rng.integers(len(compounds))))
            parcels.append(
                parcel_row(
                    rng,
                    kind,
                    taken["geometry"],
                    taken["街道"],
                    taken["社区"],
                    cx_city,
                    cy_city,
                    radius_city,
                )
            )

    say("adding barriers", 0, 0)
    x_lo, x_hi, y_lo, y_hi = xs[0] - 200, xs[-1] + 200, ys[0], ys[-1]
    if river_j is not None:
        yr = ys[river_j]
        pts = [(x, yr) for x in np.arange(x_lo + 11.1, x_hi, 200.0)]
        b.extra_ways.append((pts, {"waterway": "river", "name": "小清河"}))
        ring = [(x_lo, yr - 18), (x_hi, yr - 18), (x_hi, yr + 18), (x_lo, yr + 18)]
        b.extra_ways.append(([*ring, ring[0]], {"natural": "water", "water": "river"}))
    if rail_i is not None:
        xr = xs[rail_i]
        pts = [(xr, y) for y in np.arange(y_lo - 200 + 7.3, y_hi + 200, 200.0)]
        b.extra_ways.append((pts, {"railway": "rail", "name": "胶济铁路"}))
    ym = ys[0] - 80.0
    motorway = b.line(
        False, ym, [(x_lo, x_hi, {})], {"highway": "motorway", "oneway": "yes", "name": "绕城高速"}
    )
    x_link = xs[size // 2] if size // 2 != rail_i else xs[0]
    motorway.add(x_link)
    b.line(True, x_link, [(ym, ys[0], {})], {"highway": "motorway_link", "oneway": "yes"})

    say("placing facilities (POIs)", 0, 0)
    pois = place_pois(rng, cats, blocks, float(xs[-1] * ys[-1]))

    say("writing files", 0, 0)
    to_wgs = Transformer.from_crs(_UTM, "EPSG:4326", always_xy=True)
    e0, n0 = Transformer.from_crs("EPSG:4326", _UTM, always_xy=True).transform(*centre_lonlat)
    origin = (e0 - cx_city, n0 - cy_city)
    osm_path = out_dir / f"{name}.osm"
    n_nodes = write_osm(b, osm_path, to_wgs, origin)

    def to_gdf(rows: list[dict], crs: str) -> gpd.GeoDataFrame:
        gdf = gpd.GeoDataFrame(rows or {"geometry": []}, geometry="geometry", crs=_UTM)
        gdf = gdf.set_geometry(gdf.geometry.translate(*origin))
        return gdf.to_crs(crs)

    comp = to_gdf(
        [{k: v for k, v in c.items() if not k.startswith("_")} for c in compounds], "EPSG:4490"
    )
    comp.insert(0, "小区编号", [f"C{i + 1:05d}" for i in range(len(comp))])
    parc = to_gdf([{k: v for k, v in p.items() if k != "kind_id"} for p in parcels], "EPSG:4326")
    parc.insert(0, "编号", [f"P{i + 1:05d}" for i in range(len(parc))])
    poi = to_gdf(pois, "EPSG:4326")
    poi.insert(0, "编号", [f"F{i + 1:05d}" for i in range(len(poi))])
    subs = to_gdf(supers, "EPSG:4326").dissolve("街道名称", as_index=False)[
        ["街道名称", "geometry"]
    ]
    subs["区县"] = "示范区"
    gpkg_path = out_dir / f"{name}.gpkg"
    _write_gpkg_reproducibly(
        {"compounds": comp, "pois": poi, "parcels": parc, "subdistricts": subs}, gpkg_path
    )
    counts = {
        "nodes": n_nodes,
        "compounds": len(comp),
        "pois": len(poi),
        "parcels": len(parc),
        "subdistricts": len(subs),
        "superblocks": n_super,
    }
    return DemoCity(gpkg=gpkg_path, osm=osm_path, size=size, seed=seed, counts=counts)


def _write_gpkg_reproducibly(layers: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    """Write a GeoPackage whose bytes depend only on its content (GDAL stamps the time)."""
    old = os.environ.get("OGR_CURRENT_DATE")
    os.environ["OGR_CURRENT_DATE"] = _BUILD_TIMESTAMP
    try:
        clean = {k: v.reset_index(drop=True).pipe(_stable_types) for k, v in layers.items()}
        write_gpkg(clean, path)
    finally:
        if old is None:
            os.environ.pop("OGR_CURRENT_DATE", None)
        else:
            os.environ["OGR_CURRENT_DATE"] = old


def _stable_types(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    out.geometry = shapely.set_precision(out.geometry.values, 1e-7)
    for col in out.columns:
        if col != "geometry" and out[col].dtype == object:
            out[col] = out[col].astype(pd.StringDtype())
    return out
