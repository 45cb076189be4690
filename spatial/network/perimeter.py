"""Ways into a compound without gates or crossings: the streets along its perimeter.

Definition (ARCHITECTURE.md, "Compound access points"): let ``d_min`` be the distance
from the compound to the nearest walk edge of the main network piece (of any piece when
the main one is beyond the snap limit). Every edge within ``d_min + band_m`` of the
compound is a way in, along its *stretch*: the points of the edge within ``tie_m`` of
that edge's own closest distance to the compound. Each point of a stretch has its own
straight leg (its distance to the compound; 0 inside it).

A stretch is represented exactly by its two ends: a walker arriving along the edge at
offset ``t`` pays ``t + leg(t)``, and ``leg`` changes by at most one metre per metre
along a straight edge, so the end nearest the walker is never worse than any point
inside. Only a facility *on* the stretch can do better (leg at its own offset), so such
facilities get an access point of their own (:func:`stretch_points`).

The stretch on one edge is the set ``{t : dist(P(t), compound) <= r}`` with
``r = d_e + tie_m``; it is the union, over the compound's boundary segments, of the
intervals where the edge passes within ``r`` of each segment (a capsule, so one interval
each), computed in closed form.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import shapely

from spatial.network.graph import WalkNetwork

__all__ = [
    "Stretches",
    "edge_stretches",
    "merge_intervals",
    "perimeter_stretches",
    "stretch_points",
]

#: Intervals closer than this (metres) are one.
_JOIN_M = 1e-6


class Stretches(NamedTuple):
    """Stretches of edges that face a compound; offsets in metres from the edge's ``u``.

    Attributes
    ----------
    owner
        Position of the compound.
    edge
        Edge index.
    start_m, end_m
        The stretch ``[start_m, end_m]`` along the edge, metres.
    leg_start_m, leg_end_m
        Straight distance from each end to the compound, metres.
    """

    owner: np.ndarray
    edge: np.ndarray
    start_m: np.ndarray
    end_m: np.ndarray
    leg_start_m: np.ndarray
    leg_end_m: np.ndarray


def merge_intervals(
    key: np.ndarray, start: np.ndarray, end: np.ndarray, *, keep_points: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of ``[start, end]`` intervals with the same key (overlaps merged).

    Parameters
    ----------
    key
        ``(k,)`` integer key of each interval (e.g. an edge index).
    start, end
        ``(k,)`` interval ends.
    keep_points
        Keep intervals of zero length (``start == end``); otherwise they are dropped.

    Returns
    -------
    key, start, end
        The merged intervals, sorted by key and start.
    """
    keep = end >= start if keep_points else end > start
    key, start, end = key[keep], start[keep], end[keep]
    if len(key) == 0:
        return key, start, end
    order = np.lexsort((start, key))
    key, start, end = key[order], start[order], end[order]
    reach = pd.Series(end).groupby(key).cummax().to_numpy()
    first = np.r_[True, key[1:] != key[:-1]]
    new = first | (start > np.r_[-np.inf, reach[:-1]] + (_JOIN_M if keep_points else 0.0))
    group = np.cumsum(new) - 1
    merged_end = pd.Series(end).groupby(group).max().to_numpy()
    return key[new], start[new], merged_end


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


def _disk(a: np.ndarray, w: np.ndarray, centre: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``(k, 2)`` interval of ``t`` where ``a + t·w`` is within ``r`` of ``centre`` (NaN: none)."""
    ac = a - centre
    b = np.einsum("ij,ij->i", w, ac)
    disc = b * b - (np.einsum("ij,ij->i", ac, ac) - r * r)
    root = np.sqrt(np.where(disc >= 0, disc, np.nan))
    return np.column_stack([-b - root, -b + root])


def _slab(alpha: np.ndarray, beta: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``(k, 2)`` interval of ``t`` with ``lo <= alpha·t + beta <= hi`` (NaN: none)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (lo - beta) / alpha, (hi - beta) / alpha
    flat = np.abs(alpha) < 1e-12
    inside = (beta >= lo) & (beta <= hi)
    low = np.where(flat, np.where(inside, -np.inf, np.nan), np.minimum(t1, t2))
    high = np.where(flat, np.where(inside, np.inf, np.nan), np.maximum(t1, t2))
    return np.column_stack([low, high])


def _capsule(
    a: np.ndarray, w: np.ndarray, c: np.ndarray, d: np.ndarray, r: np.ndarray
) -> np.ndarray:
    """``(k, 2)`` interval of ``t`` where ``a + t·w`` (``w`` a unit vector) is within ``r``
    of the segment ``c–d`` (NaN where never)."""
    q = d - c
    ell = np.hypot(q[:, 0], q[:, 1])
    long = ell > 0
    qh = np.divide(q, ell[:, None], out=np.zeros_like(q), where=long[:, None])
    nh = np.column_stack([-qh[:, 1], qh[:, 0]])
    ac = a - c
    along = _slab(np.einsum("ij,ij->i", w, qh), np.einsum("ij,ij->i", ac, qh), 0 * ell, ell)
    across = _slab(np.einsum("ij,ij->i", w, nh), np.einsum("ij,ij->i", ac, nh), -r, r)
    strip = np.column_stack(
        [np.fmax(along[:, 0], across[:, 0]), np.fmin(along[:, 1], across[:, 1])]
    )
    none = ~long | np.isnan(along[:, 0]) | np.isnan(across[:, 0]) | (strip[:, 0] > strip[:, 1])
    strip[none] = np.nan
    parts = np.stack([_disk(a, w, c, r), _disk(a, w, d, r), strip])  # (3, k, 2)
    # the capsule is convex: the three pieces of the line in it form one interval
    return np.column_stack([np.nanmin(parts[:, :, 0], axis=0), np.nanmax(parts[:, :, 1], axis=0)])


def _nearest_distance(tree: shapely.STRtree, geoms: np.ndarray, *, max_m: float) -> np.ndarray:
    """Distance in metres to the nearest item of ``tree`` (``inf`` beyond ``max_m``)."""
    pos, item = tree.query_nearest(geoms, max_distance=max_m, all_matches=False)
    out = np.full(len(geoms), np.inf)
    if len(pos):
        out[pos] = shapely.distance(geoms[pos], tree.geometries[item])
    return out


def _inside_pieces(
    network: WalkNetwork, geoms: np.ndarray, pos: np.ndarray, edge: np.ndarray, d_edge: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(pair, start, end)``: the parts of each pair's edge inside its compound (leg 0)."""
    zero = np.flatnonzero(d_edge <= 0)
    if len(zero) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
    lines = network.edge_lines[edge[zero]]
    parts, which = shapely.get_parts(
        shapely.intersection(lines, geoms[pos[zero]]), return_index=True
    )
    count = shapely.get_num_coordinates(parts)
    parts, which, count = parts[count > 0], which[count > 0], count[count > 0]
    # a piece is a line inside the compound or a point where the edge touches it
    xy = shapely.get_coordinates(parts)
    last_at = np.cumsum(count) - 1
    first = shapely.line_locate_point(lines[which], shapely.points(xy[last_at - count + 1]))
    last = shapely.line_locate_point(lines[which], shapely.points(xy[last_at]))
    return zero[which], np.minimum(first, last), np.maximum(first, last)


def edge_stretches(network: WalkNetwork, geoms: np.ndarray, radius_m: np.ndarray) -> Stretches:
    """The parts of walk edges within ``radius_m`` of each geometry, with their end legs.

    Parameters
    ----------
    network
        The walk network (metric CRS).
    geoms
        ``(k,)`` compound polygons or points in the network's CRS (metres).
    radius_m
        ``(k,)`` radius of each geometry in metres; ``inf`` or NaN: none.

    Returns
    -------
    Stretches
        One row per stretch ``{t : dist(P(t), geometry) <= radius}`` of an edge (the
        parts inside a polygon have leg 0); ``owner`` is the position in ``geoms``.
    """
    geoms = np.asarray(geoms, dtype=object)
    radius_m = np.asarray(radius_m, dtype=float)
    ok = np.isfinite(radius_m)
    empty = Stretches(*(np.zeros(0, dtype=np.int64),) * 2, *(np.zeros(0),) * 4)
    if not ok.any() or network.n_edges == 0:
        return empty
    pos, edge = network.edge_tree.query(
        geoms, predicate="dwithin", distance=np.where(ok, radius_m, -1.0)
    )
    keep = ok[pos]
    pos, edge = pos[keep], edge[keep]
    if len(pos) == 0:
        return empty
    d_edge = shapely.distance(geoms[pos], network.edge_lines[edge])
    keep = d_edge <= radius_m[pos]
    pos, edge, d_edge = pos[keep], edge[keep], d_edge[keep]
    radius = radius_m[pos]
    in_pair, in_lo, in_hi = _inside_pieces(network, geoms, pos, edge, d_edge)

    # the intervals of each (geometry, edge) pair from the boundary segments near the edge
    seg_owner, seg_c, seg_d = _boundary_segments(geoms)
    seg_tree = shapely.STRtree(shapely.linestrings(np.stack([seg_c, seg_d], axis=1)))
    pair, seg = seg_tree.query(network.edge_lines[edge], predicate="dwithin", distance=radius)
    mine = seg_owner[seg] == pos[pair]
    pair, seg = pair[mine], seg[mine]
    e = edge[pair]
    a = network.node_xy[network.u[e]]
    length = network.length_m[e]
    w = np.divide(
        network.node_xy[network.v[e]] - a,
        length[:, None],
        out=np.zeros_like(a),
        where=length[:, None] > 0,
    )
    span = _capsule(a, w, seg_c[seg], seg_d[seg], radius[pair])
    lo, hi = np.clip(span[:, 0], 0, length), np.clip(span[:, 1], 0, length)
    ok = np.isfinite(span[:, 0]) & (span[:, 0] <= length) & (span[:, 1] >= 0)
    pair_all = np.concatenate([pair[ok], in_pair])
    lo, hi = np.concatenate([lo[ok], in_lo]), np.concatenate([hi[ok], in_hi])
    key, start, end = merge_intervals(pair_all, lo, hi, keep_points=True)
    owner, e = pos[key], edge[key]
    return Stretches(
        owner.astype(np.int64),
        e.astype(np.int64),
        start,
        end,
        shapely.distance(_points_on(network, e, start), geoms[owner]),
        shapely.distance(_points_on(network, e, end), geoms[owner]),
    )


def _points_on(network: WalkNetwork, edge: np.ndarray, offset_m: np.ndarray) -> np.ndarray:
    """Shapely points at ``offset_m`` metres from the ``u`` end of each edge."""
    base = network.node_xy[network.u[edge]]
    length = network.length_m[edge]
    frac = np.divide(offset_m, length, out=np.zeros_like(offset_m, dtype=float), where=length > 0)
    return shapely.points(base + (network.node_xy[network.v[edge]] - base) * frac[:, None])


def perimeter_stretches(
    network: WalkNetwork, geoms: np.ndarray, *, band_m: float, snap_limit_m: float
) -> Stretches:
    """The stretches of walk edges along which each compound is entered from its perimeter.

    ``d_min`` is the distance from the compound to the nearest edge of the main network
    piece (of any piece when the main one is beyond ``snap_limit_m``); every point of an
    edge within ``d_min + band_m`` of the compound is a way in.

    Parameters
    ----------
    network
        The walk network (metric CRS).
    geoms
        ``(k,)`` compound polygons or points in the network's CRS (metres).
    band_m
        The band in metres beyond ``d_min``.
    snap_limit_m
        A compound farther than this (metres) from every edge gets no stretch.

    Returns
    -------
    Stretches
        One row per stretch; ``owner`` is the position in ``geoms``.
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0 or network.n_edges == 0:
        return edge_stretches(network, geoms, np.full(len(geoms), np.inf))
    d_min = _nearest_distance(network.edge_tree, geoms, max_m=snap_limit_m)
    main_edge = network.component[network.u] == 0
    if not main_edge.all():
        # an edge on a small piece never wins over the main network within the band
        tree = shapely.STRtree(network.edge_lines[np.flatnonzero(main_edge)])
        d_main = _nearest_distance(tree, geoms, max_m=snap_limit_m)
        d_min = np.where(np.isfinite(d_main), d_main, d_min)
    return edge_stretches(network, geoms, d_min + band_m)


def stretch_points(
    network: WalkNetwork,
    geoms: np.ndarray,
    stretches: Stretches,
    edge: np.ndarray,
    offset_m: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Access points at the facilities that lie inside a stretch.

    Parameters
    ----------
    network
        The walk network (metric CRS).
    geoms
        The compounds the stretches belong to (``stretches.owner`` indexes them).
    stretches
        From :func:`perimeter_stretches`.
    edge, offset_m
        Attachment of the facilities (edge index, metres from its ``u`` end).

    Returns
    -------
    owner, edge, offset_m, leg_m
        One access point per facility strictly inside a stretch, with the leg from the
        compound to that point of the edge (metres).
    """
    stretch = pd.DataFrame(
        {
            "owner": stretches.owner,
            "edge": stretches.edge,
            "start": stretches.start_m,
            "end": stretches.end_m,
        }
    )
    at = pd.DataFrame({"edge": edge, "offset": offset_m}).drop_duplicates()
    both = stretch.merge(at, on="edge")
    both = both[(both["offset"] > both["start"]) & (both["offset"] < both["end"])]
    e = both["edge"].to_numpy(dtype=np.int64)
    off = both["offset"].to_numpy(dtype=float)
    owner = both["owner"].to_numpy(dtype=np.int64)
    pts = _points_on(network, e, off)
    return owner, e, off, shapely.distance(pts, np.asarray(geoms, dtype=object)[owner])
