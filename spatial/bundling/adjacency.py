"""Which parcels are neighbours, and the size limits of a bundle (``bundling.toml``).

Two parcels are neighbours when they touch or lie within ``gap_m`` of each other (across
a lane) and the shortest segment between them crosses no barrier (arterial road,
railway, river) — unless barriers may be crossed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.io.crs.projection import assert_metric
from spatial.standards.files import read_toml

__all__ = ["BundleLimits", "adjacency", "load_limits"]


@dataclass(frozen=True)
class BundleLimits:
    """Size limits of a bundle and the neighbour gap; defaults in ``bundling.toml``.

    Attributes
    ----------
    gap_m
        Largest gap in metres between two parcels that still makes them neighbours.
    max_span_m
        Largest extent of a bundle (longest side of its bounding box), metres.
    max_area_m2
        Largest total land area of a bundle, m².
    max_households
        Largest number of households in a bundle.
    pair_max_m
        Largest distance in metres over which one project's surplus funds a compound
        elsewhere (跨片区组合平衡).
    split_funding
        A compound may take money from more than one project (cross-area); when False,
        each compound's whole need comes from one.
    """

    gap_m: float
    max_span_m: float
    max_area_m2: float
    max_households: float
    pair_max_m: float = 3000.0
    split_funding: bool = True


def load_limits(**changes: float | bool) -> BundleLimits:
    """The limits of ``bundling.toml``, with ``changes`` applied.

    Parameters
    ----------
    **changes
        Limits to change by name, e.g. ``gap_m=50`` or ``max_households=3000``.

    Returns
    -------
    BundleLimits
        The shipped limits with the changes.
    """
    data, _ = read_toml(None, default="bundling.toml")
    values: dict[str, float | bool] = {
        k: v["value"] if isinstance(v["value"], bool) else float(v["value"])
        for k, v in data.items()
    }
    values.update({k: v if isinstance(v, bool) else float(v) for k, v in changes.items()})
    return BundleLimits(**values)  # type: ignore[arg-type]


def adjacency(
    units: gpd.GeoDataFrame,
    *,
    gap_m: float,
    barriers: gpd.GeoSeries | None = None,
    cross_barriers: bool = False,
) -> pd.DataFrame:
    """Neighbouring pairs of units.

    Parameters
    ----------
    units
        Parcels in a metric CRS, one row per unit.
    gap_m
        Two units are neighbours when their outlines are at most this far apart, metres.
    barriers
        Railways, rivers and trunk roads in the same CRS; a pair whose shortest
        connecting segment crosses one is marked ``barrier``.
    cross_barriers
        Keep pairs across barriers (marked) instead of dropping them.

    Returns
    -------
    DataFrame
        ``i``, ``j`` (positions, ``i < j``), ``distance_m`` and ``barrier`` (True when the
        shortest segment between them crosses a barrier; such pairs are dropped unless
        ``cross_barriers``).
    """
    assert_metric(units, what="parcels")
    geoms = np.asarray(units.geometry.values)
    # the boxes grown by the gap first, each pair then measured once (not both ways): the
    # pairs and their order of the tree's own ``dwithin`` query, in a third of the time
    grown = shapely.box(*(shapely.bounds(geoms) + np.array([-gap_m, -gap_m, gap_m, gap_m])).T)
    left, right = shapely.STRtree(geoms).query(grown)
    keep = left < right
    i, j = left[keep], right[keep]
    near = shapely.dwithin(geoms[i], geoms[j], gap_m)
    i, j = i[near], j[near]
    link = shapely.shortest_line(geoms[i], geoms[j])
    crosses = np.zeros(len(i), dtype=bool)
    if barriers is not None and len(barriers):
        b = np.asarray(barriers.to_crs(units.crs).values)
        hit, _ = shapely.STRtree(b).query(link, predicate="intersects")
        crosses[np.unique(hit)] = True
    pairs = pd.DataFrame({"i": i, "j": j, "distance_m": shapely.length(link), "barrier": crosses})
    return cast(
        "pd.DataFrame", pairs if cross_barriers else pairs[~pairs["barrier"]].reset_index(drop=True)
    )
