"""The 完整居住社区 layer of the gap map: each community (or proposed planning unit) of
``spatial assess`` drawn over its compounds, coloured by the share of the answerable items
it does not meet, its popup listing what is missing."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from spatial.io.crs.projection import to_metric
from spatial.render.layer import Layer
from spatial.render.page import MapPage, column_values

__all__ = ["COMMUNITY_CLASSES", "add_community_layer"]

_MET, _NO_DATA = "达标 met", "无数据 no data"
#: Share of the answerable items not met → fill (ColorBrewer Purples: apart from the
#: compounds' OrRd, colour-blind safe).
COMMUNITY_CLASSES = (
    (0.0, "#f2f0f7", "全部达标 all met"),
    (0.25, "#cbc9e2", "≤ 1/4 未达标 not met"),
    (0.5, "#9e9ac8", "≤ 1/2 未达标 not met"),
    (0.75, "#756bb1", "≤ 3/4 未达标 not met"),
    (1.0, "#54278f", "> 3/4 未达标 not met"),
)
#: Compounds of a unit this close (metres) are drawn as one area.
_CLOSE_M = 25.0


def _per_thousand_text(thousand: pd.DataFrame | None, level: str) -> dict[str, str]:
    """Per unit: its floor area and land per 1,000 residents at ``level`` against the
    minimum, and the m² short."""
    if thousand is None or not len(thousand):
        return {}
    rows = thousand[thousand["level"] == level]
    return {
        str(r.unit): (
            f"建筑 floor {r.floor_per_1000:,.0f} / {r.floor_min_per_1000:,.0f}, "
            f"用地 land {r.land_per_1000:,.0f} / {r.land_min_per_1000:,.0f} m²/千人; "
            f"缺 short {r.floor_short_m2:,.0f} / {r.land_short_m2:,.0f} m²"
        )
        for r in rows.itertuples()
        if r.residents > 0
    }


def add_community_layer(
    page: MapPage,
    compounds: gpd.GeoDataFrame,
    units: pd.DataFrame,
    check: pd.DataFrame,
    thousand: pd.DataFrame | None = None,
) -> list[tuple[str, str]]:
    """Add the layer (off when the map opens) to ``page``.

    Parameters
    ----------
    page
        The gap map.
    compounds
        The gap run's compounds (``id``, any CRS).
    units
        ``units.csv`` of ``spatial assess``: ``compound_id``, ``unit``, ``proposed``.
    check
        ``community_check.csv``: one row per unit and item.
    thousand
        ``per_thousand.csv``: the unit's 5-minute 千人指标 goes into its popup.

    Returns
    -------
    list of (colour, label)
        Legend lines for the gap map's legend.
    """
    unit_of = units.assign(compound_id=units["compound_id"].astype(str)).set_index("compound_id")
    comp = to_metric(compounds)
    comp = comp.assign(unit=comp["id"].astype(str).map(unit_of["unit"]))
    comp = comp[comp["unit"].notna()]
    shapes = comp.groupby("unit", sort=False).geometry.agg(
        lambda g: shapely.buffer(shapely.buffer(shapely.union_all(g.values), _CLOSE_M), -_CLOSE_M)
    )
    areas = gpd.GeoDataFrame({"unit": shapes.index}, geometry=list(shapes.values), crs=comp.crs)
    key = check["unit"]  # counted per unit as `spatial assess` counts them (no call per unit)
    by_unit = check.groupby(key, sort=False)
    answered = (check["verdict"] != _NO_DATA).groupby(key, sort=False).sum().astype(int)
    met = (check["verdict"] == _MET).groupby(key, sort=False).sum().astype(int)
    not_met = check[(check["verdict"] != _MET) & (check["verdict"] != _NO_DATA)]
    listed = not_met.groupby("unit")["item_zh"].agg("、".join)
    names = areas["unit"].astype(str)
    n_not = (answered - met).reindex(names).fillna(0)
    counted = int(answered.max()) if len(answered) else 0
    proposed = unit_of.groupby("unit")["proposed"].first()
    per_1000 = _per_thousand_text(thousand, "5min")
    page.add(
        areas,
        Layer(
            id="communities",
            name="完整社区 Complete community (spatial assess)",
            group="compounds",
            show=False,
            style={"stroke": "#3f007d", "weight": 2, "fillOpacity": 0.6, "dash": [4, 3]},
            fill_col="fill",
            popup="fields",
            title_col="unit",
            fields=[
                ("达标项 Items met", "met"),
                ("未达标 Not met", "missing"),
                ("常住人口(估) Residents", "residents"),
                ("拟议单元 Proposed unit", "proposed"),
                ("千人指标 5-minute per 1,000 (GB 50180 表5.0.2)", "per_1000"),
            ],
            note="每项: 社区内每个小区在该类设施服务半径内。"
            "An item is met when every compound of the unit reaches it within its radius.",
            swatch=COMMUNITY_CLASSES[3][1],
            pane="data",
            z_index=3,
        ),
        cols={
            "unit": column_values(names),
            "met": [f"{met.get(u, 0)} / {answered.get(u, 0)}" for u in names],
            "missing": [listed.get(u) for u in names],
            "residents": [
                f"{v:,.0f}" for v in by_unit["residents"].first().reindex(names).fillna(0)
            ],
            "proposed": ["是 yes" if bool(proposed.get(u, False)) else None for u in names],
            "per_1000": [per_1000.get(u) for u in names],
            "fill": [_fill(n / max(counted, 1)) for n in n_not.to_numpy(float)],
        },
    )
    return [
        (
            COMMUNITY_CLASSES[0][1],
            f"完整社区 layer: {COMMUNITY_CLASSES[0][2]} (of {counted} items)",
        ),
        (COMMUNITY_CLASSES[-1][1], f"完整社区 layer: {COMMUNITY_CLASSES[-1][2]}"),
    ]


def _fill(share: float) -> str:
    """The class colour of a share of items not met."""
    for upper, colour, _ in COMMUNITY_CLASSES:
        if share <= upper + 1e-12:
            return colour
    return COMMUNITY_CLASSES[-1][1]
