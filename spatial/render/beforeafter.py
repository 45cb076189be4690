"""The before/after map of an evaluation (one compounds layer, a 时点 State box switching
its colours between before the plan and the end of each year; the new facilities with
the year they open) and the chart of coverage by year."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.policy.evaluation import Evaluation, households_of
from spatial.policy.evaluation_tables import evaluation_by_category, gained_text
from spatial.render.classes import missing_colours, missing_legend
from spatial.render.context import add_context, credit_osm
from spatial.render.layer import Layer
from spatial.render.offline import data_bounds
from spatial.render.page import MapPage, column_values
from spatial.standards import Category

__all__ = ["before_after_map", "coverage_chart", "coverage_share"]

_NEW_COLOUR = {"site": "#2166ac", "renovation": "#1b7837"}


def before_after_map(
    ev: Evaluation,
    compounds: gpd.GeoDataFrame,
    categories: Sequence[Category],
    path: str | Path,
    *,
    title: str = "改造前后 Before and after",
    context: gpd.GeoDataFrame | None = None,
    osm_data: bool = False,
) -> Path:
    """Write the before/after map (offline, like the gap map).

    Parameters
    ----------
    ev
        The evaluation.
    compounds
        The gap run's compounds (``id``, ``name``, any CRS).
    categories
        The taxonomy (names in the popups).
    path
        The ``.html`` file.
    title
        Shown at the top.
    context
        Streets, water, railways and names drawn under the data (WGS84), or None.
    osm_data
        The data come from OpenStreetMap: add its (ODbL) credit.

    Returns
    -------
    Path
        ``path``.
    """
    zh = {c.id: c.zh for c in categories}
    counted = len(ev.counted)
    ids = compounds["id"].astype(str)
    states = ["before", *ev.years]
    labels = ["改造前 before"] + [f"{y} 年末 end of {y}" for y in ev.years]
    bounds, lonlat = data_bounds(compounds)
    page = MapPage(bounds, title=title)
    credit_osm(page, osm_data=osm_data, context=context)
    add_context(page, context, bounds=lonlat)
    page.group("compounds", "小区 Compounds", expanded=True)
    text = gained_text(ev.gained, zh)
    cols: dict[str, list[object]] = {
        "id": column_values(ids),
        "name": column_values(compounds["name"]) if "name" in compounds else [None] * len(ids),
        "gained": column_values(ids.map(text)),
    }
    fields: list[tuple[str, ...]] = [("编号 ID", "id")]
    for k, (state, label) in enumerate(zip(states, labels, strict=True)):
        n = ev.missing[state].reindex(ids).to_numpy(float)
        cols[f"fill_{k}"] = list(missing_colours(pd.Series(n), counted))
        cols[f"n_{k}"] = column_values(pd.Series(n))
        fields.append((f"缺项 lacking, {label}", f"n_{k}"))
    fields.append(("补齐(年度) gained (year)", "gained"))
    page.add(
        compounds[["geometry"]],
        Layer(
            id="compounds",
            name="小区缺项 Compounds by categories lacking",
            group="compounds",
            style={"stroke": "#636363", "weight": 1, "fillOpacity": 0.75},
            fill_col="fill_0",
            popup="fields",
            title_col="name",
            fields=fields,
            note=f"缺项按有数据的 {counted} 类计。Lacking counts the {counted} categories "
            "with data before the plan.",
            swatch="#e34a33",
        ),
        cols=cols,
    )
    fac = _one_point_each(ev.facilities, zh)
    page.group("new", "新增设施 New facilities", expanded=True)
    page.add(
        fac[["geometry"]],
        Layer(
            id="new_facilities",
            name="新增设施 New facilities (year they open)",
            group="new",
            style={"radius": 5, "weight": 1, "stroke": "#ffffff", "fillOpacity": 0.95},
            fill_col="fill",
            popup="fields",
            title_col="label",
            fields=[("年度 Year", "year"), ("来源 From", "kind")],
            swatch=_NEW_COLOUR["site"],
            pane="top",
        ),
        cols={
            "fill": [_NEW_COLOUR.get(k, "#2166ac") for k in fac["kind"]],
            "label": column_values(fac["label"]),
            "year": column_values(fac["year"]),
            "kind": column_values(fac["from"]),
        },
    )
    page.config["states"] = {
        "layer": "compounds",
        "options": [[f"fill_{k}", label] for k, label in enumerate(labels)],
        "counts": [int((ev.missing[s] > 0).sum()) for s in states],
    }
    page.legend(
        "缺项占比 Share of categories lacking",
        [
            *missing_legend(counted),
            (_NEW_COLOUR["site"], "新增设施: 选址 new facility on a site"),
            (_NEW_COLOUR["renovation"], "新增设施: 小区改造 built by a renovation"),
        ],
        note="时点 State 框切换改造前与各年末。Use the 时点 State box to switch between "
        "before the plan and the end of each year.",
    )
    return page.save(path)


def _one_point_each(facilities: gpd.GeoDataFrame, zh: Mapping[str, str]) -> gpd.GeoDataFrame:
    """One point per site and per renovated compound, its categories listed (points at one
    place would cancel each other on the canvas)."""
    if not len(facilities):
        return gpd.GeoDataFrame(
            {"kind": [], "year": [], "label": [], "from": []}, geometry=[], crs=4326
        )
    f = facilities.to_crs(4326)
    where = f["site"].where(f["kind"] == "site", f["compound_id"]).astype(str)
    rows = []
    for (kind, place, year), g in f.groupby([f["kind"], where, f["year"]], sort=True):
        rows.append(
            {
                "kind": kind,
                "year": int(year),
                "label": "、".join(zh.get(c, c) for c in g["category"]),
                "from": ("选址 site " if kind == "site" else "小区改造 renovation of ") + place,
                "geometry": g.geometry.iloc[0],
            }
        )
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=4326)


def coverage_share(ev: Evaluation, compounds: pd.DataFrame) -> pd.Series:
    """Share of household × category pairs covered, before and at the end of each year.

    Parameters
    ----------
    ev
        The evaluation.
    compounds
        The gap run's compounds (``households``).

    Returns
    -------
    Series
        Indexed ``before`` and the years; households missing count as none.
    """
    table = evaluation_by_category(ev, compounds, ())
    total = float(np.nansum(households_of(compounds).to_numpy())) * max(len(ev.counted), 1)
    before = float(sum(ev.covered_households_before.values()))
    after = (
        table.groupby("year")["households_covered_after"].sum()
        if len(table)
        else pd.Series(dtype=float)
    )
    out = {"before": before} | {str(y): float(after.get(y, before)) for y in ev.years}
    return pd.Series(out, dtype=float) / total if total else pd.Series(out, dtype=float) * np.nan


def coverage_chart(runs: Mapping[str, tuple[Evaluation, pd.DataFrame]], path: str | Path) -> Path:
    """A line per plan: the share of household × category pairs covered by year.

    Parameters
    ----------
    runs
        Plan name → (evaluation, compounds).
    path
        The ``.png`` file.

    Returns
    -------
    Path
        ``path``.
    """
    import matplotlib.pyplot as plt

    from spatial.render.static import cjk_style, save_figure

    with cjk_style():
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for name, (ev, comp) in runs.items():
            share = coverage_share(ev, comp) * 100
            ax.plot(range(len(share)), share.to_numpy(), marker="o", label=name)
            ax.set_xticks(range(len(share)), ["改造前\nbefore", *share.index[1:]])
        ax.set_ylabel("户·类覆盖率 households × categories covered (%)")
        ax.set_title("逐年覆盖 Coverage by year")
        ax.grid(alpha=0.3)
        ax.legend(title="方案 plan")
        try:
            return save_figure(fig, path)
        finally:
            plt.close(fig)
