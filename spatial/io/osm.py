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
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely
from shapely.geometry import LineString, Point, Polygon

from spatial._errors import Problem
from spatial.io.osm_tags import is_gate, is_walkable

__all__ = ["OSM_SUFFIXES", "POI_KEYS", "OSMLayers", "WalkWays", "is_osm_file", "read_osm"]

OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".osm.gz", ".xml")
POI_KEYS = (
    "amenity",
    "shop",
    "leisure",
    "healthcare",
    "social_facility",
    "emergency",
    "public_transport",
    "office",
    "craft",
)
_STATION_RAILWAY = {"station", "halt", "subway_entrance", "tram_stop"}
_BARRIER_ROADS = {"motorway", "motorway_link", "trunk", "trunk_link", "primary", "secondary"}
_BARRIER_RAIL = {"rail", "subway", "light_rail", "narrow_gauge", "monorail"}
_BARRIER_WATER = {"river", "canal"}
_PARCEL_LANDUSE = {"industrial": "old_factory", "brownfield": "low_efficiency"}
_POI_COLUMNS = (*POI_KEYS, "highway", "railway", "social_facility:for", "cuisine")
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
    """

    compounds: gpd.GeoDataFrame
    pois: gpd.GeoDataFrame
    entrances: gpd.GeoDataFrame
    barriers: gpd.GeoDataFrame
    parcels: gpd.GeoDataFrame
    bounds: tuple[float, float, float, float]
    notes: list[Problem] = field(default_factory=list)
    walk: WalkWays | None = None

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
        )


def _is_area(tags: dict[str, str]) -> bool:
    return tags.get("area") != "no"


def _poi_kind(tags: dict[str, str]) -> bool:
    if any(k in tags for k in POI_KEYS):
        return True
    return tags.get("highway") == "bus_stop" or tags.get("railway") in _STATION_RAILWAY


def _barrier_kind(tags: dict[str, str]) -> tuple[str, str] | None:
    if tags.get("tunnel") in ("yes", "building_passage") or tags.get("layer", "0").startswith("-"):
        return None
    if tags.get("highway") in _BARRIER_ROADS:
        return "road", tags["highway"]
    if tags.get("railway") in _BARRIER_RAIL:
        return "rail", tags["railway"]
    if tags.get("waterway") in _BARRIER_WATER:
        return "water", tags["waterway"]
    if tags.get("natural") == "water" or tags.get("waterway") == "riverbank":
        return "water", "water_area"
    return None


def _relation_wanted(tags: dict[str, str]) -> bool:
    return tags.get("type") == "multipolygon" and (
        tags.get("landuse") in ("residential", *_PARCEL_LANDUSE)
        or _poi_kind(tags)
        or _barrier_kind(tags) is not None
    )


def _name(tags: dict[str, str]) -> str | None:
    return tags.get("name") or tags.get("name:zh") or tags.get("name:zh-Hans")


def _coords(way) -> list[tuple[float, float]] | None:
    pts = []
    for nd in way.nodes:
        if not nd.location.valid():
            return None
        pts.append((nd.lon, nd.lat))
    return pts


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
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such OSM file")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _CACHE:
        _CACHE.clear()  # one file at a time: a city extract can be large
        _CACHE[key] = _parse(path)
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
    for obj in osmium.FileProcessor(src, osmium.osm.NODE | osmium.osm.WAY).with_locations():
        tags = dict(obj.tags)
        if isinstance(obj, osmium.osm.Node):
            if not obj.location.valid():
                continue
            lon, lat = obj.location.lon, obj.location.lat
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
        if "highway" in tags and is_walkable(tags):
            refs: list[int | None] = []
            for nd in obj.nodes:
                if not nd.location.valid():
                    n_missing += 1
                    refs.append(None)
                    continue
                walk_nodes.setdefault(nd.ref, (nd.lon, nd.lat))
                refs.append(nd.ref)
            for r0, r1 in itertools.pairwise(refs):
                if r0 is not None and r1 is not None:
                    seg_a.append(r0)
                    seg_b.append(r1)
                    seg_hw.append(tags["highway"])
        if not tags and obj.id not in member_ways:
            continue
        coords = _coords(obj)
        if coords is None:
            if obj.id in member_ways or tags:
                notes.append(
                    Problem.warning(
                        src,
                        "way has nodes outside the extract and was left out",
                        row=f"way {obj.id}",
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

    bounds = _header_bounds(src) or tuple(extent)
    return OSMLayers(
        compounds=_frame(
            rows["compounds"],
            ["id", "name", "name_source", "osm_type", "osm_id", "residential", "partial"],
        ),
        pois=_frame(rows["pois"], ["id", "name", "osm_type", "osm_id", *_POI_COLUMNS, "tags"]),
        entrances=_frame(rows["entrances"], ["id", "osm_id", "entrance", "barrier", "access"]),
        barriers=_frame(rows["barriers"], ["id", "kind", "subtype", "name", "osm_id"]),
        parcels=_frame(rows["parcels"], ["id", "name", "kind", "landuse", "osm_id", "note"]),
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


def _poi_row(prefix: str, osm_id: int, tags: dict[str, str], geom) -> dict:
    row = {
        "id": f"{prefix}{osm_id}",
        "name": _name(tags),
        "osm_type": {"n": "node", "w": "way", "r": "relation"}[prefix],
        "osm_id": osm_id,
    }
    row.update({k: tags.get(k) for k in _POI_COLUMNS})
    row["tags"] = json.dumps(tags, ensure_ascii=False, sort_keys=True)
    row["geometry"] = geom
    return row


def _add_way_rows(rows, osm_id, tags, coords, area, *, prefix="w", partial=False) -> None:
    osm_type = "way" if prefix == "w" else "relation"
    if area is not None and tags.get("landuse") == "residential":
        name = _name(tags)
        rows["compounds"].append(
            {
                "id": f"{prefix}{osm_id}",
                "name": name or f"未命名小区 {prefix}{osm_id}",
                "name_source": "osm" if name else "placeholder",
                "osm_type": osm_type,
                "osm_id": osm_id,
                "residential": tags.get("residential"),
                "partial": partial,
                "geometry": area,
            }
        )
    if area is not None and tags.get("landuse") in _PARCEL_LANDUSE:
        rows["parcels"].append(
            {
                "id": f"{prefix}{osm_id}",
                "name": _name(tags) or f"{prefix}{osm_id}",
                "kind": _PARCEL_LANDUSE[tags["landuse"]],
                "landuse": tags["landuse"],
                "osm_id": osm_id,
                "note": "candidate from OSM landuse: confirm with the survey",
                "geometry": area,
            }
        )
    if _poi_kind(tags):
        geom = area if area is not None else (LineString(coords) if coords else None)
        if geom is not None:
            rows["pois"].append(_poi_row(prefix, osm_id, tags, geom.representative_point()))
    barrier = _barrier_kind(tags)
    if barrier is not None:
        geom = (
            area
            if (barrier[1] == "water_area" and area is not None)
            else (LineString(coords) if coords else area)
        )
        if geom is not None:
            rows["barriers"].append(
                {
                    "id": f"{prefix}{osm_id}",
                    "kind": barrier[0],
                    "subtype": barrier[1],
                    "name": _name(tags),
                    "osm_id": osm_id,
                    "geometry": geom,
                }
            )


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
