"""Read compounds, POIs, entrances, barriers and parcels from a local OSM XML or PBF file.

Uses pyosmium, which reads ``.osm``, ``.osm.bz2``/``.osm.gz`` and ``.osm.pbf`` alike.
Multipolygon relations are assembled from the member ways present in the file:
an extract cut at a bounding box often lacks some members, so closed rings that are
present still make a polygon, and the missing members are reported.

The file is read once per run: the same pass also collects the walkable ways and the
gate nodes (:class:`WalkWays`) from which :mod:`spatial.network` builds the walk network,
and a read file is kept (by path, size and modification time) for the other stages of
the run, so that compounds, POIs, barriers and the network never parse it twice.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import osmium
import pandas as pd
import shapely
from shapely.geometry import LineString, Point

from spatial._errors import InputError, Problem
from spatial.io.osm_rows import (
    _POI_COLUMNS,
    POI_KEYS,
    _add_way_rows,
    _cut_kind,
    _gives_rows,
    _is_area,
    _name,
    _poi_kind,
    _poi_row,
    _relation_wanted,
    _resolve_geometries,
    _WayRef,
)
from spatial.io.osm_tags import is_gate, is_walkable
from spatial.io.osm_walk import WalkWays, _WalkCollector

T = TypeVar("T")

__all__ = ["OSM_SUFFIXES", "POI_KEYS", "OSMLayers", "WalkWays", "is_osm_file", "read_osm"]

OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".osm.gz", ".xml")
WGS84 = "EPSG:4326"


def is_osm_file(path: str | Path) -> bool:
    """Whether ``path`` names an OpenStreetMap file.

    Parameters
    ----------
    path
        Any file.

    Returns
    -------
    bool
        True for ``.osm``, ``.pbf``, ``.osm.bz2`` or ``.osm.gz`` endings, or a ``.xml``
        file that starts with ``<osm``.
    """
    name = str(path).lower()
    if name.endswith((".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".osm.gz")):
        return True
    if name.endswith(".xml") and Path(path).exists():
        with open(path, "rb") as fh:
            return b"<osm" in fh.read(512)
    return False


@dataclass
class OSMLayers:
    """Objects read from an OSM file, all in WGS84 (EPSG:4326).

    Attributes
    ----------
    compounds
        ``landuse=residential`` areas (closed ways and multipolygons): ``id``
        (``w123``/``r123``), ``name`` (a placeholder ``未命名小区 w123`` where OSM has
        none), ``name_source`` (``osm`` or ``placeholder``), ``osm_type``, ``osm_id``,
        ``residential``, ``partial`` (multipolygon with members outside the file).
    pois
        Nodes and areas with amenity/shop/leisure/healthcare/social_facility/…,
        bus stops and stations, as points (an area's representative point) with
        their tags as columns and ``tags`` as JSON.
    entrances
        Gates and entrances (:func:`~spatial.io.osm_tags.is_gate`): compound access points.
    barriers
        Lines and areas that cut walking across them when bundling: major roads,
        railways (not in tunnels), rivers, canals and water areas; ``kind`` is
        ``road``/``rail``/``water``.
    parcels
        ``landuse=industrial`` (kind ``old_factory``) and ``brownfield``
        (``low_efficiency``) areas: candidates a planner must confirm.
    bounds
        ``(minlon, minlat, maxlon, maxlat)`` of the extract from its header, or the
        data's extent when the header has none.
    notes
        Warnings about what could not be read completely.
    walk
        The walkable ways and gates, for :func:`spatial.network.walk_network_from_osm`.
    buildings
        ``building=*`` areas with ``building`` and ``levels`` (``building:levels`` as
        written): what households are estimated from when no survey gives them.
    cut_compounds
        Residential ways cut by the extract's edge, as the polygon of their nodes inside
        the file (``partial`` True); left out of ``compounds``, kept with ``--keep-cut``.
    """

    compounds: gpd.GeoDataFrame
    pois: gpd.GeoDataFrame
    entrances: gpd.GeoDataFrame
    barriers: gpd.GeoDataFrame
    parcels: gpd.GeoDataFrame
    bounds: tuple[float, float, float, float]
    notes: list[Problem] = field(default_factory=list)
    walk: WalkWays | None = None
    buildings: gpd.GeoDataFrame | None = None
    cut_compounds: gpd.GeoDataFrame | None = None

    def copy(self) -> OSMLayers:
        """A copy whose frames the caller may change (the walk arrays are shared, read-only).

        Returns
        -------
        OSMLayers
            New frames, the same walk ways.
        """
        return OSMLayers(
            compounds=self.compounds.copy(),
            pois=self.pois.copy(),
            entrances=self.entrances.copy(),
            barriers=self.barriers.copy(),
            parcels=self.parcels.copy(),
            bounds=self.bounds,
            notes=list(self.notes),
            walk=self.walk,
            buildings=None if self.buildings is None else self.buildings.copy(),
            cut_compounds=None if self.cut_compounds is None else self.cut_compounds.copy(),
        )


def _assemble(wkbs: list[bytes]) -> shapely.Geometry | None:
    lines = [g for g in shapely.from_wkb(wkbs) if g is not None] if wkbs else []
    if not lines:
        return None
    polys = list(
        shapely.get_parts(shapely.polygonize([shapely.line_merge(shapely.union_all(lines))]))
    )
    if not polys:
        return None
    return shapely.make_valid(shapely.union_all(polys))


_CACHE: dict[tuple[str, int, int], OSMLayers] = {}


def read_osm(path: str | Path) -> OSMLayers:
    """Read an OSM XML or PBF file into the toolkit's layers (see :class:`OSMLayers`).

    The file is parsed once; later calls with the same unchanged file (same resolved
    path, size and modification time) return a copy of the first reading.

    Parameters
    ----------
    path
        Local ``.osm``/``.osm.pbf`` file. Nothing is downloaded.

    Returns
    -------
    OSMLayers
        All layers in WGS84, and the walkable ways.

    Raises
    ------
    InputError
        When the file is missing or not well-formed OSM XML/PBF (with the parser's
        message).
    """
    path = Path(path)
    if not path.exists():
        raise InputError([Problem.error(str(path), "file not found", hint="check the path")])
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _CACHE:
        _CACHE.clear()  # one file at a time: a city extract can be large
        try:
            _CACHE[key] = _parse(path)
        except InputError:
            raise
        except Exception as exc:  # osmium: RuntimeError, InvalidLocationError …
            raise _unreadable(path, exc) from exc
    return _CACHE[key].copy()


def _read_alone(path: str | Path, parse: Callable[[str], T], whole: Callable[[OSMLayers], T]) -> T:
    """One layer of an OSM file read by its own pass (``parse``), or taken from the whole
    reading (``whole``) when this process already read the unchanged file."""
    path = Path(path)
    if not path.exists():
        raise InputError([Problem.error(str(path), "file not found", hint="check the path")])
    stat = path.stat()
    if (str(path.resolve()), stat.st_size, stat.st_mtime_ns) in _CACHE:
        return whole(read_osm(path))
    try:
        return parse(str(path))
    except InputError:
        raise
    except Exception as exc:  # osmium: RuntimeError, InvalidLocationError …
        raise _unreadable(path, exc) from exc


def _unreadable(path: Path, exc: Exception) -> InputError:
    return InputError(
        [
            Problem.error(
                str(path),
                f"not a readable OSM file: {exc}",
                hint="export it again (JOSM, osmium, Overpass) or check that it is OSM XML or PBF",
            )
        ]
    )


def _parse(path: Path) -> OSMLayers:
    src = str(path)
    notes: list[Problem] = []
    walk = _WalkCollector()
    gate_ids: list[int] = []
    relations: dict[int, dict] = {}
    untagged_wkb: dict[int, bytes] = {}  # untagged ways: multipolygon members, mostly
    way_wkb: list[bytes] = []  # lines of the ways that give rows, see _WayRef

    rows: dict[str, list[dict]] = defaultdict(list)
    cut_rows: dict[str, list[dict]] = defaultdict(list)  # residential areas cut by the edge
    extent = [180.0, 90.0, -180.0, -90.0]
    header = _header_bounds(src)
    entities = osmium.osm.NODE | osmium.osm.WAY | osmium.osm.RELATION
    reader = osmium.FileProcessor(src, entities).with_locations()
    if header is not None:  # the extent is known: untagged nodes only give way locations
        untagged = osmium.filter.EmptyTagFilter()
        untagged.enable_for(osmium.osm.NODE)
        reader = reader.with_filter(untagged)
    for obj in reader:
        if isinstance(obj, osmium.osm.Node):
            if not obj.location.valid():
                continue
            lon, lat = obj.location.lon, obj.location.lat
            if header is None:
                extent = [
                    min(extent[0], lon),
                    min(extent[1], lat),
                    max(extent[2], lon),
                    max(extent[3], lat),
                ]
            if len(obj.tags):
                _add_node_rows(rows, notes, gate_ids, src, obj.id, _tags(obj), lon, lat)
            continue
        if isinstance(obj, osmium.osm.Relation):
            _add_relation(relations, obj)
            continue
        if not isinstance(obj, osmium.osm.Way):
            continue
        wkb = _line_wkb(obj)
        if not len(obj.tags):
            if wkb is not None:
                untagged_wkb[obj.id] = wkb
            continue
        tags = _tags(obj)
        highway = tags.get("highway")
        if highway is not None and is_walkable(tags):
            walk.add(obj, highway, wkb)
        if wkb is None:
            what = _cut_kind(tags)
            if what and len(obj.nodes) > 1:  # streets keep their inside segments
                inside = _inside_ring(obj) if tags.get("landuse") == "residential" else None
                if inside is not None:  # kept aside for --keep-cut
                    way_wkb.append(inside)
                    ref = _WayRef(len(way_wkb) - 1, area=True)
                    _add_way_rows(cut_rows, obj.id, tags, line=None, area=ref, partial=True)
                notes.append(
                    Problem.warning(
                        src,
                        f"{what} cut by the extract's edge was left out",
                        row=f"way {obj.id}",
                        column=_name(tags) or None,
                        hint="use a larger extract"
                        + (", or --keep-cut to keep the part inside" if inside else ""),
                    )
                )
            continue
        if not _gives_rows(tags):
            continue
        way_wkb.append(wkb)
        closed = len(obj.nodes) >= 4 and obj.nodes.ends_have_same_location() and _is_area(tags)
        index = len(way_wkb) - 1
        _add_way_rows(
            rows,
            obj.id,
            tags,
            line=_WayRef(index, area=False),
            area=_WayRef(index, area=True) if closed else None,
        )
    for layer_rows in (*rows.values(), cut_rows["compounds"]):
        _resolve_geometries(layer_rows, way_wkb)
    member_wkb = _member_lines(src, relations, untagged_wkb)
    _add_relation_rows(rows, notes, src, relations, member_wkb)

    bounds = header or tuple(extent)
    return OSMLayers(
        compounds=_frame(
            rows["compounds"],
            ["id", "name", "name_source", "osm_type", "osm_id", "residential", "partial"],
        ),
        pois=_frame(rows["pois"], ["id", "name", "osm_type", "osm_id", *_POI_COLUMNS, "tags"]),
        entrances=_frame(rows["entrances"], ["id", "osm_id", "entrance", "barrier", "access"]),
        barriers=_frame(rows["barriers"], ["id", "kind", "subtype", "name", "osm_id"]),
        parcels=_frame(rows["parcels"], ["id", "name", "kind", "landuse", "osm_id", "note"]),
        buildings=_frame(rows["buildings"], ["id", "building", "levels"]),
        cut_compounds=_frame(
            cut_rows["compounds"],
            ["id", "name", "name_source", "osm_type", "osm_id", "residential", "partial"],
        ),
        bounds=bounds,  # type: ignore[arg-type]
        notes=notes,
        walk=walk.result(gate_ids),
    )


def _tags(obj: osmium.osm.OSMObject) -> dict[str, str]:
    # As many items as there are tags: the iterator's StopIteration costs as much as a tag.
    return dict(itertools.islice(obj.tags, len(obj.tags)))


_WKB = osmium.geom.WKBFactory()


def _inside_ring(way: osmium.osm.Way) -> bytes | None:
    """A closed way cut by the extract, as a ring through its nodes inside the file (WKB)."""
    if way.nodes[0].ref != way.nodes[len(way.nodes) - 1].ref:
        return None
    xy = [(nd.lon, nd.lat) for nd in way.nodes if nd.location.valid()]
    if len(xy) < 3:
        return None
    return shapely.to_wkb(LineString([*xy, xy[0]]))


def _line_wkb(way: osmium.osm.Way) -> bytes | None:
    """The way's line with every node as WKB, built by libosmium; None if it cannot be."""
    try:
        return bytes.fromhex(_WKB.create_linestring(way, use_nodes=osmium.geom.ALL))
    except Exception:  # osmium.InvalidLocationError (node outside the file), < 2 nodes
        return None


def _add_relation(relations: dict[int, dict], rel: osmium.osm.Relation) -> None:
    """Keep a multipolygon that may give rows, with its member ways."""
    tags = _tags(rel)
    if _relation_wanted(tags):
        members = [(m.ref, m.role or "outer") for m in rel.members if m.type == "w"]
        relations[rel.id] = {"tags": tags, "members": members}


def _member_lines(
    src: str, relations: dict[int, dict], untagged_wkb: dict[int, bytes]
) -> dict[int, bytes]:
    """Lines of the kept multipolygons' member ways.

    Untagged members were kept while reading; tagged ones (a street that also bounds
    an area) are read in a second pass over only those ways, when there are any.
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
            if isinstance(way, osmium.osm.Way) and (wkb := _line_wkb(way)) is not None:
                lines[way.id] = wkb
    return lines


def _add_node_rows(
    rows: dict[str, list[dict]],
    notes: list[Problem],
    gate_ids: list[int],
    src: str,
    osm_id: int,
    tags: dict[str, str],
    lon: float,
    lat: float,
) -> None:
    gate = is_gate(tags)
    if gate:
        gate_ids.append(osm_id)
    poi = _poi_kind(tags)
    if not (poi or gate or tags.get("landuse") == "residential"):
        return
    geom = Point(lon, lat)
    if poi:
        rows["pois"].append(_poi_row("n", osm_id, tags, geom))
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
                f"landuse=residential on a node ('{_name(tags)}') is not an area and was left out",
                row=f"node {osm_id}",
                column="landuse",
                hint="draw the compound as a closed way in OSM",
            )
        )


def _add_relation_rows(
    rows: dict[str, list[dict]],
    notes: list[Problem],
    src: str,
    relations: dict[int, dict],
    member_wkb: dict[int, bytes],
) -> None:
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
                    f"multipolygon '{_name(tags) or rid}' has {len(missing)} of "
                    f"{len(entry['members'])} member ways outside the extract: {what}",
                    row=f"relation {rid}",
                    hint="use a larger extract for the full outline",
                )
            )
        if geom is None or geom.is_empty:
            continue
        _add_way_rows(rows, rid, tags, line=None, area=geom, prefix="r", partial=bool(missing))


def _frame(rows: list[dict], columns: list[str]) -> gpd.GeoDataFrame:
    if not rows:
        return gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in columns},
            geometry=gpd.GeoSeries([], crs=WGS84),
            crs=WGS84,
        )
    return gpd.GeoDataFrame(rows, columns=[*columns, "geometry"], geometry="geometry", crs=WGS84)


def _header_bounds(src: str) -> tuple[float, float, float, float] | None:
    reader = osmium.io.Reader(src, osmium.osm.osm_entity_bits.NOTHING)
    try:
        box = reader.header().box()
    finally:
        reader.close()
    if not box.valid():
        return None
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)
