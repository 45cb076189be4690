"""Run one stage from files to its output folder: load and check every input at once,
compute through the library face, write through :mod:`spatial.io.outputs.results`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd

from spatial import api
from spatial._errors import Problem, input_error
from spatial.bundling import (
    FinanceDefaults,
    bundle_units,
    load_finance,
    money_problems,
)
from spatial.bundling.params import BundleParams
from spatial.finance import finance_report, with_finance_columns, write_finance_outputs
from spatial.io.kinds import barrier_layer
from spatial.io.load import LoadSpec, check_layers
from spatial.io.osm.barriers import read_osm_barriers
from spatial.io.osm.read import is_osm_file, read_osm
from spatial.io.outputs.results import (
    load_gap_tables,
    write_bundle_outputs,
    write_gap_outputs,
    write_gap_tables,
)
from spatial.io.outputs.runfolder import rebase_outputs, run_folder
from spatial.lifecircle.params import GapParams
from spatial.pipeline.options import BundleRun, GapRun
from spatial.pipeline.side import SideJobs, write_context
from spatial.pipeline.workbook import WorkbookProcess
from spatial.policy import (
    load_profile,
)
from spatial.settings import DEFAULTS, Progress, no_progress

if TYPE_CHECKING:
    from spatial.network import WalkNetwork

__all__ = ["bundle_stage", "gaps_stage", "run_bundles", "run_gaps"]

log = logging.getLogger(__name__)


def gaps_stage(
    layers: dict[str, gpd.GeoDataFrame],
    net: WalkNetwork,
    *,
    out_dir: str | Path,
    params: GapParams,
    say: Progress,
    found: Sequence[Problem] = (),
) -> GapRun:
    """The gap stage from checked layers into ``out_dir`` (see :func:`run_gaps`).

    Parameters
    ----------
    layers
        ``compounds`` and ``pois`` in metres.
    net
        The walk network.
    out_dir
        The folder written.
    params
        The gap stage's settings.
    say
        Progress callback.
    found
        Problems of loading, kept in ``problems.csv``.

    Returns
    -------
    GapRun
    """
    from spatial.lifecircle.gaps import begin_gaps  # the engine: not loaded for bundles

    say("computing life-circle gaps", 0, 0)
    pending = begin_gaps(layers["compounds"], layers["pois"], net, params=params)
    say("writing gap outputs", 0, 0)
    try:  # the tables while a second process may still trace service areas
        outputs = write_gap_tables(pending.tables, out_dir)
        result = pending.result()
    finally:
        pending.cancel()
    result = replace(result, problems=[*found, *result.problems])
    outputs |= write_gap_outputs(result, out_dir, tables=False)
    return GapRun(result, net, outputs)


def run_gaps(
    *,
    out_dir: str | Path,
    compounds: Sequence[LoadSpec] = (),
    pois: Sequence[LoadSpec] = (),
    osm: str | Path | None = None,
    network: str | Path | None = None,
    place: str | None = None,
    params: GapParams | None = None,
    progress: Progress | None = None,
) -> GapRun:
    """Life-circle gaps from files to the output folder.

    Compounds and POIs come from the given files, or from the OSM file when none are
    given. Every input is loaded and validated (one :class:`~spatial.InputError` with
    all problems) before the network is built.

    Parameters
    ----------
    out_dir
        Output folder: ``gaps.csv``, ``compounds.gpkg``, ``summary.csv``,
        ``service_areas.gpkg``, ``problems.csv``, ``categories.toml``.
    compounds, pois
        Files to load; empty = take them from ``osm``.
    osm, network, place
        Where the walk network comes from (``network`` or ``place`` win over ``osm``),
        see :func:`spatial.network.load_network`.
    params
        Settings of the stage (default :class:`~spatial.lifecircle.params.GapParams`),
        passed on unchanged.
    progress
        ``progress(stage, done, total)``.

    Returns
    -------
    GapRun
        The result, the network and the files written.
    """
    say = progress or no_progress
    opts = params or GapParams()
    with run_folder(out_dir, command="gaps") as stage:
        opts.taxonomy()  # a broken taxonomy or an unknown id fails before any loading
        specs = list(compounds) or ([LoadSpec(osm, "compounds")] if osm else [])
        specs += list(pois) or ([LoadSpec(osm, "pois")] if osm else [])
        if not any(s.layer == "compounds" for s in specs) or not any(
            s.layer == "pois" for s in specs
        ):
            raise input_error(
                "--compounds/--pois",
                "compounds and POIs are needed",
                hint="give files, or an OSM file (--osm) to take them from",
            )
        if opts.keep_cut:
            specs = [replace(s, keep_cut=True) if s.layer == "compounds" else s for s in specs]
        source = network if network is not None else osm if place is None else None
        side = _start_side(source, stage, opts, ways_alone=bool(network or (compounds and pois)))
        try:
            say("loading and validating inputs", 0, 0)
            layers, found = check_layers(specs)
            say("building the walk network", 0, 0)
            from spatial.network import load_network  # not imported for bundles

            net = load_network(
                network=network,
                osm=osm if network is None and place is None else None,
                place=place,
                crs=layers["compounds"].crs,
                layer=opts.network_layer,
                line_snap_m=opts.line_snap_m,
                ways=side.walk() if side is not None else None,
            )
            found = [*found, *net.problems]
            run = gaps_stage(layers, net, out_dir=stage, params=opts, say=say, found=found)
            if opts.context and source is not None:
                say("keeping the map context", 0, 0)
                written = side.context() if side is not None else write_context(source, stage)
                if written is not None:
                    run = replace(run, outputs={**run.outputs, "context": written})
        finally:
            if side is not None:
                side.stop()
    return replace(run, outputs=rebase_outputs(run.outputs, stage, out_dir))


def _start_side(
    source: str | Path | None, folder: Path, opts: GapParams, *, ways_alone: bool
) -> SideJobs | None:
    """A second process for a large network file (see :mod:`spatial.pipeline.side`).

    It reads the walk ways when the file is OSM and nothing else is read from it (with
    compounds or POIs from the same file, the whole reading here keeps them), and the
    map context when one is kept.
    """
    if source is None:
        return None
    path = Path(source)
    if not path.is_file() or path.stat().st_size < opts.context_process_mb * 1e6:
        return None
    walk = ways_alone and is_osm_file(path)
    return SideJobs.start(path, folder, walk=walk, context=opts.context)


def bundle_stage(
    units: gpd.GeoDataFrame,
    *,
    out_dir: str | Path,
    barriers: gpd.GeoSeries | None,
    params: BundleParams,
    say: Progress,
    found: Sequence[Problem] = (),
) -> BundleRun:
    """The bundle stage from checked units into ``out_dir`` (see :func:`run_bundles`).

    Parameters
    ----------
    units
        Old compounds and parcels in metres (:func:`spatial.bundling.bundle_units`).
    out_dir
        The folder written.
    barriers
        Barrier lines or areas, or None.
    params
        The bundle stage's settings.
    say
        Progress callback.
    found
        Problems of loading, kept in ``problems.csv``.

    Returns
    -------
    BundleRun
    """
    say("finding bundles", 0, 0)
    # a large run's finance.xlsx is written by a second process (started now, so its
    # imports overlap the bundling) while this one writes the tables
    beside = DEFAULTS.workbook_process_units <= len(units) <= DEFAULTS.workbook_process_max_units
    side = WorkbookProcess.start() if params.workbook and beside else None
    try:
        result, figures = api.bundle_result(units, barriers=barriers, params=params)
        assert result.unit_money is not None
        problems = [*found, *money_problems(units, result.unit_money)]
        say("financing modes, cash flows and sensitivity", 0, 0)
        report = finance_report(units, result, finance=figures, default_far=params.default_far)
        book = Path(out_dir) / "finance.xlsx"
        sent = side is not None and side.submit(report, book, params.cash_flow_sheets)
        result = with_finance_columns(result, report)
        say("writing bundle outputs", 0, 0)
        outputs = write_bundle_outputs(result, out_dir, problems=problems)
        outputs |= write_finance_outputs(
            report,
            out_dir,
            workbook=params.workbook and not sent,
            cash_flow_sheets=params.cash_flow_sheets,
        )
        if side is not None and sent:
            outputs["finance"] = side.result(report, book, params.cash_flow_sheets)
    finally:
        if side is not None:
            side.close()
    return BundleRun(result, outputs, problems, report)


def run_bundles(
    *,
    out_dir: str | Path,
    compounds: Sequence[LoadSpec] = (),
    parcels: Sequence[LoadSpec] = (),
    osm: str | Path | None = None,
    barriers: str | Path | None = None,
    gaps_dir: str | Path | None = None,
    params: BundleParams | None = None,
    progress: Progress | None = None,
) -> BundleRun:
    """Candidate bundles from files to the output folder.

    Parameters
    ----------
    out_dir
        Output folder (``bundles.gpkg``, ``bundles.csv``, ``pairs.csv``, ``packages.csv``).
    compounds, parcels
        Files of old compounds and of other parcels (all loaded and validated first);
        empty = take them from ``osm`` (residential areas; industrial and brownfield
        areas as candidate parcels).
    osm, barriers
        Where barriers come from: an OSM file (major roads, rail, water) or a line layer.
    gaps_dir
        A ``spatial gaps`` output folder: bundles report the gaps of their compounds.
    params
        Settings of the stage (default :class:`~spatial.bundling.params.BundleParams`),
        passed on unchanged.
    progress
        ``progress(stage, done, total)``.

    Returns
    -------
    BundleRun
        The bundles and the files written.
    """
    say = progress or no_progress
    opts = params or BundleParams()
    with run_folder(out_dir, command="bundles") as stage:
        if not isinstance(opts.finance, FinanceDefaults):
            load_finance(opts.finance)  # a broken finance file fails before any loading
        if opts.profile is not None:
            load_profile(opts.profile)  # so does an unknown profile
        say("loading and validating inputs", 0, 0)
        gaps = load_gap_tables(gaps_dir, service_areas=False).compounds if gaps_dir else None
        specs = list(compounds) or ([LoadSpec(osm, "compounds")] if osm else [])
        if parcels:
            specs += list(parcels)
        elif osm is not None and len(read_osm(osm).parcels):  # an OSM file may hold none
            specs.append(LoadSpec(osm, "parcels"))
        if not any(s.layer == "compounds" for s in specs):
            raise input_error(
                "--compounds",
                "no old compounds given: bundles are built around old compounds",
                hint="give --compounds, or --osm to take its residential areas",
            )
        layers, found = check_layers(specs)
        units = bundle_units(layers["compounds"], layers.get("parcels"), gaps)
        lines = None
        if osm is not None:
            lines = read_osm_barriers(osm).geometry  # the whole file when read already
        elif barriers is not None:  # a multi-layer file: its barriers layer
            lines = gpd.read_file(
                barriers, layer=barrier_layer(barriers), engine="pyogrio"
            ).geometry
        else:  # `spatial osm`'s GeoPackage holds them beside the compounds and parcels
            held = [(s.path, barrier_layer(s.path)) for s in specs]
            path, layer = next(((p, n) for p, n in held if n is not None), (None, None))
            if path is not None:
                lines = gpd.read_file(path, layer=layer, engine="pyogrio").geometry
                found = [
                    *found,
                    Problem.warning(
                        str(path),
                        f"barriers taken from its layer '{layer}'",
                        hint="--barriers FILE to use others, --cross-barriers to ignore them",
                    ),
                ]
        run = bundle_stage(units, out_dir=stage, barriers=lines, params=opts, say=say, found=found)
    return replace(run, outputs=rebase_outputs(run.outputs, stage, out_dir))
