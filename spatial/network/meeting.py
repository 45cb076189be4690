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
convex along the edge and found by golden-section search; the point becomes an access
point of the compound and a point of the facility.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from spatial.network.attach import AccessPoints, attach_points
from spatial.network.graph import WalkNetwork
from spatial.network.perimeter import boundary_segments, leg_cost, perimeter_radius, ways_in

__all__ = ["facility_ways_in", "meeting_points"]

#: Golden-section steps: the bracket shrinks to 0.618**32 ≈ 2e-7 of the edge.
_GOLDEN_STEPS = 32
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
    geoms = shapely.points(xy)
    # d_min as perimeter_radius measures it, the nearest edge found by the faster point
    # search; only points nearest a small piece are measured to the main network
    near = attach_points(network, xy, snap_limit_m=snap_limit_m, main_band_m=None)
    d_min = np.where(near.on_network, near.leg_m, np.inf)
    off_main = np.flatnonzero(near.on_network)
    off_main = off_main[network.component[network.u[near.edge[off_main]]] != 0]
    if len(off_main):
        d_main = perimeter_radius(network, geoms[off_main], band_m=0.0, snap_limit_m=snap_limit_m)
        d_min[off_main] = d_main
    radius = d_min + band_m
    if keep is not None:
        radius[~np.asarray(keep, dtype=bool)] = np.inf
    found = ways_in(network, geoms, radius, leg_factor=leg_factor, reach_m=band_m)
    order = np.lexsort((found.offset_m, found.edge, found.owner))
    return AccessPoints(
        found.edge[order],
        found.offset_m[order],
        found.leg_m[order],
        found.owner[order],
        np.full(len(order), "facility", dtype=object),
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
    edge's ``v`` end (least ``leg - t``), and ``down``, towards its ``u`` end (least
    ``leg + t``)."""
    frame = pd.DataFrame(
        {
            "owner": owner,
            "edge": edge,
            "t": offset_m,
            "up": leg_m - offset_m,
            "down": leg_m + offset_m,
        }
    )
    groups = frame.groupby(["owner", "edge"], sort=False)
    up = frame.loc[groups["up"].idxmin().to_numpy(), ["owner", "edge", "t"]]
    down = frame.loc[groups["down"].idxmin().to_numpy(), ["owner", "edge", "t"]]
    return up.rename(columns={"t": "up"}).merge(down.rename(columns={"t": "down"}))


def _golden_min(cost, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Minimiser of each convex ``cost(t)`` on ``[lo, hi]`` (vectorised; one evaluation of
    ``cost`` per step, the other inner point kept from the step before)."""
    a, b = lo.astype(float), hi.astype(float)
    x1, x2 = b - _INV_PHI * (b - a), a + _INV_PHI * (b - a)
    f1, f2 = cost(x1), cost(x2)
    for _ in range(_GOLDEN_STEPS):
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


def meeting_points(
    network: WalkNetwork,
    compounds: np.ndarray,
    access: AccessPoints,
    facility_xy: np.ndarray,
    facilities: AccessPoints,
    *,
    leg_factor: float,
) -> tuple[AccessPoints, AccessPoints]:
    """Access points where a compound and a facility leaving by one edge best meet.

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

    Returns
    -------
    compound_points, facility_points
        The meeting points as extra access points of each side.
    """
    at_points = _facility_at_access(network, access, facility_xy, facilities, leg_factor)
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
    shared = shared.loc[crossed, ["owner_c", "edge", "owner_p"]].rename(
        columns={"owner_c": "comp", "owner_p": "poi"}
    )
    if radius_c is not None and len(shared):
        shared = shared[np.isfinite(radius_c[shared["comp"].to_numpy()])]
    if radius_c is None or len(shared) == 0:
        none = np.zeros(0)
        return AccessPoints(none, none, none, none, np.zeros(0, dtype=object)), at_points
    seg_owner, seg_c, seg_d = boundary_segments(np.asarray(compounds, dtype=object))
    segs = pd.DataFrame({"comp": seg_owner, "i": np.arange(len(seg_owner))})
    rows = shared.reset_index(drop=True).reset_index(names="pair")
    both = rows.merge(segs, on="comp")
    c, d = seg_c[both["i"].to_numpy()], seg_d[both["i"].to_numpy()]
    e = both["edge"].to_numpy(dtype=np.int64)
    a = network.node_xy[network.u[e]]
    length = network.length_m[e]
    unit = np.divide(
        network.node_xy[network.v[e]] - a,
        length[:, None],
        out=np.zeros_like(a),
        where=length[:, None] > 0,
    )
    # along the edge: the position on and across the segment, and the facility's foot,
    # are linear in t (no 2-d points in the search)
    q = d - c
    ell = np.hypot(q[:, 0], q[:, 1])
    qh = np.divide(q, ell[:, None], out=np.zeros_like(q), where=ell[:, None] > 0)
    s0 = np.einsum("ij,ij->i", a - c, qh)
    s1 = np.einsum("ij,ij->i", unit, qh)
    p0 = (a - c)[:, 0] * qh[:, 1] - (a - c)[:, 1] * qh[:, 0]
    p1 = unit[:, 0] * qh[:, 1] - unit[:, 1] * qh[:, 0]
    f_rel = facility_xy[both["poi"].to_numpy()] - a
    f_t = np.einsum("ij,ij->i", f_rel, unit)
    f_h = np.abs(f_rel[:, 0] * unit[:, 1] - f_rel[:, 1] * unit[:, 0])
    r_c = radius_c[both["comp"].to_numpy()]
    r_p = _radii(facilities)[both["poi"].to_numpy()]

    def cost(t: np.ndarray) -> np.ndarray:
        along = s0 + s1 * t
        beyond = along - np.clip(along, 0.0, ell)
        to_comp = leg_cost(np.hypot(beyond, p0 + p1 * t), r_c, leg_factor)
        return to_comp + leg_cost(np.hypot(t - f_t, f_h), r_p, leg_factor)

    t = _golden_min(cost, np.zeros(len(e)), length)
    best = pd.DataFrame({"pair": both["pair"], "t": t, "v": cost(t)})
    best = best.sort_values(["pair", "v"]).drop_duplicates("pair")
    # inside the compound its leg is 0: there the best point is the facility's foot
    e_rows = rows["edge"].to_numpy(dtype=np.int64)
    a_rows = network.node_xy[network.u[e_rows]]
    along = network.node_xy[network.v[e_rows]] - a_rows
    len_rows = network.length_m[e_rows]
    foot = np.divide(
        np.einsum("ij,ij->i", facility_xy[rows["poi"].to_numpy()] - a_rows, along),
        len_rows,
        out=np.zeros(len(rows)),
        where=len_rows > 0,
    )
    feet = pd.DataFrame({"pair": rows["pair"], "t": np.clip(foot, 0.0, len_rows)})
    meet_t = pd.concat([best[["pair", "t"]], feet], ignore_index=True)
    meet = rows.set_index("pair").loc[meet_t["pair"]]
    e = meet["edge"].to_numpy(dtype=np.int64)
    t = meet_t["t"].to_numpy()
    base = network.node_xy[network.u[e]]
    frac = np.divide(t, network.length_m[e], out=np.zeros_like(t), where=network.length_m[e] > 0)
    p = shapely.points(base + (network.node_xy[network.v[e]] - base) * frac[:, None])
    comp = meet["comp"].to_numpy(dtype=np.int64)
    poi = meet["poi"].to_numpy(dtype=np.int64)
    leg_c = leg_cost(
        shapely.distance(p, np.asarray(compounds, dtype=object)[comp]), radius_c[comp], leg_factor
    )
    leg_p = leg_cost(
        shapely.distance(p, shapely.points(facility_xy[poi])), _radii(facilities)[poi], leg_factor
    )
    kind_c = access.kind[np.searchsorted(access.owner, comp)] if len(access.owner) else []
    return (
        AccessPoints(e, t, leg_c, comp, kind_c),
        AccessPoints(e, t, leg_p, poi, np.full(len(poi), "facility", dtype=object)).extended(
            at_points
        ),
    )


def _facility_at_access(
    network: WalkNetwork,
    access: AccessPoints,
    facility_xy: np.ndarray,
    facilities: AccessPoints,
    leg_factor: float,
) -> AccessPoints:
    """A point of each facility at every compound access point on an edge it leaves by
    (a gate or a crossing is a fixed point: the facility's best leg to it may land there)."""
    on = (
        pd.DataFrame({"edge": access.edge, "t": access.offset_m})
        .drop_duplicates()
        .merge(pd.DataFrame({"poi": facilities.owner, "edge": facilities.edge}).drop_duplicates())
    )
    e = on["edge"].to_numpy(dtype=np.int64)
    t = on["t"].to_numpy(dtype=float)
    poi = on["poi"].to_numpy(dtype=np.int64)
    base = network.node_xy[network.u[e]]
    frac = np.divide(t, network.length_m[e], out=np.zeros_like(t), where=network.length_m[e] > 0)
    p = base + (network.node_xy[network.v[e]] - base) * frac[:, None]
    leg = leg_cost(np.hypot(*(p - facility_xy[poi]).T), _radii(facilities)[poi], leg_factor)
    return AccessPoints(e, t, leg, poi, np.full(len(poi), "facility", dtype=object))
