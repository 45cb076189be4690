"""Ways into a compound without gates: every point of the walk edges around it.

Definition (docs/architecture.md, "Compound access points"): a compound is given a radius
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

The best point of an edge is found exactly, in closed form: the leg is the least distance
to one of the compound's boundary segments, and along a straight edge the distance to one
segment is a line or a hyperbola per piece, so for a walker arriving from the ``u`` end
(``t + cost``) or from the ``v`` end (``-t + cost``) the minimum over the edge is at one
of a few points per segment (:func:`_candidates`). Per compound and edge, the best of
them for each end and the ends of the parts inside the compound (leg 0) become access
points; where a facility leaves by the same edge, :mod:`spatial.network.meeting`
measures where they best meet.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import shapely

from spatial.network.graph import WalkNetwork

__all__ = [
    "WaysIn",
    "boundary_segments",
    "box_gap",
    "leg_cost",
    "perimeter_radius",
    "points_on",
    "segment_distance",
    "track",
    "ways_in",
]

#: Rows (an edge and one boundary segment of a compound) searched at once.
_ROWS_PER_CHUNK = 40_000


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


def boundary_segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every boundary segment of the geometries.

    Parameters
    ----------
    geoms
        ``(k,)`` polygons, multipolygons or points (metres).

    Returns
    -------
    owner, c, d
        The position of the geometry and both ends of each segment (a point: one
        segment with ``c == d``).
    """
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


def segment_distance(p: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Distance from each point to its segment.

    Parameters
    ----------
    p, c, d
        ``(k, 2)`` points and both ends of their segments, metres.

    Returns
    -------
    ndarray
        ``(k,)`` metres.
    """
    q = d - c
    sq = np.einsum("ij,ij->i", q, q)
    s = np.divide(np.einsum("ij,ij->i", p - c, q), sq, out=np.zeros(len(sq)), where=sq > 0)
    foot = c + q * np.clip(s, 0.0, 1.0)[:, None]
    return np.hypot(*(p - foot).T)


class _Track(NamedTuple):
    """A line ``a + t·w`` seen from a segment ``c–d``: the position along the segment
    ``s0 + s1·t`` and across it ``p0 + p1·t`` (metres), and the segment's length."""

    ell: np.ndarray
    s0: np.ndarray
    s1: np.ndarray
    p0: np.ndarray
    p1: np.ndarray

    def distance(self, t: np.ndarray) -> np.ndarray:
        """Distance from ``P(t)`` to the segment (``t`` of shape ``(k,)`` or ``(k, m)``)."""
        shape = (-1,) + (1,) * (np.ndim(t) - 1)
        along = self.s0.reshape(shape) + self.s1.reshape(shape) * t
        beyond = np.maximum(along - self.ell.reshape(shape), 0.0) + np.minimum(along, 0.0)
        return np.hypot(beyond, self.p0.reshape(shape) + self.p1.reshape(shape) * t)


def track(a: np.ndarray, w: np.ndarray, c: np.ndarray, d: np.ndarray) -> _Track:
    """Each line ``a + t·w`` (``w`` a unit vector) in the frame of its segment ``c–d``.

    Parameters
    ----------
    a, w
        ``(k, 2)`` a point of each line and its unit direction.
    c, d
        ``(k, 2)`` both ends of each segment (equal for a point), metres.

    Returns
    -------
    _Track
        Linear in ``t``; its ``distance(t)`` is the distance to the segment.
    """
    q = d - c
    ell = np.hypot(q[:, 0], q[:, 1])
    qh = np.divide(q, ell[:, None], out=np.zeros_like(q), where=ell[:, None] > 0)
    qh[ell <= 0] = (1.0, 0.0)  # a point: any axis
    nh = np.column_stack([-qh[:, 1], qh[:, 0]])
    ac = a - c
    return _Track(
        ell,
        np.einsum("ij,ij->i", ac, qh),
        np.einsum("ij,ij->i", w, qh),
        np.einsum("ij,ij->i", ac, nh),
        np.einsum("ij,ij->i", w, nh),
    )


def _candidates(
    a: np.ndarray, w: np.ndarray, c: np.ndarray, d: np.ndarray, r: np.ndarray, leg_factor: float
) -> np.ndarray:
    """``(k, 15)`` offsets along each line ``a + t·w`` (``w`` a unit vector) among which
    ``±t + leg_cost(dist(P(t), segment c–d))`` takes its minimum (NaN: none).

    The distance to a segment is ``|p(t)|`` across its strip and the distance to an end
    (a hyperbola) beyond it, both with ``p`` and the position ``s`` along the segment
    linear in ``t``; the cost's kinks are where the distance is ``r``. A minimum is at a
    kink (``|p| = r``, a distance ``r`` from an end, ``s`` at an end of the segment,
    ``p = 0``) or where a hyperbola's slope is ``∓1/leg_factor``.
    """
    tr = track(a, w, c, d)
    out = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for end in (c, d):
            ae = a - end
            t_end = -np.einsum("ij,ij->i", w, ae)  # the end's foot on the line
            h = np.abs(ae[:, 0] * w[:, 1] - ae[:, 1] * w[:, 0])  # its distance to the line
            root = np.sqrt(r * r - h * h)
            out += [t_end - root, t_end + root]
            if leg_factor > 1:
                slope = h / np.sqrt(leg_factor**2 - 1)
                out += [t_end - slope, t_end + slope]
        out += [-tr.s0 / tr.s1, (tr.ell - tr.s0) / tr.s1]  # the strip's ends
        out += [(r - tr.p0) / tr.p1, (-r - tr.p0) / tr.p1, -tr.p0 / tr.p1]  # |p| = r, p = 0
    cand = np.column_stack(out)
    cand[~np.isfinite(cand)] = np.nan
    return cand


def _row_optima(
    network: WalkNetwork,
    edge: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
    r: np.ndarray,
    leg_factor: float,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per row (an edge and one boundary segment): the offset and value of the least
    ``t + cost`` (a walker from ``u``) and of the least ``-t + cost`` (from ``v``)."""
    a = network.node_xy[network.u[edge]]
    length = network.length_m[edge]
    unit = np.divide(
        network.node_xy[network.v[edge]] - a,
        length[:, None],
        out=np.zeros_like(a),
        where=length[:, None] > 0,
    )
    cand = np.clip(_candidates(a, unit, c, d, r, leg_factor), 0.0, length[:, None])
    cand = np.column_stack([np.zeros(len(edge)), length, cand])
    cost = leg_cost(track(a, unit, c, d).distance(np.nan_to_num(cand)), r[:, None], leg_factor)
    cost[np.isnan(cand)] = np.inf
    rows = np.arange(len(edge))
    best_t, best_v = [], []
    for sign in (1.0, -1.0):
        value = sign * np.nan_to_num(cand) + cost
        j = np.argmin(value, axis=1)
        best_t.append(cand[rows, j])
        best_v.append(value[rows, j])
    return best_t, best_v


def box_gap(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Distance between the bounding boxes of segments ``a–b`` and ``c–d``.

    A lower bound of their distance.

    Parameters
    ----------
    a, b, c, d
        ``(k, 2)`` ends of both segments, metres.

    Returns
    -------
    ndarray
        ``(k,)`` metres.
    """
    lo1, hi1 = np.minimum(a, b), np.maximum(a, b)
    lo2, hi2 = np.minimum(c, d), np.maximum(c, d)
    gap = np.maximum(0.0, np.maximum(lo1 - hi2, lo2 - hi1))
    return np.hypot(gap[:, 0], gap[:, 1])


def _least_per_run(key: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Position of the first least ``value`` in each run of equal, sorted ``key``."""
    if len(key) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    least = np.minimum.reduceat(value, starts)
    at = np.flatnonzero(value <= np.repeat(least, np.diff(np.r_[starts, len(key)])))
    return at[np.r_[True, key[at][1:] != key[at][:-1]]]


def _grown_boxes(geoms: np.ndarray, by_m: np.ndarray) -> np.ndarray:
    """The bounding box of each geometry grown by ``by_m`` metres on every side."""
    b = shapely.bounds(geoms)
    return shapely.box(b[:, 0] - by_m, b[:, 1] - by_m, b[:, 2] + by_m, b[:, 3] + by_m)


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


def points_on(network: WalkNetwork, edge: np.ndarray, offset_m: np.ndarray) -> np.ndarray:
    """Coordinates of points along edges.

    Parameters
    ----------
    network
        The walk network (metric CRS).
    edge, offset_m
        ``(k,)`` edge indices and metres from each edge's ``u`` end.

    Returns
    -------
    ndarray
        ``(k, 2)`` coordinates, metres.
    """
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
    # boxes first (cheap); the exact distance to each edge found is measured next
    pos, edge = network.edge_tree.query(_grown_boxes(geoms[ok], radius_m[ok]))
    pos = np.flatnonzero(ok)[pos]
    pt = shapely.get_type_id(geoms[pos]) == shapely.GeometryType.POINT
    d_edge = np.empty(len(pos))
    ends = network.node_xy[network.u[edge[pt]]], network.node_xy[network.v[edge[pt]]]
    d_edge[pt] = segment_distance(
        shapely.get_coordinates(geoms[pos[pt]]), *ends
    )  # edges are straight
    d_edge[~pt] = shapely.distance(geoms[pos[~pt]], network.edge_lines[edge[~pt]])
    keep = d_edge <= radius_m[pos]
    pos, edge, d_edge = pos[keep], edge[keep], d_edge[keep]
    if len(pos) == 0:
        return empty
    # a polygon's parts of edges inside it (a point on an edge is its own foot, a
    # candidate of the segment search below)
    is_area = ~pt[keep]
    in_pair, in_off = _inside_ends(network, geoms, pos, edge, np.where(is_area, d_edge, np.inf))

    seg_owner, seg_c, seg_d = boundary_segments(geoms)
    by_owner = np.argsort(seg_owner, kind="stable")
    seg_c, seg_d = seg_c[by_owner], seg_d[by_owner]
    first_seg = np.searchsorted(seg_owner[by_owner], np.arange(len(geoms)))
    n_seg = np.bincount(seg_owner, minlength=len(geoms))
    reach = radius_m[pos] + reach_m
    pairs: list[np.ndarray] = []
    parts_t: list[list[np.ndarray]] = [[], []]
    parts_v: list[list[np.ndarray]] = [[], []]
    per_chunk = max(1, _ROWS_PER_CHUNK // max(1, int(n_seg.max())))
    for lo in range(0, len(pos), per_chunk):  # every boundary segment of the pair's owner
        chunk = np.arange(lo, min(lo + per_chunk, len(pos)))
        count = n_seg[pos[chunk]]
        pair = np.repeat(chunk, count)
        within = np.arange(len(pair)) - np.repeat(np.cumsum(count) - count, count)
        seg = first_seg[pos[pair]] + within
        # a segment farther from the edge than the radius and the reach is no way in
        ends = network.node_xy[network.u[edge[pair]]], network.node_xy[network.v[edge[pair]]]
        near = box_gap(*ends, seg_c[seg], seg_d[seg]) <= reach[pair]
        pair, seg = pair[near], seg[near]
        t, v = _row_optima(
            network, edge[pair], seg_c[seg], seg_d[seg], radius_m[pos[pair]], leg_factor
        )
        pairs.append(pair)
        for side in (0, 1):
            parts_t[side].append(t[side])
            parts_v[side].append(v[side])
    pair = np.concatenate(pairs)
    best_t = [np.concatenate(x) for x in parts_t]
    best_v = [np.concatenate(x) for x in parts_v]
    # per (compound, edge) the best segment's point serves walkers from each end; its
    # value less ±t is its leg's cost (the nearest segment there is the best one)
    sides = []
    for sign, side_t, value in zip((1.0, -1.0), best_t, best_v, strict=True):
        first = _least_per_run(pair, value)
        off_s = np.round(side_t[first], 6)
        sides.append((pair[first], off_s, np.maximum(value[first] - sign * side_t[first], 0.0)))
    (p_u, off_u, leg_u), (p_v, off_v, leg_v) = sides  # the same pairs, in the same order
    one = off_u == off_v  # one point serves both ends
    leg_u = np.where(one, np.minimum(leg_u, leg_v), leg_u)
    p_idx = np.concatenate([in_pair, p_u, p_v[~one]])
    off = np.concatenate([in_off, off_u, off_v[~one]])
    leg = np.concatenate([np.zeros(len(in_pair)), leg_u, leg_v[~one]])
    owner, e = pos[p_idx], edge[p_idx]
    off = np.clip(off, 0.0, network.length_m[e])
    # an edge into a polygon: a point found from its segments may be inside it (leg 0)
    redo = np.flatnonzero(is_area[p_idx] & (d_edge[p_idx] <= 0) & (leg > 0))
    if len(redo):
        inside = shapely.distance(
            shapely.points(points_on(network, e[redo], off[redo])), geoms[owner[redo]]
        )
        leg[redo] = leg_cost(inside, radius_m[owner[redo]], leg_factor)
    return WaysIn(owner.astype(np.int64), e.astype(np.int64), off, leg)
