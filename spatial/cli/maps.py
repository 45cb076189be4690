"""The ``map`` command: offline HTML maps and PNGs."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from spatial.cli._common import (
    BasemapChoice,
    check_out,
    console,
    default_of,
    params_from,
    run_reporting,
)
from spatial.render.options import MapOptions

__all__ = ["UnitChoice", "map_"]


class UnitChoice(str, Enum):
    """Units of the map book and the atlas."""

    subdistrict = "subdistrict"
    community = "community"


def map_(
    out: Annotated[Path, typer.Option(help="HTML file of the gap map, e.g. maps/城区.html.")],
    gaps: Annotated[Path | None, typer.Option(help="Output folder of `spatial gaps`.")] = None,
    bundles: Annotated[
        Path | None,
        typer.Option(help="Output folder of `spatial bundles`: also writes <out>_bundles.html."),
    ] = None,
    basemap: Annotated[
        BasemapChoice | None,
        typer.Option(
            help="none (works with no network), osm, tianditu (needs --tianditu-key) or amap "
            "(data shifted to GCJ-02).",
            show_default=default_of(MapOptions, "basemap"),
        ),
    ] = None,
    tianditu_key: Annotated[str | None, typer.Option(help="Tianditu (天地图) key.")] = None,
    png: Annotated[
        bool | None,
        typer.Option(
            help="Also write PNG maps for reports.", show_default=default_of(MapOptions, "png")
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(help="Compound database: draw its latest gaps run (instead of --gaps)."),
    ] = None,
    context: Annotated[
        list[Path] | None,
        typer.Option(
            help="Streets/water drawn under the data: an OSM file or road/water layers "
            "(repeatable). Default: context.gpkg of the gaps run."
        ),
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title shown on the maps.")] = None,
    by: Annotated[
        UnitChoice | None,
        typer.Option(help="Map book: one map per subdistrict or community, and index.html."),
    ] = None,
    atlas: Annotated[
        bool | None,
        typer.Option(
            help="Also write the A3 PDF atlas (图集), a page per unit of --by.",
            show_default=default_of(MapOptions, "atlas"),
        ),
    ] = None,
    data_date: Annotated[
        str | None, typer.Option(help="Date of the data shown on the maps (default: today).")
    ] = None,
    assess: Annotated[
        Path | None,
        typer.Option(
            help="Output folder of `spatial assess`: the gap map gets a 完整社区 layer "
            "(each community by the items it meets)."
        ),
    ] = None,
) -> None:
    """Write interactive HTML maps that open without internet (and PNGs for reports).

    生成可离线打开的交互式地图（设施缺口图、片区图），可选输出 PNG 静态图。
    """
    from spatial.pipeline.maps import run_maps

    if gaps is None and bundles is None and db is None:
        raise typer.BadParameter("give --gaps or --db, and/or --bundles")
    if gaps is not None and db is not None:
        raise typer.BadParameter("give --gaps or --db, not both")
    if (by is not None or atlas) and gaps is None and db is None:
        raise typer.BadParameter("--by and --atlas draw gaps: give --gaps or --db")
    check_out(out)

    def draw(_report: object) -> list[Path]:
        options = params_from(
            MapOptions,
            basemap=basemap,
            tianditu_key=tianditu_key,
            png=png,
            title=title,
            by=by,
            atlas=atlas,
            data_date=data_date,
            assess=str(assess) if assess is not None else None,
            context=tuple(str(c) for c in context or ()) or None,
        )
        source: Any = gaps
        if db is not None:
            from spatial.db.connect import open_db
            from spatial.db.results import load_gap_tables_db

            source = load_gap_tables_db(open_db(db))
        return list(run_maps(source, bundles, out=out, options=options).values())

    written = run_reporting(draw)
    if db is not None:
        from spatial.db.connect import open_db
        from spatial.db.results import latest_run, record_map

        database = open_db(db)
        record_map(database, written, gaps_run=latest_run(database, "gaps"))
    for path in written[:12]:
        console.print(
            f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", markup=False, soft_wrap=True
        )
    if len(written) > 12:
        console.print(f"… and {len(written) - 12} more maps", markup=False)
