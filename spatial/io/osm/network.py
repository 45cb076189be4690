"""Only the walkable ways and gates of an OSM file, for a run that takes nothing else.

``spatial gaps --network city.osm.pbf`` with compounds and POIs from other files needs
the streets alone; :func:`spatial.io.osm.read.read_osm` reads every layer, which on a whole
city is most of the network's time. Here libosmium hands Python only the ways with a
``highway`` key and the nodes with ``entrance``/``barrier``; the ways go through the same
walk rule and collector as in :func:`read_osm` (the tests compare the two).
"""

from __future__ import annotations

from pathlib import Path

import osmium

from spatial.io.osm.elements import element_tags, line_wkb
from spatial.io.osm.read import OSMLayers, read_alone
from spatial.io.osm.tags import is_gate, is_walkable
from spatial.io.osm.walk import WalkCollector, WalkWays

__all__ = ["read_osm_walk"]


def read_osm_walk(path: str | Path) -> WalkWays:
    """The walkable ways of an OSM file (:attr:`spatial.io.OSMLayers.walk`), read alone.

    Parameters
    ----------
    path
        Local ``.osm``/``.osm.pbf`` file.

    Returns
    -------
    WalkWays
        As :func:`spatial.io.osm.read.read_osm` collects them; from that reading when the file
        was already read whole in this process.

    Raises
    ------
    InputError
        When the file is missing or not readable OSM.
    """
    return read_alone(path, _parse, _whole)


def _whole(layers: OSMLayers) -> WalkWays:
    assert layers.walk is not None
    return layers.walk


def _parse(src: str) -> WalkWays:
    reader = (
        osmium.FileProcessor(src, osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway", "entrance", "barrier"))
    )
    walk = WalkCollector()
    gate_ids: list[int] = []
    for obj in reader:
        if isinstance(obj, osmium.osm.Node):
            if obj.location.valid() and is_gate(element_tags(obj)):
                gate_ids.append(obj.id)
            continue
        if not isinstance(obj, osmium.osm.Way):
            continue
        tags = element_tags(obj)
        highway = tags.get("highway")
        if highway is not None and is_walkable(tags):
            walk.add(obj, highway, line_wkb(obj))
    return walk.result(gate_ids)
