"""Points on the walk network: exact attachment to the nearest edge, and the access
points where walkers enter and leave a compound.

Access points, by definition: the gates and entrances
(:func:`~spatial.io.osm_tags.is_gate`) within the gate tolerance of its boundary that lie
on the walk network, **and** every point where a walk edge crosses or touches the
boundary (most openings of a compound wall are mapped as a path crossing it); with
neither, the nearest network point to the compound (with the straight leg from the
compound to it). Point compounds use the nearest network point.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.network.graph import WalkNetwork
from spatial.settings import DEFAULTS

__all__ = ["AccessPoints", "Attachment", "attach_points", "compound_access_points"]


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


def attach_points(network: WalkNetwork, points: np.ndarray, *, snap_limit_m: float) -> Attachment:
    """Attach points to the nearest point of the nearest edge, exactly.

    Parameters
    ----------
    network
        The walk network.
    points
        ``(k, 2)`` coordinates in the network's CRS (metres), or shapely points.
    snap_limit_m
        Points farther than this from every edge are left off (``edge == -1``).

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
    return Attachment(edge, offset, leg)


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
        ``"gate"``, ``"crossing"`` or ``"nearest"``: how the point was found.
    """

    def __init__(self, edge, offset_m, leg_m, owner, kind) -> None:
        super().__init__(
            np.asarray(edge, dtype=np.int64),
            np.asarray(offset_m, dtype=float),
            np.asarray(leg_m, dtype=float),
        )
        self.owner = np.asarray(owner, dtype=np.int64)
        self.kind = np.asarray(kind, dtype=object)


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


def compound_access_points(
    network: WalkNetwork,
    compounds: gpd.GeoSeries,
    *,
    snap_limit_m: float,
    gate_tolerance_m: float = DEFAULTS.gate_tolerance_m,
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

    Returns
    -------
    AccessPoints
        One row per access point; ``owner`` is the compound's position in
        ``compounds``; ``kind`` is ``gate``, ``crossing`` or ``nearest``.
    """
    geoms = np.asarray(compounds.values, dtype=object)
    n = len(geoms)
    is_poly = np.isin(shapely.get_type_id(geoms), [3, 6])
    boundaries = shapely.boundary(geoms)
    rows: list[pd.DataFrame] = []

    gates = np.flatnonzero(network.gate)
    if len(gates) and is_poly.any():
        tree = shapely.STRtree(np.where(is_poly, boundaries, None))
        comp, gate_pos = tree.query(
            shapely.points(network.node_xy[gates]), predicate="dwithin", distance=gate_tolerance_m
        )[::-1]
        if len(comp):
            e, off = _node_attachment(network, gates[gate_pos])
            rows.append(
                pd.DataFrame({"owner": comp, "edge": e, "offset": off, "leg": 0.0, "kind": "gate"})
            )
    has = np.zeros(n, dtype=bool)
    gate_at: set[tuple[int, float, float]] = set()  # a path through a gate also crosses there
    for r in rows:
        has[r["owner"].to_numpy()] = True
        xy = np.round(network.node_xy[gates[gate_pos]], 1)
        gate_at = {(int(o), float(x), float(y)) for o, (x, y) in zip(comp, xy, strict=True)}

    todo = np.flatnonzero(is_poly)  # every opening counts, gates or not
    if len(todo):
        comp_idx, edge_idx = network.edge_tree.query(boundaries[todo], predicate="intersects")
        comp_idx = todo[comp_idx]
        inter = shapely.intersection(boundaries[comp_idx], network.edge_lines[edge_idx])
        # Points where an edge crosses; the end points where an edge runs along the boundary.
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
        if len(pts):
            owner = comp_idx[which]
            e = edge_idx[which]
            off = shapely.line_locate_point(network.edge_lines[e], shapely.points(pts))
            frame = pd.DataFrame(
                {"owner": owner, "edge": e, "offset": off, "leg": 0.0, "kind": "crossing"}
            )
            rows.append(frame.drop_duplicates(["owner", "edge", "offset"]))
            has[owner] = True

    rest = np.flatnonzero(~has)
    if len(rest):
        near_comp, near_edge = network.edge_tree.query_nearest(
            geoms[rest], return_distance=False, all_matches=False
        )
        target = rest[near_comp]
        e = near_edge
        line = shapely.shortest_line(geoms[target], network.edge_lines[e])
        on_edge = shapely.get_point(line, 1)
        leg = shapely.length(line)
        off = shapely.line_locate_point(network.edge_lines[e], on_edge)
        keep = leg <= snap_limit_m
        rows.append(
            pd.DataFrame(
                {
                    "owner": target[keep],
                    "edge": e[keep],
                    "offset": off[keep],
                    "leg": leg[keep],
                    "kind": "nearest",
                }
            )
        )
    if rows:
        allrows = pd.concat(rows, ignore_index=True)
        order = allrows["kind"].map({"gate": 0, "crossing": 1, "nearest": 2})
        allrows = allrows.assign(_o=order).sort_values(["owner", "_o"], kind="stable")
    else:
        allrows = pd.DataFrame({"owner": [], "edge": [], "offset": [], "leg": [], "kind": []})
    return AccessPoints(
        allrows["edge"], allrows["offset"], allrows["leg"], allrows["owner"], allrows["kind"]
    )
