"""The walk network as arrays: nodes in metres, straight-segment edges, a CSR matrix.

Sources: a local OSM XML/PBF file (:func:`walk_network_from_osm`), a networkx/osmnx
graph or GraphML file (:func:`walk_network_from_graph`, :func:`walk_network_from_graphml`),
a line layer such as a road-centreline shapefile (:func:`walk_network_from_lines`), or
online through osmnx (:func:`walk_network_from_place`).

Definition (see ARCHITECTURE.md): ways with a ``highway`` tag a pedestrian may use —
the same rule as osmnx ``network_type="walk"`` (osmnx 2.1) — undirected (one-way
streets do not bind walkers), lengths in metres in the local UTM projection. The
filter is applied while reading, before anything else; the network is not
simplified, so every edge is a straight segment and points attach to it exactly.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy import sparse
from scipy.sparse import csgraph

from spatial.projection import assert_metric

__all__ = [
    "WALK_EXCLUDE",
    "Attachment",
    "WalkNetwork",
    "attach_points",
    "is_walkable",
    "walk_network_from_graph",
    "walk_network_from_graphml",
    "walk_network_from_lines",
    "walk_network_from_osm",
    "walk_network_from_place",
]

#: osmnx 2.1 ``network_type="walk"`` filter as (key, pattern): a way is excluded when
#: the key is present and the pattern is found in its value (Overpass ``!~`` semantics:
#: unanchored search, true when the key is absent). ``access`` is osmnx's default_access.
WALK_EXCLUDE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("area", re.compile("yes")),
    ("access", re.compile("private")),
    (
        "highway",
        re.compile(
            "abandoned|bus_guideway|construction|cycleway|motor|no|planned|"
            "platform|proposed|raceway|razed|rest_area|services"
        ),
    ),
    ("foot", re.compile("no")),
    ("service", re.compile("private")),
    ("sidewalk", re.compile("separate")),
    ("sidewalk:both", re.compile("separate")),
    ("sidewalk:left", re.compile("separate")),
    ("sidewalk:right", re.compile("separate")),
)
#: Lengths below this (metres) are raised to it: csgraph must not see zero weights.
_MIN_WEIGHT_M = 1e-9


def is_walkable(tags: Mapping[str, Any]) -> bool:
    """True if a way with these OSM tags belongs to the walk network (osmnx "walk" rule)."""
    if "highway" not in tags or tags["highway"] is None:
        return False
    for key, pattern in WALK_EXCLUDE:
        value = tags.get(key)
        present = value is not None and not (isinstance(value, float) and np.isnan(value))
        if present and pattern.search(str(value)):
            return False
    return True


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
    """

    node_xy: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    crs: CRS
    node_id: np.ndarray
    gate: np.ndarray
    highway: np.ndarray
    notes: list[str] = field(default_factory=list)

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
    def edge_tree(self) -> shapely.STRtree:
        """Spatial index over :attr:`edge_lines`."""
        return shapely.STRtree(self.edge_lines)

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """The edges as a GeoDataFrame (``u``, ``v``, ``length_m``, ``highway``)."""
        return gpd.GeoDataFrame(
            {"u": self.u, "v": self.v, "length_m": self.length_m, "highway": self.highway},
            geometry=self.edge_lines,
            crs=self.crs,
        )

    def to_networkx(self) -> nx.Graph:
        """The network as an undirected networkx graph (node attributes x, y; edge length)."""
        g = nx.Graph(crs=self.crs)
        for i, (x, y) in enumerate(self.node_xy):
            g.add_node(i, x=float(x), y=float(y))
        g.add_weighted_edges_from(
            zip(self.u.tolist(), self.v.tolist(), self.length_m.tolist(), strict=True),
            weight="length",
        )
        return g

    def pieces(self) -> pd.DataFrame:
        """Connected pieces: ``component``, ``nodes``, ``length_m`` (largest first)."""
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


def _build(
    node_ids: np.ndarray,
    lonlat_or_xy: np.ndarray,
    pairs: np.ndarray,
    highway: np.ndarray,
    gate_ids: set[int],
    *,
    source_crs: CRS,
    crs: CRS | None,
) -> WalkNetwork:
    """Make a WalkNetwork from node ids/coords and edge pairs of node ids."""
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


def walk_network_from_osm(path: str | Path, *, crs: Any = None) -> WalkNetwork:
    """Read the walk network from a local OSM XML or PBF file.

    Parameters
    ----------
    path
        ``.osm`` / ``.osm.pbf`` file; nothing is downloaded.
    crs
        Metric CRS for the network; default the UTM zone of the data.

    Returns
    -------
    WalkNetwork
        Only ways passing :func:`is_walkable`; building and landuse outlines,
        motorways and ``foot=no`` ways are never edges. Nodes tagged ``entrance=*``
        or ``barrier=gate`` are flagged in :attr:`WalkNetwork.gate`.
    """
    src = str(path)
    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: no such OSM file")
    gate_ids: set[int] = set()
    node_ids: dict[int, tuple[float, float]] = {}
    a: list[int] = []
    b: list[int] = []
    hw: list[str] = []
    missing = 0
    for obj in osmium.FileProcessor(src, osmium.osm.NODE | osmium.osm.WAY).with_locations():
        if isinstance(obj, osmium.osm.Node):
            if "entrance" in obj.tags or obj.tags.get("barrier") == "gate":
                gate_ids.add(obj.id)
            continue
        if not isinstance(obj, osmium.osm.Way) or "highway" not in obj.tags:
            continue
        tags = dict(obj.tags)
        if not is_walkable(tags):
            continue
        refs: list[int | None] = []
        for nd in obj.nodes:
            if not nd.location.valid():
                missing += 1
                refs.append(None)
                continue
            node_ids.setdefault(nd.ref, (nd.lon, nd.lat))
            refs.append(nd.ref)
        for r0, r1 in itertools.pairwise(refs):
            if r0 is not None and r1 is not None:
                a.append(r0)
                b.append(r1)
                hw.append(tags["highway"])
    if not a:
        raise ValueError(f"{path}: no walkable ways (highway=*) in the file")
    ids = np.fromiter(node_ids.keys(), dtype=np.int64, count=len(node_ids))
    coords = np.array(list(node_ids.values()), dtype=float)
    net = _build(
        ids,
        coords,
        np.column_stack([a, b]).astype(np.int64),
        np.array(hw, dtype=object),
        gate_ids,
        source_crs=CRS.from_epsg(4326),
        crs=crs,
    )
    if missing:
        net.notes.append(f"{missing} way node(s) outside the extract were skipped")
    return net


def walk_network_from_graph(graph: nx.Graph, *, crs: Any = None) -> WalkNetwork:
    """Convert a networkx/osmnx graph (e.g. from ``osmnx.graph_from_place``) to a WalkNetwork.

    The graph needs node ``x``/``y`` and a ``crs`` graph attribute. If its edges carry
    OSM tags (``highway`` …), every edge is filtered with :func:`is_walkable` — an edge
    without ``highway`` (a building outline from ``osmnx.graph_from_xml``) is dropped; a
    graph with no tags at all is taken as a walk network already. osmnx keeps only some
    way tags (not ``foot`` or ``sidewalk``), so a graph read from raw XML can keep a
    ``foot=no`` way that :func:`walk_network_from_osm` drops. Curved edge ``geometry``
    is split into straight segments; direction is ignored.
    """
    graph_crs = graph.graph.get("crs")
    if graph_crs is None:
        raise ValueError("the graph has no 'crs' attribute; set graph.graph['crs']")
    src_crs = CRS.from_user_input(graph_crs)
    nodes = list(graph.nodes)
    node_index = {n: i for i, n in enumerate(nodes)}
    coords = [(float(graph.nodes[n]["x"]), float(graph.nodes[n]["y"])) for n in nodes]
    ids = list(range(len(nodes)))
    gate_ids = {
        node_index[n]
        for n, d in graph.nodes(data=True)
        if d.get("entrance") is not None or d.get("barrier") == "gate"
    }
    pairs: list[tuple[int, int]] = []
    hws: list[str] = []
    tagged = any("highway" in d for _, _, d in graph.edges(data=True))
    for n0, n1, data in graph.edges(data=True):
        tags = {k: (v[0] if isinstance(v, list) else v) for k, v in data.items()}
        if tagged and not is_walkable(tags):
            continue
        geom = data.get("geometry")
        chain = [node_index[n0]]
        if geom is not None and len(geom.coords) > 2:
            for x, y in list(geom.coords)[1:-1]:
                ids.append(len(coords))
                chain.append(len(coords))
                coords.append((x, y))
        chain.append(node_index[n1])
        pairs += list(itertools.pairwise(chain))
        hws += [str(tags.get("highway", ""))] * (len(chain) - 1)
    net = _build(
        np.array(ids, dtype=np.int64),
        np.array(coords, dtype=float),
        np.array(pairs, dtype=np.int64).reshape(-1, 2),
        np.array(hws, dtype=object),
        gate_ids,
        source_crs=src_crs,
        crs=crs,
    )
    original = np.array([nodes[i] if i < len(nodes) else -1 for i in net.node_id], dtype=object)
    net.node_id = np.array(
        [o if isinstance(o, (int, np.integer)) else -1 for o in original], dtype=np.int64
    )
    return net


def walk_network_from_graphml(path: str | Path, *, crs: Any = None) -> WalkNetwork:
    """Read a GraphML file saved by osmnx (``osmnx.save_graphml``)."""
    import osmnx as ox

    return walk_network_from_graph(ox.load_graphml(path), crs=crs)


def walk_network_from_lines(
    lines: gpd.GeoDataFrame, *, crs: Any = None, snap_m: float = 0.01
) -> WalkNetwork:
    """Build a network from a line layer (e.g. a road-centreline shapefile).

    Line ends and vertices closer than ``snap_m`` metres become one node; lines
    only join where they share a vertex (as in OSM). A ``highway`` column, if
    present, is filtered with :func:`is_walkable`.
    """
    if lines.crs is None:
        raise ValueError("the line layer has no CRS")
    target = (
        CRS.from_user_input(crs)
        if crs is not None
        else (
            CRS.from_user_input(lines.crs)
            if CRS.from_user_input(lines.crs).is_projected
            else CRS.from_user_input(lines.estimate_utm_crs())
        )
    )
    data = lines.to_crs(target)
    if "highway" in data:
        data = data[
            [is_walkable(dict(row)) for row in data.drop(columns="geometry").to_dict("records")]
        ]
    parts = data.explode(index_parts=False)
    parts = parts[parts.geom_type == "LineString"]
    coords, offsets = shapely.get_coordinates(parts.geometry.values, return_index=True)
    keys = np.round(coords / snap_m).astype(np.int64)
    (
        _,
        node_of,
    ) = np.unique(keys, axis=0, return_inverse=True)[:2]
    node_of = node_of.ravel()
    same_line = offsets[1:] == offsets[:-1]
    pairs = np.column_stack([node_of[:-1][same_line], node_of[1:][same_line]])
    hw = (
        parts["highway"].astype(str).to_numpy()
        if "highway" in parts
        else np.full(len(parts), "", dtype=object)
    )[offsets[:-1][same_line]]
    n = int(node_of.max()) + 1 if len(node_of) else 0
    xy = np.zeros((n, 2))
    xy[node_of] = coords
    return _build(
        np.arange(n, dtype=np.int64),
        xy,
        pairs.astype(np.int64),
        np.asarray(hw, dtype=object),
        set(),
        source_crs=target,
        crs=target,
    )


def walk_network_from_place(query: str | Any, *, crs: Any = None) -> WalkNetwork:
    """Download the walk network of a place name or a WGS84 polygon with osmnx (Overpass).

    This needs the internet; everything after the download is the same code as
    :func:`walk_network_from_graph`.
    """
    import osmnx as ox

    if isinstance(query, str):
        graph = ox.graph_from_place(query, network_type="walk", simplify=False, retain_all=True)
    else:
        graph = ox.graph_from_polygon(query, network_type="walk", simplify=False, retain_all=True)
    return walk_network_from_graph(graph, crs=crs)


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
        """The attachments selected by a boolean mask or index array."""
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
    """
    pts = np.asarray(points)
    geoms = shapely.points(pts) if pts.ndim == 2 else pts
    k = len(geoms)
    edge = np.full(k, -1, dtype=np.int64)
    offset = np.full(k, np.nan)
    leg = np.full(k, np.nan)
    if k == 0 or network.n_edges == 0:
        return Attachment(edge, offset, leg)
    idx, dist = network.edge_tree.query_nearest(geoms, return_distance=True, all_matches=False)
    src, tgt = idx
    edge[src] = tgt
    leg[src] = dist
    offset[src] = shapely.line_locate_point(network.edge_lines[tgt], geoms[src])
    far = ~(leg <= snap_limit_m)
    edge[far] = -1
    return Attachment(edge, offset, leg)
