"""Stage 2, the walk network: graph arrays, builders, attachment and access points.

- :mod:`spatial.network.graph` the network as arrays (:class:`WalkNetwork`), the walk filter
- :mod:`spatial.network.build` builders from OSM, GraphML, line layers, osmnx
- :mod:`spatial.network.attach` exact attachment of points, compound access points
"""

from spatial.network.attach import AccessPoints, Attachment, attach_points, compound_access_points
from spatial.network.build import (
    load_network,
    walk_network_from_graph,
    walk_network_from_graphml,
    walk_network_from_lines,
    walk_network_from_osm,
    walk_network_from_place,
)
from spatial.network.graph import WALK_EXCLUDE, WalkNetwork, is_walkable

__all__ = [
    "WALK_EXCLUDE",
    "AccessPoints",
    "Attachment",
    "WalkNetwork",
    "attach_points",
    "compound_access_points",
    "is_walkable",
    "load_network",
    "walk_network_from_graph",
    "walk_network_from_graphml",
    "walk_network_from_lines",
    "walk_network_from_osm",
    "walk_network_from_place",
]
