"""Static gap and bundle maps (PNG/PDF) for reports, with Chinese labels in a CJK font.

The font is a CJK font installed on the machine — Noto Sans CJK SC (Debian/Ubuntu
``fonts-noto-cjk``, SIL Open Font License), Source Han Sans, WenQuanYi, or on office PCs
Microsoft YaHei / SimHei / PingFang — or, where none is installed, the one of the
optional PyPI extra ``spatial[fonts]`` (``mplfonts``). Without any, static maps refuse to
draw rather than print missing-glyph boxes. Maps carry a legend, a north arrow and a
scale bar.
"""

from __future__ import annotations

import shutil
import subprocess
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from spatial._errors import InputError, Problem
from spatial.io.crs.projection import to_metric
from spatial.io.outputs.fileset import RUN_STAMP
from spatial.io.outputs.write import atomic_path
from spatial.io.survey.schema import PARCEL_KINDS
from spatial.lifecircle.counted import counted_categories
from spatial.render.bundlemap import ASSUMPTION_NOTE, KIND_COLOURS, STATUS_COLOURS, STATUS_ZH
from spatial.render.classes import missing_colours, missing_legend
from spatial.render.sheet import draw_context, finish_sheet, new_sheet

__all__ = [
    "CJK_FAMILIES",
    "MissingFontError",
    "cjk_font_path",
    "cjk_style",
    "draw_gap_sheet",
    "save_figure",
    "static_bundle_map",
    "static_gap_map",
]


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


class MissingFontError(InputError):
    """No Chinese (CJK) font on this machine for static maps: an environment problem the
    user fixes (exit 1), raised before any output is written.

    Parameters
    ----------
    problems
        The problem, with the advice (install ``fonts-noto-cjk`` or ``spatial[fonts]``).
    """


#: Words in the file names of CJK fonts, for a machine without ``fc-list``.
_CJK_FILE_WORDS = ("cjk", "sourcehan", "wqy", "wenquanyi", "msyh", "simhei", "pingfang")


def _system_cjk_files() -> list[str]:
    """The system's Chinese font files: ``fc-list :lang=zh``, else files named so."""
    fc = shutil.which("fc-list")
    if fc:
        try:
            out = subprocess.run(
                [fc, ":lang=zh", "file"], capture_output=True, text=True, timeout=60, check=False
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        files = sorted({line.split(":")[0].strip() for line in out.splitlines() if ":" in line})
        if files:
            return files
    return [
        f
        for f in font_manager.findSystemFonts()
        if any(w in Path(f).name.lower().replace("-", "").replace("_", "") for w in _CJK_FILE_WORDS)
    ]


def _installed_cjk() -> tuple[str, Path] | None:
    fonts = font_manager.fontManager.ttflist
    for family in CJK_FAMILIES:
        found = [f for f in fonts if f.name == family]
        if found:
            best = min(
                found, key=lambda f: abs(int(f.weight) - 400) if str(f.weight).isdigit() else 0
            )
            return family, Path(best.fname)
    return None


@lru_cache(maxsize=1)
def _cjk_font() -> tuple[str, Path]:
    found = _installed_cjk()
    if found is None:
        # matplotlib's font list is cached at its first use: fonts installed since are
        # not in it, so look at the system's own list once
        for system_file in _system_cjk_files():
            try:
                font_manager.fontManager.addfont(system_file)
            except (OSError, RuntimeError, ValueError):
                continue
        found = _installed_cjk()
    if found is not None:
        return found
    try:
        from importlib import resources

        path = Path(str(resources.files("mplfonts").joinpath("fonts/NotoSansCJKsc-Regular.otf")))
    except ModuleNotFoundError:
        raise MissingFontError(
            [
                Problem.error(
                    "fonts",
                    "no Chinese (CJK) font found for static maps (PNG, PDF atlas)",
                    hint="install one — on Debian/Ubuntu `apt-get install fonts-noto-cjk`, "
                    "or `pip install 'spatial[fonts]'` — and run the command again; "
                    "the HTML maps need none",
                )
            ]
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
    MissingFontError
        When no CJK font is installed; the message says how to install one.
    """
    return _cjk_font()[1]


@contextmanager
def cjk_style() -> Any:
    """A matplotlib style context drawing Chinese in the CJK font of :func:`cjk_font_path`.

    Raises
    ------
    MissingFontError
        When no CJK font is installed.
    """
    name = _cjk_font()[0]
    with matplotlib.rc_context({"font.family": [name], "axes.unicode_minus": False}):
        yield


def save_figure(fig: Any, path: str | Path) -> Path:
    """Save a figure atomically (PNG or PDF by the suffix, 150 dpi), stamped with the run.

    Parameters
    ----------
    fig
        A matplotlib figure.
    path
        The target file.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    with atomic_path(path) as tmp:
        stamp = RUN_STAMP.get()
        meta = {} if stamp is None else {"Subject" if fmt == "pdf" else "Comment": stamp}
        fig.savefig(tmp, dpi=150, bbox_inches="tight", format=fmt, metadata=meta)
    return path


def _gap_handles(counted: int) -> list[Patch]:
    return [Patch(facecolor=c, edgecolor="#333", label=t) for c, t in missing_legend(counted)]


def draw_gap_sheet(
    compounds: gpd.GeoDataFrame,
    *,
    title: str,
    subtitle: str = "",
    source: str = "",
    context: gpd.GeoDataFrame | None = None,
    data_date: str | None = None,
    figsize: tuple[float, float] = (12, 8.5),
    n_categories: int | None = None,
    category_names: dict[str, str] | None = None,
    listed: int = 0,
) -> Figure:
    """A sheet of compounds coloured by missing categories over the context.

    Call inside :func:`cjk_style`.

    Parameters
    ----------
    compounds
        Compounds with ``n_missing``, any CRS.
    title, subtitle
        The title block.
    source
        Data source line.
    context
        Streets, water and railways (WGS84), or None.
    data_date
        Date of the data (default: today).
    figsize
        Inches (see :data:`spatial.render.sheet.A3_LANDSCAPE_IN`).
    n_categories
        The run's categories (the fill is the share of those with data missing, see
        :mod:`spatial.render.classes`); default: the most any compound misses.
    category_names
        Category id → Chinese name, for the table of ``listed``.
    listed
        Number (on the map) and list in the panel the compounds missing most, with
        which categories they miss (0: none).

    Returns
    -------
    matplotlib.figure.Figure
        The sheet.
    """
    comp = to_metric(compounds) if not compounds.crs.is_projected else compounds
    n_missing = pd.to_numeric(comp["n_missing"], errors="coerce").fillna(0)
    total = n_categories if n_categories is not None else int(n_missing.max(initial=0)) or 1
    counted = counted_categories(comp, total)
    colours = missing_colours(n_missing, counted)
    fig, ax, panel = new_sheet(figsize)
    draw_context(ax, context, comp.crs, comp.total_bounds)
    comp.plot(ax=ax, color=colours, edgecolor="#333", linewidth=0.3, zorder=2)
    table = _most_missing(comp, n_missing, category_names or {}, listed, ax) if listed else None
    minx, miny, maxx, maxy = comp.total_bounds
    pad = max(maxx - minx, maxy - miny) * 0.04 + 20
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    finish_sheet(
        fig,
        ax,
        panel,
        title=title,
        subtitle=subtitle,
        handles=_gap_handles(counted),
        table=table,
        source=source,
        data_date=data_date,
    )
    return fig


#: Characters of a panel line (Chinese is wide: ~32 fit beside an A3 or A4 map).
_LINE_CHARS = 32


def _most_missing(
    comp: gpd.GeoDataFrame, n_missing: pd.Series, names: dict[str, str], listed: int, ax: Any
) -> tuple[str, list[str]] | None:
    """Number the compounds missing most on the map; their lines for the panel's table."""
    top = n_missing[n_missing > 0].sort_values(ascending=False, kind="stable").head(listed)
    if top.empty:
        return None
    lines = []
    for k, at in enumerate(top.index, start=1):
        row = comp.loc[at]
        point = row.geometry.representative_point()
        ax.annotate(
            str(k),
            (point.x, point.y),
            ha="center",
            va="center",
            fontsize=6,
            weight="bold",
            zorder=5,
            bbox={"boxstyle": "circle,pad=0.15", "fc": "white", "ec": "#333", "lw": 0.4},
        )
        missing = [names.get(c, c) for c in str(row.get("missing") or "").split(";") if c]
        name = str(row.get("name") or row.get("id") or "")[:14]
        line = f"{k}. {name}: {'、'.join(missing)}"
        lines.append(line if len(line) <= _LINE_CHARS else line[: _LINE_CHARS - 1] + "…")
    return f"缺口最多的小区 Compounds missing most ({len(top)})", lines


def static_gap_map(
    compounds: gpd.GeoDataFrame,
    path: str | Path,
    *,
    title: str = "15分钟生活圈设施缺口 15-minute life-circle gaps",
    source: str = "",
    context: gpd.GeoDataFrame | None = None,
    data_date: str | None = None,
    n_categories: int | None = None,
) -> Path:
    """PNG/PDF map of compounds coloured by the share of categories with data missing.

    Parameters
    ----------
    compounds
        Compounds with ``n_missing``, any CRS.
    path
        Target ``.png`` or ``.pdf``.
    title
        Title (Chinese needs the CJK font).
    source
        Data credit printed beside the map.
    context
        Streets, water and railways drawn under the data (WGS84), or None.
    data_date
        Date of the data (default: today).
    n_categories
        The run's categories (see :func:`draw_gap_sheet`).

    Returns
    -------
    Path
        ``path``.
    """
    with cjk_style():
        fig = draw_gap_sheet(
            compounds,
            title=title,
            source=source,
            context=context,
            data_date=data_date,
            n_categories=n_categories,
        )
        return save_figure(fig, path)


def static_bundle_map(
    bundles: gpd.GeoDataFrame,
    members: gpd.GeoDataFrame,
    path: str | Path,
    *,
    title: str = "片区统筹平衡 Renovation bundles",
    source: str = "",
    context: gpd.GeoDataFrame | None = None,
    data_date: str | None = None,
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
        Data credit printed beside the map.
    context
        Streets, water and railways drawn under the data (WGS84), or None.
    data_date
        Date of the data (default: today).

    Returns
    -------
    Path
        ``path``.
    """
    b = to_metric(bundles) if not bundles.crs.is_projected else bundles
    mem = members.to_crs(b.crs)
    with cjk_style():
        fig, ax, panel = new_sheet((12, 8.5))
        draw_context(ax, context, b.crs, b.total_bounds)
        mem.plot(ax=ax, color=mem["kind"].map(KIND_COLOURS), linewidth=0, zorder=2)
        b.boundary.plot(ax=ax, color=b["status"].map(STATUS_COLOURS), linewidth=1.5, zorder=3)
        handles = [
            Patch(facecolor="none", edgecolor=c, label=STATUS_ZH[s])
            for s, c in STATUS_COLOURS.items()
        ]
        handles += [
            Patch(color=c, label=" ".join(PARCEL_KINDS[k][:2]))
            for k, c in KIND_COLOURS.items()
            if k in set(mem["kind"])
        ]
        finish_sheet(
            fig,
            ax,
            panel,
            title=title,
            handles=handles,
            source=source,
            data_date=data_date,
            notes=[ASSUMPTION_NOTE],
        )
        return save_figure(fig, path)
