"""A map sheet for print: the map in a frame, and beside it a panel that never covers it.

The panel holds the title block, the legend, a north arrow with its letter above the
arrow, a scale bar measured on the map, the source and the date, all in the CJK font.
Streets, water and railways of the context (:mod:`spatial.render.context`) are drawn
under the data. Used by the static maps and the atlas (图集).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any, cast

import geopandas as gpd
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrow, Patch, Rectangle

__all__ = ["A3_LANDSCAPE_IN", "draw_context", "finish_sheet", "new_sheet"]

#: A3 landscape, inches (420 × 297 mm).
A3_LANDSCAPE_IN = (420 / 25.4, 297 / 25.4)
_MAP_RECT = (0.02, 0.04, 0.70, 0.90)
_PANEL_RECT = (0.74, 0.04, 0.24, 0.90)
_STREET_WIDTHS = {"major": 1.6, "mid": 1.1, "minor": 0.6, "path": 0.25}


def new_sheet(figsize: tuple[float, float] = (12, 8.5)) -> tuple[Figure, Any, Any]:
    """A figure with a framed map axes on the left and a panel axes on the right.

    Parameters
    ----------
    figsize
        Inches.

    Returns
    -------
    fig, ax, panel
        The figure (no pyplot state), the map axes, the panel axes.
    """
    fig = Figure(figsize=figsize)
    ax = fig.add_axes(_MAP_RECT)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.8)
    ax.set_facecolor("#f7f5f0")
    panel = fig.add_axes(_PANEL_RECT)
    panel.set_axis_off()
    panel.set_xlim(0, 1)
    panel.set_ylim(0, 1)
    return fig, ax, panel


def draw_context(
    ax: Any, context: gpd.GeoDataFrame | None, crs: Any, bounds: Sequence[float]
) -> None:
    """Water, railways and streets by class under the data, in the data's metric ``crs``.

    Parameters
    ----------
    ax
        The map axes.
    context
        From :func:`spatial.render.context.read_context` or ``load_context`` (WGS84), or None.
    crs
        The CRS the data are drawn in (metres).
    bounds
        ``(minx, miny, maxx, maxy)`` of the data in ``crs``; the context is cut to them.
    """
    if context is None or not len(context):
        return
    minx, miny, maxx, maxy = bounds
    pad = max(maxx - minx, maxy - miny) * 0.15 + 50
    frame = context.to_crs(crs).cx[minx - pad : maxx + pad, miny - pad : maxy + pad]
    water = frame[frame["layer"] == "water"]
    areas = water[water.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(areas):
        areas.plot(ax=ax, color="#aad3df", linewidth=0, zorder=0)
    lines = water[~water.index.isin(areas.index)]
    if len(lines):
        lines.plot(ax=ax, color="#8fc3d4", linewidth=1.0, zorder=0)
    rail = frame[frame["layer"] == "rail"]
    if len(rail):
        rail.plot(ax=ax, color="#8c8c8c", linewidth=0.9, linestyle=(0, (4, 2)), zorder=0.5)
    streets = frame[frame["layer"] == "street"]
    for cls in ("path", "minor", "mid", "major"):
        part = streets[streets["cls"] == cls]
        if len(part):
            part.plot(
                ax=ax,
                color="#c9c2b6" if cls != "major" else "#d49a55",
                linewidth=_STREET_WIDTHS[cls],
                zorder=0.6,
            )


def _nice_length(max_m: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ metres not above ``max_m``."""
    exp = 10 ** math.floor(math.log10(max_m))
    return cast("float", max(m * exp for m in (1, 2, 5) if m * exp <= max_m))


def finish_sheet(
    fig: Figure,
    ax: Any,
    panel: Any,
    *,
    title: str,
    subtitle: str = "",
    handles: Sequence[Patch] = (),
    source: str = "",
    data_date: str | None = None,
    notes: Sequence[str] = (),
    table: tuple[str, Sequence[str]] | None = None,
) -> None:
    """Write the panel: title block, legend, notes, a short table, north arrow, scale bar,
    source, date.

    The map axes must hold the data already (the scale bar measures its extent).

    Parameters
    ----------
    fig, ax, panel
        From :func:`new_sheet`.
    title, subtitle
        Title block (Chinese needs the CJK font: draw inside
        :func:`spatial.render.static.cjk_style`).
    handles
        Legend entries.
    source
        Data source line.
    data_date
        Date of the data (default: today).
    notes
        Short lines under the legend (assumptions).
    table
        ``(heading, lines)`` under the notes, as many lines as fit above the north arrow
        (e.g. the compounds missing most, numbered as on the map).
    """
    ax.set_xlabel("")
    ax.set_ylabel("")
    _equal_scale(fig, ax)
    f = fig.get_size_inches()[0] / 12  # font sizes grow with the sheet
    panel.add_patch(Rectangle((0, 0.84), 1, 0.16, facecolor="#f0f0f0", edgecolor="#333", lw=0.8))
    panel.text(
        0.5,
        0.955,
        _two_lines(title),
        ha="center",
        va="center",
        fontsize=11 * f,
        weight="bold",
        linespacing=1.3,
    )
    if subtitle:
        panel.text(
            0.5,
            0.875,
            subtitle,
            ha="center",
            va="center",
            fontsize=7.5 * f,
            color="#333",
            linespacing=1.4,
        )
    y = 0.82
    if handles:
        legend = panel.legend(
            handles=list(handles),
            loc="upper left",
            bbox_to_anchor=(0.0, y),
            fontsize=8,
            frameon=False,
            title="图例 Legend",
            title_fontsize=9,
            alignment="left",
        )
        panel.add_artist(legend)
        y -= 0.03 * (len(handles) + 1)
    for note in notes:
        panel.text(
            0.0, y - 0.02, note, ha="left", va="top", fontsize=6.5 * f, color="#8a6d3b", wrap=True
        )
        y -= 0.06
    if table is not None:
        heading, rows = table
        panel.text(0.0, y - 0.01, heading, ha="left", va="top", fontsize=7.5 * f, weight="bold")
        y -= 0.035
        step = 0.024
        fit = max(int((y - 0.31) / step), 0)
        for line in list(rows)[:fit]:
            panel.text(0.0, y, line, ha="left", va="top", fontsize=6 * f, color="#222")
            y -= step
        if len(rows) > fit:
            more = f"… 另 {len(rows) - fit} 个 more"
            panel.text(0.0, y, more, ha="left", va="top", fontsize=6 * f, color="#555")
    # north arrow: the letter sits above the arrow head, never on it
    panel.add_patch(
        FancyArrow(
            0.12,
            0.16,
            0,
            0.08,
            width=0.025,
            head_width=0.07,
            head_length=0.04,
            color="black",
            length_includes_head=True,
        )
    )
    panel.text(0.12, 0.275, "北 N", ha="center", va="bottom", fontsize=10 * f, weight="bold")
    # scale bar measured on the map: metres per inch of the map axes
    x0, x1 = ax.get_xlim()
    fig_w = fig.get_size_inches()[0]
    m_per_in = (x1 - x0) / (ax.get_position().width * fig_w)
    panel_w_in = panel.get_position().width * fig_w
    length_m = _nice_length(0.55 * panel_w_in * m_per_in)
    frac = length_m / m_per_in / panel_w_in
    left = 0.35
    panel.add_patch(Rectangle((left, 0.19), frac / 2, 0.012, facecolor="black", edgecolor="black"))
    panel.add_patch(
        Rectangle((left + frac / 2, 0.19), frac / 2, 0.012, facecolor="white", edgecolor="black")
    )
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    panel.text(left, 0.215, "0", ha="center", va="bottom", fontsize=7 * f)
    panel.text(left + frac, 0.215, label, ha="center", va="bottom", fontsize=7 * f)
    panel.text(left, 0.165, "比例尺 scale", ha="left", va="top", fontsize=7 * f, color="#555")
    when = data_date or date.today().isoformat()
    lines = [
        f"数据来源 Source: {source}" if source else "",
        f"数据日期 Data: {when}",
        f"制图日期 Made: {date.today().isoformat()}",
    ]
    panel.text(
        0.0,
        0.09,
        "\n".join(t for t in lines if t),
        ha="left",
        va="top",
        fontsize=7 * f,
        color="#333",
        wrap=True,
    )


def _two_lines(title: str) -> str:
    """``中文 English`` as two lines: the Chinese, then the English."""
    for k, ch in enumerate(title):
        if ch.isascii() and ch.isalpha() and k and not title[:k].strip().isascii():
            return f"{title[:k].strip()}\n{title[k:].strip()}"
    return title


def _equal_scale(fig: Figure, ax: Any) -> None:
    """Widen the map's x or y limits so a metre is as long across as up (true scale)."""
    ax.set_aspect("auto")  # geopandas set "equal", which shrinks the frame instead
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    box = ax.get_position()
    w_in, h_in = box.width * fig.get_size_inches()[0], box.height * fig.get_size_inches()[1]
    dx, dy = x1 - x0, y1 - y0
    if dx / dy < w_in / h_in:
        grow = (dy * w_in / h_in - dx) / 2
        ax.set_xlim(x0 - grow, x1 + grow)
    else:
        grow = (dx * h_in / w_in - dy) / 2
        ax.set_ylim(y0 - grow, y1 + grow)
