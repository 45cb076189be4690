"""The gap stage's parameters (:class:`GapParams`): each option and its one default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from spatial.params import StageParams, number
from spatial.settings import DEFAULTS
from spatial.standards import Category

__all__ = ["SCHOOL_UNKNOWN", "GapParams"]

#: What a school of unknown level may count as.
SCHOOL_UNKNOWN: tuple[str, ...] = ("none", "primary", "junior", "both")


@dataclass(frozen=True, kw_only=True)
class GapParams(StageParams):
    """Settings of the gap stage, from reading the inputs to the written service areas.

    The library face (:func:`spatial.gaps`), :func:`spatial.pipeline.run_gaps`, a province
    file's ``[gaps]`` table and ``spatial gaps`` all build this object; its defaults are
    the only ones.

    Attributes
    ----------
    categories
        The taxonomy: categories, or a TOML file like ``spatial/standards/lifecircle.toml``
        (default: the shipped GB 50180-2018 one).
    only_categories
        Category ids to keep (empty: all).
    snap_limit_m
        POIs and compounds farther than this (metres) from the walk network are
        off-network: left out and reported.
    walk_speed_m_per_min
        Walking speed that turns metres into the ``walk_min`` label.
    search_limit_m
        Distances are searched up to this many metres (at least each category's radius):
        beyond it the distance is empty and the status ``beyond_limit``.
    service_areas
        Also compute (and write, ``service_areas.gpkg``) the reachable parts of streets
        per category.
    service_area_buffer_m
        Half-width in metres drawn around the reachable street parts.
    service_area_cell_m, service_area_max_cells
        The outlines are traced on cells this size (metres), coarser where an area
        would need more than this many cells (memory: about five bytes a cell, per
        category at once); cells coarser than 0.8 of the half-width generalise
        the outline, and the run says so (``service_areas.gpkg``'s ``cell_m``).
    service_area_streets
        Also keep each category's reachable street parts, exact, as a MultiLineString
        (``GapResult.service_areas["streets"]``; never written): a whole city's take
        gigabytes, so only when asked.
    count_reachable
        Also count, per compound and category, the facilities within the radius (one
        search per facility, so slower).
    capacity
        Also compute the supply–demand ratios (2SFCA / E2SFCA) of the categories with a
        capacity rule: places within walking distance per person who needs one, the
        shortfall in places, ``covered_over_capacity`` (``capacity.csv``).
    capacity_file
        The capacity rules and demand figures (default
        ``spatial/standards/capacity.toml``).
    count_no_data
        Count categories without any facility in the inputs as missing (by default they
        are listed in ``no_data`` and left out of ``n_missing``).
    gate_tolerance_m
        A gate or entrance this close (metres) to a compound's boundary is one of its
        access points.
    crossing_depth_m, perimeter_band_m, access_leg_factor
        How a compound without gates is entered: from every point of the walk edges
        within its radius (``crossing_depth_m`` when a path goes deeper into it, else
        ``d_min + perimeter_band_m``), metres of leg beyond the radius counting
        ``access_leg_factor`` times (:func:`spatial.network.attach.compound_access_points`).
    school_unknown
        What a school of unknown level counts as: ``none``, ``primary``, ``junior`` or
        ``both``.
    line_snap_m
        Road line layers: vertices and line ends this close (metres) join (CAD
        centrelines that do not quite meet).
    network_layer
        The layer of a multi-layer network file (None: the one its name calls roads).
    keep_cut
        OSM: keep residential areas cut by the extract's edge (the part inside, flagged
        ``partial``) instead of leaving them out.
    context
        Also keep the streets, water, railways and names of the network file in
        ``context.gpkg``: the maps draw them under the data.
    context_process_mb
        From this network file size (MB) the context is read by a second process
        meanwhile.
    """

    categories: str | Path | tuple[Category, ...] | None = None
    only_categories: tuple[str, ...] = ()
    snap_limit_m: float = number(DEFAULTS.snap_limit_m)
    walk_speed_m_per_min: float = number(DEFAULTS.walk_speed_m_per_min)
    search_limit_m: float = number(DEFAULTS.search_limit_m)
    service_areas: bool = True
    service_area_buffer_m: float = number(DEFAULTS.service_area_buffer_m)
    service_area_cell_m: float = number(DEFAULTS.service_area_cell_m)
    service_area_max_cells: int = number(DEFAULTS.service_area_max_cells, above=None, at_least=1)
    service_area_streets: bool = False
    count_reachable: bool = False
    count_no_data: bool = False
    capacity: bool = False
    capacity_file: str | Path | None = None
    gate_tolerance_m: float = number(DEFAULTS.gate_tolerance_m, above=None, at_least=0.0)
    crossing_depth_m: float = number(DEFAULTS.crossing_depth_m, above=None, at_least=0.0)
    perimeter_band_m: float = number(DEFAULTS.perimeter_band_m, above=None, at_least=0.0)
    access_leg_factor: float = number(DEFAULTS.access_leg_factor, above=None, at_least=1.0)
    school_unknown: Literal["none", "primary", "junior", "both"] = "none"
    line_snap_m: float = number(DEFAULTS.line_snap_m, above=None, at_least=0.0)
    network_layer: str | None = None
    keep_cut: bool = False
    context: bool = True
    context_process_mb: float = number(DEFAULTS.context_process_mb, above=None, at_least=0.0)

    def taxonomy(self) -> tuple[Category, ...]:
        """The categories of the run.

        Returns
        -------
        tuple of Category
            The taxonomy's categories, only the kept ones if any are named.
        """
        from spatial.standards import load_categories, select_categories

        given = self.categories
        cats = tuple(given) if isinstance(given, (tuple, list)) else load_categories(given)
        return select_categories(cats, self.only_categories) if self.only_categories else cats
