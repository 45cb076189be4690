"""The ``gaps`` command: 15-minute life-circle gaps."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spatial.cli._common import (
    Coords,
    NetworkLayerOption,
    SchoolUnknown,
    SnapOption,
    console,
    default_of,
    layer_specs,
    params_from,
    print_outputs,
    print_problems,
    run_reporting,
)
from spatial.lifecircle.params import GapParams

if TYPE_CHECKING:
    from collections.abc import Callable

    from spatial.io.load import LoadSpec
    from spatial.lifecircle import GapResult
    from spatial.network import WalkNetwork
    from spatial.pipeline import GapRun

__all__ = ["gaps", "print_gaps"]


def gaps(
    out: Annotated[
        Path,
        typer.Option(
            help="Output folder (gaps.csv, compounds.gpkg, summary.csv, service_areas.gpkg)."
        ),
    ],
    osm: Annotated[
        Path | None,
        typer.Option(
            help="Local OSM file (.osm/.osm.pbf): the walk network, and compounds and POIs "
            "when --compounds/--pois are not given."
        ),
    ] = None,
    compounds: Annotated[
        list[Path] | None,
        typer.Option(help="Compound file(s) of your own (gpkg, shp, geojson, csv, xlsx)."),
    ] = None,
    compounds_layer: Annotated[
        str | None,
        typer.Option(help="The compound layer of multi-layer --compounds files (GeoPackage …)."),
    ] = None,
    pois: Annotated[list[Path] | None, typer.Option(help="POI file(s) of your own.")] = None,
    pois_layer: Annotated[
        str | None, typer.Option(help="The POI layer of multi-layer --pois files.")
    ] = None,
    network: Annotated[
        Path | None,
        typer.Option(
            help="Walk network file: GraphML (osmnx), OSM, or a road-centreline line layer."
        ),
    ] = None,
    network_layer: NetworkLayerOption = None,
    line_snap_m: SnapOption = None,
    place: Annotated[
        str | None,
        typer.Option(help="Download the walk network of a place with osmnx (needs the internet)."),
    ] = None,
    coords: Annotated[
        Coords,
        typer.Option(
            help="Coordinate system of the POI files' lon/lat: wgs84, gcj02 (Amap), bd09 (Baidu)."
        ),
    ] = Coords.wgs84,
    categories: Annotated[
        str | None,
        typer.Option(
            help="Your own category file (TOML like spatial/standards/lifecircle.toml), or "
            "category ids to keep, comma-separated (kindergarten,clinic)."
        ),
    ] = None,
    search_limit_m: Annotated[
        float | None,
        typer.Option(
            help="Report the nearest facility's distance up to this many metres.",
            show_default=default_of(GapParams, "search_limit_m"),
        ),
    ] = None,
    count_no_data: Annotated[
        bool | None,
        typer.Option(
            help="Count categories with no facility in the data as missing.",
            show_default=default_of(GapParams, "count_no_data"),
        ),
    ] = None,
    snap_limit_m: Annotated[
        float | None,
        typer.Option(
            help="POIs/compounds farther than this from the network are off-network.",
            show_default=default_of(GapParams, "snap_limit_m"),
        ),
    ] = None,
    walk_speed_m_per_min: Annotated[
        float | None,
        typer.Option(
            help="Walking speed for minutes.",
            show_default=default_of(GapParams, "walk_speed_m_per_min"),
        ),
    ] = None,
    service_areas: Annotated[
        bool | None,
        typer.Option(
            help="Also write service-area polygons.",
            show_default=default_of(GapParams, "service_areas"),
        ),
    ] = None,
    service_area_max_cells: Annotated[
        int | None,
        typer.Option(
            help="Largest grid a service area is traced on (about 5 bytes a cell, per "
            "category): a larger area is traced on coarser cells, and its outline "
            "generalised beyond 12 m cells (the run says so).",
            show_default=default_of(GapParams, "service_area_max_cells"),
        ),
    ] = None,
    gate_tolerance_m: Annotated[
        float | None,
        typer.Option(
            help="A gate or entrance this close (m) to a compound's boundary is a way in.",
            show_default=default_of(GapParams, "gate_tolerance_m"),
        ),
    ] = None,
    school_unknown: Annotated[
        SchoolUnknown | None,
        typer.Option(
            help="A school whose level neither tags nor name say counts as: none, primary, "
            "junior or both.",
            show_default=default_of(GapParams, "school_unknown"),
        ),
    ] = None,
    keep_cut: Annotated[
        bool | None,
        typer.Option(
            help="OSM: keep residential areas cut by the extract's edge (the part inside, "
            "flagged partial) instead of leaving them out.",
            show_default=default_of(GapParams, "keep_cut"),
        ),
    ] = None,
    count_reachable: Annotated[
        bool | None,
        typer.Option(
            help="Also count the facilities each compound reaches within the radius (slower).",
            show_default=default_of(GapParams, "count_reachable"),
        ),
    ] = None,
    capacity: Annotated[
        bool | None,
        typer.Option(
            help="Also weigh places against the people who need them (2SFCA/E2SFCA on the "
            "walk distances): capacity.csv, covered_over_capacity.",
            show_default=default_of(GapParams, "capacity"),
        ),
    ] = None,
    capacity_file: Annotated[
        Path | None,
        typer.Option(
            help="Capacity rules and demand figures (default spatial/standards/capacity.toml).",
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            help="Compound database (.gpkg or postgresql://): its compounds are the input and "
            "the results are written back (spatial db)."
        ),
    ] = None,
) -> None:
    """Find 15-minute life-circle gaps: walking distance from every compound to every category.

    计算15分钟生活圈缺口：每个小区到各类设施的步行距离、是否覆盖、缺少哪些设施。
    """
    from spatial.pipeline import run_gaps

    if sum(x is not None for x in (osm, network, place)) == 0:
        raise typer.BadParameter("give the walk network: --osm, --network or --place")
    if db is not None and compounds:
        raise typer.BadParameter("give --db or --compounds, not both")
    taxonomy, only = _categories_option(categories)
    specs_c = layer_specs(compounds, "compounds", layer=compounds_layer)
    specs_p = layer_specs(pois, "pois", layer=pois_layer, coords=coords.value)

    def job(report: Callable[[str, int, int], None]) -> GapRun:
        params = params_from(
            GapParams,
            categories=taxonomy,
            only_categories=only or None,
            snap_limit_m=snap_limit_m,
            walk_speed_m_per_min=walk_speed_m_per_min,
            service_areas=service_areas,
            service_area_max_cells=service_area_max_cells,
            count_reachable=count_reachable,
            capacity=capacity,
            capacity_file=capacity_file,
            search_limit_m=search_limit_m,
            count_no_data=count_no_data,
            gate_tolerance_m=gate_tolerance_m,
            school_unknown=school_unknown,
            keep_cut=keep_cut,
            line_snap_m=line_snap_m,
            network_layer=network_layer,
        )
        if db is None:
            return run(report, specs_c, params)
        from spatial.db.connect import open_db
        from spatial.db.results import compounds_file, save_gap_run
        from spatial.io.load import LoadSpec

        database = open_db(db)
        with compounds_file(database) as path:
            done = run(report, [LoadSpec(path, "compounds", source_layer="compounds")], params)
        report("writing the results into the database", 0, 0)
        run_id = save_gap_run(database, out, options={"osm": osm, "network": network})
        console.print(f"saved as gaps run {run_id} in {database.label}", markup=False)
        return done

    def run(
        report: Callable[[str, int, int], None], specs: list[LoadSpec], params: GapParams
    ) -> GapRun:
        return run_gaps(
            out_dir=out,
            compounds=specs,
            pois=specs_p,
            osm=osm,
            network=network,
            place=place,
            params=params,
            progress=report,
        )

    done = run_reporting(job)
    print_gaps(done.result, done.network)
    print_outputs(done.outputs)


def _categories_option(value: str | None) -> tuple[Path | None, tuple[str, ...]]:
    """``--categories``: a TOML file, or comma-separated ids of the shipped taxonomy."""
    if value is None:
        return None, ()
    path = Path(value)
    if path.exists() or path.suffix.lower() == ".toml":
        return path, ()
    return None, tuple(v.strip() for v in value.split(",") if v.strip())


def print_gaps(result: GapResult, network: WalkNetwork | None = None) -> None:
    """Print the network's size and the coverage per category.

    Parameters
    ----------
    result
        The gap engine's result.
    network
        The walk network, to report its pieces.
    """
    import numpy as np
    from rich.table import Table

    if network is not None:
        pieces = network.pieces()
        console.print(
            f"walk network: {network.n_nodes} nodes, {network.n_edges} edges, "
            f"{len(pieces)} piece(s); largest {int(pieces['nodes'].iloc[0])} nodes"
        )
    table = Table(title="Coverage per category 各类设施覆盖率")
    for col in (
        "category 类别",
        "level",
        "radius m",
        "facilities",
        "compounds covered",
        "households covered",
    ):
        table.add_column(col)
    for row in result.summary.to_dict("records"):
        share = float(row["share_households_covered"])
        no_data = row.get("facilities", 1) == 0
        table.add_row(
            f"{row['zh']} {row['en']}",
            str(row["level"]),
            f"{float(row['radius_m']):g}",
            "无数据 no data" if no_data else str(row.get("facilities", "")),
            "—" if no_data else f"{row['compounds_covered']}/{row['compounds']}",
            "" if no_data or np.isnan(share) else f"{share:.0%}",
        )
    console.print(table)
    print_problems(result.problems)
