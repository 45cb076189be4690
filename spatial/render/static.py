"""Static gap and bundle maps (PNG/PDF) for reports, with Chinese labels in a CJK font.

The font is a CJK font installed on the machine — Noto Sans CJK SC (Debian/Ubuntu
``fonts-noto-cjk``, SIL Open Font License), Source Han Sans, WenQuanYi, or on office PCs
Microsoft YaHei / SimHei / PingFang — or, where none is installed, the one of the
optional PyPI extra ``spatial[fonts]`` (``mplfonts``). Without any, static maps refuse to
draw rather than print missing-glyph boxes. Maps carry a legend, a north arrow and a
scale bar.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib_scalebar.scalebar import ScaleBar

from spatial.io.projection import to_metric
from spatial.io.schema import PARCEL_KINDS
from spatial.io.write import atomic_path
from spatial.render.bundlemap import KIND_COLOURS, STATUS_COLOURS, STATUS_ZH
from spatial.render.gapmap import MISSING_CLASSES

__all__ = ["CJK_FAMILIES", "cjk_font_path", "cjk_style", "static_bundle_map", "static_gap_map"]


#: CJK font families tried in order (system fonts first, by family name).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
)


@lru_cache(maxsize=1)
def _cjk_font() -> tuple[str, Path]:
    fonts = font_manager.fontManager.ttflist
    for family in CJK_FAMILIES:
        found = [f for f in fonts if f.name == family]
        if found:
            best = min(
                found, key=lambda f: abs(int(f.weight) - 400) if str(f.weight).isdigit() else 0
            )
            return family, Path(best.fname)
    try:
        from importlib import resources

        path = Path(str(resources.files("mplfonts").joinpath("fonts/NotoSansCJKsc-Regular.otf")))
    except ModuleNotFoundError:
        raise RuntimeError(
            "no Chinese (CJK) font found for static maps: install one — on Debian/Ubuntu "
            "`apt-get install fonts-noto-cjk`, or `pip install 'spatial[fonts]'`"
        ) from None
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name(), path


def cjk_font_path() -> Path:
    """Find the CJK font file static maps use (registered with matplotlib).

    Returns
    -------
    Path
        The font file (``.otf``, ``.ttf`` or ``.ttc``) of the first family of
        :data:`CJK_FAMILIES` installed, else the ``spatial[fonts]`` one.

    Raises
    ------
    RuntimeError
        When no CJK font is installed; the message says how to install one.
    """
    return _cjk_font()[1]


@contextmanager
def cjk_style() -> Any:
    """A matplotlib style context drawing Chinese in the CJK font of :func:`cjk_font_path`.

    Raises
    ------
    RuntimeError
        When no CJK font is installed.
    """
    name = _cjk_font()[0]
    with matplotlib.rc_context({"font.family": [name], "axes.unicode_minus": False}):
        yield


def _decorate(ax: Any, title: str, handles: list[Patch], source: str) -> None:
    ax.set_title(title, fontsize=14)
    ax.set_axis_off()
    ax.add_artist(ScaleBar(1, "m", location="lower right", box_alpha=0.7))
    ax.annotate(
        "N 北",
        xy=(0.05, 0.95),
        xytext=(0.05, 0.85),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=11,
        arrowprops={"facecolor": "black", "width": 4, "headwidth": 12},
    )
    ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.85)
    ax.text(
        0.99, -0.02, source, transform=ax.transAxes, ha="right", va="top", fontsize=7, color="#555"
    )


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=150, bbox_inches="tight", format=fmt)
    return path


def static_gap_map(
    compounds: gpd.GeoDataFrame,
    path: str | Path,
    *,
    title: str = "15分钟生活圈设施缺口 15-minute life-circle gaps",
    source: str = "",
) -> Path:
    """PNG/PDF map of compounds coloured by the number of missing categories.

    Parameters
    ----------
    compounds
        Compounds with ``n_missing``, any CRS.
    path
        Target ``.png`` or ``.pdf``.
    title
        Title (Chinese needs the CJK font).
    source
        Data credit printed under the map.

    Returns
    -------
    Path
        ``path``.
    """
    comp = to_metric(compounds) if not compounds.crs.is_projected else compounds
    colours = comp["n_missing"].map(
        lambda n: next(c for bound, c, _, _ in MISSING_CLASSES if n <= bound)
    )
    with cjk_style():
        fig = Figure(figsize=(9, 9))  # no pyplot: no global backend or figure state
        ax = fig.subplots()
        comp.plot(ax=ax, color=colours, edgecolor="#333", linewidth=0.3)
        handles = [Patch(color=c, label=f"{zh} {en}") for _, c, zh, en in MISSING_CLASSES]
        _decorate(ax, title, handles, source)
        return _save(fig, path)


def static_bundle_map(
    bundles: gpd.GeoDataFrame,
    members: gpd.GeoDataFrame,
    path: str | Path,
    *,
    title: str = "片区统筹平衡 Renovation bundles",
    source: str = "",
) -> Path:
    """PNG/PDF map of bundle members by kind, bundles outlined by balance status.

    Parameters
    ----------
    bundles
        Bundle outlines with ``status``, any CRS.
    members
        Member parcels with ``kind``.
    path
        Target ``.png`` or ``.pdf``.
    title
        Title (Chinese needs the CJK font).
    source
        Data credit printed under the map.

    Returns
    -------
    Path
        ``path``.
    """
    b = to_metric(bundles) if not bundles.crs.is_projected else bundles
    mem = members.to_crs(b.crs)
    with cjk_style():
        fig = Figure(figsize=(9, 9))  # no pyplot: no global backend or figure state
        ax = fig.subplots()
        mem.plot(ax=ax, color=mem["kind"].map(KIND_COLOURS), linewidth=0)
        b.boundary.plot(ax=ax, color=b["status"].map(STATUS_COLOURS), linewidth=1.5)
        handles = [
            Patch(facecolor="none", edgecolor=c, label=STATUS_ZH[s])
            for s, c in STATUS_COLOURS.items()
        ]
        handles += [
            Patch(color=c, label=" ".join(PARCEL_KINDS[k][:2]))
            for k, c in KIND_COLOURS.items()
            if k in set(mem["kind"])
        ]
        _decorate(ax, title, handles, source)
        return _save(fig, path)
