"""The bulletin's A4 page (PDF): the units of one level on a map coloured by the share of
their target completed, and the ranking table under it, in Chinese."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.io.crs.projection import to_metric

__all__ = ["PROGRESS_CLASSES", "bulletin_page"]

#: Share of the year's compound target completed → fill (ColorBrewer YlGn, colour-blind
#: safe); units without a target are grey and hatched.
PROGRESS_CLASSES = (
    (0.25, "#ffffcc", "完工率 < 25 %"),
    (0.5, "#c2e699", "25–50 %"),
    (0.75, "#78c679", "50–75 %"),
    (1.0, "#31a354", "75–100 %"),
    (np.inf, "#006837", "≥ 100 %"),
)
_NO_TARGET = "#d9d9d9"
_A4_PORTRAIT_IN = (8.27, 11.69)


def _fill(share: float) -> str:
    if not np.isfinite(share):
        return _NO_TARGET
    for upper, colour, _ in PROGRESS_CLASSES:
        if share < upper:
            return colour
    return PROGRESS_CLASSES[-1][1]


def _areas(compounds: gpd.GeoDataFrame, column: str) -> gpd.GeoDataFrame:
    """One area per unit: the hull of its compounds, a little widened."""
    comp = to_metric(compounds[compounds.geometry.notna()])
    names = comp[column].fillna("未填 unknown").astype(str)
    shapes = comp.geometry.groupby(names.to_numpy()).agg(
        lambda g: shapely.buffer(shapely.convex_hull(shapely.union_all(g.values)), 40)
    )
    return gpd.GeoDataFrame({"unit": shapes.index}, geometry=list(shapes.values), crs=comp.crs)


def bulletin_page(
    units: pd.DataFrame,
    compounds: gpd.GeoDataFrame,
    path: str | Path,
    *,
    level: str,
    title: str,
    notes: list[str],
) -> Path:
    """Write the A4 page.

    Parameters
    ----------
    units
        The bulletin's ``units`` table.
    compounds
        The compounds with their unit columns (any CRS).
    path
        The ``.pdf`` (or ``.png``) file.
    level
        The level drawn and ranked (``district`` …).
    title
        The page's title.
    notes
        Lines printed under the table (settings, what is not counted).

    Returns
    -------
    Path
        ``path``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from spatial.render.static import cjk_style, save_figure

    mine = units[units["level"] == level].sort_values(["rank", "unit"], na_position="last")
    areas = _areas(compounds, level).merge(mine, on="unit", how="left")
    with cjk_style():
        fig = plt.figure(figsize=_A4_PORTRAIT_IN)
        ax = fig.add_axes((0.06, 0.5, 0.88, 0.42))
        fills = [_fill(float(v)) for v in pd.to_numeric(areas["share_completed"], errors="coerce")]
        areas.plot(ax=ax, color=fills, edgecolor="#404040", linewidth=0.8)
        none = areas[pd.to_numeric(areas["share_completed"], errors="coerce").isna()]
        if len(none):
            none.plot(ax=ax, facecolor="none", edgecolor="#7f7f7f", hatch="//", linewidth=0)
        for _, r in areas.iterrows():
            p = r.geometry.representative_point()
            rank = "" if pd.isna(r.get("rank")) else f"第{int(r['rank'])}名\n"
            ax.annotate(f"{rank}{r['unit']}", (p.x, p.y), ha="center", va="center", fontsize=8)
        ax.set_axis_off()
        ax.set_aspect("equal")
        handles = [
            Patch(facecolor=c, edgecolor="#404040", label=lab) for _, c, lab in PROGRESS_CLASSES
        ]
        handles.append(
            Patch(
                facecolor=_NO_TARGET, hatch="//", edgecolor="#7f7f7f", label="未下达目标 no target"
            )
        )
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.01),
            ncol=3,
            fontsize=7,
            title="完工/目标小区数 completed / target compounds",
            title_fontsize=7,
        )
        fig.suptitle(title, fontsize=14, y=0.97)
        table_ax = fig.add_axes((0.04, 0.08, 0.92, 0.33))
        table_ax.set_axis_off()
        rows = []
        for _, r in mine.iterrows():
            target = r["target_compounds"]
            rows.append(
                [
                    "" if pd.isna(r["rank"]) else str(int(r["rank"])),
                    str(r["unit"])[:14],
                    f"{r['started']}/{'—' if pd.isna(target) else int(target)}",
                    f"{r['completed']}/{'—' if pd.isna(target) else int(target)}",
                    "—" if pd.isna(r["share_completed"]) else f"{r['share_completed']:.0%}",
                    f"+{r['started_this_month']} / +{r['completed_this_month']}",
                    str(r["behind"]),
                    str(r["note"] or ""),
                ]
            )
        header = [
            "排名",
            "单位",
            "开工/目标",
            "完工/目标",
            "完工率",
            "本月开工/完工",
            "滞后",
            "说明",
        ]
        if rows:
            widths = [0.06, 0.17, 0.1, 0.1, 0.08, 0.14, 0.06, 0.29]
            t = table_ax.table(
                cellText=rows[:28], colLabels=header, colWidths=widths, loc="upper center"
            )
            t.auto_set_font_size(False)
            t.set_fontsize(7.5)
            t.scale(1, 1.25)
        fig.text(0.04, 0.03, "\n".join(notes), fontsize=6.5, va="bottom")
        try:
            return save_figure(fig, path)
        finally:
            plt.close(fig)
