"""The walk network as arrays: nodes in metres, straight-segment edges, a CSR matrix.

Definition (docs/architecture.md, "The gap engine, defined"): ways with a ``highway``
tag a pedestrian may use —
the same rule as osmnx ``network_type="walk"`` (osmnx 2.1) — undirected (one-way
streets do not bind walkers), lengths in metres in the local UTM projection. The
filter is applied while reading, before anything else; the network is not
simplified, so every edge is a straight segment and points attach to it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from spatial._errors import Problem
from spatial.io.crs.projection import assert_metric
from spatial.io.osm.tags import WALK_EXCLUDE, is_walkable

if TYPE_CHECKING:  # networkx only when a graph is asked for (0.2 s to import)
    import networkx as nx

__all__ = ["WALK_EXCLUDE", "WalkNetwork", "build_graph", "is_walkable"]

#: Lengths below this (metres) are raised to it: csgraph must not see zero weights.
_MIN_WEIGHT_M = 1e-9


@dataclass
class WalkNetwork:
    """An undirected walk network with straight-segment edges, in a metric CRS.

    Attributes
    ----------
    node_xy
        ``(n, 2)`` node coordinates in metres.
    u, v
        ``(m,)`` edge end node indices (``u != v``; each pair once).
    length_m
        ``(m,)`` edge lengths in metres (planar, in ``crs``).
    crs
        The projected CRS of the coordinates.
    node_id
        ``(n,)`` source ids (OSM node ids, or ``-1`` for nodes made when splitting
        curved edges).
    gate
        ``(n,)`` True for nodes tagged ``entrance=*`` or ``barrier=gate``.
    highway
        ``(m,)`` the ``highway`` tag of each edge's way (or ``""``).
    problems
        What building the network repaired or left out (warnings for ``problems.csv``).
    """

    node_xy: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    crs: CRS
    node_id: np.ndarray
    gate: np.ndarray
    highway: np.ndarray
    problems: list[Problem] = field(default_factory=list)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.u)

    @cached_property
    def csr(self) -> sparse.csr_array:
        """Symmetric ``(n, n)`` CSR matrix of edge lengths in metres."""
        n = self.n_nodes
        w = np.maximum(self.length_m, _MIN_WEIGHT_M)
        rows = np.concatenate([self.u, self.v])
        cols = np.concatenate([self.v, self.u])
        return sparse.csr_array((np.concatenate([w, w]), (rows, cols)), shape=(n, n))

    @cached_property
    def component(self) -> np.ndarray:
        """``(n,)`` connected-component label of every node; 0 is the largest piece."""
        _, labels = csgraph.connected_components(self.csr, directed=False)
        sizes = np.bincount(labels)
        rank = np.empty_like(sizes)
        rank[np.argsort(-sizes, kind="stable")] = np.arange(len(sizes))
        return rank[labels]

    @cached_property
    def edge_lines(self) -> np.ndarray:
        """``(m,)`` shapely LineStrings of the edges (metres)."""
        coords = np.stack([self.node_xy[self.u], self.node_xy[self.v]], axis=1)
        return shapely.linestrings(coords)

    @cached_property
    def node_tree(self) -> cKDTree:
        """k-d tree over :attr:`node_xy` (metres); every node ends an edge."""
        return cKDTree(self.node_xy)

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """Spatial index over :attr:`edge_lines`."""
        return shapely.STRtree(self.edge_lines)

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """The edges as a GeoDataFrame.

        Returns
        -------
        GeoDataFrame
            ``u``, ``v``, ``length_m``, ``highway`` and straight LineStrings, network CRS.
        """
        return gpd.GeoDataFrame(
            {"u": self.u, "v": self.v, "length_m": self.length_m, "highway": self.highway},
            geometry=self.edge_lines,
            crs=self.crs,
        )

    def to_networkx(self) -> nx.Graph:
        """The network as an undirected networkx graph.

        Returns
        -------
        networkx.Graph
            Node attributes ``x``, ``y`` (network CRS); edge attribute ``length`` (metres).
        """
        import networkx as nx

        g = nx.Graph(crs=self.crs)
        for i, (x, y) in enumerate(self.node_xy):
            g.add_node(i, x=float(x), y=float(y))
        g.add_weighted_edges_from(
            zip(self.u.tolist(), self.v.tolist(), self.length_m.tolist(), strict=True),
            weight="length",
        )
        return g

    def pieces(self) -> pd.DataFrame:
        """Connected pieces of the network, largest first.

        Returns
        -------
        DataFrame
            ``component``, ``nodes`` and ``length_m`` (metres of edges) per piece.
        """
        comp = self.component
        edge_comp = comp[self.u]
        return pd.DataFrame(
            {
                "component": np.arange(comp.max() + 1 if len(comp) else 0),
                "nodes": np.bincount(comp),
                "length_m": np.bincount(
                    edge_comp, weights=self.length_m, minlength=comp.max() + 1 if len(comp) else 0
                ),
            }
        )


def build_graph(
    node_ids: np.ndarray,
    lonlat_or_xy: np.ndarray,
    pairs: np.ndarray,
    highway: np.ndarray,
    gate_ids: set[int],
    *,
    source_crs: CRS,
    crs: CRS | None,
) -> WalkNetwork:
    """Make a WalkNetwork from node ids and coordinates and edge pairs of node ids.

    Parameters
    ----------
    node_ids
        Node ids.
    lonlat_or_xy
        Their coordinates, in ``source_crs``.
    pairs
        Edges as pairs of node ids.
    highway
        Each edge's class.
    gate_ids
        Ids of gate and entrance nodes.
    source_crs
        The coordinates' CRS.
    crs
        The metric CRS of the network (None: the local UTM zone).

    Returns
    -------
    WalkNetwork
    """
    if crs is None:
        if source_crs.is_projected:
            crs = source_crs
        else:
            lon, lat = np.nanmean(lonlat_or_xy[:, 0]), np.nanmean(lonlat_or_xy[:, 1])
            zone = int((lon + 180) // 6) + 1
            crs = CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)
    xy = lonlat_or_xy
    if CRS.from_user_input(source_crs) != CRS.from_user_input(crs):
        tr = Transformer.from_crs(source_crs, crs, always_xy=True)
        xy = np.column_stack(tr.transform(lonlat_or_xy[:, 0], lonlat_or_xy[:, 1]))
    order = np.argsort(node_ids, kind="stable")
    sorted_ids = node_ids[order]
    u = order[np.searchsorted(sorted_ids, pairs[:, 0])]
    v = order[np.searchsorted(sorted_ids, pairs[:, 1])]
    keep = u != v
    u, v, highway = u[keep], v[keep], highway[keep]
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    length = np.hypot(*(xy[hi] - xy[lo]).T)
    # One edge per node pair (two ways can share a segment): keep the shortest.
    frame = pd.DataFrame({"lo": lo, "hi": hi, "len": length, "hw": highway})
    frame = frame.sort_values(["lo", "hi", "len"], kind="stable").drop_duplicates(["lo", "hi"])
    used = np.unique(np.concatenate([frame["lo"].to_numpy(), frame["hi"].to_numpy()]))
    remap = np.full(len(node_ids), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    net = WalkNetwork(
        node_xy=xy[used],
        u=remap[frame["lo"].to_numpy()],
        v=remap[frame["hi"].to_numpy()],
        length_m=frame["len"].to_numpy(dtype=float),
        crs=CRS.from_user_input(crs),
        node_id=node_ids[used],
        gate=np.isin(node_ids[used], np.fromiter(gate_ids, np.int64)),
        highway=frame["hw"].to_numpy(dtype=object),
    )
    assert_metric(gpd.GeoDataFrame(geometry=[], crs=net.crs), what="walk network")
    return net
