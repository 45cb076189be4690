"""The printable atlas (图集): an A3 landscape PDF, an overview page and a page per unit.

Every page is a :mod:`spatial.render.sheet`: the map in a frame, and beside it the
title block, legend, north arrow, scale bar, source and date, so no label sits on the
data. Text is in the CJK font of :func:`spatial.render.static.cjk_font_path`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from spatial.io.outputs.fileset import RUN_STAMP
from spatial.io.outputs.results import GapTables
from spatial.io.outputs.write import atomic_path
from spatial.render.book import UNIT_LEVELS, UNSPECIFIED, Level, unit_names
from spatial.render.sheet import A3_LANDSCAPE_IN
from spatial.render.static import cjk_style, draw_gap_sheet

__all__ = ["write_atlas"]


#: Compounds numbered on each atlas page and listed with the categories they miss.
_LISTED = 12


def write_atlas(
    tables: GapTables,
    path: str | Path,
    *,
    by: Level = "subdistrict",
    title: str = "15分钟生活圈设施缺口图集 Life-circle gap atlas",
    source: str = "",
    data_date: str | None = None,
) -> tuple[Path, int]:
    """Write the atlas PDF: the whole area first, then one page per unit.

    Parameters
    ----------
    tables
        A gaps run with its context.
    path
        Target ``.pdf`` (written atomically).
    by
        ``subdistrict`` or ``community``.
    title
        Atlas title, on every page.
    source
        Data source line.
    data_date
        Date of the data (default: today).

    Returns
    -------
    path, pages
        The file and its page count.

    Raises
    ------
    MissingFontError
        When no CJK font is installed (the message says how to install one).
    """
    comp = tables.compounds
    units = unit_names(comp, by)
    order = sorted(units.unique(), key=lambda u: (u == UNSPECIFIED, u))
    pages = 0
    with cjk_style(), atomic_path(path) as tmp, PdfPages(tmp) as pdf:
        meta = pdf.infodict()
        meta["Title"] = title
        meta["Creator"] = "spatial (老旧小区改造 planning toolkit)"
        if (stamp := RUN_STAMP.get()) is not None:
            meta["Subject"] = f"spatial run {stamp}"
        sheets = [("全域 whole area", comp)] + [(u, comp[(units == u).to_numpy()]) for u in order]
        for k, (name, part) in enumerate(sheets):
            n_missing = pd.to_numeric(part["n_missing"], errors="coerce").fillna(0)
            subtitle = (
                f"{UNIT_LEVELS[by].split()[0]}：{name}"
                if k
                else f"全域 Whole area · {len(order)} 个单元 units"
            )
            fig = draw_gap_sheet(
                part,
                title=title,
                subtitle=f"{subtitle}\n小区 {len(part):,} 个 compounds · 有缺口 "
                f"{(n_missing > 0).mean():.0%} with gaps\n第 {k + 1}/{len(sheets)} 页 page",
                source=source,
                context=tables.context,
                data_date=data_date,
                figsize=A3_LANDSCAPE_IN,
                n_categories=len(tables.categories) if tables.categories else None,
                category_names={c.id: c.zh for c in tables.categories or ()},
                listed=_LISTED,
            )
            pdf.savefig(fig)
            pages += 1
    return Path(path), pages
