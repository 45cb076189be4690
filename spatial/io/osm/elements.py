"""The elements of an OSM file as rows: tags, lines built by libosmium, multipolygons
of member ways, the rows of nodes, and the frame of a layer (shared by the readers of
:mod:`spatial.io.osm`)."""

from __future__ import annotations

import itertools

import geopandas as gpd
import osmium
import pandas as pd
import shapely
from shapely.geometry import LineString, Point

from spatial._errors import Problem
from spatial.io.osm.rows import (
    add_way_rows,
    osm_name,
    poi_kind,
    poi_row,
    relation_wanted,
)
from spatial.io.osm.tags import is_gate

__all__ = [
    "WGS84",
    "add_node_rows",
    "add_relation",
    "add_relation_rows",
    "element_tags",
    "header_bounds",
    "inside_ring",
    "line_wkb",
    "member_lines",
    "osm_frame",
]


#: The CRS of every layer read from OSM.
WGS84 = "EPSG:4326"


def _assemble(wkbs: list[bytes]) -> shapely.Geometry | None:
    """Polygons the lines of ``wkbs`` close, united (None: they close none)."""
    lines = [g for g in shapely.from_wkb(wkbs) if g is not None] if wkbs else []
    if not lines:
        return None
    polys = list(
        shapely.get_parts(shapely.polygonize([shapely.line_merge(shapely.union_all(lines))]))
    )
    if not polys:
        return None
    return shapely.make_valid(shapely.union_all(polys))


def element_tags(obj: osmium.osm.OSMObject) -> dict[str, str]:
    # As many items as there are tags: the iterator's StopIteration costs as much as a tag.
    """An OSM element's tags as a dict.

    Parameters
    ----------
    obj
        A node, way or relation read by osmium.

    Returns
    -------
    dict
    """
    return dict(itertools.islice(obj.tags, len(obj.tags)))


_WKB = osmium.geom.WKBFactory()


def inside_ring(way: osmium.osm.Way) -> bytes | None:
    """A closed way cut by the extract, as a ring through its nodes inside the file.

    Parameters
    ----------
    way
        A closed way with node locations.

    Returns
    -------
    bytes or None
        The ring as WKB; None when the way is not closed or too little of it is inside.
    """
    if way.nodes[0].ref != way.nodes[len(way.nodes) - 1].ref:
        return None
    xy = [(nd.lon, nd.lat) for nd in way.nodes if nd.location.valid()]
    if len(xy) < 3:
        return None
    return shapely.to_wkb(LineString([*xy, xy[0]]))


def line_wkb(way: osmium.osm.Way) -> bytes | None:
    """The way's line with every node as WKB, built by libosmium.

    Parameters
    ----------
    way
        A way with node locations.

    Returns
    -------
    bytes or None
        None when it cannot be built (a node outside the extract).
    """
    try:
        return bytes.fromhex(_WKB.create_linestring(way, use_nodes=osmium.geom.ALL))
    except Exception:  # osmium.InvalidLocationError (node outside the file), < 2 nodes
        return None


def add_relation(relations: dict[int, dict], rel: osmium.osm.Relation) -> None:
    """Keep a multipolygon that may give rows, with its member ways.

    Parameters
    ----------
    relations
        Kept relations by id (changed in place).
    rel
        The relation read by osmium.
    """
    tags = element_tags(rel)
    if relation_wanted(tags):
        members = [(m.ref, m.role or "outer") for m in rel.members if m.type == "w"]
        relations[rel.id] = {"tags": tags, "members": members}


def member_lines(
    src: str, relations: dict[int, dict], untagged_wkb: dict[int, bytes]
) -> dict[int, bytes]:
    """Lines of the kept multipolygons' member ways.

    Parameters
    ----------
    src
        The file, read again for the members.
    relations
        The kept relations (:func:`add_relation`).
    untagged_wkb
        Lines of member ways already read.

    Returns
    -------
    dict
        Way id → line as WKB.
    """
    wanted = {ref for r in relations.values() for ref, _ in r["members"]}
    lines = {ref: untagged_wkb[ref] for ref in wanted if ref in untagged_wkb}
    todo = wanted - lines.keys()
    if todo:
        ids = osmium.filter.IdFilter(todo)
        ids.enable_for(osmium.osm.WAY)
        reader = (
            osmium.FileProcessor(src, osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(ids)
        )
        for way in reader:
            if isinstance(way, osmium.osm.Way) and (wkb := line_wkb(way)) is not None:
                lines[way.id] = wkb
    return lines


def add_node_rows(
    rows: dict[str, list[dict]],
    notes: list[Problem],
    gate_ids: list[int],
    src: str,
    osm_id: int,
    tags: dict[str, str],
    lon: float,
    lat: float,
) -> None:
    """Add the rows a node gives (a POI, a gate), and note a residential node (no area).

    Parameters
    ----------
    rows
        Rows per layer (changed in place).
    notes
        Problems found (appended to).
    gate_ids
        Ids of gate and entrance nodes (appended to).
    src
        The file, for messages.
    osm_id
        The node's id.
    tags
        Its tags.
    lon, lat
        Its location, WGS84 degrees.
    """
    gate = is_gate(tags)
    if gate:
        gate_ids.append(osm_id)
    poi = poi_kind(tags)
    if not (poi or gate or tags.get("landuse") == "residential"):
        return
    geom = Point(lon, lat)
    if poi:
        rows["pois"].append(poi_row("n", osm_id, tags, geom))
    if gate:
        rows["entrances"].append(
            {
                "id": f"n{osm_id}",
                "osm_id": osm_id,
                "entrance": tags.get("entrance"),
                "barrier": tags.get("barrier"),
                "access": tags.get("access"),
                "geometry": geom,
            }
        )
    if tags.get("landuse") == "residential":
        notes.append(
            Problem.warning(
                src,
                f"landuse=residential on a node ('{osm_name(tags)}') is not an area and was "
                "left out",
                row=f"node {osm_id}",
                column="landuse",
                hint="draw the compound as a closed way in OSM",
            )
        )


def add_relation_rows(
    rows: dict[str, list[dict]],
    notes: list[Problem],
    src: str,
    relations: dict[int, dict],
    member_wkb: dict[int, bytes],
) -> None:
    """Add the rows of the kept multipolygons, from their member lines.

    Parameters
    ----------
    rows
        Rows per layer (changed in place).
    notes
        Problems found (appended to).
    src
        The file, for messages.
    relations
        The kept relations (:func:`add_relation`).
    member_wkb
        Member way id → its line as WKB.
    """
    for rid, entry in relations.items():
        present = [(member_wkb[r], role) for r, role in entry["members"] if r in member_wkb]
        outer = [wkb for wkb, role in present if role == "outer"]
        inner = [wkb for wkb, role in present if role == "inner"]
        missing = [ref for ref, _ in entry["members"] if ref not in member_wkb]
        geom = _assemble(outer)
        tags = entry["tags"]
        if geom is not None and inner:
            holes = _assemble(inner)
            geom = geom.difference(holes) if holes is not None else geom
        if missing:
            what = "kept what is present" if geom is not None else "left out"
            notes.append(
                Problem.warning(
                    src,
                    f"multipolygon '{osm_name(tags) or rid}' has {len(missing)} of "
                    f"{len(entry['members'])} member ways outside the extract: {what}",
                    row=f"relation {rid}",
                    hint="use a larger extract for the full outline",
                )
            )
        if geom is None or geom.is_empty:
            continue
        add_way_rows(rows, rid, tags, line=None, area=geom, prefix="r", partial=bool(missing))


def osm_frame(rows: list[dict], columns: list[str]) -> gpd.GeoDataFrame:
    """Rows of one layer as a WGS84 GeoDataFrame with the given columns.

    Parameters
    ----------
    rows
        The rows (``geometry`` a shapely object).
    columns
        The layer's columns, in order.

    Returns
    -------
    GeoDataFrame
    """
    if not rows:
        return gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in columns},
            geometry=gpd.GeoSeries([], crs=WGS84),
            crs=WGS84,
        )
    return gpd.GeoDataFrame(rows, columns=[*columns, "geometry"], geometry="geometry", crs=WGS84)


def header_bounds(src: str) -> tuple[float, float, float, float] | None:
    """The bounding box the file's header declares.

    Parameters
    ----------
    src
        The OSM file.

    Returns
    -------
    tuple of float or None
        ``(min lon, min lat, max lon, max lat)``; None when the header has none.
    """
    reader = osmium.io.Reader(src, osmium.osm.osm_entity_bits.NOTHING)
    try:
        box = reader.header().box()
    finally:
        reader.close()
    if not box.valid():
        return None
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)
