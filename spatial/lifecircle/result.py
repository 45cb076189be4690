"""What the gap stage returns (:class:`GapResult`), and the result whose service areas
are still being traced while its tables are written (:class:`PendingGaps`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import pandas as pd

from spatial._errors import Problem
from spatial.lifecircle.areas import coarse_outline_warning, service_area_frame
from spatial.lifecircle.parallel import Outlines
from spatial.lifecircle.params import GapParams
from spatial.standards import Category

__all__ = ["GapResult", "PendingGaps"]


@dataclass
class GapResult:
    """Everything the engine computed; see :func:`~spatial.lifecircle.gaps.compute_gaps`.

    Attributes
    ----------
    gaps
        One row per compound × category: ``compound_id, compound_name, category,
        level, radius_m, distance_m, walk_min, covered, status, access`` (+
        ``reachable_count`` when counted); ``status`` is one of
        :data:`~spatial.lifecircle.statuses.STATUSES`; ``access`` says how the compound is
        entered (``gate``, ``crossing``, ``perimeter``, ``nearest`` or ``off-network``;
        see :data:`~spatial.network.attach.ACCESS_KINDS`).
    compounds
        The input compounds plus ``n_missing``, ``missing`` (category ids joined by
        ``;``; categories without data are left out unless asked), ``no_data``
        (categories without any facility in the inputs), ``gap_score`` and ``access``
        (how the access points were found).
    summary
        Per category: facilities, compounds and households covered and their shares,
        and the number of compounds per status.
    pois
        The POIs with ``categories`` and ``attached`` (False = off-network).
    service_areas
        Per category with a facility on the network, the outline of the corridor around
        the street parts within its radius (``category, zh, en, radius_m, cell_m``: the
        grid cell it was traced on, metres; and ``streets`` when asked), or None.
    problems
        Off-network POIs and compounds, compounds on pieces cut off from the main
        network, categories without any POI (warnings).
    categories
        The taxonomy the gaps were computed for (saved beside the gap outputs).
    capacity
        With ``capacity=True``: per compound and category with a capacity rule, the
        supply–demand ratio (:func:`~spatial.lifecircle.capacity.capacity_rows`).
    capacity_pairs
        The facility–compound pairs within the radius those ratios come from.
    """

    gaps: pd.DataFrame
    compounds: gpd.GeoDataFrame
    summary: pd.DataFrame
    pois: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame | None
    problems: list[Problem] = field(default_factory=list)
    categories: tuple[Category, ...] = ()
    capacity: pd.DataFrame | None = None
    capacity_pairs: pd.DataFrame | None = None


@dataclass
class PendingGaps:
    """A gap result whose tables are made while its service areas may still be traced
    (by a second process, :class:`~spatial.lifecircle.parallel.Outlines`): the tables
    can be written meanwhile, and :meth:`result` traces the rest.

    Attributes
    ----------
    tables
        The result without service areas (``service_areas`` None) and without what
        tracing them says.
    outlines
        The service areas being traced, or drawn already (by the category searches,
        :func:`~spatial.lifecircle.parallel.searches_and_outlines`).
    params
        The stage's settings.
    crs
        The network's CRS.
    """

    tables: GapResult
    outlines: Outlines | list[dict[str, Any]]
    params: GapParams
    crs: Any

    def result(self) -> GapResult:
        """The whole result: the service areas traced (the rest of them here).

        Returns
        -------
        GapResult
            :attr:`tables` with ``service_areas`` and what tracing them says.
        """
        drawn = self.outlines
        areas = drawn if isinstance(drawn, list) else drawn.collect()
        p = self.params
        frame = service_area_frame(areas, self.crs, streets=p.service_area_streets)
        said = coarse_outline_warning(
            areas,
            half_width_m=p.service_area_buffer_m,
            cell_m=p.service_area_cell_m,
            max_cells=p.service_area_max_cells,
        )
        return replace(
            self.tables,
            service_areas=frame if p.service_areas else None,
            problems=[*self.tables.problems, *said],
        )

    def cancel(self) -> None:
        """Stop tracing (the second process ends; nothing more is traced)."""
        if isinstance(self.outlines, Outlines):
            self.outlines.close()
