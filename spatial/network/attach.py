"""Points on the walk network: exact attachment to the nearest edge, and the access
points where walkers enter and leave a compound.

Access points, by definition (docs/architecture.md, "Compound access points"):

- **gates** — a compound with gates or entrances (:func:`~spatial.io.osm.tags.is_gate`)
  within ``gate_tolerance_m`` of its boundary is entered through them and through every
  point where a walk edge crosses or touches its boundary (kind ``gate``/``crossing``);
- without gates, a compound has a radius ``R``: ``crossing_depth_m`` when a walk edge of
  the main network goes more than that into it (kind ``crossing``), else
  ``d_min + perimeter_band_m`` with ``d_min`` its distance to the main network (kind
  ``perimeter``; ``nearest`` for a point). Every edge that comes within ``R`` is a way
  in along its whole length, each point with its straight leg; metres of leg beyond
  ``R`` count ``leg_factor`` times (:mod:`spatial.network.perimeter`).

Never one arbitrary nearest point.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.network.graph import WalkNetwork
from spatial.network.perimeter import perimeter_radius, ways_in
from spatial.settings import DEFAULTS

__all__ = [
    "ACCESS_KINDS",
    "AccessPoints",
    "Attachment",
    "attach_points",
    "compound_access_points",
]


@dataclass
class Attachment:
    """Points attached to network edges.

    Attributes
    ----------
    edge
        ``(k,)`` edge index, ``-1`` where the point is farther than the snap limit.
    offset_m
        Distance in metres from the edge's ``u`` end to the attachment point.
    leg_m
        Straight distance in metres from the point to its attachment point.
    """

    edge: np.ndarray
    offset_m: np.ndarray
    leg_m: np.ndarray

    @property
    def on_network(self) -> np.ndarray:
        """``(k,)`` True where the point is attached."""
        return self.edge >= 0

    def take(self, mask: np.ndarray) -> Attachment:
        """The attachments selected by a boolean mask or index array.

        Parameters
        ----------
        mask
            Boolean mask or integer positions.

        Returns
        -------
        Attachment
            A new object.
        """
        return Attachment(self.edge[mask], self.offset_m[mask], self.leg_m[mask])


def attach_points(
    network: WalkNetwork,
    points: np.ndarray,
    *,
    snap_limit_m: float,
    main_band_m: float | None = DEFAULTS.perimeter_band_m,
) -> Attachment:
    """Attach points to the nearest point of the nearest edge, exactly.

    A point whose nearest edge is on a piece cut off from the main network is attached
    to the main network instead when an edge of it is within ``main_band_m`` metres
    more (a fragment never wins over a street of the main network nearby).

    Parameters
    ----------
    network
        The walk network.
    points
        ``(k, 2)`` coordinates in the network's CRS (metres), or shapely points.
    snap_limit_m
        Points farther than this from every edge are left off (``edge == -1``).
    main_band_m
        How much farther (metres) the main network may be than a nearest edge on a
        small piece and still be preferred; None: the nearest edge always.

    Returns
    -------
    Attachment
        Edge, offset along it and leg length (metres) of each point.
    """
    pts = np.asarray(points)
    geoms = shapely.points(pts) if pts.ndim == 2 else pts
    k = len(geoms)
    edge = np.full(k, -1, dtype=np.int64)
    offset = np.full(k, np.nan)
    leg = np.full(k, np.nan)
    if k == 0 or network.n_edges == 0:
        return Attachment(edge, offset, leg)
    src, tgt, dist, along = _nearest_edges(network, geoms, snap_limit_m=snap_limit_m)
    edge[src] = tgt
    leg[src] = dist
    offset[src] = along
    if main_band_m is not None:
        _prefer_main(network, geoms, edge, offset, leg, band_m=main_band_m)
    return Attachment(edge, offset, leg)


def _prefer_main(
    network: WalkNetwork,
    geoms: np.ndarray,
    edge: np.ndarray,
    offset: np.ndarray,
    leg: np.ndarray,
    *,
    band_m: float,
) -> None:
    """Re-attach, in place, points on a small piece to the main piece within ``band_m``."""
    on_piece = np.flatnonzero(edge >= 0)
    on_piece = on_piece[network.component[network.u[edge[on_piece]]] != 0]
    if len(on_piece) == 0:
        return
    pos, cand = network.edge_tree.query(
        geoms[on_piece], predicate="dwithin", distance=leg[on_piece] + band_m
    )
    main = network.component[network.u[cand]] == 0
    pos, cand = pos[main], cand[main]
    if len(pos) == 0:
        return
    dist = shapely.distance(geoms[on_piece[pos]], network.edge_lines[cand])
    order = np.lexsort((cand, dist, pos))
    first = order[np.r_[True, pos[order][1:] != pos[order][:-1]]]
    at, e = on_piece[pos[first]], cand[first]
    edge[at], leg[at] = e, dist[first]
    offset[at] = shapely.line_locate_point(network.edge_lines[e], geoms[at])


def _nearest_edges(
    network: WalkNetwork, geoms: np.ndarray, *, snap_limit_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nearest edge of each point within the snap limit; ties go to the lower edge index.

    The nearest node is an upper bound on the distance to the nearest edge (every node
    ends an edge), so only edges whose boxes are within that bound are measured. Edges
    are straight segments: the distance and the offset along the edge are computed for
    all candidate pairs at once. Returns point positions, edges, distances and offsets.
    """
    ok = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    none = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
    if len(ok) == 0:  # missing or empty points match nothing
        return none
    xy = shapely.get_coordinates(geoms[ok])
    near = network.node_tree.query(xy, distance_upper_bound=snap_limit_m, workers=-1)[0]
    bound = np.minimum(near, snap_limit_m)
    reach = bound * (1 + 1e-9) + 1e-9
    boxes = shapely.box(xy[:, 0] - reach, xy[:, 1] - reach, xy[:, 0] + reach, xy[:, 1] + reach)
    pos, tgt = network.edge_tree.query(boxes)
    p = xy[pos]
    a, b = network.node_xy[network.u[tgt]], network.node_xy[network.v[tgt]]
    ab = b - a
    sq = np.einsum("ij,ij->i", ab, ab)
    t = np.divide(np.einsum("ij,ij->i", p - a, ab), sq, out=np.zeros(len(sq)), where=sq > 0)
    t = np.clip(t, 0.0, 1.0)
    dist = np.hypot(*(p - (a + ab * t[:, None])).T)
    keep = (dist <= reach[pos]) & (dist <= snap_limit_m)
    pos, tgt, dist, along = pos[keep], tgt[keep], dist[keep], (t * np.sqrt(sq))[keep]
    order = np.lexsort((tgt, dist, pos))
    if len(order) == 0:
        return none
    first = order[np.r_[True, pos[order][1:] != pos[order][:-1]]]
    return ok[pos[first]], tgt[first], dist[first], along[first]


class AccessPoints(Attachment):
    """Attachments of compound access points, with their owner and kind.

    Parameters
    ----------
    edge
        Edge index of each point (``-1``: off the network).
    offset_m
        Distance along the edge from its ``u`` end, metres.
    leg_m
        Straight distance from the point to the edge, metres.
    owner
        Position of the compound the point belongs to.
    kind
        How the point was found (:data:`ACCESS_KINDS`, or ``"facility"``).
    radius_m
        Per owner, the radius ``R`` beyond which a leg's metres count ``leg_factor``
        times (NaN: a gated compound); None when not known.
    """

    def __init__(self, edge, offset_m, leg_m, owner, kind, radius_m=None) -> None:
        super().__init__(
            np.asarray(edge, dtype=np.int64),
            np.asarray(offset_m, dtype=float),
            np.asarray(leg_m, dtype=float),
        )
        self.owner = np.asarray(owner, dtype=np.int64)
        self.kind = np.asarray(kind, dtype=object)
        self.radius_m = None if radius_m is None else np.asarray(radius_m, dtype=float)

    def take(self, mask: np.ndarray) -> AccessPoints:
        """The points selected by a boolean mask or index array, with their owners.

        Parameters
        ----------
        mask
            Boolean mask or integer positions.

        Returns
        -------
        AccessPoints
            A new object.
        """
        return AccessPoints(
            self.edge[mask],
            self.offset_m[mask],
            self.leg_m[mask],
            self.owner[mask],
            self.kind[mask],
            radius_m=self.radius_m,
        )

    def extended(self, other: AccessPoints) -> AccessPoints:
        """These points and ``other``'s, ordered by owner (the radii are these).

        Parameters
        ----------
        other
            More points of the same owners.

        Returns
        -------
        AccessPoints
            A new object.
        """
        owner = np.concatenate([self.owner, other.owner])
        order = np.argsort(owner, kind="stable")
        return AccessPoints(
            np.concatenate([self.edge, other.edge])[order],
            np.concatenate([self.offset_m, other.offset_m])[order],
            np.concatenate([self.leg_m, other.leg_m])[order],
            owner[order],
            np.concatenate([self.kind, other.kind])[order],
            radius_m=self.radius_m,
        )


def _node_attachment(network: WalkNetwork, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Express network nodes as (edge, offset) on one of their edges."""
    edge_of = np.full(network.n_nodes, -1, dtype=np.int64)
    at_v = np.zeros(network.n_nodes, dtype=bool)
    edge_of[network.v] = np.arange(network.n_edges)
    at_v[network.v] = True
    edge_of[network.u] = np.arange(network.n_edges)  # prefer u: offset 0
    at_v[network.u] = False
    e = edge_of[nodes]
    return e, np.where(at_v[nodes], network.length_m[e], 0.0)


#: How a compound is entered, in the order a compound's kind is named by.
ACCESS_KINDS: tuple[tuple[str, str, str], ...] = (
    ("gate", "大门", "mapped gates or entrances within the tolerance of the boundary"),
    ("crossing", "路径穿越边界", "paths into it, and the streets along its boundary"),
    ("perimeter", "周边道路", "every street along the perimeter within the band"),
    ("nearest", "最近道路", "a point compound: the streets nearest it within the band"),
)
_KIND_ORDER = {k: i for i, (k, _, _) in enumerate(ACCESS_KINDS)}


def _ways_in_rows(
    network: WalkNetwork,
    geoms: np.ndarray,
    at: np.ndarray,
    radius_m: np.ndarray,
    kinds: np.ndarray,
    *,
    leg_factor: float,
    reach_m: float,
) -> pd.DataFrame:
    """Access rows of the compounds at positions ``at`` from the edges within their radius
    (``kinds``: each one's position in :data:`ACCESS_KINDS`)."""
    found = ways_in(network, geoms[at], radius_m, leg_factor=leg_factor, reach_m=reach_m)
    return pd.DataFrame(
        {
            "owner": at[found.owner],
            "edge": found.edge,
            "offset": found.offset_m,
            "leg": found.leg_m,
            "kind": kinds[found.owner],
        }
    )


def compound_access_points(
    network: WalkNetwork,
    compounds: gpd.GeoSeries,
    *,
    snap_limit_m: float,
    gate_tolerance_m: float = DEFAULTS.gate_tolerance_m,
    crossing_depth_m: float = DEFAULTS.crossing_depth_m,
    perimeter_band_m: float = DEFAULTS.perimeter_band_m,
    leg_factor: float = DEFAULTS.access_leg_factor,
) -> AccessPoints:
    """Find the access points of every compound.

    Parameters
    ----------
    network
        Walk network; gates are its nodes flagged in :attr:`WalkNetwork.gate`.
    compounds
        Compound geometries (polygons or points) in the network's CRS (metres).
    snap_limit_m
        A compound farther than this from the network gets no access point.
    gate_tolerance_m
        A gate node within this distance of a compound's boundary is its gate.
    crossing_depth_m
        A compound without gates that a walk edge of the main network reaches more than
        this many metres into is entered from the edges within this distance of it
        (paths crossing its boundary, streets drawn along it): its radius.
    perimeter_band_m
        Any other compound's radius is ``d_min + perimeter_band_m`` metres (``d_min``:
        its distance to the nearest edge of the main network piece).
    leg_factor
        A compound without gates is left from any point of an edge that comes within
        its radius, with a straight leg to it; metres of leg beyond the radius count
        this many times (no cut along the edge: stable under road-line noise).

    Returns
    -------
    AccessPoints
        One row per access point; ``owner`` is the compound's position in
        ``compounds``; ``kind`` is one of :data:`ACCESS_KINDS`.
    """
    geoms = np.asarray(compounds.values, dtype=object)
    n = len(geoms)
    is_poly = np.isin(shapely.get_type_id(geoms), [3, 6])
    boundaries = shapely.boundary(geoms)
    rows: list[pd.DataFrame] = []
    gate_rows, gate_at = _gate_rows(network, boundaries, is_poly, tolerance_m=gate_tolerance_m)
    has = np.zeros(n, dtype=bool)
    if gate_rows is not None:
        rows.append(gate_rows)
        has[gate_rows["owner"].to_numpy()] = True
    todo = np.flatnonzero(is_poly)
    deep = np.zeros(n, dtype=bool)
    if len(todo):
        deep[todo] = _entered_deeper(network, geoms[todo], depth_m=crossing_depth_m)
        crossings = _crossing_rows(network, boundaries, todo[has[todo]], gate_at)
        if len(crossings):
            rows.append(crossings)
    # without gates: a path of the main network into it, or its perimeter's streets
    rest = np.flatnonzero(~has)
    radius_of = np.full(n, np.nan)
    if len(rest):
        radius = perimeter_radius(
            network, geoms[rest], band_m=perimeter_band_m, snap_limit_m=snap_limit_m
        )
        radius[deep[rest]] = crossing_depth_m
        radius_of[rest] = radius
        kinds = np.where(
            deep[rest],
            _KIND_ORDER["crossing"],
            np.where(is_poly[rest], _KIND_ORDER["perimeter"], _KIND_ORDER["nearest"]),
        )
        rows.append(
            _ways_in_rows(
                network,
                geoms,
                rest,
                radius,
                kinds,
                leg_factor=leg_factor,
                reach_m=perimeter_band_m,
            )
        )
    if rows:
        allrows = pd.concat(rows, ignore_index=True)
        allrows = allrows.sort_values(["owner", "kind"], kind="stable")
    else:
        allrows = pd.DataFrame({"owner": [], "edge": [], "offset": [], "leg": [], "kind": []})
    return AccessPoints(
        allrows["edge"],
        allrows["offset"],
        allrows["leg"],
        allrows["owner"],
        np.array([k for k, _, _ in ACCESS_KINDS], dtype=object)[allrows["kind"].to_numpy(int)],
        radius_m=radius_of,
    )


def _gate_rows(
    network: WalkNetwork, boundaries: np.ndarray, is_poly: np.ndarray, *, tolerance_m: float
) -> tuple[pd.DataFrame | None, set[tuple[int, float, float]]]:
    """Gate nodes within ``tolerance_m`` of a polygon's boundary, and where they are.

    The places (owner, x, y rounded to 0.1 m) let a path through a gate not count again
    as a crossing there.
    """
    gates = np.flatnonzero(network.gate)
    if not len(gates) or not is_poly.any():
        return None, set()
    polygon_boundaries = np.where(is_poly, boundaries, np.array(None, dtype=object))
    tree = shapely.STRtree(polygon_boundaries)
    comp, gate_pos = tree.query(
        shapely.points(network.node_xy[gates]), predicate="dwithin", distance=tolerance_m
    )[::-1]
    if not len(comp):
        return None, set()
    e, off = _node_attachment(network, gates[gate_pos])
    frame = pd.DataFrame(
        {"owner": comp, "edge": e, "offset": off, "leg": 0.0, "kind": _KIND_ORDER["gate"]}
    )
    xy = np.round(network.node_xy[gates[gate_pos]], 1)
    return frame, {(int(o), float(x), float(y)) for o, (x, y) in zip(comp, xy, strict=True)}


def _entered_deeper(network: WalkNetwork, polygons: np.ndarray, *, depth_m: float) -> np.ndarray:
    """Whether an edge of the main network piece goes deeper than ``depth_m`` into each.

    A piece cut off inside a compound does not make it crossed; only polygons an edge
    of the main piece enters at all are shrunk.
    """
    deep = np.zeros(len(polygons), dtype=bool)
    into, edge_in = network.edge_tree.query(polygons, predicate="intersects")
    into = np.unique(into[network.component[network.u[edge_in]] == 0])
    if len(into):
        inner = shapely.buffer(polygons[into], -depth_m)
        deeper, edge_in = network.edge_tree.query(inner, predicate="intersects")
        deep[into[deeper[network.component[network.u[edge_in]] == 0]]] = True
    return deep


def _crossing_rows(
    network: WalkNetwork,
    boundaries: np.ndarray,
    gated: np.ndarray,
    gate_at: set[tuple[int, float, float]],
) -> pd.DataFrame:
    """For gated compounds: every point where an edge crosses or touches the boundary."""
    comp_idx, edge_idx = network.edge_tree.query(boundaries[gated], predicate="intersects")
    comp_idx = gated[comp_idx]
    inter = shapely.intersection(boundaries[comp_idx], network.edge_lines[edge_idx])
    pts, which = shapely.get_coordinates(inter, return_index=True)
    if len(pts) and gate_at:
        keep = np.array(
            [
                (int(o), float(x), float(y)) not in gate_at
                for o, (x, y) in zip(comp_idx[which], np.round(pts, 1), strict=True)
            ],
            dtype=bool,
        )
        pts, which = pts[keep], which[keep]
    e = edge_idx[which]
    off = shapely.line_locate_point(network.edge_lines[e], shapely.points(pts))
    frame = pd.DataFrame(
        {
            "owner": comp_idx[which],
            "edge": e,
            "offset": off,
            "leg": 0.0,
            "kind": _KIND_ORDER["crossing"],
        }
    )
    return frame.drop_duplicates(["owner", "edge", "offset"])
