"""The interactive life-circle gap map (folium), readable with no network."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.io.outputs.results import GapTables
from spatial.io.outputs.write import read_gpkg
from spatial.lifecircle.counted import counted_categories
from spatial.lifecircle.statuses import STATUSES, gap_matrix
from spatial.render.classes import (
    SHARE_CLASSES,
    missing_colours,
    missing_legend,
)
from spatial.render.communities import add_community_layer
from spatial.render.context import add_context, credit_osm
from spatial.render.layer import Layer
from spatial.render.offline import Basemap, data_bounds
from spatial.render.outline_text import outline_layer_text
from spatial.render.outlines import OutlineLayers
from spatial.render.page import MapPage, column_values
from spatial.standards import Category, load_categories

__all__ = ["GAP_TITLE", "VIEW_COLOURS", "gap_map"]

GAP_TITLE = "15分钟生活圈设施缺口 15-minute life-circle gaps"

#: Status codes of the popup and the filter, one character per category.
_CODES = {
    "covered": "c",
    "covered_over_capacity": "k",
    "too_far": "f",
    "beyond_limit": "b",
    "unreachable": "u",
    "off_network": "o",
    "no_data": "n",
}
#: Compounds in the one-category view, by status (colour-blind safe: blue for covered,
#: pale yellow for covered but short of places, oranges to red for ever farther, purple
#: off the network, grey without data).
VIEW_COLOURS = {
    "c": "#4393c3",
    "k": "#ffffbf",
    "f": "#fdb863",
    "b": "#e66101",
    "u": "#b2182b",
    "o": "#762a83",
    "n": "#d9d9d9",
}
_OVER_LABEL = "覆盖但学位/床位不足 within the radius, short of places (capacity.csv)"
#: The compound popup, built from DOM text nodes: nothing from the data is parsed as HTML.
_POPUP_JS = """
SpatialMap.popups.compound = function (layer, i, cfg) {
  var c = layer.cols, el = SpatialMap.el, cats = cfg.categories, st = cfg.statuses;
  var box = el('div', null, null, 'spatial-popup');
  el('b', c.name[i], box, 'sp-title');
  var table = el('table', null, box);
  [['编号 ID', c.id[i]], ['建成年份 Built', c.build_year && c.build_year[i]],
   ['户数 Households', c.households && c.households[i]], ['层数 Floors', c.floors && c.floors[i]],
   ['街道 Subdistrict', c.subdistrict && c.subdistrict[i]],
   ['社区 Community', c.community && c.community[i]],
   ['改造认定 Eligibility', c.elig && c.elig[i]]].forEach(function (r) {
    if (r[1] === null || r[1] === undefined || r[1] === '') return;
    var tr = el('tr', null, table); el('th', r[0], tr); el('td', r[1], tr);
  });
  el('b', '缺少 Missing: ' + c.n_missing[i] + ' 类 categories', box);
  var ul = el('ul', null, box), nodata = [], codes = c.st[i], d = c.d[i], k = 0;
  for (var j = 0; j < cats.length; j++) {
    var s = codes.charAt(j), cat = cats[j];
    if (s === 'n') { nodata.push(cat.zh); continue; }
    if (s === 'c') continue;
    if (s === 'k') { el('li', cat.zh + ' ' + cat.en + ' — ' + st.k, ul); continue; }
    var dist = d[k++];
    var what = dist === null ? st[s] : '最近 nearest ' + dist + ' m';
    el('li', cat.zh + ' ' + cat.en + ' — ' + what + ' (标准 ≤' + cat.r + ' m)', ul);
  }
  if (nodata.length) el('div', '无数据 no data: ' + nodata.join('、'), box, 'sp-note');
  return box;
};
"""


_STATUS = {
    "priority": ("#762a83", "优先改造 priority"),
    "eligible": ("#1b7837", "符合条件 eligible"),
    "excluded": ("#999999", "不纳入 excluded"),
    "unknown": ("#e08214", "待核实 unknown"),
}
#: From this many compounds, the map draws them as dots below zoom 13 (a whole city).
_DOTS_FROM = 5000
_LEVELS = (
    ("block", "居住街坊 Block"),
    ("5min", "5分钟生活圈 5-minute"),
    ("10min", "10分钟生活圈 10-minute"),
    ("15min", "15分钟生活圈 15-minute"),
)


def _plan_layers(page: MapPage, path: Path) -> pd.Series:
    """Eligibility and facility sites of ``plan.gpkg``; returns the status label by id."""
    import pyogrio

    names = {n for n, _ in pyogrio.list_layers(path)}
    elig = read_gpkg(path, "eligibility")
    status = elig["status"].where(elig["status"].isin(list(_STATUS)), "unknown")
    page.group("plan", "改造计划 Plan", expanded=True)
    page.add(
        elig,
        Layer(
            id="eligibility",
            name="改造对象认定 Eligibility",
            group="plan",
            show=False,
            style={"stroke": "#222", "weight": 1, "fillOpacity": 0.7},
            fill_col="fill",
            popup="fields",
            title_col="name",
            fields=[("认定 Status", "label"), ("原因 Reason", "reason")],
            swatch=_STATUS["priority"][0],
        ),
        cols={
            "name": column_values(elig["name"]),
            "label": [_STATUS[s][1] for s in status],
            "reason": column_values(elig.get("reason_zh", pd.Series("", index=elig.index))),
            "fill": [_STATUS[s][0] for s in status],
        },
    )
    if "sites" in names:
        sites = read_gpkg(path, "sites")
        page.add(
            sites,
            Layer(
                id="sites",
                name="设施选址 Facility sites",
                group="plan",
                show=False,
                style={"fill": "#ffff33", "stroke": "#000", "weight": 2, "fillOpacity": 0.6},
                popup="fields",
                title_col="name",
                fields=[("设施 For", "categories")],
                pane="top",
                swatch="#ffff33",
            ),
            cols={
                "name": column_values(sites["name"]),
                "categories": column_values(sites["categories"]),
            },
        )
    return (
        pd.Series([_STATUS[s][1] for s in status], index=elig["id"].astype(str).to_numpy())
        if "id" in elig
        else pd.Series(dtype=object)
    )


def _category_layers(
    page: MapPage,
    tables: GapTables,
    cats: Sequence[Category],
    show: set[str],
    has_data: dict[str, bool],
    area_layers: OutlineLayers | None,
) -> None:
    """One layer per category (service area and facilities), grouped by life-circle level;
    the categories without data in one closed group of their own, listed last. Outlines
    come from ``tables.service_areas``, or made from a file by ``area_layers``."""
    for level, label in _LEVELS:
        page.group(level, label, expanded=level in ("5min", "block"))
    n_none = sum(1 for c in cats if not has_data.get(c.id))
    if n_none:
        page.group("no_data", f"无数据 {n_none} 类 no data (click to list)", expanded=False)
    pois = tables.pois
    cat_lists = None
    if pois is not None and "categories" in pois:
        attached = pois["attached"].astype(bool) if "attached" in pois else True
        pois = pois[attached]
        # each distinct combination of categories is split once (a city has ~10⁵ POIs)
        combo, combos = pd.factorize(pois["categories"].fillna("").astype(str))
        cat_lists = [set(c.split(";")) for c in combos]
        pois = pois[["name", "geometry"]]
    # rows of each category's outline found once (a map book draws thousands of pages)
    area_rows: dict[str, np.ndarray] = {}
    if tables.service_areas is not None:
        area_rows = {
            str(k): np.asarray(v)
            for k, v in tables.service_areas.groupby("category", sort=False).indices.items()
        }
    empty = gpd.GeoDataFrame({"name": []}, geometry=[], crs="EPSG:4326")
    for cat in cats:
        pts = empty
        area_text: str | Callable[[], str] = ""
        if area_layers is not None:
            n_areas = area_layers.count(cat.id)
            area_text = area_layers.text(cat.id) if n_areas else ""
        elif tables.service_areas is not None and cat.id in area_rows:
            sa = tables.service_areas.iloc[area_rows[cat.id]]
            n_areas = len(sa)
            area_text = outline_layer_text(sa[["geometry"]], basemap=page.basemap)
        else:
            n_areas = 0
        if cat_lists is not None and pois is not None:
            has = [k for k, ids in enumerate(cat_lists) if cat.id in ids]
            pts = pois.iloc[np.flatnonzero(np.isin(combo, has))]
        group = cat.level if cat.level in dict(_LEVELS) else "15min"
        if not has_data.get(cat.id):
            group = "no_data"
        name = f"{cat.zh} {cat.en} (≤{cat.radius_m:g} m)"
        listed_points = len(pts) > 0 or n_areas == 0
        area_layer = Layer(
            id=f"area_{cat.id}",
            name=f"{name} 服务范围 service area",
            group=group,
            show=cat.id in show,
            style={"fill": "#3182bd", "fillOpacity": 0.2, "weight": 0},
            pane="context",
            z_index=5,
            hidden=listed_points,
            simplify_m=0,
            decimals=5,
        )
        page.add_prepared(area_layer, n_areas, area_text)
        names = [v if isinstance(v, str) and v else cat.zh for v in pts["name"]]
        page.add(
            pts,
            Layer(
                id=f"cat_{cat.id}",
                name=name,
                group=group,
                show=cat.id in show,
                style={
                    "fill": "#08519c",
                    "stroke": "#fff",
                    "weight": 1,
                    "radius": 4,
                    "fillOpacity": 0.95,
                },
                popup="fields",
                title_col="name",
                fields=[("设施 Facility", "category")],
                swatch="#3182bd",
                pane="top",
                simplify_m=0,
                together_with=(f"area_{cat.id}",) if listed_points and n_areas else (),
                low_zoom=(14, {"radius": 1.6, "weight": 0}) if len(pts) > _DOTS_FROM else None,
                hidden=not listed_points,
            ),
            cols={"name": names, "category": [f"{cat.zh} {cat.en}"] * len(pts)},
        )


def _status_rows(codes: np.ndarray, dist: np.ndarray) -> tuple[list[str], list[list]]:
    """Per compound: its status codes as one string, and the rounded distances (metres,
    None where unknown) of the categories it is not covered by and that have data."""
    n, k = codes.shape
    st = np.ascontiguousarray(codes).view(f"<U{k}").ravel().tolist() if k else [""] * n
    keep = ~np.isin(codes, ["c", "k", "n"])
    vals = dist[keep]
    ints = np.where(np.isnan(vals), -1, np.rint(np.nan_to_num(vals))).astype(np.int64).tolist()
    flat = [None if v < 0 else v for v in ints]
    ends = np.cumsum(keep.sum(axis=1)).tolist()
    d = [flat[a:b] for a, b in zip([0, *ends][:-1], ends, strict=True)]
    return st, d


def gap_map(
    tables: GapTables,
    *,
    categories: Sequence[Category] | None = None,
    basemap: Basemap = "none",
    tianditu_key: str | None = None,
    title: str = GAP_TITLE,
    osm_data: bool = True,
    show_categories: Sequence[str] = ("kindergarten", "elderly_daycare", "health_station"),
    context: gpd.GeoDataFrame | None = None,
    data_date: str | None = None,
    service_areas: str | Path | OutlineLayers | None = None,
) -> MapPage:
    """Build the gap map: compounds by number of missing categories, a layer per category.

    Parameters
    ----------
    tables
        From :func:`load_gap_tables` (or built from a :class:`~spatial.lifecircle.GapResult`).
    categories
        The taxonomy (default the shipped one); its order sets the popup order.
    basemap
        Online base map offered besides the offline context; ``none`` needs no network.
    tianditu_key
        Key for the Tianditu tiles.
    title
        Shown at the top of the map.
    osm_data
        The data shown come from OpenStreetMap: add its (ODbL) credit. Context read
        from an OSM file adds it too.
    show_categories
        Category layers switched on when the map opens, among those with data; when
        none of them has data, the first three categories that have are shown.
    context
        Streets, water, railways and names drawn under the data (see
        :func:`spatial.render.context.read_context`), WGS84.
    data_date
        Date of the data written under the title (default: today).
    service_areas
        A ``service_areas.gpkg`` read one category at a time instead of
        ``tables.service_areas`` (a whole city's outlines are never all in memory), or
        its layers being made already (:class:`~spatial.render.outlines.OutlineLayers`,
        with this ``basemap``).

    Returns
    -------
    MapPage
        The page; write it with :meth:`MapPage.save` (or :func:`spatial.render.save_map`).
    """
    cats = tuple(categories) if categories is not None else (tables.categories or load_categories())
    # the outlines are made by a thread from now on, while the rest of the page is built
    area_layers = (
        OutlineLayers(service_areas, basemap=basemap)
        if isinstance(service_areas, (str, Path))
        else service_areas
    )
    try:
        return _gap_page(
            tables,
            cats,
            area_layers,
            basemap=basemap,
            tianditu_key=tianditu_key,
            title=title,
            osm_data=osm_data,
            show_categories=show_categories,
            context=context,
            data_date=data_date,
        )
    except BaseException:
        if area_layers is not None:
            area_layers.cancel()
        raise


def _gap_page(
    tables: GapTables,
    cats: tuple[Category, ...],
    area_layers: OutlineLayers | None,
    *,
    basemap: Basemap,
    tianditu_key: str | None,
    title: str,
    osm_data: bool,
    show_categories: Sequence[str],
    context: gpd.GeoDataFrame | None,
    data_date: str | None,
) -> MapPage:
    context = context if context is not None else tables.context
    comp = tables.compounds
    bounds, lonlat = data_bounds(comp, basemap=basemap)
    page = MapPage(
        bounds,
        title=title,
        basemap=basemap,
        tianditu_key=tianditu_key,  # type: ignore[arg-type]
        data_date=data_date,
    )
    credit_osm(page, osm_data=osm_data, context=context)
    add_context(page, context, bounds=lonlat)
    ids = comp["id"].astype(str)
    cat_ids = [c.id for c in cats]
    status = tables.gaps["status"]
    if tables.capacity is not None and len(tables.capacity):  # covered, but short of places
        over = tables.capacity.loc[tables.capacity["status"] == "covered_over_capacity"]
        key = pd.MultiIndex.from_frame(tables.gaps[["compound_id", "category"]].astype(str))
        hit = key.isin(pd.MultiIndex.from_frame(over[["compound_id", "category"]].astype(str)))
        status = status.where(~hit, "covered_over_capacity")
    coded = tables.gaps.assign(code=status.map(_CODES).fillna("u").astype(object))
    code_table = gap_matrix(coded, "code", compound_ids=ids, categories=cat_ids, fill="u")
    codes = code_table.to_numpy(dtype="<U1")
    dist = gap_matrix(tables.gaps, "distance_m", compound_ids=ids, categories=cat_ids)
    st, d = _status_rows(codes, dist.to_numpy(dtype=float))
    has_data = (
        {c.id: not (codes[:, k] == "n").all() for k, c in enumerate(cats)} if len(comp) else {}
    )
    plan_labels = _plan_layers(page, tables.plan_layers) if tables.plan_layers else None
    n_missing = pd.to_numeric(comp["n_missing"], errors="coerce").fillna(0)
    counted = counted_categories(comp, len(cats))
    cols: dict[str, Any] = {
        "id": column_values(ids),
        "name": column_values(comp["name"]) if "name" in comp else column_values(ids),
        "n_missing": column_values(n_missing.astype(int)),
        "fill": missing_colours(n_missing, counted),
        "st": st,
        "d": d,
    }
    for key in ("build_year", "households", "floors", "subdistrict", "community"):
        if key in comp:
            cols[key] = column_values(comp[key])
    if plan_labels is not None and len(plan_labels):
        cols["elig"] = column_values(plan_labels.reindex(ids.to_numpy()))
    page.group("compounds", "小区 Compounds", expanded=True)
    page.add(
        comp,
        Layer(
            id="compounds",
            name="小区 Compounds",
            group="compounds",
            style={"stroke": "#333", "weight": 0.8, "fillOpacity": 0.8},
            fill_col="fill",
            popup="compound",
            swatch=SHARE_CLASSES[2][1],
            pane="data",
            dots_below=13 if len(comp) > _DOTS_FROM else None,
        ),
        cols=cols,
    )
    communities = []
    if tables.communities is not None:
        communities = add_community_layer(page, comp, *tables.communities)
    with_data = [c for c in cats if has_data.get(c.id)]
    shown = {c.id for c in with_data if c.id in show_categories} or {c.id for c in with_data[:3]}
    _category_layers(page, tables, cats, shown, has_data, area_layers)
    page.script(_POPUP_JS)
    page.config.update(
        categories=[{"id": c.id, "zh": c.zh, "en": c.en, "r": int(c.radius_m)} for c in cats],
        statuses={_CODES[sid]: f"{zh} {en}" for sid, zh, en in STATUSES} | {"k": _OVER_LABEL},
        view={
            "layer": "compounds",
            "col": "st",
            "fillCol": "fill",
            "colours": VIEW_COLOURS,
            "labels": {_CODES[sid]: f"{zh} {en}" for sid, zh, en in STATUSES} | {"k": _OVER_LABEL},
            "order": ["c", "k", *[_CODES[sid] for sid, _, _ in STATUSES[1:]]],
            "allLabel": f"全部类别 All: 缺少比例 share missing (of {counted})",
            "options": [
                [str(k), f"{c.zh} {c.en} (≤{c.radius_m:g} m)", [f"cat_{c.id}", f"area_{c.id}"]]
                for k, c in enumerate(cats)
                if has_data.get(c.id)
            ],
        },
        search={
            "layer": "compounds",
            "cols": ["name", "id"],
            "placeholder": "搜索小区 名称或编号 Search name or ID",
        },
        filters={
            "layer": "compounds",
            "missing": {
                "col": "st",
                "options": [
                    [str(k), f"{c.zh} {c.en}"] for k, c in enumerate(cats) if has_data.get(c.id)
                ],
            },
            **({"year": {"col": "build_year"}} if "build_year" in cols else {}),
            **(
                {
                    "status": {
                        "col": "elig",
                        "label": "认定 Eligibility",
                        "options": [[v[1], v[1]] for v in _STATUS.values()],
                    }
                }
                if "elig" in cols
                else {}
            ),
        },
    )
    page.legend(
        f"缺少设施类别 Missing categories (of {counted} with data)",
        [
            *missing_legend(counted),
            ("#3182bd", "服务范围 service area"),
            ("#08519c", "设施 facility"),
            *communities,
        ],
        note=(
            f"{len(cats) - counted} 类无数据 categories without data are not counted"
            if counted < len(cats)
            else ""
        ),
    )
    return page
