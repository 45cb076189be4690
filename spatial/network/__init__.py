"""Stage 2, the walk network: graph arrays, builders, attachment and access points.

- :mod:`spatial.network.graph` the network as arrays (:class:`WalkNetwork`), the walk filter
- :mod:`spatial.network.build` builders from OSM, GraphML, osmnx; :func:`load_network`
- :mod:`spatial.network.lines` road line layers: snapping, crossings, pieces
- :mod:`spatial.io.roadclass` road classes (道路等级, fclass), bridges and tunnels
- :mod:`spatial.network.attach` exact attachment of points, compound access points
"""

from spatial.io.roadclass import RoadClasses, load_road_classes
from spatial.network.attach import AccessPoints, Attachment, attach_points, compound_access_points
from spatial.network.build import (
    check_network_file,
    load_network,
    walk_network_from_graph,
    walk_network_from_graphml,
    walk_network_from_osm,
    walk_network_from_place,
)
from spatial.network.graph import WALK_EXCLUDE, WalkNetwork, is_walkable
from spatial.network.lines import check_connected, read_line_layer, walk_network_from_lines

__all__ = [
    "WALK_EXCLUDE",
    "AccessPoints",
    "Attachment",
    "RoadClasses",
    "WalkNetwork",
    "attach_points",
    "check_connected",
    "check_network_file",
    "compound_access_points",
    "is_walkable",
    "load_network",
    "load_road_classes",
    "read_line_layer",
    "walk_network_from_graph",
    "walk_network_from_graphml",
    "walk_network_from_lines",
    "walk_network_from_osm",
    "walk_network_from_place",
]
