"""Builders of the walk network from the sources planners have.

A local OSM XML/PBF file (:func:`walk_network_from_osm`, read once by
:func:`spatial.io.read_osm`), a networkx/osmnx graph or GraphML file
(:func:`walk_network_from_graph`, :func:`walk_network_from_graphml`), a line layer such as
a road-centreline shapefile (:func:`walk_network_from_lines`), or online through osmnx
(:func:`walk_network_from_place`); :func:`load_network` picks one from the arguments.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from pyproj import CRS

from spatial._errors import InputError, Problem
from spatial.io.osm.network import read_osm_walk
from spatial.io.osm.read import OSMLayers, is_osm_file
from spatial.io.osm.walk import WalkWays
from spatial.network.graph import WalkNetwork, build_graph, is_walkable
from spatial.network.lines import check_connected, read_line_layer, walk_network_from_lines
from spatial.settings import DEFAULTS

if TYPE_CHECKING:  # networkx only when a graph is asked for (0.2 s to import)
    import networkx as nx

__all__ = [
    "check_network_file",
    "load_network",
    "walk_network_from_graph",
    "walk_network_from_graphml",
    "walk_network_from_lines",
    "walk_network_from_osm",
    "walk_network_from_place",
]


def walk_network_from_osm(
    source: str | Path | OSMLayers, *, crs: Any = None, ways: WalkWays | None = None
) -> WalkNetwork:
    """Build the walk network of a local OSM XML or PBF file.

    Parameters
    ----------
    source
        ``.osm`` / ``.osm.pbf`` file (nothing is downloaded), or the
        :class:`~spatial.io.OSMLayers` the run already read from it.
    crs
        Metric CRS for the network; default the UTM zone of the data.
    ways
        The file's walkable ways when already read (e.g. by a second process, see
        :mod:`spatial.pipeline.side`); None reads them.

    Returns
    -------
    WalkNetwork
        Only ways passing :func:`is_walkable`; building and landuse outlines,
        motorways and ``foot=no`` ways are never edges. Nodes tagged ``entrance=*``
        or ``barrier=gate`` are flagged in :attr:`WalkNetwork.gate`.

    Raises
    ------
    InputError
        When the file has no walkable way.
    """
    if ways is not None:
        walk: WalkWays | None = ways
    else:
        walk = source.walk if isinstance(source, OSMLayers) else read_osm_walk(source)
    if walk is None or len(walk.pairs) == 0:
        name = "OSM extract" if isinstance(source, OSMLayers) else str(source)
        raise InputError(
            [
                Problem.error(
                    name,
                    "no walkable ways (highway=*) in the file",
                    hint="use an extract that holds the streets, or give --network",
                )
            ]
        )
    net = build_graph(
        walk.node_ids,
        walk.lonlat,
        walk.pairs,
        walk.highway,
        set(walk.gate_ids.tolist()),
        source_crs=CRS.from_epsg(4326),
        crs=crs,
    )
    if walk.n_missing:
        net.problems.append(
            Problem.warning(
                str(source) if not isinstance(source, OSMLayers) else "OSM extract",
                f"{walk.n_missing} way node(s) outside the extract were skipped; "
                "street segments with both ends inside are kept",
            )
        )
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
    net = build_graph(
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
    return walk_network_from_graph(_read_graphml(Path(path)), crs=crs)


def _read_graphml(path: Path) -> nx.MultiDiGraph:
    """Read an osmnx GraphML file with networkx: its values are text, typed back here."""
    import networkx as nx

    raw = nx.read_graphml(path, force_multigraph=True)
    graph = nx.MultiDiGraph(**raw.graph) if raw.is_directed() else nx.MultiGraph(**raw.graph)
    names = {n: _typed(n) for n in raw.nodes}
    for n, data in raw.nodes(data=True):
        graph.add_node(names[n], **{k: _typed(v) for k, v in data.items()})
    for n0, n1, data in raw.edges(data=True):
        values = {k: _typed(v) for k, v in data.items()}
        if isinstance(data.get("geometry"), str):  # osmnx writes WKT
            values["geometry"] = shapely.from_wkt(data["geometry"])
        graph.add_edge(names[n0], names[n1], **values)
    return graph


def _typed(value: Any) -> Any:
    """A GraphML text value as osmnx wrote it: a number, a list ``[...]`` or the text."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return value
    if text.lower() in {"nan", "inf", "-inf", "infinity"}:
        return value
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return value


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
    layer: str | None = None,
    line_snap_m: float = DEFAULTS.line_snap_m,
    ways: WalkWays | None = None,
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
    layer
        The layer of a multi-layer line file (GeoPackage, FileGDB).
    line_snap_m
        Line layers only: line ends and vertices this close (metres) join
        (:func:`~spatial.network.walk_network_from_lines`).
    ways
        OSM files only: their walkable ways, already read (by
        :func:`spatial.io.read_osm_walk`, e.g. in a second process); None reads them.

    Returns
    -------
    WalkNetwork
        The network; exactly one of ``network``, ``osm`` and ``place`` must be given.

    Raises
    ------
    InputError
        When a line layer cannot be read as lines, or its network falls apart (largest
        piece under half of the nodes).
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
        return walk_network_from_osm(path, crs=crs, ways=ways)
    lines = read_line_layer(path, layer=layer)
    net = walk_network_from_lines(lines, crs=crs, line_snap_m=line_snap_m, source=str(path))
    check_connected(net, source=str(path), line_snap_m=line_snap_m)
    return net


def check_network_file(
    path: str | Path, *, layer: str | None = None, line_snap_m: float = DEFAULTS.line_snap_m
) -> tuple[str, list[Problem]]:
    """Build the walk network of a file and say what it is, for ``spatial validate``.

    Parameters
    ----------
    path
        An OSM file, GraphML file or road line layer.
    layer
        The road layer of a multi-layer file.
    line_snap_m
        Line layers: vertices and line ends this close (metres) join.

    Returns
    -------
    summary, problems
        ``"N nodes, M edges, K piece(s); largest L nodes"`` and what building it
        repaired, left out or found wrong (a fragmented line layer is an error).
    """
    try:
        net = load_network(network=path, layer=layer, line_snap_m=line_snap_m)
    except InputError as exc:
        return "not usable", list(exc.problems)
    except ValueError as exc:
        return "not usable", [Problem.error(str(path), str(exc))]
    pieces = net.pieces()
    largest = int(pieces["nodes"].iloc[0]) if len(pieces) else 0
    summary = (
        f"{net.n_nodes:,} nodes, {net.n_edges:,} edges, {len(pieces)} piece(s); "
        f"largest {largest:,} nodes"
    )
    return summary, list(net.problems)
