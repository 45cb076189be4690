"""Facilities reached from the streets around them, and where a compound and a facility
beside the same street meet.

A facility (a POI's point) is reached like a point compound
(:mod:`spatial.network.perimeter`): from every point of the walk edges within its
radius ``R = d_min + perimeter_band_m``, with a straight leg whose metres beyond ``R``
count ``leg_factor`` times. A facility about as far from two streets is then reached from
both, and a road vertex moved by its noise cannot swap the street it hangs on.

When a compound and a facility both leave by the same edge, the best walk between them
may leave the edge where neither alone would: at the ``t`` minimising
``cost_compound(t) + cost_facility(t)``. Per boundary segment of the compound that sum is
convex along the edge and found by golden-section search. :func:`same_edge_costs` gives
these walks per compound and facility; the engine adds them to its own.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import shapely

from spatial.network.attach import AccessPoints, attach_points
from spatial.network.graph import WalkNetwork
from spatial.network.perimeter import (
    boundary_segments,
    box_gap,
    leg_cost,
    perimeter_radius,
    points_on,
    segment_distance,
    track,
    ways_in,
)

__all__ = ["facility_ways_in", "same_edge_costs"]

#: Golden-section search stops when every bracket is narrower than this, metres.
_GOLDEN_TOL_M = 1e-3
_INV_PHI = (np.sqrt(5) - 1) / 2


def facility_ways_in(
    network: WalkNetwork,
    points: np.ndarray,
    *,
    snap_limit_m: float,
    band_m: float,
    leg_factor: float,
    keep: np.ndarray | None = None,
) -> AccessPoints:
    """The points of the walk network from which each facility is reached.

    Parameters
    ----------
    network
        The walk network (metric CRS).
    points
        ``(k, 2)`` facility coordinates in the network's CRS (metres).
    snap_limit_m
        A facility farther than this from every edge is off the network (no rows).
    band_m
        Its radius is ``d_min + band_m`` metres.
    leg_factor
        Metres of leg beyond the radius count this many times.
    keep
        ``(k,)`` True for the facilities to find ways for (e.g. those of some
        category); the others get none. Default: all.

    Returns
    -------
    AccessPoints
        ``owner`` is the facility's position; ``kind`` ``"facility"``; ``radius_m`` per
        facility.
    """
    xy = np.asarray(points, dtype=float).reshape(-1, 2)
    todo = np.arange(len(xy)) if keep is None else np.flatnonzero(np.asarray(keep, dtype=bool))
    geoms = shapely.points(xy[todo])
    # d_min as perimeter_radius measures it, the nearest edge found by the faster point
    # search; only points nearest a small piece are measured to the main network
    near = attach_points(network, geoms, snap_limit_m=snap_limit_m, main_band_m=None)
    d_min = np.where(near.on_network, near.leg_m, np.inf)
    off_main = np.flatnonzero(near.on_network)
    off_main = off_main[network.component[network.u[near.edge[off_main]]] != 0]
    if len(off_main):
        d_main = perimeter_radius(network, geoms[off_main], band_m=0.0, snap_limit_m=snap_limit_m)
        d_min[off_main] = d_main
    radius = np.full(len(xy), np.inf)
    radius[todo] = d_min + band_m
    found = ways_in(network, geoms, radius[todo], leg_factor=leg_factor, reach_m=band_m)
    return AccessPoints(
        found.edge,
        found.offset_m,
        found.leg_m,
        todo[found.owner],
        np.full(len(found.edge), "facility", dtype=object),
        radius_m=radius,
    )


def _radii(points: AccessPoints) -> np.ndarray:
    """The radii of the owners of ``points`` (from :func:`facility_ways_in`)."""
    if points.radius_m is None:
        raise ValueError("facility points without radii: use facility_ways_in")
    return points.radius_m


def _best_exits(
    owner: np.ndarray, edge: np.ndarray, offset_m: np.ndarray, leg_m: np.ndarray
) -> pd.DataFrame:
    """Per owner and edge: ``up``, the offset of the best point to leave by towards the
    edge's ``v`` end (least ``leg - t``, that value ``up_m``), and ``down``, towards its
    ``u`` end (least ``leg + t``, ``down_m``)."""
    order = np.lexsort((edge, owner))
    owner, edge, t, leg = owner[order], edge[order], offset_m[order], leg_m[order]
    if len(owner) == 0:
        return pd.DataFrame(columns=["owner", "edge", "up", "up_m", "down", "down_m"])
    starts = np.flatnonzero(np.r_[True, (owner[1:] != owner[:-1]) | (edge[1:] != edge[:-1])])
    size = np.diff(np.r_[starts, len(owner)])
    out = {"owner": owner[starts], "edge": edge[starts]}
    for name, value in (("up", leg - t), ("down", leg + t)):
        least = np.minimum.reduceat(value, starts)
        at = np.flatnonzero(value <= np.repeat(least, size))
        at = at[np.r_[True, np.diff(np.searchsorted(starts, at, side="right")) != 0]]
        out[name], out[f"{name}_m"] = t[at], least
    return pd.DataFrame(out)


def _golden_min(cost, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Minimiser of each convex ``cost(t)`` on ``[lo, hi]`` (vectorised; one evaluation of
    ``cost`` per step, the other inner point kept from the step before)."""
    a, b = lo.astype(float), hi.astype(float)
    x1, x2 = b - _INV_PHI * (b - a), a + _INV_PHI * (b - a)
    f1, f2 = cost(x1), cost(x2)
    widest = float(np.max(b - a, initial=0.0))
    steps = int(np.ceil(np.log(_GOLDEN_TOL_M / widest) / np.log(_INV_PHI))) if widest > 0 else 0
    for _ in range(max(steps, 0)):
        left = f1 <= f2  # the minimum is in [a, x2]: x1 becomes the upper inner point
        a, b = np.where(left, a, x1), np.where(left, x2, b)
        new = np.where(left, b - _INV_PHI * (b - a), a + _INV_PHI * (b - a))
        f_new = cost(new)
        x1, x2, f1, f2 = (
            np.where(left, new, x2),
            np.where(left, x1, new),
            np.where(left, f_new, f2),
            np.where(left, f1, f_new),
        )
    mid = (a + b) / 2
    ends = np.where(cost(lo) <= cost(hi), lo, hi)
    return np.where(cost(mid) <= cost(ends), mid, ends)


def same_edge_costs(
    network: WalkNetwork,
    compounds: np.ndarray,
    access: AccessPoints,
    facility_xy: np.ndarray,
    facilities: AccessPoints,
    *,
    leg_factor: float,
    worth: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> pd.DataFrame:
    """Walks between a compound and a facility that leave by one edge and meet on it.

    Two kinds, each measured per compound and facility:

    - where the compound's best exit towards the facility lies beyond the facility's
      best entry from the compound's side (their exits cross), the point where the two
      legs meet best (golden-section search per boundary segment; inside the compound
      the facility's foot);
    - at a compound's own access point (a gate, a crossing) on an edge the facility
      leaves by, the facility's straight leg to it.

    The walks through the network's nodes, and between the two sides' access points
    along a shared edge, are the engine's (:mod:`spatial.lifecircle.engine`).

    Parameters
    ----------
    network
        The walk network (metric CRS).
    compounds
        Compound geometries (metres) that ``access.owner`` indexes.
    access
        Their access points, with ``radius_m`` (NaN: gated, not met on edges).
    facility_xy
        ``(k, 2)`` facility coordinates that ``facilities.owner`` indexes.
    facilities
        From :func:`facility_ways_in`.
    leg_factor
        As for both.
    worth
        ``worth(comp, poi, lower_m)``: True for the pairs whose meeting is worth
        searching, given a lower bound of its cost in metres (e.g. False where the
        compound already has a nearer facility of each of the facility's categories).
        Default: every pair.

    Returns
    -------
    pandas.DataFrame
        ``comp``, ``poi`` (positions) and ``cost_m`` (both legs, metres), one row per
        pair that meets, the least over their shared edges.
    """
    found = [_facility_at_access(network, access, facility_xy, facilities, leg_factor)]
    radius_c = access.radius_m
    # the best walk between a compound and a facility by one edge is one of their points
    # unless the compound's best exit towards the facility lies beyond the facility's best
    # entry from the compound's side (their exits cross): then they meet in between
    ends_c = _best_exits(access.owner, access.edge, access.offset_m, access.leg_m)
    ends_p = _best_exits(facilities.owner, facilities.edge, facilities.offset_m, facilities.leg_m)
    shared = ends_c.merge(ends_p, on="edge", suffixes=("_c", "_p"))
    crossed = (shared["up_c"] > shared["down_p"]) | (shared["down_c"] < shared["up_p"])
    # … and only where their points interleave at all
    lo_c, hi_c = (
        np.minimum(shared["up_c"], shared["down_c"]),
        np.maximum(shared["up_c"], shared["down_c"]),
    )
    lo_p, hi_p = (
        np.minimum(shared["up_p"], shared["down_p"]),
        np.maximum(shared["up_p"], shared["down_p"]),
    )
    crossed &= (lo_c <= hi_p) & (lo_p <= hi_c)
    if radius_c is not None:  # a gated compound is not met on edges
        crossed &= np.isfinite(radius_c[shared["owner_c"].to_numpy()])
    shared = shared[crossed]
    if worth is not None and len(shared):
        # leg + t >= down_m and leg - t >= up_m on each side: two V shapes whose sum is
        # least between their vertices
        up_c, down_c = shared["up_m_c"].to_numpy(), shared["down_m_c"].to_numpy()
        up_p, down_p = shared["up_m_p"].to_numpy(), shared["down_m_p"].to_numpy()
        lower = (up_c + down_c + up_p + down_p) / 2 + np.abs(down_c - up_c - down_p + up_p) / 2
        keep = worth(shared["owner_c"].to_numpy(), shared["owner_p"].to_numpy(), lower)
        shared = shared[np.asarray(keep, dtype=bool)]
    shared = shared[["owner_c", "edge", "owner_p"]].rename(
        columns={"owner_c": "comp", "owner_p": "poi"}
    )
    if radius_c is not None and len(shared):
        found.append(
            _meetings(network, compounds, radius_c, facility_xy, facilities, shared, leg_factor)
        )
    pairs = pd.concat(found, ignore_index=True)
    return pd.DataFrame(pairs.groupby(["comp", "poi"], as_index=False, sort=True)["cost_m"].min())


def _meetings(
    network: WalkNetwork,
    compounds: np.ndarray,
    radius_c: np.ndarray,
    facility_xy: np.ndarray,
    facilities: AccessPoints,
    shared: pd.DataFrame,
    leg_factor: float,
) -> pd.DataFrame:
    """``comp``, ``poi``, ``cost_m`` where the exits of a pair on an edge cross."""
    pair_comp = shared["comp"].to_numpy(dtype=np.int64)
    pair_poi = shared["poi"].to_numpy(dtype=np.int64)
    pair_edge = shared["edge"].to_numpy(dtype=np.int64)
    # one row per pair and boundary segment of its compound
    comps, local = np.unique(pair_comp, return_inverse=True)
    seg_owner, seg_c, seg_d = boundary_segments(np.asarray(compounds, dtype=object)[comps])
    by_owner = np.argsort(seg_owner, kind="stable")
    n_seg = np.bincount(seg_owner, minlength=len(comps))
    first_seg = np.r_[0, np.cumsum(n_seg)[:-1]]
    count = n_seg[local]
    pair = np.repeat(np.arange(len(pair_comp)), count)
    seg = by_owner[
        first_seg[local[pair]] + np.arange(len(pair)) - np.repeat(np.cumsum(count) - count, count)
    ]
    c, d, e = seg_c[seg], seg_d[seg], pair_edge[pair]
    # a segment farther from the edge than some segment's farthest point of it is
    # nearest to no point of the edge (the distance to a segment is convex along it)
    a, b = network.node_xy[network.u[e]], network.node_xy[network.v[e]]
    farthest = np.maximum(segment_distance(a, c, d), segment_distance(b, c, d))
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    bound = np.repeat(np.minimum.reduceat(farthest, starts), np.diff(np.r_[starts, len(pair)]))
    near = box_gap(a, b, c, d) <= bound
    pair, c, d, e, a = pair[near], c[near], d[near], e[near], a[near]
    length = network.length_m[e]
    unit = np.divide(b[near] - a, length[:, None], out=np.zeros_like(a), where=length[:, None] > 0)
    # along the edge: the position on and across the segment, and the facility's foot,
    # are linear in t (no 2-d points in the search)
    tr = track(a, unit, c, d)
    f_rel = facility_xy[pair_poi[pair]] - a
    f_t = np.einsum("ij,ij->i", f_rel, unit)
    f_h = np.abs(f_rel[:, 0] * unit[:, 1] - f_rel[:, 1] * unit[:, 0])
    r_c = radius_c[pair_comp[pair]]
    r_p = _radii(facilities)[pair_poi[pair]]

    def cost(t: np.ndarray) -> np.ndarray:
        to_comp = leg_cost(tr.distance(t), r_c, leg_factor)
        return to_comp + leg_cost(np.hypot(t - f_t, f_h), r_p, leg_factor)

    t = _golden_min(cost, np.zeros(len(e)), length)
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    v = cost(t)
    least = np.repeat(np.minimum.reduceat(v, starts), np.diff(np.r_[starts, len(pair)]))
    at = np.flatnonzero(v <= least)
    at = at[np.r_[True, pair[at][1:] != pair[at][:-1]]]
    met = np.full(len(pair_comp), np.nan)
    met[pair[at]] = t[at]
    # inside the compound its leg is 0: there the best point is the facility's foot
    e_p = pair_edge
    base = network.node_xy[network.u[e_p]]
    len_p = network.length_m[e_p]
    along = network.node_xy[network.v[e_p]] - base
    foot = np.divide(
        np.einsum("ij,ij->i", facility_xy[pair_poi] - base, along),
        len_p,
        out=np.zeros(len(e_p)),
        where=len_p > 0,
    )
    out = np.full(len(pair_comp), np.inf)
    for t_p in (met, np.clip(foot, 0.0, len_p)):
        ok = np.isfinite(t_p)
        # the compound's leg: the nearest of the segments kept (0 inside it)
        seg_leg = np.where(ok[pair], tr.distance(np.nan_to_num(t_p[pair])), np.inf)
        leg = np.minimum.reduceat(seg_leg, starts)  # every pair keeps a segment
        xy = points_on(network, e_p, np.nan_to_num(t_p))
        inside = shapely.intersects_xy(np.asarray(compounds, dtype=object)[pair_comp], *xy.T)
        leg[inside] = 0.0
        leg_p = leg_cost(
            np.hypot(*(xy - facility_xy[pair_poi]).T), _radii(facilities)[pair_poi], leg_factor
        )
        total = leg_cost(leg, radius_c[pair_comp], leg_factor) + leg_p
        out = np.minimum(out, np.where(ok, total, np.inf))
    return pd.DataFrame({"comp": pair_comp, "poi": pair_poi, "cost_m": out})


def _facility_at_access(
    network: WalkNetwork,
    access: AccessPoints,
    facility_xy: np.ndarray,
    facilities: AccessPoints,
    leg_factor: float,
) -> pd.DataFrame:
    """``comp``, ``poi``, ``cost_m``: a facility's straight leg to a compound's access
    point on an edge the facility leaves by (a gate or a crossing is a fixed point: the
    facility's best leg may land there)."""
    on = pd.DataFrame(
        {"comp": access.owner, "edge": access.edge, "t": access.offset_m, "leg": access.leg_m}
    ).merge(pd.DataFrame({"poi": facilities.owner, "edge": facilities.edge}).drop_duplicates())
    e = on["edge"].to_numpy(dtype=np.int64)
    poi = on["poi"].to_numpy(dtype=np.int64)
    xy = points_on(network, e, on["t"].to_numpy(dtype=float))
    leg = leg_cost(np.hypot(*(xy - facility_xy[poi]).T), _radii(facilities)[poi], leg_factor)
    return pd.DataFrame(
        {"comp": on["comp"].to_numpy(), "poi": poi, "cost_m": on["leg"].to_numpy() + leg}
    )
