"""How compounds and facilities reach the walk network, for the gap stage.

- :func:`entered_by` how each compound is entered, and warnings for compounds off the
  network or on a piece cut off from it;
- :func:`meetings_that_matter` the walks where a compound and a facility meet on a
  shared edge (:func:`~spatial.network.meeting.same_edge_costs`), searched only where a
  lower bound says they may beat what the compound already has.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial._errors import Problem
from spatial.network import WalkNetwork
from spatial.network.attach import AccessPoints
from spatial.network.meeting import same_edge_costs

__all__ = ["entered_by", "meetings_that_matter"]


def entered_by(
    network: WalkNetwork, comp: gpd.GeoDataFrame, access: AccessPoints, *, snap_limit_m: float
) -> tuple[pd.Series, list[Problem]]:
    """How each compound is entered, and the compounds the network does not serve.

    Parameters
    ----------
    network
        The walk network (metric CRS).
    comp
        Compounds (``id``, ``name``) that ``access.owner`` indexes by position.
    access
        Their access points.
    snap_limit_m
        The snap limit the points were found with, metres (for the message).

    Returns
    -------
    kinds, problems
        Per compound its access kind (:data:`~spatial.network.attach.ACCESS_KINDS`) or
        ``off-network``; warnings for compounds off the network or only on a piece cut
        off from the main one.
    """
    problems: list[Problem] = []
    kinds = pd.Series(access.kind).groupby(access.owner).first()
    comp_access = pd.Series("off-network", index=comp.index, dtype=object)
    comp_access.loc[kinds.index] = kinds.to_numpy()
    for pos in np.flatnonzero(comp_access.to_numpy() == "off-network"):
        problems.append(
            Problem.warning(
                "compounds",
                f"compound {comp.at[pos, 'name']} more than {snap_limit_m:g} m from the "
                "walk network: no distances",
                row=str(comp.at[pos, "id"]),
                column="geometry",
                hint="check the network covers it (a larger OSM extract)",
            )
        )

    main_piece = network.component[network.u[access.edge]] == 0
    cut_off = sorted(set(access.owner[~main_piece]) - set(access.owner[main_piece]))
    for pos in cut_off:
        piece = int(network.component[network.u[access.edge[access.owner == pos][0]]])
        size = int((network.component == piece).sum())
        problems.append(
            Problem.warning(
                "network",
                f"compound {comp.at[pos, 'name']} reaches only a network piece of {size} "
                "nodes cut off from the main network",
                row=str(comp.at[pos, "id"]),
                hint="distances count only what is on that piece; check the "
                "extract's edges and foot access tags",
            )
        )

    return comp_access, problems


def meetings_that_matter(
    network: WalkNetwork,
    compounds: np.ndarray,
    access: AccessPoints,
    facility_xy: np.ndarray,
    ways: AccessPoints,
    in_data_of: Sequence[np.ndarray],
    distances: Sequence[np.ndarray],
    limits_m: Sequence[float],
    count_within_m: Sequence[float] | None,
    *,
    leg_factor: float,
) -> pd.DataFrame:
    """Where compounds and facilities meet on a shared edge, searched only where it may
    matter.

    A pair is searched when, for a category of the facility's, the compound has nothing
    nearer than the meeting's lower bound (or, when counting, the facility may be within
    the count's radius).

    Parameters
    ----------
    network
        The walk network (metric CRS).
    compounds
        Compound geometries (metres) that ``access.owner`` indexes.
    access
        Their access points (:func:`~spatial.network.attach.compound_access_points`).
    facility_xy
        ``(k, 2)`` facility coordinates, metres.
    ways
        The facilities' ways in (:func:`~spatial.network.meeting.facility_ways_in`).
    in_data_of
        Per category, ``(k,)`` True for its facilities.
    distances
        Per category, each compound's distance without meetings (metres, NaN: none).
    limits_m
        Per category, the search limit in metres.
    count_within_m
        Per category, the radius facilities are counted within (None: not counting).
    leg_factor
        Metres of leg beyond a radius count this many times.

    Returns
    -------
    pandas.DataFrame
        ``comp``, ``poi``, ``cost_m`` as
        :func:`~spatial.network.meeting.same_edge_costs` gives them, sorted by ``comp``.
    """

    def worth(comp: np.ndarray, poi: np.ndarray, lower_m: np.ndarray) -> np.ndarray:
        need = np.zeros(len(comp), dtype=bool)
        for k, (in_data, dist, limit_m) in enumerate(
            zip(in_data_of, distances, limits_m, strict=True)
        ):
            of_cat = in_data[poi]
            need |= of_cat & (lower_m <= limit_m) & ~(dist[comp] <= lower_m)
            if count_within_m is not None:
                need |= of_cat & (lower_m <= count_within_m[k])
        return need

    return same_edge_costs(
        network, compounds, access, facility_xy, ways, leg_factor=leg_factor, worth=worth
    )
