"""Service areas: the parts of the walk network within a category's radius of a facility.

Walks stop part-way along an edge, so an area is a set of edge pieces (lines), not the
edges a facility's node reaches; what maps and ``service_areas.gpkg`` show is the
corridor around them, traced from the pieces on a grid (:func:`corridor_outline`), never
one union of tens of thousands of buffers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from spatial._errors import Problem
from spatial.settings import DEFAULTS

if TYPE_CHECKING:
    import geopandas as gpd

    # the maps simplify outlines here without loading the engine
    from spatial.network import Attachment, WalkNetwork
    from spatial.standards import Category

__all__ = [
    "RING_TOLERANCE_CELLS",
    "coarse_outline_warning",
    "corridor_outline",
    "service_area",
    "service_area_frame",
    "simplify_outline",
]

#: An outline's rings are simplified by this share of the cell it was traced on (the
#: contour has a point on every cell it crosses; ``cell_m`` of ``service_areas.gpkg``).
RING_TOLERANCE_CELLS = 0.25


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
    first = np.r_[True, edge[1:] != edge[:-1]]
    # the running furthest end within each edge: edges lifted apart by a power of two
    # larger than any end, so one running maximum never carries over to the next edge
    lift = 2.0 ** np.ceil(np.log2(float(end.max()) + 1.0)) * (np.cumsum(first) - 1)
    reach = np.maximum.accumulate(end + lift) - lift
    new = first | (start > np.r_[-np.inf, reach[:-1]])
    at = np.flatnonzero(new)
    return edge[at], start[at], np.maximum.reduceat(end, at)


def _reachable_segments(
    network: WalkNetwork, dist_node: np.ndarray, sources: Attachment, radius_m: float
) -> np.ndarray:
    """``(k, 2, 2)`` segments of edges within ``radius_m`` of the sources, in edge order
    (each edge's pieces from its ``u`` end on)."""
    u, v, length = network.u, network.v, network.length_m
    a = np.clip(radius_m - dist_node[u], 0, length)  # reach along the edge from u
    b = np.clip(radius_m - dist_node[v], 0, length)  # from v
    ok = sources.on_network
    rho = radius_m - sources.leg_m[ok]
    keep = rho > 0
    se, rho, offset = sources.edge[ok][keep], rho[keep], sources.offset_m[ok][keep]
    on = np.unique(se)
    # an edge reached from its ends only is one piece where the two reaches meet, else
    # a piece from each end reached; only the few edges with a facility on them need
    # their pieces merged
    ends = np.flatnonzero((a > 0) | (b > 0))
    ends = ends[~np.isin(ends, on, assume_unique=True)]
    ae, be, le = a[ends], b[ends], length[ends]
    whole = ae + be >= le
    take = np.stack([whole | (ae > 0), ~whole & (be > 0)], axis=1).ravel()
    e = np.repeat(ends, 2)[take]
    s = np.stack([np.zeros(len(ends)), le - be], axis=1).ravel()[take]
    t = np.stack([np.where(whole, le, ae), le], axis=1).ravel()[take]
    e_on, s_on, t_on = _merge_intervals(
        np.concatenate([on, on, se]),
        np.concatenate([np.zeros(len(on)), length[on] - b[on], np.maximum(offset - rho, 0)]),
        np.concatenate([a[on], length[on], np.minimum(offset + rho, length[se])]),
    )
    at = np.searchsorted(e, e_on)
    e, s, t = np.insert(e, at, e_on), np.insert(s, at, s_on), np.insert(t, at, t_on)
    some = t > s
    e, s, t = e[some], s[some], t[some]
    le = length[e]
    long = le > 0
    frac0 = np.divide(s, le, out=np.zeros_like(s), where=long)
    frac1 = np.divide(t, le, out=np.ones_like(t), where=long)
    # p0 + (p1 - p0) · frac at both ends, written in place (a city has ~10⁶ parts)
    p0 = network.node_xy[u[e]]
    step = network.node_xy[v[e]]
    step -= p0
    seg = np.empty((len(e), 2, 2))
    np.multiply(step, frac0[:, None], out=seg[:, 0])
    np.multiply(step, frac1[:, None], out=seg[:, 1])
    seg += p0[:, None, :]
    return seg


def service_area(
    network: WalkNetwork,
    sources: Attachment,
    cat: Category,
    *,
    half_width_m: float,
    cell_m: float = DEFAULTS.service_area_cell_m,
    max_cells: int = DEFAULTS.service_area_max_cells,
    streets: bool = False,
    dist_node: np.ndarray | None = None,
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
    cell_m, max_cells
        The grid the outline is traced on (:func:`corridor_outline`).
    streets
        Also return the street parts (a whole city's take gigabytes).
    dist_node
        The walk from the facilities to every node, metres, when a search with a limit
        of at least the radius has found it already (else it is searched here).

    Returns
    -------
    dict
        ``category, zh, en, radius_m``, ``geometry`` (the corridor's outline,
        :func:`corridor_outline`), ``cell_m`` (the cell it was traced on, metres) and,
        when asked, ``streets`` (the street parts: a MultiLineString), in the network's
        CRS.
    """
    from spatial.lifecircle.engine import node_distances

    if dist_node is None:
        dist_node = node_distances(network, sources, limit_m=cat.radius_m)
    seg = _reachable_segments(network, dist_node, sources, cat.radius_m)
    out: dict[str, Any] = {
        "category": cat.id,
        "zh": cat.zh,
        "en": cat.en,
        "radius_m": cat.radius_m,
        "geometry": shapely.Polygon(),
        "cell_m": cell_m,
    }
    if len(seg):  # the grid found once: its cell is said
        grid = _grid(seg, half_width_m, cell_m, max_cells)
        out["geometry"], out["cell_m"] = _traced(seg, grid, half_width_m), grid[1]
    if streets:
        n = len(seg)
        out["streets"] = shapely.from_ragged_array(  # one MultiLineString of 2-point parts
            shapely.GeometryType.MULTILINESTRING,
            seg.reshape(-1, 2),
            (np.arange(0, 2 * n + 1, 2), np.array([0, n])),
        )[0]
    return out


def service_area_frame(
    areas: Sequence[dict[str, Any]], crs: Any, *, streets: bool = False
) -> gpd.GeoDataFrame:
    """Service areas (what :func:`service_area` returns, one per category) as a frame.

    Parameters
    ----------
    areas
        :func:`service_area`'s dicts.
    crs
        Their CRS (the network's, metric).
    streets
        They carry their street parts (a second geometry column).

    Returns
    -------
    GeoDataFrame
        ``category, zh, en, radius_m, cell_m, geometry`` (and ``streets``), one row each.
    """
    import geopandas as gpd
    import pandas as pd

    columns = ["category", "zh", "en", "radius_m", "cell_m", "geometry"]
    columns += ["streets"] if streets else []
    frame = gpd.GeoDataFrame(pd.DataFrame(list(areas), columns=columns), crs=crs)
    if streets:
        frame["streets"] = gpd.GeoSeries(frame["streets"], crs=crs)
    return frame


def coarse_outline_warning(
    areas: Sequence[dict[str, Any]], *, half_width_m: float, cell_m: float, max_cells: int
) -> list[Problem]:
    """A warning when outlines were traced on cells too coarse to keep their shape
    (coarser than ``settings.service_area_fine_cell_ratio`` of the half width).

    Parameters
    ----------
    areas
        :func:`service_area`'s dicts (``cell_m``).
    half_width_m, cell_m, max_cells
        The corridor's half width and the grid asked for (metres, cells).

    Returns
    -------
    list of Problem
        One warning, or none.
    """
    fine_m = DEFAULTS.service_area_fine_cell_ratio * half_width_m
    coarse = [a["cell_m"] for a in areas if a["cell_m"] > fine_m]
    if not coarse:
        return []
    return [
        Problem.warning(
            "service_areas.gpkg",
            f"{len(coarse)} of {len(areas)} service areas traced on cells of up to "
            f"{max(coarse):.0f} m (the area is too large for {max_cells:,} cells of "
            f"{cell_m:g} m): coarser than {fine_m:g} m, the outlines are generalised — "
            f"street corridors {2 * half_width_m:g} m wide lose their shape and their area "
            "is overstated (coverage figures are not affected: they come from walking "
            "distances)",
            column="cell_m",
            hint="for street-level outlines run a district at a time (spatial batch, or a "
            "smaller network file), or allow more cells (--service-area-max-cells, "
            "service_area_max_cells in a province file; about 5 bytes a cell, per category)",
        )
    ]


def _segments_of(lines: shapely.Geometry) -> np.ndarray:
    """The ``(k, 2, 2)`` segments of a (Multi)LineString."""
    coords = shapely.get_coordinates(lines)
    if len(coords) < 2:
        return np.zeros((0, 2, 2))
    counts = shapely.get_num_coordinates(shapely.get_parts(lines))
    start = np.ones(len(coords), dtype=bool)
    start[np.cumsum(counts) - 1] = False  # a part's last vertex starts no segment
    first = np.flatnonzero(start[:-1])
    return np.stack([coords[first], coords[first + 1]], axis=1)


def _cells_crossed(seg: np.ndarray) -> np.ndarray:
    """The ``(column, row)`` cells a digital line through each segment marks: one per
    cell along its longer axis (as Bresenham's 8-connected lines), ``seg`` in cells.
    The segments' start cells come first, then their end cells, then the steps between
    of those longer than a cell, segment by segment."""
    x0, y0 = seg[:, 0, 0], seg[:, 0, 1]
    dx, dy = seg[:, 1, 0] - x0, seg[:, 1, 1] - y0
    n = np.ceil(np.maximum(np.abs(dx), np.abs(dy))).astype(np.int64)
    # both ends of every segment, then the steps between the ends of longer ones
    # (most street parts of a city cross one or two cells)
    inner = np.flatnonzero(n > 1)
    n, x0, y0, dx, dy = n[inner], x0[inner], y0[inner], dx[inner], dy[inner]
    which = np.repeat(np.arange(len(n)), n - 1)
    first = np.cumsum(n - 1) - (n - 1)
    t = (np.arange(1, len(which) + 1) - first[which]) / n[which]
    k = len(seg)
    cells = np.empty((2 * k + len(which), 2), dtype=np.intp)
    cells[:k] = np.floor(seg[:, 0])
    cells[k : 2 * k] = np.floor(seg[:, 0] + (seg[:, 1] - seg[:, 0]))  # as x0 + dx · 1
    cells[2 * k :, 0] = np.floor(x0[which] + dx[which] * t)  # x and y apart
    cells[2 * k :, 1] = np.floor(y0[which] + dy[which] * t)
    return cells


#: Street parts marked at once (bounds the working memory: a city has ~10⁶ per category).
_SEGMENTS_AT_ONCE = 100_000


def corridor_outline(
    lines: shapely.Geometry | np.ndarray,
    *,
    half_width_m: float,
    cell_m: float = DEFAULTS.service_area_cell_m,
    max_cells: int = DEFAULTS.service_area_max_cells,
) -> shapely.Geometry:
    """Everything within ``half_width_m`` of reachable street parts, traced on a grid.

    The cells the street parts cross are marked (a digital line, one cell per step along
    its longer axis); each cell centre's distance to the nearest marked centre (a
    Euclidean distance transform) is contoured at ``half_width_m``, the contour
    interpolated between cell centres, and points in line with their neighbours dropped.
    A marked centre lies up to half a cell to one side of its street, so the corridor
    is as much wider on one side as it is narrower on the other: its area is that of
    buffering the lines within a few per cent on 5 m cells and on 10 m ones
    (``tests/test_lifecircle.py`` compares them on the demo and a real extract), at a
    fraction of the cost of uniting tens of thousands of buffers. A city too large
    for ``max_cells`` cells of ``cell_m`` is traced on coarser cells (a 20 × 20 km
    district on 10 m cells); cells coarser than 0.8 of ``half_width_m``
    (``settings.service_area_fine_cell_ratio``) no longer hold the corridor's shape
    (a 63 km city's 33 m cells: the area ~10 % too large, half of it in the wrong place).

    Parameters
    ----------
    lines
        Street parts (a MultiLineString), or their ``(k, 2, 2)`` segments; metric CRS.
    half_width_m
        Half the corridor's width, metres.
    cell_m
        Grid cell, metres.
    max_cells
        Largest grid traced at once (memory: about five bytes per cell).

    Returns
    -------
    shapely.Geometry
        A valid (Multi)Polygon with holes in the lines' CRS; empty without lines.
    """
    seg = lines if isinstance(lines, np.ndarray) else _segments_of(lines)
    if not len(seg):
        return shapely.Polygon()
    return _traced(seg, _grid(seg, half_width_m, cell_m, max_cells), half_width_m)


def _traced(
    seg: np.ndarray, grid: tuple[np.ndarray, float, int, int], half_width_m: float
) -> shapely.Geometry:
    """:func:`corridor_outline` of segments on their grid (:func:`_grid`)."""
    import cv2

    low, cell, nx, ny = grid
    free = np.ones((ny, nx), dtype=np.uint8)
    for at in range(0, len(seg), _SEGMENTS_AT_ONCE):
        ij = _cells_crossed((seg[at : at + _SEGMENTS_AT_ONCE] - low) / cell)
        free.ravel()[ij[:, 1] * nx + ij[:, 0]] = 0
    dist = cv2.distanceTransform(free, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    del free
    return _contour(dist, low, cell, level=half_width_m / cell)


def _grid(
    seg: np.ndarray, half_width_m: float, cell_m: float, max_cells: int
) -> tuple[np.ndarray, float, int, int]:
    """The grid around segments: its lower-left corner, cell (metres), columns, rows."""
    flat = seg.reshape(-1, 2)
    low = flat.min(axis=0) - half_width_m - 2 * cell_m
    span = flat.max(axis=0) + half_width_m + 2 * cell_m - low
    cell = max(cell_m, float(np.sqrt(span[0] * span[1] / max_cells)))
    nx, ny = (np.ceil(span / cell).astype(np.int64) + 1).tolist()
    return low, cell, int(nx), int(ny)


def _contour(dist: np.ndarray, low: np.ndarray, cell: float, *, level: float) -> shapely.Geometry:
    """Polygons where ``dist`` (cells) is below ``level``, traced in one go, each ring
    simplified by :data:`RING_TOLERANCE_CELLS` of a cell."""
    import contourpy

    nx, ny = dist.shape[1], dist.shape[0]
    xs = low[0] + (np.arange(nx) + 0.5) * cell
    ys = low[1] + (np.arange(ny) + 0.5) * cell
    gen = contourpy.contour_generator(
        xs, ys, dist, fill_type=contourpy.FillType.ChunkCombinedOffsetOffset, chunk_count=1
    )
    filled: Any = gen.filled(-1.0, level)
    pts, offsets, outer = filled[0][0], filled[1][0], filled[2][0]
    if pts is None or not len(pts):
        return shapely.Polygon()
    sizes = np.diff(offsets)
    simplified = np.empty(len(sizes), dtype=object)
    lo = 0
    while lo < len(sizes):  # rings a few million points at a time (a city's are ~10⁷)
        hi = max(int(np.searchsorted(offsets, offsets[lo] + _POINTS_AT_ONCE, "right")) - 1, lo + 1)
        hi = min(hi, len(sizes))
        rings = shapely.linearrings(
            pts[offsets[lo] : offsets[hi]], indices=np.repeat(np.arange(hi - lo), sizes[lo:hi])
        )
        simplified[lo:hi] = shapely.simplify(
            rings, cell * RING_TOLERANCE_CELLS, preserve_topology=False
        )
        lo = hi
    poly_of_ring = np.repeat(np.arange(len(outer) - 1), np.diff(outer))
    return _polygons(simplified, poly_of_ring)


#: Contour points made into rings at once (bounds the working memory).
_POINTS_AT_ONCE = 2_000_000


def _from_rings(rings: np.ndarray, owner: np.ndarray, tolerance: float) -> shapely.Geometry:
    """Polygons from rings (each polygon's shell first), each ring simplified on its own
    (Douglas–Peucker; GEOS simplifies one large MultiPolygon far more slowly)."""
    return _polygons(shapely.simplify(rings, tolerance, preserve_topology=False), owner)


def _polygons(rings: np.ndarray, owner: np.ndarray) -> shapely.Geometry:
    """Polygons from simplified rings (each polygon's shell first); a ring simplified to
    a line or less is dropped, and a polygon with its shell. Made from the rings'
    coordinates in one go (shapely's ragged arrays), not ring object by ring object."""
    n = shapely.get_num_coordinates(rings)
    ok = (shapely.get_type_id(rings) == 2) & (n >= 4)
    shell = np.r_[True, owner[1:] != owner[:-1]] if len(owner) else owner.astype(bool)
    lost = np.unique(owner[shell & ~ok])
    ok &= ~np.isin(owner, lost)
    if not ok.any():
        return shapely.Polygon()
    per_polygon = np.unique(owner[ok], return_counts=True)[1]
    offsets = (np.r_[0, np.cumsum(n[ok])], np.r_[0, np.cumsum(per_polygon)])
    xy = shapely.get_coordinates(rings[ok])
    if len(per_polygon) == 1:
        return shapely.from_ragged_array(shapely.GeometryType.POLYGON, xy, offsets)[0]
    kind = shapely.GeometryType.MULTIPOLYGON
    return shapely.from_ragged_array(kind, xy, (*offsets, np.array([0, len(per_polygon)])))[0]


def simplify_outline(shape: shapely.Geometry, tolerance_m: float) -> shapely.Geometry:
    """A (Multi)Polygon simplified ring by ring, ``tolerance_m`` metres.

    Parameters
    ----------
    shape
        An outline (e.g. of ``service_areas.gpkg``, or one cut to a unit's box: its
        lines and points are left out), metric CRS.
    tolerance_m
        Largest distance a point moves, in the shape's units: metres in a metric CRS
        (the map passes the degrees of latitude equivalent for an outline in WGS84).

    Returns
    -------
    shapely.Geometry
        The simplified (Multi)Polygon.
    """
    parts = shapely.get_parts(shape)
    parts = parts[shapely.get_type_id(parts) == 3]  # polygons (a clip may leave lines)
    if not len(parts):
        return shapely.Polygon()
    rings, owner = shapely.get_rings(parts, return_index=True)
    return _from_rings(rings, owner, tolerance_m)
