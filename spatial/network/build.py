"""Builders of the walk network from the sources planners have.

A local OSM XML/PBF file (:func:`walk_network_from_osm`, read once by
:func:`spatial.io.read_osm`), a networkx/osmnx graph or GraphML file
(:func:`walk_network_from_graph`, :func:`walk_network_from_graphml`), a line layer such as
a road-centreline shapefile (:func:`walk_network_from_lines`), or online through osmnx
(:func:`walk_network_from_place`); :func:`load_network` picks one from the arguments.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from pyproj import CRS

from spatial.io.osm import OSMLayers, is_osm_file, read_osm
from spatial.network.graph import WalkNetwork, _build, is_walkable

__all__ = [
    "load_network",
    "walk_network_from_graph",
    "walk_network_from_graphml",
    "walk_network_from_lines",
    "walk_network_from_osm",
    "walk_network_from_place",
]


def walk_network_from_osm(source: str | Path | OSMLayers, *, crs: Any = None) -> WalkNetwork:
    """Build the walk network of a local OSM XML or PBF file.

    Parameters
    ----------
    source
        ``.osm`` / ``.osm.pbf`` file (nothing is downloaded), or the
        :class:`~spatial.io.OSMLayers` the run already read from it.
    crs
        Metric CRS for the network; default the UTM zone of the data.

    Returns
    -------
    WalkNetwork
        Only ways passing :func:`is_walkable`; building and landuse outlines,
        motorways and ``foot=no`` ways are never edges. Nodes tagged ``entrance=*``
        or ``barrier=gate`` are flagged in :attr:`WalkNetwork.gate`.

    Raises
    ------
    ValueError
        When the file has no walkable way.
    """
    layers = source if isinstance(source, OSMLayers) else read_osm(source)
    walk = layers.walk
    if walk is None or len(walk.pairs) == 0:
        raise ValueError(f"{source}: no walkable ways (highway=*) in the file")
    net = _build(
        walk.node_ids,
        walk.lonlat,
        walk.pairs,
        walk.highway,
        set(walk.gate_ids.tolist()),
        source_crs=CRS.from_epsg(4326),
        crs=crs,
    )
    if walk.n_missing:
        net.notes.append(f"{walk.n_missing} way node(s) outside the extract were skipped")
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

    Parameters
    ----------
    graph
        networkx (Multi)(Di)Graph with node ``x``/``y`` and ``graph.graph["crs"]``.
    crs
        Metric CRS for the network; default the UTM zone of the data.

    Returns
    -------
    WalkNetwork
        Undirected, lengths in metres.
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
    """Read a GraphML file saved by osmnx (``osmnx.save_graphml``).

    Parameters
    ----------
    path
        The ``.graphml`` file.
    crs
        Metric CRS for the network; default the UTM zone of the data.

    Returns
    -------
    WalkNetwork
        As :func:`walk_network_from_graph`.
    """
    import osmnx as ox

    return walk_network_from_graph(ox.load_graphml(path), crs=crs)


def walk_network_from_lines(
    lines: gpd.GeoDataFrame, *, crs: Any = None, snap_m: float = 0.01
) -> WalkNetwork:
    """Build a network from a line layer (e.g. a road-centreline shapefile).

    Line ends and vertices closer than ``snap_m`` metres become one node; lines
    only join where they share a vertex (as in OSM). A ``highway`` column, if
    present, is filtered with :func:`is_walkable`.

    Parameters
    ----------
    lines
        LineStrings with a CRS.
    crs
        Metric CRS for the network; default the layer's own if projected, else its
        UTM zone.
    snap_m
        Vertices closer than this many metres are merged.

    Returns
    -------
    WalkNetwork
        Undirected, lengths in metres.
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

    Parameters
    ----------
    query
        A place name for the Nominatim geocoder, or a shapely polygon in WGS84.
    crs
        Metric CRS for the network; default the UTM zone of the data.

    Returns
    -------
    WalkNetwork
        Undirected, lengths in metres.
    """
    import osmnx as ox

    if isinstance(query, str):
        graph = ox.graph_from_place(query, network_type="walk", simplify=False, retain_all=True)
    else:
        graph = ox.graph_from_polygon(query, network_type="walk", simplify=False, retain_all=True)
    return walk_network_from_graph(graph, crs=crs)


def load_network(
    *,
    network: str | Path | None = None,
    osm: str | Path | None = None,
    place: str | None = None,
    crs: Any = None,
) -> WalkNetwork:
    """Build the walk network from a file (GraphML, OSM, or a line layer), OSM or a place name.

    Parameters
    ----------
    network
        A GraphML file (osmnx), an OSM file, or a road-centreline line layer.
    osm
        A local OSM XML/PBF file.
    place
        A place name to download through osmnx (needs the internet).
    crs
        Metric CRS of the network; default the UTM zone of the data.

    Returns
    -------
    WalkNetwork
        The network; exactly one of ``network``, ``osm`` and ``place`` must be given.
    """
    given = [x for x in (network, osm, place) if x is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of network=, osm= or place=")
    if place is not None:
        return walk_network_from_place(place, crs=crs)
    path = Path(network or osm)  # type: ignore[arg-type]
    if path.suffix.lower() == ".graphml":
        return walk_network_from_graphml(path, crs=crs)
    if is_osm_file(path):
        return walk_network_from_osm(path, crs=crs)
    return walk_network_from_lines(gpd.read_file(path, engine="pyogrio"), crs=crs)
