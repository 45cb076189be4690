"""Service areas: the parts of the walk network within a category's radius of a facility.

Walks stop part-way along an edge, so an area is a set of edge pieces (lines), not the
edges a facility's node reaches.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from spatial.lifecircle.engine import node_distances
from spatial.network import Attachment, WalkNetwork
from spatial.standards import Category

__all__ = ["service_area"]


def _merge_intervals(
    edge: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of ``[start, end]`` intervals on each edge (overlaps merged)."""
    keep = end > start
    edge, start, end = edge[keep], start[keep], end[keep]
    if len(edge) == 0:
        return edge, start, end
    order = np.lexsort((start, edge))
    edge, start, end = edge[order], start[order], end[order]
    reach = pd.Series(end).groupby(edge).cummax().to_numpy()
    first = np.r_[True, edge[1:] != edge[:-1]]
    new = first | (start > np.r_[-np.inf, reach[:-1]])
    group = np.cumsum(new) - 1
    merged_end = pd.Series(end).groupby(group).max().to_numpy()
    return edge[new], start[new], merged_end


def _reachable_segments(
    network: WalkNetwork, dist_node: np.ndarray, sources: Attachment, radius_m: float
) -> np.ndarray:
    """``(k, 2, 2)`` segments of edges within ``radius_m`` of the sources."""
    u, v, length = network.u, network.v, network.length_m
    a = np.clip(radius_m - dist_node[u], 0, length)  # reach along the edge from u
    b = np.clip(radius_m - dist_node[v], 0, length)  # from v
    from_u, from_v = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
    edges = [from_u, from_v]
    starts = [np.zeros(len(from_u)), length[from_v] - b[from_v]]
    ends = [a[from_u], length[from_v]]
    ok = sources.on_network
    rho = radius_m - sources.leg_m[ok]
    keep = rho > 0
    se = sources.edge[ok][keep]
    edges.append(se)
    starts.append(np.maximum(sources.offset_m[ok][keep] - rho[keep], 0))
    ends.append(np.minimum(sources.offset_m[ok][keep] + rho[keep], length[se]))
    e, s, t = _merge_intervals(np.concatenate(edges), np.concatenate(starts), np.concatenate(ends))
    frac0 = np.divide(s, length[e], out=np.zeros_like(s), where=length[e] > 0)
    frac1 = np.divide(t, length[e], out=np.ones_like(t), where=length[e] > 0)
    p0, p1 = network.node_xy[u[e]], network.node_xy[v[e]]
    seg = np.stack([p0 + (p1 - p0) * frac0[:, None], p0 + (p1 - p0) * frac1[:, None]], axis=1)
    return seg[t > s]


def service_area(network: WalkNetwork, sources: Attachment, cat: Category) -> dict[str, Any]:
    """The parts of edges within a category's radius of its facilities, as lines.

    Parameters
    ----------
    network
        The walk network (metric CRS).
    sources
        The facilities' ways onto the network.
    cat
        The category (its ``radius_m`` is the walk limit in metres).

    Returns
    -------
    dict
        ``category, zh, en, radius_m`` and ``geometry``: a MultiLineString in the
        network's CRS.
    """
    dist_node = node_distances(network, sources, limit_m=cat.radius_m)
    seg = _reachable_segments(network, dist_node, sources, cat.radius_m)
    return {
        "category": cat.id,
        "zh": cat.zh,
        "en": cat.en,
        "radius_m": cat.radius_m,
        "geometry": shapely.multilinestrings(shapely.linestrings(seg)),
    }
