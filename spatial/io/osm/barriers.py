"""Only the barriers of an OSM file (roads that cut a neighbourhood, railways, water).

``spatial bundles`` needs nothing else from the file; :func:`spatial.io.osm.read.read_osm`
reads every layer and the walk network, which on a whole city is most of the command's
time. Here libosmium keeps only the ways and relations with a barrier's tag
(:data:`~spatial.io.osm.rows.BARRIER_TAGS`: trunk roads, railways, rivers, water) before
Python sees them; the rows are made by the same
rules as :func:`read_osm`'s ``barriers`` layer (the tests compare the two).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import geopandas as gpd
import osmium

from spatial.io.osm.elements import (
    add_relation,
    add_relation_rows,
    element_tags,
    line_wkb,
    member_lines,
    osm_frame,
)
from spatial.io.osm.read import read_alone
from spatial.io.osm.rows import (
    BARRIER_TAGS,
    WayRef,
    barrier_kind,
    is_area,
    osm_name,
    resolve_geometries,
)

__all__ = ["read_osm_barriers"]


def read_osm_barriers(path: str | Path) -> gpd.GeoDataFrame:
    """The ``barriers`` layer of :func:`spatial.io.osm.read.read_osm`, read alone.

    Parameters
    ----------
    path
        Local ``.osm``/``.osm.pbf`` file.

    Returns
    -------
    GeoDataFrame
        ``id``, ``kind`` (road, rail, water), ``subtype``, ``name``, ``osm_id``; WGS84.
        From the whole reading when the file was already read in this process.

    Raises
    ------
    InputError
        When the file is missing or not readable OSM.
    """
    return read_alone(path, _parse, lambda layers: layers.barriers)


def _parse(src: str) -> gpd.GeoDataFrame:
    keys = osmium.filter.TagFilter(*BARRIER_TAGS)  # not every street: barriers only
    keys.enable_for(osmium.osm.WAY | osmium.osm.RELATION)
    reader = (
        osmium.FileProcessor(src, osmium.osm.NODE | osmium.osm.WAY | osmium.osm.RELATION)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY | osmium.osm.RELATION))
        .with_filter(keys)
    )
    rows: dict[str, list[dict]] = defaultdict(list)
    relations: dict[int, dict] = {}
    way_wkb: list[bytes] = []
    for obj in reader:
        if isinstance(obj, osmium.osm.Relation):
            if barrier_kind(element_tags(obj)) is not None:
                add_relation(relations, obj)
            continue
        if not isinstance(obj, osmium.osm.Way) or barrier_kind(tags := element_tags(obj)) is None:
            continue
        if (wkb := line_wkb(obj)) is None:
            continue
        way_wkb.append(wkb)
        index = len(way_wkb) - 1
        closed = len(obj.nodes) >= 4 and obj.nodes.ends_have_same_location() and is_area(tags)
        kind = barrier_kind(tags)
        assert kind is not None
        line = WayRef(index, area=False)
        area = WayRef(index, area=True) if closed else None
        geom = area if (kind[1] == "water_area" and area is not None) else line
        rows["barriers"].append(
            {
                "id": f"w{obj.id}",
                "kind": kind[0],
                "subtype": kind[1],
                "name": osm_name(tags),
                "osm_id": obj.id,
                "geometry": geom,
            }
        )
    resolve_geometries(rows["barriers"], way_wkb)
    if relations:
        add_relation_rows(rows, [], src, relations, member_lines(src, relations, {}))
    return osm_frame(rows["barriers"], ["id", "kind", "subtype", "name", "osm_id"])
