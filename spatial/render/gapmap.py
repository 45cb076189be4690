"""The interactive life-circle gap map (folium), readable with no network."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element
from folium.utilities import JsCode

from spatial.io.projection import to_metric
from spatial.io.results import GapTables
from spatial.lifecircle.gaps import STATUSES
from spatial.render._offline import (
    OSM_ATTRIBUTION,
    Basemap,
    add_legend,
    figure,
    html_text,
    map_frame,
    offline_map,
    script_json,
)
from spatial.standards import Category, load_categories

__all__ = ["MISSING_CLASSES", "gap_map"]

#: Colour classes of the number of missing categories: (upper bound, colour, zh, en).
MISSING_CLASSES = (
    (0, "#1a9850", "无缺口", "none missing"),
    (3, "#a6d96a", "缺 1–3 类", "1–3"),
    (7, "#fee08b", "缺 4–7 类", "4–7"),
    (12, "#f46d43", "缺 8–12 类", "8–12"),
    (999, "#a50026", "缺 13 类以上", "13 or more"),
)
#: The compound popup, built from DOM text nodes: nothing from the data is parsed as HTML.
_POPUP_JS = """
function(feature, layer) {
  layer.bindPopup(function() {
    var p = feature.properties, cats = window.SPATIAL_CATEGORIES;
    var st = window.SPATIAL_STATUSES, doc = document;
    function el(tag, text, parent) {
      var e = doc.createElement(tag);
      if (text !== undefined && text !== null) e.textContent = String(text);
      if (parent) parent.appendChild(e);
      return e;
    }
    var box = el('div'); box.className = 'spatial-popup';
    var title = el('b', p.name, box); title.style.fontSize = '14px';
    var table = el('table', null, box);
    [['编号 ID', p.id], ['建成年份 Built', p.build_year], ['户数 Households', p.households],
     ['层数 Floors', p.floors], ['街道 Subdistrict', p.subdistrict],
     ['社区 Community', p.community]].forEach(function(r) {
      if (r[1] === null || r[1] === undefined) return;
      var tr = el('tr', null, table); el('th', r[0], tr); el('td', r[1], tr);
    });
    el('b', '缺少 Missing: ' + p.n_missing + ' 类 categories', box);
    var ul = el('ul', null, box), nodata = [];
    for (var i = 0; i < cats.length; i++) {
      var s = p.status[i], d = p.dist[i], c = cats[i];
      if (s === 'no_data') { nodata.push(c.zh); continue; }
      if (s === 'covered') continue;
      var what = d === null ? st[s] : '最近 nearest ' + d + ' m';
      el('li', c.zh + ' ' + c.en + ' — ' + what + ' (标准 ≤' + c.r + ' m)', ul);
    }
    if (nodata.length) el('div', '无数据 no data: ' + nodata.join('、'), box).style.color = '#777';
    return box;
  }, {maxWidth: 380, maxHeight: 360});
}
"""


def _colour(n: float) -> str:
    return next(c for bound, c, _, _ in MISSING_CLASSES if n <= bound)


def _props(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return value.item() if isinstance(value, np.generic) else value


def _dilated_cells(ij: np.ndarray) -> np.ndarray:
    """The distinct grid cells of ``ij`` and their 8 neighbours, as (i, j) rows.

    Cells are numbered as one int64 each (1-D unique is ~10× faster than rows).
    """
    if not len(ij):
        return ij.reshape(0, 2)
    low = ij.min(axis=0) - 1
    rel = ij - low  # ≥ 1: room for the -1 neighbour
    width = int(rel[:, 1].max()) + 2
    keys = np.unique(rel[:, 0] * width + rel[:, 1])
    steps = np.array([dx * width + dy for dx in (-1, 0, 1) for dy in (-1, 0, 1)])
    keys = np.unique((keys[:, None] + steps[None]).ravel())
    return np.column_stack([keys // width, keys % width]) + low


def _generalise(areas: gpd.GeoDataFrame, *, cell_m: float = 25.0) -> gpd.GeoDataFrame:
    """Service areas for display: reachable streets on a ``cell_m`` grid, one cell wide.

    The lines (or the outlines of buffered lines read from ``service_areas.gpkg``) are
    densified, their vertices snapped to grid cells, the cells dilated by one to close
    the street corridor and merged (``shapely.coverage_union_all``), then simplified.
    This keeps a city map small and fast to draw; the exact reachable street parts stay
    in ``service_areas.gpkg``.
    """
    metric = to_metric(areas) if not areas.crs.is_projected else areas
    shapes = []
    for geom in metric.geometry.values:
        lines = geom.boundary if geom.geom_type in ("Polygon", "MultiPolygon") else geom
        xy = shapely.get_coordinates(shapely.segmentize(lines, cell_m / 2))
        ij = _dilated_cells(np.floor(xy / cell_m).astype(np.int64))
        cells = shapely.box(
            ij[:, 0] * cell_m, ij[:, 1] * cell_m, (ij[:, 0] + 1) * cell_m, (ij[:, 1] + 1) * cell_m
        )
        shapes.append(shapely.simplify(shapely.coverage_union_all(cells), cell_m / 2))
    return metric.assign(geometry=shapes)


_STATUS = {
    "priority": ("#762a83", "优先改造 priority"),
    "eligible": ("#1b7837", "符合条件 eligible"),
    "excluded": ("#999999", "不纳入 excluded"),
    "unknown": ("#e08214", "待核实 unknown"),
}


def _add_plan_layers(m: folium.Map, path: Path, basemap: Basemap) -> None:
    """Eligibility (compounds by status) and chosen facility sites from ``plan.gpkg``."""
    import pyogrio

    names = {n for n, _ in pyogrio.list_layers(path)}
    elig = gpd.read_file(path, layer="eligibility", engine="pyogrio")
    frame = map_frame(html_text(elig, ["name", "reason_zh"]), basemap=basemap).assign(
        colour=elig["status"].map(lambda s: _STATUS.get(s, _STATUS["unknown"])[0]),
        label=elig["status"].map(lambda s: _STATUS.get(s, _STATUS["unknown"])[1]),
    )
    group = folium.FeatureGroup(name="改造对象认定 Eligibility", show=False)
    folium.GeoJson(
        frame[["name", "label", "reason_zh", "colour", "geometry"]].__geo_interface__,
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#222",
            "weight": 1,
            "fillOpacity": 0.7,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "label", "reason_zh"], aliases=["小区", "认定", "原因"]
        ),
    ).add_to(group)
    group.add_to(m)
    if "sites" in names:
        sites = map_frame(
            html_text(gpd.read_file(path, layer="sites", engine="pyogrio"), ["name", "categories"]),
            basemap=basemap,
        )
        sgroup = folium.FeatureGroup(name="设施选址 Facility sites", show=False)
        folium.GeoJson(
            sites[["name", "categories", "geometry"]].__geo_interface__,
            style_function=lambda f: {
                "fillColor": "#ffff33",
                "color": "#000",
                "weight": 2,
                "fillOpacity": 0.6,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "categories"], aliases=["选址地块 Site", "设施 For"]
            ),
        ).add_to(sgroup)
        sgroup.add_to(m)


def gap_map(
    tables: GapTables,
    *,
    categories: Sequence[Category] | None = None,
    basemap: Basemap = "none",
    tianditu_key: str | None = None,
    title: str = "15分钟生活圈设施缺口 15-minute life-circle gaps",
    osm_data: bool = True,
    show_categories: Sequence[str] = ("kindergarten", "elderly_daycare", "health_station"),
) -> folium.Map:
    """Build the gap map: compounds by number of missing categories, a layer per category.

    Parameters
    ----------
    tables
        From :func:`load_gap_tables` (or built from a :class:`~spatial.lifecircle.GapResult`).
    categories
        The taxonomy (default the shipped one); its order sets the popup order.
    basemap
        Base map; ``none`` needs no network.
    tianditu_key
        Key for the Tianditu tiles.
    title
        Shown above the legend.
    osm_data
        Add the OpenStreetMap (ODbL) attribution.
    show_categories
        Category layers switched on when the map opens; the others start hidden.

    Returns
    -------
    folium.Map
        The map; save it with :func:`spatial.render.save_map`.
    """
    cats = tuple(categories) if categories is not None else (tables.categories or load_categories())
    comp = map_frame(tables.compounds, basemap=basemap)
    m = offline_map(
        tuple(comp.total_bounds),
        basemap=basemap,
        tianditu_key=tianditu_key,
        attribution=OSM_ATTRIBUTION if osm_data else "",
    )
    table = [{"id": c.id, "zh": c.zh, "en": c.en, "r": int(c.radius_m)} for c in cats]
    statuses = {sid: f"{zh} {en}" for sid, zh, en in STATUSES}
    figure(m).header.add_child(
        Element(
            f"<script>window.SPATIAL_CATEGORIES = {script_json(table)};"
            f"window.SPATIAL_STATUSES = {script_json(statuses)};</script>"
            "<style>.spatial-popup table{border-collapse:collapse;margin:4px 0}"
            ".spatial-popup th{text-align:left;padding-right:8px;color:#555;font-weight:normal}"
            ".spatial-popup ul{margin:2px 0 0 16px;padding:0}</style>"
        ),
        name="spatial_categories",
    )
    dist = tables.gaps.pivot(index="compound_id", columns="category", values="distance_m")
    dist = dist.reindex(index=comp["id"].astype(str), columns=[c.id for c in cats])
    status = tables.gaps.pivot(index="compound_id", columns="category", values="status")
    status = status.reindex(index=comp["id"].astype(str), columns=[c.id for c in cats])
    keep = [
        "id",
        "name",
        "build_year",
        "households",
        "floors",
        "subdistrict",
        "community",
        "n_missing",
        "missing",
    ]
    props = comp[[k for k in keep if k in comp]].copy()
    features = []
    for k, (row, geom) in enumerate(zip(props.to_dict("records"), comp.geometry, strict=True)):
        p = {key: _props(v) for key, v in row.items()}
        p["dist"] = [None if np.isnan(d) else round(float(d)) for d in dist.iloc[k]]
        p["status"] = [str(v) if isinstance(v, str) else "unreachable" for v in status.iloc[k]]
        p["fill"] = _colour(float(p.get("n_missing") or 0))  # type: ignore[arg-type]
        features.append({"type": "Feature", "properties": p, "geometry": geom.__geo_interface__})
    compounds_layer = folium.FeatureGroup(name="小区 Compounds", show=True)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="compounds",
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": "#333",
            "weight": 1,
            "fillOpacity": 0.75,
        },
        on_each_feature=JsCode(_POPUP_JS),
    ).add_to(compounds_layer)
    for cat in cats:
        group = folium.FeatureGroup(
            name=escape(f"{cat.zh} {cat.en} (≤{cat.radius_m:g} m)"), show=cat.id in show_categories
        )
        if tables.service_areas is not None:
            sa = tables.service_areas[tables.service_areas["category"] == cat.id]
            if len(sa):
                folium.GeoJson(
                    map_frame(
                        _generalise(sa[["category", "geometry"]]),
                        basemap=basemap,
                        simplify_m=0,
                        decimals=5,
                    ).__geo_interface__,
                    style_function=lambda f: {
                        "fillColor": "#3182bd",
                        "color": "#3182bd",
                        "weight": 0,
                        "fillOpacity": 0.18,
                    },
                ).add_to(group)
        if tables.pois is not None and "categories" in tables.pois:
            has = (
                tables.pois["categories"]
                .fillna("")
                .str.split(";")
                .apply(lambda ids, c=cat.id: c in ids)
            )
            pts = tables.pois[has & tables.pois.get("attached", True)]
            if len(pts):
                frame = map_frame(
                    html_text(
                        pts[["name", "geometry"]].assign(name=pts["name"].fillna(cat.zh)), ["name"]
                    ),
                    basemap=basemap,
                    simplify_m=0,
                )
                folium.GeoJson(
                    frame.__geo_interface__,
                    marker=folium.CircleMarker(
                        radius=4, color="#08519c", weight=1, fill=True, fill_opacity=0.9
                    ),
                    tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
                ).add_to(group)
        group.add_to(m)
    compounds_layer.add_to(m)
    if tables.plan_layers is not None:
        _add_plan_layers(m, tables.plan_layers, basemap)
    folium.LayerControl(collapsed=True).add_to(m)
    add_legend(
        m,
        title,
        [(c, f"{zh} {en}") for _, c, zh, en in MISSING_CLASSES]
        + [("#3182bd", "服务范围 service area"), ("#08519c", "设施 facility")],
    )
    return m
