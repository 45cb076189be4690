"""The ``map`` command: offline HTML maps and PNGs."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from spatial.cli._common import BasemapChoice, check_out, console, run_reporting

__all__ = ["UnitChoice", "map_"]


class UnitChoice(str, Enum):
    """Units of the map book and the atlas."""

    subdistrict = "subdistrict"
    community = "community"


_BundleArgs = tuple[str, str, list[str], str | None, str, str | None, str | None, bool]


def _beside(bundles: Path, args: _BundleArgs) -> Any:
    """Draw a large bundle map in a spawned second process while the gap map is drawn
    (a city: the two cores share the work); None for a small one or where no process can
    be started."""
    from spatial.settings import DEFAULTS

    size = (bundles / "bundles.gpkg").stat().st_size
    if size < DEFAULTS.bundle_map_process_mb * 1e6:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    try:
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return pool, pool.submit(_bundle_job, *args)
    except (AssertionError, OSError, RuntimeError, ValueError):
        return None


def _check_units(compounds: Any, by: Literal["subdistrict", "community"]) -> None:
    """A map book needs units: refuse one made of a single 未注明 page, naming the
    columns looked for."""
    from spatial._errors import InputError, Problem
    from spatial.io.survey.schema import CONTRACTS
    from spatial.render.book import UNSPECIFIED, unit_names

    if not (unit_names(compounds, by) == UNSPECIFIED).all():
        return
    field = next(f for f in CONTRACTS["compounds"] if f.name == by)
    looked = ", ".join(dict.fromkeys(field.aliases))
    raise InputError(
        [
            Problem.error(
                "compounds",
                f"--by {by}: no compound has a {field.zh} ({by}); the book would be one "
                f"page {UNSPECIFIED}. Columns looked for: {looked}",
                column=by,
                hint=f"add a {field.zh} column to the survey and run gaps again, or leave out --by",
            )
        ]
    )


def _bundle_job(
    bundles: str,
    target: str,
    context_files: list[str],
    context_gpkg: str | None,
    basemap: str,
    tianditu_key: str | None,
    data_date: str | None,
    png: bool,
) -> list[str]:
    """The bundle map (and PNG) of a bundles folder; runs here or in a second process."""
    from spatial.io.context.store import load_context
    from spatial.io.outputs.results import load_bundle_tables
    from spatial.render.bundlemap import bundle_map
    from spatial.render.offline import save_map

    if context_files:
        from spatial.io.context.read import read_context

        ctx = read_context(context_files)
    else:
        ctx = load_context(context_gpkg) if context_gpkg else None
    tables = load_bundle_tables(bundles)
    osm_data = (ctx is not None and "osm" in ctx.attrs.get("sources", ())) or _from_osm(
        tables.members
    )
    page = bundle_map(
        tables,
        basemap=basemap,  # type: ignore[arg-type]
        tianditu_key=tianditu_key,
        osm_data=osm_data,
        context=ctx,
        data_date=data_date,
    )
    written = [save_map(page, target)]
    if png:
        from spatial.render.static import static_bundle_map

        written.append(
            static_bundle_map(
                tables.bundles,
                tables.members,
                Path(target).with_suffix(".png"),
                context=ctx,
                data_date=data_date,
            )
        )
    return [str(p) for p in written]


def _from_osm(frame: object) -> bool:
    """Whether a layer's rows came from OpenStreetMap (their ids or source say so)."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        return False
    if "osm_id" in frame and frame["osm_id"].notna().any():
        return True
    for col in ("source",):
        if (
            col in frame
            and frame[col].astype(str).str.contains("osm|openstreetmap", case=False).any()
        ):
            return True
    ids = frame["id"].astype(str) if "id" in frame else pd.Series(dtype=str)
    return bool(ids.str.startswith(("osm", "way", "relation")).any())


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
        bool, typer.Option(help="Also write the A3 PDF atlas (图集), a page per unit of --by.")
    ] = False,
    data_date: Annotated[
        str | None, typer.Option(help="Date of the data shown on the maps (default: today).")
    ] = None,
) -> None:
    """Write interactive HTML maps that open without internet (and PNGs for reports).

    生成可离线打开的交互式地图（设施缺口图、片区图），可选输出 PNG 静态图。
    """
    from spatial.io.outputs.results import check_bundles_folder, load_bundle_tables, load_gap_tables
    from spatial.render import gap_map, save_map
    from spatial.render.gapmap import GAP_TITLE
    from spatial.render.static import static_gap_map

    if gaps is None and bundles is None and db is None:
        raise typer.BadParameter("give --gaps or --db, and/or --bundles")
    if gaps is not None and db is not None:
        raise typer.BadParameter("give --gaps or --db, not both")
    if (by is not None or atlas) and gaps is None and db is None:
        raise typer.BadParameter("--by and --atlas draw gaps: give --gaps or --db")
    check_out(out)
    if png or atlas:  # before any map is written: a missing font replaces nothing
        from spatial.render.static import cjk_font_path

        run_reporting(lambda _r: cjk_font_path())

    def draw(_report: object) -> list[Path]:
        from spatial.io.context.read import read_context

        written = []
        ctx = read_context(context) if context else None
        osm_data = ctx is not None and "osm" in ctx.attrs.get("sources", ())
        side: Any = None
        bundle_args: _BundleArgs | None = None
        if bundles is not None:
            check_bundles_folder(bundles)
            target = (
                out if gaps is None and db is None else out.with_name(out.stem + "_bundles.html")
            )
            beside = gaps / "context.gpkg" if gaps is not None else None
            bundle_args = (
                str(bundles), str(target), [str(c) for c in context or []],
                str(beside) if beside is not None and beside.exists() else None,
                basemap.value, tianditu_key, data_date, png,
            )  # fmt: skip
            if gaps is not None or db is not None:
                side = _beside(bundles, bundle_args)
        if gaps is not None or db is not None:
            if db is not None:
                from spatial.db.connect import open_db
                from spatial.db.results import load_gap_tables_db

                database = open_db(db)
                tables = load_gap_tables_db(database)
            else:
                assert gaps is not None
                tables = load_gap_tables(gaps)
            if by is not None:
                _check_units(tables.compounds, by.value)
            if ctx is not None:
                tables = replace(tables, context=ctx)
            ctx = tables.context
            osm_data = osm_data or _from_osm(tables.compounds)
            page = gap_map(
                tables,
                basemap=basemap.value,
                tianditu_key=tianditu_key,
                osm_data=osm_data,
                data_date=data_date,
                title=title or GAP_TITLE,
            )
            written.append(save_map(page, out))
            if png:
                written.append(
                    static_gap_map(
                        tables.compounds,
                        out.with_suffix(".png"),
                        context=ctx,
                        data_date=data_date,
                        **({"title": title} if title else {}),
                    )
                )
            if by is not None:
                from spatial.render.book import map_book

                written += map_book(
                    tables,
                    out.with_suffix(""),
                    by=by.value,
                    bundles=load_bundle_tables(bundles) if bundles is not None else None,
                    basemap=basemap.value,
                    tianditu_key=tianditu_key,
                    osm_data=osm_data,
                    data_date=data_date,
                    **({"title": title} if title else {}),
                )
            if atlas:
                from spatial.render.atlas import write_atlas

                atlas_path, _ = write_atlas(
                    tables,
                    out.with_name(out.stem + "_atlas.pdf"),
                    by=by.value if by is not None else "subdistrict",
                    source="OpenStreetMap contributors (ODbL)" if osm_data else "",
                    data_date=data_date,
                    **({"title": title} if title else {}),
                )
                written.append(atlas_path)
        if side is not None:
            written += [Path(p) for p in side[1].result()]
            side[0].shutdown()
        elif bundle_args is not None:
            written += [Path(p) for p in _bundle_job(*bundle_args)]
        return written

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
