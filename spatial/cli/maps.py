"""The ``map`` command: offline HTML maps and PNGs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spatial.cli._common import BasemapChoice, check_out, console, run_reporting

__all__ = ["map_"]


def map_(
    out: Annotated[Path, typer.Option(help="HTML file of the gap map, e.g. maps/城区.html.")],
    gaps: Annotated[Path | None, typer.Option(help="Output folder of `spatial gaps`.")] = None,
    bundles: Annotated[
        Path | None,
        typer.Option(help="Output folder of `spatial bundles`: also writes <out>_bundles.html."),
    ] = None,
    basemap: Annotated[
        BasemapChoice,
        typer.Option(
            help="none (works with no network), osm, tianditu (needs --tianditu-key) or amap "
            "(data shifted to GCJ-02)."
        ),
    ] = BasemapChoice.none,
    tianditu_key: Annotated[str | None, typer.Option(help="Tianditu (天地图) key.")] = None,
    png: Annotated[bool, typer.Option(help="Also write PNG maps for reports.")] = False,
    db: Annotated[
        str | None,
        typer.Option(help="Compound database: draw its latest gaps run (instead of --gaps)."),
    ] = None,
) -> None:
    """Write interactive HTML maps that open without internet (and PNGs for reports).

    生成可离线打开的交互式地图（设施缺口图、片区图），可选输出 PNG 静态图。
    """
    from spatial.io.results import load_bundle_tables, load_gap_tables
    from spatial.render import bundle_map, gap_map, save_map
    from spatial.render.static import static_bundle_map, static_gap_map

    if gaps is None and bundles is None and db is None:
        raise typer.BadParameter("give --gaps or --db, and/or --bundles")
    if gaps is not None and db is not None:
        raise typer.BadParameter("give --gaps or --db, not both")
    check_out(out)

    def draw(_report: object) -> list[Path]:
        written = []
        if gaps is not None or db is not None:
            if db is not None:
                from spatial.db.connect import open_db
                from spatial.db.results import load_gap_tables_db

                database = open_db(db)
                tables = load_gap_tables_db(database)
            else:
                assert gaps is not None
                tables = load_gap_tables(gaps)
            written.append(
                save_map(gap_map(tables, basemap=basemap.value, tianditu_key=tianditu_key), out)
            )
            if png:
                written.append(static_gap_map(tables.compounds, out.with_suffix(".png")))
        if bundles is not None:
            target = (
                out if gaps is None and db is None else out.with_name(out.stem + "_bundles.html")
            )
            btables = load_bundle_tables(bundles)
            written.append(
                save_map(
                    bundle_map(btables, basemap=basemap.value, tianditu_key=tianditu_key), target
                )
            )
            if png:
                written.append(
                    static_bundle_map(btables.bundles, btables.members, target.with_suffix(".png"))
                )
        return written

    written = run_reporting(draw)
    if db is not None:
        from spatial.db.connect import open_db
        from spatial.db.results import latest_run, record_map

        database = open_db(db)
        record_map(database, written, gaps_run=latest_run(database, "gaps"))
    for path in written:
        console.print(
            f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", markup=False, soft_wrap=True
        )
