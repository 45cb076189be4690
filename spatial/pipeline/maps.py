"""Draw the standard maps of a run (:func:`run_maps`): the gap map, the bundle map, their
PNGs, the map book and the atlas — for ``spatial map``, the demo and a batch unit."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from spatial.io.outputs.results import BundleTables, GapTables
from spatial.render.options import MapOptions

__all__ = ["run_maps"]


def run_maps(
    gaps: str | Path | GapTables | None,
    bundles: str | Path | BundleTables | None = None,
    *,
    out: str | Path,
    bundle_out: str | Path | None = None,
    options: MapOptions | None = None,
) -> dict[str, Path]:
    """Write the offline HTML maps of a gaps run and a bundles run (and what ``options``
    ask beside them).

    Parameters
    ----------
    gaps
        A ``spatial gaps`` folder or its tables (a database run, results in memory), or
        None for the bundle map alone.
    bundles
        A ``spatial bundles`` folder or its tables, or None. A large folder is drawn by a
        second process while the gap map is drawn here.
    out
        The gap map's HTML file (the bundle map's when there are no gaps).
    bundle_out
        The bundle map's file (default ``<out>_bundles.html`` beside the gap map).
    options
        What else to write and how to label it (default :class:`MapOptions`).

    Returns
    -------
    dict
        Name → file written: ``gap_map``, ``gap_png``, ``bundle_map``, ``bundle_png``,
        ``atlas``, and ``book/<file>`` per page of the map book.

    Raises
    ------
    InputError
        A map book whose unit column is missing (one 未注明 page), a folder that is no
        such output, no CJK font for the PNGs.
    """
    opts = options or MapOptions()
    out = Path(out)
    if opts.png or opts.atlas:  # before any map is written: a missing font replaces nothing
        from spatial.render.static import cjk_font_path

        cjk_font_path()
    areas = _outline_layers(gaps, opts)  # begun now: made while the rest is read and drawn
    try:
        return _read_and_draw(gaps, bundles, out, bundle_out, opts, areas)
    except BaseException:
        if areas is not None:
            areas.cancel()
        raise


def _outline_layers(gaps: str | Path | GapTables | None, opts: MapOptions) -> Any:
    """The gap map's service-area layers begun from the run's ``service_areas.gpkg``
    (a folder's, or the one the tables name), or None."""
    if isinstance(gaps, GapTables):
        path = gaps.service_area_file if gaps.service_areas is None else None
    else:
        path = Path(gaps) / "service_areas.gpkg" if isinstance(gaps, (str, Path)) else None
    if path is None or not path.exists():
        return None
    from spatial.render.outlines import OutlineLayers

    return OutlineLayers(path, basemap=opts.basemap)


def _read_and_draw(
    gaps: str | Path | GapTables | None,
    bundles: str | Path | BundleTables | None,
    out: Path,
    bundle_out: str | Path | None,
    opts: MapOptions,
    areas: Any,
) -> dict[str, Path]:
    """:func:`run_maps` once the service-area layers are begun."""
    from spatial.io.context.read import read_context
    from spatial.io.outputs.fileset import file_set
    from spatial.io.outputs.results import (
        check_bundles_folder,
        load_assessment,
        load_gap_tables,
    )

    ctx = read_context(list(opts.context)) if opts.context else None
    tables = (
        gaps
        if isinstance(gaps, GapTables) or gaps is None
        else load_gap_tables(Path(gaps), service_areas=False)  # outlines: a category at a time
    )
    if tables is not None and opts.assess is not None:
        tables = replace(tables, communities=load_assessment(opts.assess))
    target = (
        Path(bundle_out)
        if bundle_out
        else (out if tables is None else out.with_name(out.stem + "_bundles.html"))
    )
    if target.parent.absolute() != out.parent.absolute():
        raise ValueError("the bundle map is written beside the gap map")
    if isinstance(bundles, (str, Path)):
        check_bundles_folder(Path(bundles))
    with file_set(out.parent, name=out.stem) as stage:
        staged = _draw(
            tables, bundles, stage / out.name, stage / target.name, opts, ctx, gaps, areas
        )
    return {k: out.parent / Path(v).relative_to(stage) for k, v in staged.items()}


def _draw(
    tables: GapTables | None,
    bundles: str | Path | BundleTables | None,
    out: Path,
    target: Path,
    opts: MapOptions,
    ctx: Any,
    gaps: str | Path | GapTables | None,
    areas: Any = None,
) -> dict[str, Path]:
    """Draw every map of :func:`run_maps` into the staging folder ``out`` is in
    (``areas``: the gap map's service-area layers, begun already)."""
    from spatial.io.outputs.fileset import RUN_STAMP
    from spatial.render import gap_map, save_map
    from spatial.render.gapmap import GAP_TITLE

    written: dict[str, Path] = {}
    osm_data = ctx is not None and "osm" in ctx.attrs.get("sources", ())
    side: Any = None
    bundle_args: _BundleArgs | None = None
    if isinstance(bundles, (str, Path)):
        beside = Path(gaps) / "context.gpkg" if isinstance(gaps, (str, Path)) else None
        bundle_args = (
            str(bundles), str(target), list(opts.context),
            str(beside) if beside is not None and beside.exists() else None,
            opts.basemap, opts.tianditu_key, opts.data_date, opts.png, opts.source,
            RUN_STAMP.get(),
        )  # fmt: skip
        if tables is not None:
            side = _beside(Path(bundles), bundle_args)
    if tables is not None:
        if opts.by is not None:
            _check_units(tables.compounds, opts.by)
        if ctx is not None:
            tables = replace(tables, context=ctx)
        ctx = tables.context
        osm_data = osm_data or _from_osm(tables.compounds)
        title = {"title": opts.title} if opts.title else {}
        # outlines not in the tables are read a category at a time
        area_file = tables.service_area_file if tables.service_areas is None else None
        if area_file is not None and not area_file.exists():
            area_file = None
        page = gap_map(
            tables,
            basemap=opts.basemap,
            tianditu_key=opts.tianditu_key,
            osm_data=osm_data,
            data_date=opts.data_date,
            title=opts.title or GAP_TITLE,
            service_areas=areas,  # begun from ``area_file`` (or None)
        )
        written["gap_map"] = save_map(page, out)
        if opts.png:
            from spatial.render.static import static_gap_map

            written["gap_png"] = static_gap_map(
                tables.compounds,
                out.with_suffix(".png"),
                n_categories=len(tables.categories) if tables.categories else None,
                context=ctx,
                data_date=opts.data_date,
                **({"source": opts.source} if opts.source else {}),
                **title,
            )
        if opts.by is not None:
            written |= _book(tables, bundles, out, opts, osm_data=osm_data, areas=area_file)
        if opts.atlas:
            from spatial.render.atlas import write_atlas

            written["atlas"], _ = write_atlas(
                tables,
                out.with_name(out.stem + "_atlas.pdf"),
                by=opts.by or "subdistrict",
                source="OpenStreetMap contributors (ODbL)" if osm_data else (opts.source or ""),
                data_date=opts.data_date,
                **title,
            )
    if side is not None:
        done = side[1].result()
        side[0].shutdown()
    elif bundle_args is not None:
        done = _bundle_job(*bundle_args)
    elif isinstance(bundles, BundleTables):
        done = _draw_bundles(bundles, target, opts, ctx)
    else:
        done = []
    written |= dict(zip(("bundle_map", "bundle_png"), map(Path, done), strict=False))
    return written


def _book(
    tables: GapTables,
    bundles: str | Path | BundleTables | None,
    out: Path,
    opts: MapOptions,
    *,
    osm_data: bool,
    areas: Path | None,
) -> dict[str, Path]:
    from spatial.io.outputs.results import load_bundle_tables
    from spatial.render.book import map_book

    assert opts.by is not None
    pages = map_book(
        tables,
        out.with_suffix(""),
        by=opts.by,
        bundles=load_bundle_tables(bundles) if isinstance(bundles, (str, Path)) else bundles,
        basemap=opts.basemap,
        tianditu_key=opts.tianditu_key,
        osm_data=osm_data,
        data_date=opts.data_date,
        service_areas=areas,
        **({"title": opts.title} if opts.title else {}),
    )
    return {f"book/{p.name}": p for p in pages}


def _draw_bundles(tables: BundleTables, target: Path, opts: MapOptions, ctx: Any) -> list[str]:
    """The bundle map (and PNG) of bundle tables in memory."""
    from spatial.render.bundlemap import bundle_map
    from spatial.render.offline import save_map

    page = bundle_map(
        tables,
        basemap=opts.basemap,
        tianditu_key=opts.tianditu_key,
        osm_data=_from_osm(tables.members),
        context=ctx,
        data_date=opts.data_date,
    )
    written = [save_map(page, target)]
    if opts.png:
        from spatial.render.static import static_bundle_map

        written.append(
            static_bundle_map(
                tables.bundles,
                tables.members,
                target.with_suffix(".png"),
                context=ctx,
                data_date=opts.data_date,
                **({"source": opts.source} if opts.source else {}),
            )
        )
    return [str(p) for p in written]


_BundleArgs = tuple[
    str, str, list[str], str | None, str, str | None, str | None, bool, str | None, str | None
]


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
    source: str | None = None,
    stamp: str | None = None,
) -> list[str]:
    """The bundle map (and PNG) of a bundles folder; runs here or in a second process
    (``stamp``: the run of the set, :data:`~spatial.io.outputs.fileset.RUN_STAMP`)."""
    from spatial.io.outputs.fileset import RUN_STAMP

    if stamp is not None:
        RUN_STAMP.set(stamp)
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
                **({"source": source} if source else {}),
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
