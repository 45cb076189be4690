"""The interactive bundle map (folium), readable with no network."""

from __future__ import annotations

from html import escape

import folium
import numpy as np
import pandas as pd

from spatial.io.chinese_crs import wgs84_to_gcj02
from spatial.io.results import BundleTables
from spatial.io.schema import PARCEL_KINDS
from spatial.render._offline import (
    OSM_ATTRIBUTION,
    Basemap,
    add_legend,
    html_text,
    map_frame,
    offline_map,
)

__all__ = ["KIND_COLOURS", "STATUS_COLOURS", "STATUS_ZH", "bundle_map"]

KIND_COLOURS = {
    "old_compound": "#fdae61",
    "old_block": "#fee090",
    "shantytown": "#d73027",
    "urban_village": "#f46d43",
    "old_factory": "#4575b4",
    "dilapidated": "#a50026",
    "function_conversion": "#74add1",
    "low_efficiency": "#abd9e9",
}
STATUS_COLOURS = {"self-balancing": "#1a9850", "deficit": "#d73027"}
STATUS_ZH = {"self-balancing": "自平衡 self-balancing", "deficit": "资金缺口 deficit"}


def _wan(yuan: float) -> str:
    return f"{yuan / 1e4:,.0f} 万元"


_LINES = {
    "subsidy_yuan": "补助 subsidy",
    "utility_yuan": "专营单位 utilities",
    "original_owner_yuan": "原产权单位 owner unit",
    "residents_yuan": "居民 residents",
    "maintenance_fund_yuan": "维修资金 maintenance fund",
    "city_budget_yuan": "财政 city budget",
}
_FINANCING = {"bond": "专项债 special bond", "loan": "银行贷款 bank loan", "none": "无需融资 none"}


def _funding_text(frame: pd.DataFrame) -> pd.Series:
    """The funding lines of each row as one text (万元), or "" without them."""
    cols = [c for c in _LINES if c in frame]
    if "city_budget_yuan" not in frame:
        return pd.Series("", index=frame.index)
    return frame[cols].apply(
        lambda r: "; ".join(f"{_LINES[c]} {_wan(float(r[c]))}" for c in cols if float(r[c]) > 0),
        axis=1,
    )


def _finance_fields(b: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """NPV, bond coverage, financing and funding lines of bundles, when the folder has them."""
    if "npv_yuan" not in b:
        return b, [], []
    cov = pd.to_numeric(b["bond_coverage"], errors="coerce")
    b = b.assign(
        npv=pd.to_numeric(b["npv_yuan"], errors="coerce").map(_wan),
        coverage=cov.map(lambda v: "—" if not np.isfinite(v) else f"{v:.2f}"),
        financing_label=b["financing"].map(_FINANCING).fillna(""),
        funding=_funding_text(b),
    )
    fields = ["npv", "coverage", "financing_label", "funding"]
    aliases = [
        "净现值 NPV",
        "本息覆盖倍数 Bond coverage",
        "融资 Financing",
        "资金来源 Funding lines",
    ]
    return b, fields, aliases


def bundle_map(
    tables: BundleTables,
    *,
    basemap: Basemap = "none",
    tianditu_key: str | None = None,
    title: str = "片区统筹平衡 Renovation bundles",
    osm_data: bool = True,
) -> folium.Map:
    """Bundles coloured by balance status, members by kind, cross-area pairs as links.

    Parameters
    ----------
    tables
        From :func:`spatial.io.results.load_bundle_tables`.
    basemap
        Base map; ``none`` needs no network.
    tianditu_key
        Key for the Tianditu tiles.
    title
        Shown above the legend.
    osm_data
        Add the OpenStreetMap (ODbL) attribution.

    Returns
    -------
    folium.Map
        The map; save it with :func:`spatial.render.save_map`.
    """
    bundles = map_frame(tables.bundles, basemap=basemap)
    members = map_frame(tables.members, basemap=basemap)
    m = offline_map(
        tuple(bundles.total_bounds),
        basemap=basemap,
        tianditu_key=tianditu_key,
        attribution=OSM_ATTRIBUTION if osm_data else "",
    )
    kinds = folium.FeatureGroup(name="组成地块 Members by kind", show=True)
    mem = members.assign(
        kind_label=members["kind"].map(lambda k: " ".join(PARCEL_KINDS[k][:2])),
        fill=members["kind"].map(KIND_COLOURS),
        cost=members["cost_yuan"].map(_wan),
        revenue=members["revenue_yuan"].map(_wan),
        funding=_funding_text(members),
    )
    cols = ["name", "kind_label", "bundle_id", "cost", "revenue", "funding", "fill", "geometry"]
    folium.GeoJson(
        html_text(mem[cols], ["name", "kind_label", "bundle_id", "funding"]).__geo_interface__,
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": "#555",
            "weight": 0.5,
            "fillOpacity": 0.7,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "kind_label", "bundle_id"],
            aliases=["名称 Name", "类型 Kind", "片区 Bundle"],
        ),
        popup=folium.GeoJsonPopup(
            fields=["name", "kind_label", "bundle_id", "cost", "revenue", "funding"],
            aliases=[
                "名称 Name",
                "类型 Kind",
                "片区 Bundle",
                "成本 Cost",
                "收益 Revenue",
                "资金来源 Funding lines",
            ],
        ),
    ).add_to(kinds)
    kinds.add_to(m)
    outline = folium.FeatureGroup(name="片区 Bundles", show=True)
    b = bundles.assign(
        status_label=bundles["status"].map(STATUS_ZH),
        colour=bundles["status"].map(STATUS_COLOURS),
        cost=bundles["cost_yuan"].map(_wan),
        subsidy=bundles["subsidy_yuan"].map(_wan),
        revenue=bundles["revenue_yuan"].map(_wan),
        balance=bundles["balance_yuan"].map(_wan),
        ratio=bundles["balance_ratio"].map(lambda r: "∞" if not np.isfinite(r) else f"{r:.2f}"),
    )
    fields = [
        "bundle_id",
        "kinds",
        "households",
        "cost",
        "subsidy",
        "revenue",
        "balance",
        "ratio",
        "status_label",
    ]
    aliases = [
        "片区 Bundle",
        "组成 Members",
        "户数 Households",
        "成本 Cost",
        "补助 Subsidy",
        "收益 Revenue",
        "平衡 Balance",
        "收益/净成本 Ratio",
        "状态 Status",
    ]
    b, more, more_aliases = _finance_fields(b)
    fields, aliases = [*fields, *more], [*aliases, *more_aliases]
    folium.GeoJson(
        html_text(b[[*fields, "colour", "geometry"]], fields).__geo_interface__,
        style_function=lambda f: {
            "color": f["properties"]["colour"],
            "weight": 3,
            "fillOpacity": 0.05,
            "fillColor": f["properties"]["colour"],
        },
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases),
    ).add_to(outline)
    outline.add_to(m)
    links = folium.FeatureGroup(name="跨片区组合 Cross-area pairs", show=True)
    ends = tables.pairs
    if len(ends):
        lon = ends[["deficit_lon", "surplus_lon"]].to_numpy(dtype=float)
        lat = ends[["deficit_lat", "surplus_lat"]].to_numpy(dtype=float)
        if basemap == "amap":
            lon, lat = wgs84_to_gcj02(lon, lat)
        for k, r in enumerate(ends.to_dict("records")):
            tip = (
                f"{r['deficit_bundle']} ← {r['surplus_id']}: 缺口 deficit "
                f"{_wan(float(r['deficit_yuan']))}, 盈余 surplus "
                f"{_wan(float(r['surplus_yuan']))}"
            )
            folium.PolyLine(
                [(lat[k, 0], lon[k, 0]), (lat[k, 1], lon[k, 1])],
                color="#762a83",
                weight=2,
                dash_array="6 4",
                tooltip=escape(tip),
            ).add_to(links)
    links.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    add_legend(
        m,
        title,
        [(STATUS_COLOURS[s], STATUS_ZH[s]) for s in STATUS_COLOURS]
        + [(c, " ".join(PARCEL_KINDS[k][:2])) for k, c in KIND_COLOURS.items()]
        + [("#762a83", "跨片区组合 cross-area pair")],
    )
    return m
