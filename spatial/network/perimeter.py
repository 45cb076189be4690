"""Ways into a compound without gates: every point of the walk edges around it.

Definition (ARCHITECTURE.md, "Compound access points"): a compound is given a radius
``R`` — ``crossing_depth_m`` when a path of the main network goes into it, else
``d_min + perimeter_band_m`` with ``d_min`` its distance to the nearest edge of the main
network piece (of any piece when the main one is beyond the snap limit). Every walk edge
that comes within ``R`` of the compound is a way in *along its whole length*: a walker
may leave it at any point ``P(t)`` and walk straight to the compound, a leg of
``x = dist(P(t), compound)`` metres (0 inside it) that costs

    ``cost(x) = x + (leg_factor - 1) · max(0, x - R)``

— metres of leg beyond ``R`` count ``leg_factor`` times. There is no cut along an edge,
so moving a road vertex by ``δ`` moves a distance by at most about
``(1 + leg_factor) · δ``: a street that leaves the compound at a shallow angle does not
carry a threshold that slides along it.

The best point of an edge is found exactly per boundary segment: ``dist`` to one segment
is convex along a straight edge and ``cost`` is convex and increasing, so for a walker
arriving from the ``u`` end (``t + cost``), from the ``v`` end (``-t + cost``) and for a
facility on the edge, the minimum over the edge is at one of a few points, found by
golden-section search on each convex piece. The leg at each point is then measured
against the whole compound. Those points, the ends of the parts inside the compound
(leg 0) and every facility on a way-in edge become access points.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import shapely

from spatial.network.graph import WalkNetwork

__all__ = ["WaysIn", "leg_cost", "perimeter_radius", "ways_in"]

#: Golden-section steps: the bracket shrinks to 0.618**60 ≈ 3e-13 of the edge.
_GOLDEN_STEPS = 60
_INV_PHI = (np.sqrt(5) - 1) / 2


class WaysIn(NamedTuple):
    """Access points on the edges around compounds.

    Attributes
    ----------
    owner
        Position of the compound.
    edge
        Edge index.
    offset_m
        Metres from the edge's ``u`` end.
    leg_m
        The cost of the straight leg to the compound (:func:`leg_cost`), metres.
    """

    owner: np.ndarray
    edge: np.ndarray
    offset_m: np.ndarray
    leg_m: np.ndarray


def leg_cost(leg_m: np.ndarray, radius_m: np.ndarray, leg_factor: float) -> np.ndarray:
    """What a straight leg counts for: metres beyond ``radius_m`` count ``leg_factor`` times.

    Parameters
    ----------
    leg_m
        Straight distance to the compound, metres.
    radius_m
        The compound's radius ``R``, metres.
    leg_factor
        Weight of each metre beyond ``R`` (>= 1).

    Returns
    -------
    ndarray
        Metres.
    """
    return leg_m + (leg_factor - 1.0) * np.maximum(0.0, leg_m - radius_m)


def _boundary_segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(owner, c, d)``: every boundary segment of the geometries (a point: c == d)."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    is_point = shapely.get_type_id(parts) == shapely.GeometryType.POINT
    rings, ring_of = shapely.get_rings(parts[~is_point], return_index=True)
    xy, idx = shapely.get_coordinates(rings, return_index=True)
    same = idx[1:] == idx[:-1]
    owner = part_of[~is_point][ring_of[idx[:-1][same]]]
    c, d = xy[:-1][same], xy[1:][same]
    pxy = shapely.get_coordinates(parts[is_point])
    return (
        np.concatenate([owner, part_of[is_point]]),
        np.concatenate([c, pxy]),
        np.concatenate([d, pxy]),
    )


def _segment_distance(p: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Distance from each point ``p`` to its segment ``c–d`` (all ``(k, 2)``)."""
    q = d - c
    sq = np.einsum("ij,ij->i", q, q)
    s = np.divide(np.einsum("ij,ij->i", p - c, q), sq, out=np.zeros(len(sq)), where=sq > 0)
    foot = c + q * np.clip(s, 0.0, 1.0)[:, None]
    return np.hypot(*(p - foot).T)


def _golden_min(cost, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Minimiser of convex ``cost(t)`` on each ``[lo, hi]`` (vectorised)."""
    a, b = lo.copy(), hi.copy()
    x1 = b - _INV_PHI * (b - a)
    x2 = a + _INV_PHI * (b - a)
    f1, f2 = cost(x1), cost(x2)
    for _ in range(_GOLDEN_STEPS):
        left = f1 <= f2
        b = np.where(left, x2, b)
        a = np.where(left, a, x1)
        x2n = np.where(left, x1, a + _INV_PHI * (b - a))
        x1n = np.where(left, b - _INV_PHI * (b - a), x2)
        x1, x2 = x1n, x2n
        both = cost(np.concatenate([x1, x2]))
        f1, f2 = both[: len(x1)], both[len(x1) :]
    best = np.where(cost(lo) <= cost(hi), lo, hi)
    mid = (a + b) / 2
    return np.where(cost(mid) <= np.minimum(cost(lo), cost(hi)), mid, best)


def _nearest_distance(tree: shapely.STRtree, geoms: np.ndarray, *, max_m: float) -> np.ndarray:
    """Distance in metres to the nearest item of ``tree`` (``inf`` beyond ``max_m``)."""
    pos, item = tree.query_nearest(geoms, max_distance=max_m, all_matches=False)
    out = np.full(len(geoms), np.inf)
    if len(pos):
        out[pos] = shapely.distance(geoms[pos], tree.geometries[item])
    return out


def _inside_ends(
    network: WalkNetwork, geoms: np.ndarray, pos: np.ndarray, edge: np.ndarray, d_edge: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(pair, offset)``: both ends of every part of a pair's edge inside its compound."""
    zero = np.flatnonzero(d_edge <= 0)
    if len(zero) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    lines = network.edge_lines[edge[zero]]
    parts, which = shapely.get_parts(
        shapely.intersection(lines, geoms[pos[zero]]), return_index=True
    )
    count = shapely.get_num_coordinates(parts)
    parts, which, count = parts[count > 0], which[count > 0], count[count > 0]
    # a part is a line inside the compound or a point where the edge touches it
    xy = shapely.get_coordinates(parts)
    last_at = np.cumsum(count) - 1
    first = shapely.line_locate_point(lines[which], shapely.points(xy[last_at - count + 1]))
    last = shapely.line_locate_point(lines[which], shapely.points(xy[last_at]))
    return np.concatenate([zero[which], zero[which]]), np.concatenate([first, last])


def _points_on(network: WalkNetwork, edge: np.ndarray, offset_m: np.ndarray) -> np.ndarray:
    """``(k, 2)`` coordinates at ``offset_m`` metres from the ``u`` end of each edge."""
    base = network.node_xy[network.u[edge]]
    length = network.length_m[edge]
    frac = np.divide(offset_m, length, out=np.zeros_like(offset_m, dtype=float), where=length > 0)
    return base + (network.node_xy[network.v[edge]] - base) * frac[:, None]


def perimeter_radius(
    network: WalkNetwork, geoms: np.ndarray, *, band_m: float, snap_limit_m: float
) -> np.ndarray:
    """``d_min + band_m`` of each compound (``inf`` beyond the snap limit).

    ``d_min`` is the distance to the nearest edge of the main network piece, or of any
    piece when the main one is beyond ``snap_limit_m``: an edge on a small piece never
    wins over the main network within the band.

    Parameters
    ----------
    network
        The walk network (metric CRS).
    geoms
        ``(k,)`` compound polygons or points in the network's CRS (metres).
    band_m
        Metres beyond ``d_min``.
    snap_limit_m
        A compound farther than this (metres) from every edge gets ``inf``.

    Returns
    -------
    ndarray
        Metres.
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0 or network.n_edges == 0:
        return np.full(len(geoms), np.inf)
    d_min = _nearest_distance(network.edge_tree, geoms, max_m=snap_limit_m)
    main_edge = network.component[network.u] == 0
    if not main_edge.all():
        tree = shapely.STRtree(network.edge_lines[np.flatnonzero(main_edge)])
        d_main = _nearest_distance(tree, geoms, max_m=snap_limit_m)
        d_min = np.where(np.isfinite(d_main), d_main, d_min)
    return d_min + band_m


def ways_in(
    network: WalkNetwork,
    geoms: np.ndarray,
    radius_m: np.ndarray,
    *,
    leg_factor: float,
    reach_m: float,
    facilities: tuple[np.ndarray, np.ndarray] | None = None,
) -> WaysIn:
    """Access points on every edge that comes within each compound's radius.

    Parameters
    ----------
    network
        The walk network (metric CRS).
    geoms
        ``(k,)`` compound polygons or points in the network's CRS (metres).
    radius_m
        ``(k,)`` radius ``R`` of each compound, metres (``inf``: none).
    leg_factor
        Metres of leg beyond ``R`` count this many times.
    reach_m
        Boundary segments within ``R + reach_m`` of an edge are searched for its best
        points (farther ones cannot make a leg worth taking).
    facilities
        ``(edge, offset_m)`` of attached facilities: each one on a way-in edge gets an
        access point at its own offset.

    Returns
    -------
    WaysIn
        The access points; ``owner`` is the position in ``geoms``.
    """
    geoms = np.asarray(geoms, dtype=object)
    radius_m = np.asarray(radius_m, dtype=float)
    ok = np.isfinite(radius_m)
    empty = WaysIn(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), *(np.zeros(0),) * 2)
    if not ok.any() or network.n_edges == 0:
        return empty
    pos, edge = network.edge_tree.query(
        geoms, predicate="dwithin", distance=np.where(ok, radius_m, -1.0)
    )
    pos, edge = pos[ok[pos]], edge[ok[pos]]
    d_edge = shapely.distance(geoms[pos], network.edge_lines[edge])
    keep = d_edge <= radius_m[pos]
    pos, edge, d_edge = pos[keep], edge[keep], d_edge[keep]
    if len(pos) == 0:
        return empty
    in_pair, in_off = _inside_ends(network, geoms, pos, edge, d_edge)

    seg_owner, seg_c, seg_d = _boundary_segments(geoms)
    seg_geoms = shapely.linestrings(np.stack([seg_c, seg_d], axis=1))
    point = (seg_c == seg_d).all(axis=1)  # a point compound (a zero-length line is not indexed)
    seg_geoms[point] = shapely.points(seg_c[point])
    seg_tree = shapely.STRtree(seg_geoms)
    reach = radius_m[pos] + reach_m
    pair, seg = seg_tree.query(network.edge_lines[edge], predicate="dwithin", distance=reach)
    mine = seg_owner[seg] == pos[pair]
    pair, seg = pair[mine], seg[mine]
    if len(pair) == 0:  # no boundary segment near (only parts inside): their ends
        pair, seg = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    e = edge[pair]
    a = network.node_xy[network.u[e]]
    length = network.length_m[e]
    unit = np.divide(
        network.node_xy[network.v[e]] - a,
        length[:, None],
        out=np.zeros_like(a),
        where=length[:, None] > 0,
    )
    c, d, r = seg_c[seg], seg_d[seg], radius_m[pos[pair]]

    def cost(t: np.ndarray, sign: float) -> np.ndarray:
        k = len(t) // len(a)
        p = np.tile(a, (k, 1)) + np.tile(unit, (k, 1)) * t[:, None]
        leg = _segment_distance(p, np.tile(c, (k, 1)), np.tile(d, (k, 1)))
        return sign * t + leg_cost(leg, np.tile(r, k), leg_factor)

    zero = np.zeros(len(pair))
    from_u = _golden_min(lambda t: cost(t, 1.0), zero, length) if len(pair) else zero
    from_v = _golden_min(lambda t: cost(t, -1.0), zero, length) if len(pair) else zero

    all_pair = [np.concatenate([pair, pair]), in_pair]
    all_off = [np.concatenate([from_u, from_v]), in_off]
    if facilities is not None and len(facilities[0]):
        at = pd.DataFrame({"edge": facilities[0], "off": facilities[1]}).drop_duplicates()
        both = pd.DataFrame({"pair": np.arange(len(pos)), "edge": edge}).merge(at, on="edge")
        all_pair.append(both["pair"].to_numpy(dtype=np.int64))
        all_off.append(both["off"].to_numpy(dtype=float))
    p_idx = np.concatenate(all_pair)
    off = np.concatenate(all_off)
    points = pd.DataFrame({"pair": p_idx, "off": np.round(off, 6)}).drop_duplicates()
    p_idx, off = points["pair"].to_numpy(), points["off"].to_numpy()
    owner, e = pos[p_idx], edge[p_idx]
    off = np.clip(off, 0.0, network.length_m[e])
    leg = shapely.distance(shapely.points(_points_on(network, e, off)), geoms[owner])
    return WaysIn(
        owner.astype(np.int64), e.astype(np.int64), off, leg_cost(leg, radius_m[owner], leg_factor)
    )
