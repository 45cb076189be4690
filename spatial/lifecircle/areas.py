"""Service areas: the parts of the walk network within a category's radius of a facility.

Walks stop part-way along an edge, so an area is a set of edge pieces (lines), not the
edges a facility's node reaches; what maps and ``service_areas.gpkg`` show is the
corridor around them, traced from the pieces on a grid (:func:`corridor_outline`), never
one union of tens of thousands of buffers.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import shapely

from spatial.lifecircle.engine import node_distances
from spatial.network import Attachment, WalkNetwork
from spatial.standards import Category

__all__ = ["corridor_outline", "service_area"]


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


def service_area(
    network: WalkNetwork, sources: Attachment, cat: Category, *, half_width_m: float
) -> dict[str, Any]:
    """The parts of edges within a category's radius of its facilities, and their area.

    Parameters
    ----------
    network
        The walk network (metric CRS).
    sources
        The facilities' ways onto the network.
    cat
        The category (its ``radius_m`` is the walk limit in metres).
    half_width_m
        Half the width of the corridor drawn around the street parts, metres.

    Returns
    -------
    dict
        ``category, zh, en, radius_m``, ``geometry`` (the corridor's outline,
        :func:`corridor_outline`) and ``streets`` (the street parts: a MultiLineString),
        in the network's CRS.
    """
    dist_node = node_distances(network, sources, limit_m=cat.radius_m)
    seg = _reachable_segments(network, dist_node, sources, cat.radius_m)
    streets = shapely.multilinestrings(shapely.linestrings(seg))
    return {
        "category": cat.id,
        "zh": cat.zh,
        "en": cat.en,
        "radius_m": cat.radius_m,
        "geometry": corridor_outline(streets, half_width_m=half_width_m),
        "streets": streets,
    }


def _densified(lines: shapely.Geometry, step_m: float) -> np.ndarray:
    """Points along every segment of ``lines`` at most ``step_m`` apart, ends included."""
    coords = shapely.get_coordinates(lines)
    if len(coords) < 2:
        return np.asarray(coords, dtype=float).reshape(-1, 2)
    parts = shapely.get_parts(lines)
    counts = shapely.get_num_coordinates(parts)
    last = np.cumsum(counts) - 1  # a part's last vertex starts no segment
    start = np.ones(len(coords), dtype=bool)
    start[last] = False
    p0, p1 = coords[:-1][start[:-1]], coords[1:][start[:-1]]
    n = np.maximum(np.ceil(np.hypot(*(p1 - p0).T) / step_m).astype(np.int64), 1)
    seg = np.repeat(np.arange(len(n)), n + 1)
    first = np.r_[0, np.cumsum(n + 1)[:-1]]
    t = (np.arange(len(seg)) - first[seg]) / n[seg]
    points: np.ndarray = p0[seg] + (p1 - p0)[seg] * t[:, None]
    return points


def corridor_outline(
    lines: shapely.Geometry,
    *,
    half_width_m: float,
    cell_m: float = 5.0,
    max_cells: int = 20_000_000,
) -> shapely.Geometry:
    """Everything within ``half_width_m`` of reachable street parts, traced on a grid.

    The street parts are sampled every half cell and the cells they cross marked; each
    cell centre's distance to the nearest marked centre (a Euclidean distance transform)
    is contoured at ``half_width_m`` less a tenth of a cell (a marked centre lies a little
    off the street), the contour interpolated between cell centres. The area is that of
    buffering the lines within a few per cent (``tests/test_lifecircle.py`` compares
    them on the demo and a real extract), at a fraction of the cost of uniting tens of
    thousands of buffers. A city too large for ``max_cells`` cells of ``cell_m`` is
    traced on coarser cells.

    Parameters
    ----------
    lines
        Street parts (a MultiLineString), metric CRS.
    half_width_m
        Half the corridor's width, metres.
    cell_m
        Grid cell, metres.
    max_cells
        Largest grid traced at once (memory: about five bytes per cell).

    Returns
    -------
    shapely.Geometry
        A (Multi)Polygon with holes in the lines' CRS; empty without lines.
    """
    import contourpy
    from scipy import ndimage

    if lines is None or shapely.is_empty(lines):
        return shapely.Polygon()
    bounds = np.asarray(shapely.bounds(lines), dtype=float)
    low = bounds[:2] - half_width_m - 2 * cell_m
    span = bounds[2:] + half_width_m + 2 * cell_m - low
    cell = max(cell_m, float(np.sqrt(span[0] * span[1] / max_cells)))
    nx, ny = (np.ceil(span / cell).astype(np.int64) + 1).tolist()
    ij = np.floor((_densified(lines, cell / 2) - low) / cell).astype(np.int64)
    free = np.ones((ny, nx), dtype=bool)
    free[ij[:, 1], ij[:, 0]] = False
    dist = ndimage.distance_transform_edt(free).astype(np.float32)
    del free
    xs = low[0] + (np.arange(nx) + 0.5) * cell
    ys = low[1] + (np.arange(ny) + 0.5) * cell
    gen = contourpy.contour_generator(
        xs, ys, dist, fill_type=contourpy.FillType.OuterOffset, chunk_count=1
    )
    filled: Any = gen.filled(-1.0, half_width_m / cell - 0.1)
    polys = [
        shapely.Polygon(pts[o[0] : o[1]], [pts[a:b] for a, b in itertools.pairwise(o[1:])])
        for pts, o in zip(filled[0], filled[1], strict=True)
    ]
    if not polys:
        return shapely.Polygon()
    return shapely.multipolygons(polys) if len(polys) > 1 else polys[0]
