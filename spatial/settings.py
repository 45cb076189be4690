"""Typed defaults of the toolkit, each documented with its unit.

Numbers that come from standards, policies or finance live in ``spatial/standards/``
data files; this module only holds technical defaults of the software.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["CHINA_BBOX_WGS84", "DEFAULTS", "Progress", "Settings", "no_progress"]

#: Progress callback: ``progress(stage, done, total)``; ``total == 0`` means unknown.
Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int = 0, total: int = 0) -> None:
    """Report nothing: the default progress callback.

    Parameters
    ----------
    stage
        What is being done.
    done, total
        Progress within the stage (``total == 0``: unknown).
    """


#: Rough lon/lat box of China used by the GCJ-02 transform and coordinate checks
#: (the same box the published GCJ-02 algorithm uses: lon 72.004–137.8347, lat 0.8293–55.8271).
CHINA_BBOX_WGS84: tuple[float, float, float, float] = (72.004, 0.8293, 137.8347, 55.8271)


@dataclass(frozen=True)
class Settings:
    """Technical defaults.

    Attributes
    ----------
    walk_speed_m_per_min
        Walking speed used to label distances in minutes (GB 50180-2018 implies
        50–67 m/min; 60 is the toolkit's default).
    snap_limit_m
        A point farther than this from the walk network is reported off-network.
    earliest_build_year
        Build years before this are rejected as implausible.
    search_limit_m
        Distances are searched up to this many metres (at least each category's
        radius): a planner sees "nearest 1,000 m" rather than a blank.
    service_area_buffer_m
        Half-width in metres drawn around reachable street parts in ``service_areas.gpkg``.
    service_area_cell_m, service_area_max_cells
        Service areas are traced on a grid of cells this size (metres); an area too
        large for this many cells (about five bytes each, per category) is traced on
        coarser ones: a 20 × 20 km district on 10 m cells, a 63 km city on 33 m.
    service_area_fine_cell_ratio
        Outlines traced on cells at most this share of ``service_area_buffer_m`` keep
        the corridor's shape: 12 m cells for 15 m hold the buffered streets' area within
        5 % on the demo district and the CAU extract (measured 2026-12-04; 10 m cells
        within 4 %, tested), 15 m cells overstate it by up to 8.5 %. On coarser cells
        the outlines are generalised and the run says so.
    gate_tolerance_m
        A gate or entrance this close (metres) to a compound's boundary is one of its
        access points.
    crossing_depth_m
        A compound without gates that a walk edge of the main network goes more than
        this many metres into is entered from the edges within this distance of it (its
        paths and the streets drawn along its boundary). A street drawn along the
        boundary, inside it by its noise, does not make a compound "crossed".
    perimeter_band_m
        Any other compound without gates is entered from the walk edges within
        ``d_min + perimeter_band_m`` metres of it (``d_min``: its distance to the main
        network's nearest edge): the streets around a block, not one arbitrary nearest
        point. POIs nearest a small piece are attached to the main network within this
        band too.
    access_leg_factor
        A compound without gates is left from any point of such an edge with a straight
        leg to it; metres of leg beyond its radius (``crossing_depth_m`` or
        ``d_min + perimeter_band_m``) count this many times. No cut slides along a
        street that leaves the compound at a shallow angle, so 0.3 m of road-line noise
        moved no distance by more than 1.7 m on the shared extracts.
    line_snap_m
        Road line layers: vertices and line ends this close (metres) join (CAD
        centrelines that do not quite meet).
    dedupe_m
        POIs of one category with alike names within this distance (metres) are merged.
    bundle_seed
        Seed of the tie-breaking order of bundling (not the demo city's seed).
    sites_k
        Facility sites chosen per missing category.
    cash_flow_sheets
        ``finance.xlsx`` has a full cash-flow sheet (yearly lines and debt schedule) for
        this many bundles and combinations of largest cost; every project has its row
        and yearly net flow on the project sheets either way.
    context_process_mb
        A network file at least this large (MB) is read by a second process (an OSM
        file's walk ways, then the map context) while the first loads and checks the
        inputs (a city: the two cores share the work); a smaller one is read in the
        run's own process.
    engine_process_nodes
        A walk network of at least this many nodes has its per-category searches
        shared with a second process (one core each); a smaller one is searched in the
        run's own process, where starting a process would cost more than it saves.
    outline_process_nodes
        From this many nodes on, a second process traces service areas (from the last
        category) while the run goes on with its tables (a 100k-node city: ~0.5 s per
        category); a smaller network traces them in the run's own process.
    outline_map_process_mb
        ``spatial map`` makes the service-area layers of a ``service_areas.gpkg`` at least
        this large (MB) in a second process while it reads the tables and draws the rest
        (a ~100k-node district's file is ~90 MB: ~2 s of work); a smaller one by a thread.
    bundle_map_process_mb
        ``spatial map`` with gaps and bundles draws the bundle map in a second process
        meanwhile when ``bundles.gpkg`` is at least this large (MB).
    workbook_process_units, workbook_process_max_units
        ``spatial bundles`` with this many compounds and parcels (from the first to the
        second) writes ``finance.xlsx`` in a second process (started with the run, so its
        imports overlap the bundling) while it writes the other files. Above, the
        workbook (capped at 1,000 projects) is a small share of the run and the process's
        ~200 MB buy nothing (the 1M city: 34.9 s and 1,804 MB without it, 35.3 s and
        2,023 MB with it).
    """

    walk_speed_m_per_min: float = 60.0
    snap_limit_m: float = 150.0
    earliest_build_year: int = 1900
    search_limit_m: float = 3000.0
    service_area_buffer_m: float = 15.0
    service_area_cell_m: float = 5.0
    service_area_max_cells: int = 4_000_000
    service_area_fine_cell_ratio: float = 0.8
    gate_tolerance_m: float = 5.0
    crossing_depth_m: float = 2.0
    perimeter_band_m: float = 20.0
    access_leg_factor: float = 2.0
    line_snap_m: float = 1.0
    dedupe_m: float = 50.0
    bundle_seed: int = 0
    sites_k: int = 3
    cash_flow_sheets: int = 10
    context_process_mb: float = 5.0
    bundle_map_process_mb: float = 20.0
    engine_process_nodes: int = 200_000
    outline_process_nodes: int = 50_000
    outline_map_process_mb: float = 8.0
    workbook_process_units: int = 2_000
    workbook_process_max_units: int = 50_000


DEFAULTS = Settings()
