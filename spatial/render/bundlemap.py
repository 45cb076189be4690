"""The interactive bundle map, readable with no network: bundles, members, money links."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.io.crs.chinese import wgs84_to_gcj02
from spatial.io.outputs.results import BundleTables
from spatial.io.survey.schema import PARCEL_KINDS
from spatial.render.context import add_context, credit_osm
from spatial.render.layer import Layer
from spatial.render.offline import Basemap, data_bounds
from spatial.render.page import MapPage, column_values

__all__ = [
    "ASSUMPTION_NOTE",
    "KIND_COLOURS",
    "LINKS_ALL_FROM",
    "STATUS_COLOURS",
    "STATUS_DASH",
    "STATUS_ZH",
    "bundle_map",
]

#: Member fills by kind: no red or green, which mean deficit and self-balancing.
KIND_COLOURS = {
    "old_compound": "#fdae61",
    "old_block": "#fee090",
    "shantytown": "#8c510a",
    "urban_village": "#dfc27d",
    "old_factory": "#4575b4",
    "dilapidated": "#762a83",
    "function_conversion": "#abd9e9",
    "low_efficiency": "#bababa",
}
#: Bundle outlines by balance status.
STATUS_COLOURS = {"self-balancing": "#1a9850", "deficit": "#d7191c"}
STATUS_ZH = {"self-balancing": "自平衡 self-balancing", "deficit": "资金缺口 deficit"}
#: Balance by pattern as well as colour (colour-blind readers): a deficit is dashed.
STATUS_DASH = {"deficit": [7, 4]}
STATUS_PATTERN = {"self-balancing": "实线 solid, +", "deficit": "虚线 dashed, −"}
#: From this zoom (and two steps in from the view of the whole data) every money link is
#: drawn; below it only the selected bundle's.
LINKS_ALL_FROM = 15
LINK_COLOUR = "#111111"
#: From this many rows, members and bundles are drawn as dots below zoom 13.
_DOTS_FROM = 5000
SOURCE_COLOUR = "#01665e"
ASSUMPTION_NOTE = (
    "单位成本与地价为默认假设值，除非用 --finance 文件设定；见各地块“测算依据”。"
    "Unit costs and land values are default assumptions unless set with --finance; "
    "see each parcel's basis."
)
_LINES = {
    "subsidy_yuan": "补助 subsidy",
    "utility_yuan": "专营单位 utilities",
    "original_owner_yuan": "原产权单位 owner unit",
    "residents_yuan": "居民 residents",
    "maintenance_fund_yuan": "维修资金 maintenance fund",
    "city_budget_yuan": "财政 city budget",
}
_FINANCING = {"bond": "专项债 special bond", "loan": "银行贷款 bank loan", "none": "无需融资 none"}


def _wan_number(values: object) -> list[float | None]:
    """Yuan as 万元 numbers to 0.1 (the page formats them): shorter than text."""
    yuan = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    wan = np.round(yuan.to_numpy(dtype=float, na_value=np.nan) / 1e4, 1)
    return [None if x != x else x for x in wan.tolist()]


def _kind_label(kind: object) -> str:
    zh, en, _ = PARCEL_KINDS.get(str(kind), (str(kind), str(kind), ()))
    return f"{zh} {en}"


def _kinds_text(kinds: object) -> str:
    """``old_compound:2;old_factory:1`` as ``老旧小区 old compound ×2、旧厂区 … ×1``."""
    parts = []
    for item in str(kinds or "").split(";"):
        kind, _, n = item.partition(":")
        if kind:
            parts.append(f"{_kind_label(kind)} ×{n or 1}")
    return "、".join(parts)


def _funding_text(frame: pd.DataFrame) -> list[str | None]:
    """The funding lines of each row (万元), or None without them."""
    cols = [c for c in _LINES if c in frame]
    if "city_budget_yuan" not in frame:
        return [None] * len(frame)
    values = frame[cols].apply(pd.to_numeric, errors="coerce").fillna(0.0).to_numpy(float)
    out = np.full(len(frame), "", dtype=object)
    for k, c in enumerate(cols):  # only the lines with money are formatted, column by column
        given = np.flatnonzero(values[:, k] > 0)
        line = np.full(len(frame), "", dtype=object)
        line[given] = [f"{_LINES[c]} {v / 1e4:,.1f} 万元" for v in values[given, k]]
        out = out + np.where((out != "") & (line != ""), "；", "") + line
    return [text or None for text in out.tolist()]


def _link_frame(pairs: pd.DataFrame, basemap: Basemap) -> gpd.GeoDataFrame:
    lon = pairs[["deficit_lon", "surplus_lon"]].to_numpy(dtype=float)
    lat = pairs[["deficit_lat", "surplus_lat"]].to_numpy(dtype=float)
    # three points: the amount is written at the middle one
    mid_lon, mid_lat = lon.mean(axis=1, keepdims=True), lat.mean(axis=1, keepdims=True)
    lon = np.hstack([lon[:, :1], mid_lon, lon[:, 1:]])
    lat = np.hstack([lat[:, :1], mid_lat, lat[:, 1:]])
    lines = shapely.linestrings(np.stack([lon, lat], axis=-1)) if len(pairs) else []
    return gpd.GeoDataFrame(pairs.reset_index(drop=True), geometry=lines, crs="EPSG:4326")


def bundle_map(
    tables: BundleTables,
    *,
    basemap: Basemap = "none",
    tianditu_key: str | None = None,
    title: str = "片区统筹平衡 Renovation bundles",
    osm_data: bool = True,
    context: gpd.GeoDataFrame | None = None,
    data_date: str | None = None,
) -> MapPage:
    """Bundles outlined by balance, members by kind, money links and the parcels they reach.

    Parameters
    ----------
    tables
        From :func:`spatial.io.outputs.results.load_bundle_tables`.
    basemap
        Online base map offered besides the offline context; ``none`` needs no network.
    tianditu_key
        Key for the Tianditu tiles.
    title
        Shown at the top of the map.
    osm_data
        The data come from OpenStreetMap: add its (ODbL) credit.
    context
        Streets, water, railways and names drawn under the data (WGS84), or None.
    data_date
        Date of the data written under the title (default: today).

    Returns
    -------
    MapPage
        The page; write it with :meth:`MapPage.save`.
    """
    context = context if context is not None else tables.context
    bundles, members = tables.bundles, tables.members
    bounds, lonlat = data_bounds(bundles, basemap=basemap)
    page = MapPage(
        bounds,
        title=title,
        basemap=basemap,
        tianditu_key=tianditu_key,
        data_date=data_date,
    )
    credit_osm(page, osm_data=osm_data, context=context)
    add_context(page, context, bounds=lonlat)
    page.group("bundles", "片区 Bundles", expanded=True)
    _add_members(page, members)
    _add_bundles(page, bundles)
    page.group("money", "跨片区资金 Cross-area money", expanded=True)
    sources = tables.sources if tables.sources is not None else members.iloc[:0]
    _add_sources(page, sources)
    links = _link_frame(tables.pairs, basemap)
    _add_links(page, links, basemap)
    if len(links):
        page.config["links"] = _link_config(links)
    page.config.update(
        search={
            "layer": "members",
            "cols": ["name", "id", "bundle_id"],
            "placeholder": "搜索地块 名称、编号或片区 Search name, ID or bundle",
        },
        filters={
            "layer": "bundles",
            "status": {
                "col": "status",
                "label": "状态 Status",
                "options": [[v, v] for v in STATUS_ZH.values()],
            },
        },
    )
    present = set(members["kind"].astype(str))
    page.legend(
        "片区统筹平衡 Bundles",
        [
            (STATUS_COLOURS[s], f"片区边界 outline: {STATUS_ZH[s]} ({STATUS_PATTERN[s]})")
            for s in STATUS_COLOURS
        ]
        + [(c, _kind_label(k)) for k, c in KIND_COLOURS.items() if k in present]
        + [(SOURCE_COLOUR, "出资地块 funding parcel"), (LINK_COLOUR, "跨片区组合 money link")],
        note=ASSUMPTION_NOTE + " 资金联系：点击片区或地块显示其联系与金额，放大后显示全部。"
        "Money links: click a bundle or parcel to see its links and amounts; zoom in to see "
        "all. 片区标注 labels: bundle and its balance (万元).",
    )
    return page


def _add_members(page: MapPage, members: gpd.GeoDataFrame) -> None:
    """The members layer: each parcel coloured by kind, its money in the popup."""
    kinds = members["kind"].astype(str).tolist()
    page.add(
        members,
        Layer(
            id="members",
            name="组成地块 Members by kind",
            group="bundles",
            style={"stroke": "#555", "weight": 0.5, "fillOpacity": 0.75},
            fill_col="fill",
            popup="fields",
            title_col="name",
            fields=[
                ("编号 ID", "id"),
                ("类型 Kind", "kind"),
                ("片区 Bundle", "bundle_id"),
                ("户数 Households", "households"),
                ("成本 Cost", "cost", "wan"),
                ("收益 Revenue", "revenue", "wan"),
                ("平衡 Balance", "balance", "wan"),
                ("资金来源 Funding lines", "funding"),
                ("测算依据 Basis", "basis"),
            ],
            note=ASSUMPTION_NOTE,
            swatch=KIND_COLOURS["old_compound"],
            dots_below=13 if len(members) > _DOTS_FROM else None,
        ),
        cols={
            "name": column_values(members["name"]),
            "id": column_values(members["id"].astype(str)),
            "bundle_id": column_values(members["bundle_id"]),
            "kind": [_kind_label(k) for k in kinds],
            "households": column_values(members.get("households", pd.Series(index=members.index))),
            "cost": _wan_number(members["cost_yuan"]),
            "revenue": _wan_number(members["revenue_yuan"]),
            "balance": _wan_number(members.get("balance_yuan", members["revenue_yuan"])),
            "funding": _funding_text(members),
            "basis": column_values(members.get("basis", pd.Series(index=members.index)))
            if len(members) <= _DOTS_FROM
            else [None] * len(members),
            "fill": [KIND_COLOURS.get(k, "#cccccc") for k in kinds],
        },
    )


def _add_bundles(page: MapPage, bundles: gpd.GeoDataFrame) -> None:
    """The bundles layer: outlines coloured by balance status."""
    status = bundles["status"].astype(str).tolist()
    cov = pd.to_numeric(
        bundles.get("bond_coverage", pd.Series(index=bundles.index)), errors="coerce"
    )
    ratio = pd.to_numeric(bundles["balance_ratio"], errors="coerce")
    cols = {
        "bundle_id": column_values(bundles["bundle_id"]),
        "members": [_kinds_text(k) for k in bundles["kinds"].tolist()],
        "households": column_values(bundles["households"]),
        "cost": _wan_number(bundles["cost_yuan"]),
        "subsidy": _wan_number(bundles["subsidy_yuan"]),
        "revenue": _wan_number(bundles["revenue_yuan"]),
        "balance": _wan_number(bundles["balance_yuan"]),
        "ratio": ["∞" if not np.isfinite(r) else f"{r:.2f}" for r in ratio.fillna(np.inf)],
        "status": [STATUS_ZH.get(s, s) for s in status],
        "funded_by": column_values(bundles.get("funded_by", pd.Series(index=bundles.index))),
        "npv": _wan_number(bundles.get("npv_yuan", pd.Series(index=bundles.index))),
        "coverage": [None if not np.isfinite(v) else f"{v:.2f}" for v in cov.fillna(np.inf)],
        "financing": [
            _FINANCING.get(str(v)) for v in bundles.get("financing", pd.Series(index=bundles.index))
        ],
        "funding": _funding_text(bundles),
        "colour": [STATUS_COLOURS.get(s, "#777777") for s in status],
        "pattern": status,
        "label": [
            None if pd.isna(b) else f"{i} {b / 1e4:+,.0f}万"
            for i, b in zip(
                bundles["bundle_id"].astype(str),
                pd.to_numeric(bundles["balance_yuan"], errors="coerce"),
                strict=True,
            )
        ],
    }
    page.add(
        bundles,
        Layer(
            id="bundles",
            name="片区 Bundles (by balance)",
            group="bundles",
            style={"weight": 2.5, "fillOpacity": 0.04, "z": 1},
            stroke_col="colour",
            fill_col="colour",
            class_col="pattern",
            classes={k: {"dash": v} for k, v in STATUS_DASH.items()},
            label={"col": "label", "minZoom": 14, "font": "bold 11px sans-serif"},
            popup="fields",
            title_col="bundle_id",
            fields=[
                ("组成 Members", "members"),
                ("户数 Households", "households"),
                ("成本 Cost", "cost", "wan"),
                ("补助 Subsidy", "subsidy", "wan"),
                ("收益 Revenue", "revenue", "wan"),
                ("平衡 Balance", "balance", "wan"),
                ("收益/净成本 Ratio", "ratio"),
                ("状态 Status", "status"),
                ("跨片区资金 Funded by", "funded_by"),
                ("净现值 NPV", "npv", "wan"),
                ("本息覆盖倍数 Bond coverage", "coverage"),
                ("融资 Financing", "financing"),
                ("资金来源 Funding lines", "funding"),
            ],
            note=ASSUMPTION_NOTE,
            pane="top",
            swatch=STATUS_COLOURS["deficit"],
            dots_below=13 if len(bundles) > _DOTS_FROM else None,
        ),
        cols=cols,
    )


def _add_sources(page: MapPage, sources: gpd.GeoDataFrame) -> None:
    """Parcels whose land revenue funds other bundles."""
    page.add(
        sources,
        Layer(
            id="sources",
            name="出资地块 Parcels that fund others",
            group="money",
            style={"fill": SOURCE_COLOUR, "stroke": "#000", "weight": 1.2, "fillOpacity": 0.55},
            popup="fields",
            title_col="name",
            fields=[
                ("编号 ID", "id"),
                ("类型 Kind", "kind"),
                ("土地收益 Land revenue", "revenue", "wan"),
                ("调出资金 Money given", "given", "wan"),
            ],
            note=ASSUMPTION_NOTE,
            swatch=SOURCE_COLOUR,
        ),
        cols={
            "name": column_values(sources["name"]) if "name" in sources else [],
            "id": column_values(sources["id"].astype(str)) if "id" in sources else [],
            "kind": [_kind_label(k) for k in sources.get("kind", [])],
            "given": _wan_number(sources.get("given_yuan", [])),
            "revenue": _wan_number(sources.get("revenue_yuan", [])),
        },
    )


def _add_links(page: MapPage, links: gpd.GeoDataFrame, basemap: Basemap) -> None:
    """Dashed lines from a funding parcel to the bundle it pays for (WGS84, GCJ-02 on amap)."""
    if basemap == "amap" and len(links):
        links = links.set_geometry(
            shapely.transform(
                links.geometry.values,
                lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])),
            )
        )
    page.add(
        links,
        Layer(
            id="links",
            name="跨片区组合 Cross-area links",
            group="money",
            style={"stroke": LINK_COLOUR, "weight": 1.6, "dash": [6, 4], "z": 2},
            popup="fields",
            title_col="title",
            fields=[
                ("资金 Money", "amount", "wan"),
                ("片区缺口 Deficit", "deficit", "wan"),
                ("距离 Distance", "distance"),
            ],
            pane="top",
            swatch=LINK_COLOUR,
            simplify_m=0,
            label={"col": "amount_label", "minZoom": 0, "font": "bold 11px sans-serif"},
        ),
        cols={
            "deficit_id": column_values(links.get("deficit_bundle", pd.Series(dtype=object))),
            "surplus_id": column_values(links.get("surplus_id", pd.Series(dtype=object))),
            "amount_label": [
                None if v is None else f"{v:,.0f} 万元"
                for v in _wan_number(links.get("amount_yuan", []))
            ],
            "title": [
                f"{d} ← {s}"
                for d, s in zip(
                    links.get("deficit_bundle", []), links.get("surplus_id", []), strict=True
                )
            ],
            "amount": _wan_number(links.get("amount_yuan", [])),
            "deficit": _wan_number(links.get("deficit_yuan", [])),
            "distance": [
                None if pd.isna(v) else f"{float(v):,.0f} m" for v in links.get("distance_m", [])
            ],
        },
    )


def _link_config(links: gpd.GeoDataFrame) -> dict[str, object]:
    """How the page shows money links: which columns are their ends and amount, which
    layers select them, the amount steps of the slider (万元, from 0 by quantile)."""
    wan = pd.to_numeric(links.get("amount_yuan", pd.Series(dtype=float)), errors="coerce") / 1e4
    wan = wan.dropna().to_numpy(float)
    steps = [0.0]
    if len(wan):
        for q in np.quantile(wan, [0.25, 0.5, 0.75, 0.9, 0.95, 0.99]):
            step = float(f"{q:.2g}")  # two significant figures
            if step > steps[-1]:
                steps.append(step)
    return {
        "layer": "links",
        "amountCol": "amount",
        "endCols": ["deficit_id", "surplus_id"],
        "showFrom": LINKS_ALL_FROM,
        "steps": steps,
        "select": {
            "bundles": ["bundle_id"],
            "members": ["bundle_id", "id"],
            "sources": ["id"],
            "links": ["deficit_id"],
        },
        "hiddenText": "点击片区或地块显示其资金联系，放大后显示全部 Click a bundle or parcel to "
        "see its money links; zoom in to see all.",
        "allText": "显示全部资金联系 All money links in view.",
        "selectedText": "所选片区或地块的资金联系与金额 Links of the selection, with amounts; "
        "close the popup to clear.",
    }
