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
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely
from shapely.geometry import LineString, Point, Polygon

from spatial._errors import InputError, Problem
from spatial.io.osm_rows import (
    _POI_COLUMNS,
    POI_KEYS,
    _add_way_rows,
    _cut_kind,
    _is_area,
    _name,
    _poi_kind,
    _poi_row,
    _relation_wanted,
)
from spatial.io.osm_tags import is_gate, is_walkable

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


@dataclass(frozen=True)
class WalkWays:
    """The walkable ways of an OSM file as segments between node ids (WGS84).

    Attributes
    ----------
    node_ids
        ``(n,)`` OSM ids of the nodes the segments use.
    lonlat
        ``(n, 2)`` their longitude and latitude in degrees.
    pairs
        ``(m, 2)`` segments as pairs of node ids, in way order.
    highway
        ``(m,)`` the ``highway`` tag of each segment's way.
    gate_ids
        ``(g,)`` ids of nodes tagged ``entrance=*`` or ``barrier=gate``.
    n_missing
        Way nodes outside the extract: their segments were skipped, the rest of the
        way kept.
    """

    node_ids: np.ndarray
    lonlat: np.ndarray
    pairs: np.ndarray
    highway: np.ndarray
    gate_ids: np.ndarray
    n_missing: int = 0


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
        ``entrance=*`` and ``barrier=gate`` nodes (compound access points).
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

    def copy(self) -> OSMLayers:
        """A copy whose frames the caller may change (the walk arrays are shared, read-only).

        Returns
        -------
        OSMLayers
            New frames, the same walk ways.
        """
        return OSMLayers(
            self.compounds.copy(),
            self.pois.copy(),
            self.entrances.copy(),
            self.barriers.copy(),
            self.parcels.copy(),
            self.bounds,
            list(self.notes),
            self.walk,
            None if self.buildings is None else self.buildings.copy(),
        )


def _assemble(rings: list[list[tuple[float, float]]]) -> shapely.Geometry | None:
    lines = [LineString(r) for r in rings if len(r) >= 2]
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
        When the file is not well-formed OSM XML/PBF (with the parser's message).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such OSM file")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _CACHE:
        _CACHE.clear()  # one file at a time: a city extract can be large
        try:
            _CACHE[key] = _parse(path)
        except InputError:
            raise
        except Exception as exc:  # osmium: RuntimeError, InvalidLocationError …
            raise InputError(
                [
                    Problem.error(
                        str(path),
                        f"not a readable OSM file: {exc}",
                        hint="export it again (JOSM, osmium, Overpass) or check that it is "
                        "OSM XML or PBF",
                    )
                ]
            ) from exc
    return _CACHE[key].copy()


def _parse(path: Path) -> OSMLayers:
    src = str(path)
    notes: list[Problem] = []
    walk_nodes: dict[int, tuple[float, float]] = {}
    seg_a: list[int] = []
    seg_b: list[int] = []
    seg_hw: list[str] = []
    gate_ids: list[int] = []
    n_missing = 0

    relations: dict[int, dict] = {}
    for rel in osmium.FileProcessor(src, osmium.osm.RELATION):
        if not isinstance(rel, osmium.osm.Relation):
            continue
        tags = dict(rel.tags)
        if _relation_wanted(tags):
            members = [(m.ref, m.role or "outer") for m in rel.members if m.type == "w"]
            relations[rel.id] = {"tags": tags, "members": members}
    member_ways = {ref for r in relations.values() for ref, _ in r["members"]}

    way_coords: dict[int, list[tuple[float, float]]] = {}
    rows: dict[str, list[dict]] = defaultdict(list)
    extent = [180.0, 90.0, -180.0, -90.0]
    header = _header_bounds(src)
    reader = osmium.FileProcessor(src, osmium.osm.NODE | osmium.osm.WAY).with_locations()
    if header is not None:  # the extent is known: untagged nodes only give way locations
        untagged = osmium.filter.EmptyTagFilter()
        untagged.enable_for(osmium.osm.NODE)
        reader = reader.with_filter(untagged)
    for obj in reader:
        tags = dict(obj.tags)
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
            if not tags:
                continue
            if is_gate(tags):
                gate_ids.append(obj.id)
            geom = Point(lon, lat)
            if _poi_kind(tags):
                rows["pois"].append(_poi_row("n", obj.id, tags, geom))
            if "entrance" in tags or tags.get("barrier") == "gate":
                rows["entrances"].append(
                    {
                        "id": f"n{obj.id}",
                        "osm_id": obj.id,
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
                        f"landuse=residential on a node ('{_name(tags)}') is not "
                        "an area and was left out",
                        row=f"node {obj.id}",
                        column="landuse",
                        hint="draw the compound as a closed way in OSM",
                    )
                )
            continue
        if not isinstance(obj, osmium.osm.Way):
            continue
        if not tags and obj.id not in member_ways:
            continue
        # one pass over the way's nodes: (ref, lon, lat), lon None where outside the file
        nodes: list[tuple[int, float | None, float | None]] = [
            (nd.ref, nd.lon, nd.lat) if nd.location.valid() else (nd.ref, None, None)
            for nd in obj.nodes
        ]
        complete = all(x is not None for _, x, _ in nodes)
        if "highway" in tags and is_walkable(tags):
            refs: list[int | None] = []
            for ref, x, y in nodes:
                if x is None or y is None:
                    n_missing += 1
                    refs.append(None)
                    continue
                walk_nodes.setdefault(ref, (x, y))
                refs.append(ref)
            for r0, r1 in itertools.pairwise(refs):
                if r0 is not None and r1 is not None:
                    seg_a.append(r0)
                    seg_b.append(r1)
                    seg_hw.append(tags["highway"])
        coords = (
            [(x, y) for _, x, y in nodes if x is not None and y is not None] if complete else None
        )
        if coords is None:
            what = _cut_kind(tags) if obj.id not in member_ways else "multipolygon member"
            if what:  # streets keep their inside segments; cut buildings are not needed
                notes.append(
                    Problem.warning(
                        src,
                        f"{what} cut by the extract's edge was left out",
                        row=f"way {obj.id}",
                        column=_name(tags) or None,
                        hint="use a larger extract",
                    )
                )
            continue
        if obj.id in member_ways:
            way_coords[obj.id] = coords
        closed = len(coords) >= 4 and coords[0] == coords[-1]
        area = Polygon(coords) if closed and _is_area(tags) else None
        _add_way_rows(rows, obj.id, tags, coords, area)

    for rid, entry in relations.items():
        present = [
            way_coords[ref]
            for ref, role in entry["members"]
            if ref in way_coords and role == "outer"
        ]
        inner = [
            way_coords[ref]
            for ref, role in entry["members"]
            if ref in way_coords and role == "inner"
        ]
        missing = [ref for ref, _ in entry["members"] if ref not in way_coords]
        geom = _assemble(present)
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
        _add_way_rows(rows, rid, tags, None, geom, prefix="r", partial=bool(missing))

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
        bounds=bounds,  # type: ignore[arg-type]
        notes=notes,
        walk=WalkWays(
            node_ids=_frozen(np.fromiter(walk_nodes.keys(), dtype=np.int64, count=len(walk_nodes))),
            lonlat=_frozen(np.array(list(walk_nodes.values()), dtype=float).reshape(-1, 2)),
            pairs=_frozen(np.column_stack([seg_a, seg_b]).astype(np.int64).reshape(-1, 2)),
            highway=_frozen(np.array(seg_hw, dtype=object)),
            gate_ids=_frozen(np.array(sorted(set(gate_ids)), dtype=np.int64)),
            n_missing=n_missing,
        ),
    )


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


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
