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

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import osmium

from spatial._errors import InputError, Problem
from spatial.io.osm.elements import (
    add_node_rows,
    add_relation,
    add_relation_rows,
    element_tags,
    header_bounds,
    inside_ring,
    line_wkb,
    member_lines,
    osm_frame,
)
from spatial.io.osm.rows import (
    POI_COLUMNS,
    POI_KEYS,
    WayRef,
    add_way_rows,
    cut_kind,
    gives_rows,
    is_area,
    osm_name,
    resolve_geometries,
)
from spatial.io.osm.tags import is_walkable
from spatial.io.osm.walk import WalkCollector, WalkWays

T = TypeVar("T")

__all__ = [
    "OSM_SUFFIXES",
    "POI_KEYS",
    "OSMLayers",
    "WalkWays",
    "is_osm_file",
    "read_alone",
    "read_osm",
]

OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".osm.gz", ".xml")


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
        Gates and entrances (:func:`~spatial.io.osm.tags.is_gate`): compound access points.
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


def read_alone(path: str | Path, parse: Callable[[str], T], whole: Callable[[OSMLayers], T]) -> T:
    """One layer of an OSM file read by its own pass, or taken from the whole reading when
    that is cached already.

    Parameters
    ----------
    path
        The OSM file.
    parse
        Reads the layer alone from the file.
    whole
        Takes the layer from :func:`read_osm`'s layers.

    Returns
    -------
    The layer.
    """
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
    walk = WalkCollector()
    gate_ids: list[int] = []
    relations: dict[int, dict] = {}
    untagged_wkb: dict[int, bytes] = {}  # untagged ways: multipolygon members, mostly
    way_wkb: list[bytes] = []  # lines of the ways that give rows, see WayRef

    rows: dict[str, list[dict]] = defaultdict(list)
    cut_rows: dict[str, list[dict]] = defaultdict(list)  # residential areas cut by the edge
    extent = [180.0, 90.0, -180.0, -90.0]
    header = header_bounds(src)
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
                add_node_rows(rows, notes, gate_ids, src, obj.id, element_tags(obj), lon, lat)
            continue
        if isinstance(obj, osmium.osm.Relation):
            add_relation(relations, obj)
            continue
        if not isinstance(obj, osmium.osm.Way):
            continue
        wkb = line_wkb(obj)
        if not len(obj.tags):
            if wkb is not None:
                untagged_wkb[obj.id] = wkb
            continue
        tags = element_tags(obj)
        highway = tags.get("highway")
        if highway is not None and is_walkable(tags):
            walk.add(obj, highway, wkb)
        if wkb is None:
            what = cut_kind(tags)
            if what and len(obj.nodes) > 1:  # streets keep their inside segments
                inside = inside_ring(obj) if tags.get("landuse") == "residential" else None
                if inside is not None:  # kept aside for --keep-cut
                    way_wkb.append(inside)
                    ref = WayRef(len(way_wkb) - 1, area=True)
                    add_way_rows(cut_rows, obj.id, tags, line=None, area=ref, partial=True)
                notes.append(
                    Problem.warning(
                        src,
                        f"{what} cut by the extract's edge was left out",
                        row=f"way {obj.id}",
                        column=osm_name(tags) or None,
                        hint="use a larger extract"
                        + (", or --keep-cut to keep the part inside" if inside else ""),
                    )
                )
            continue
        if not gives_rows(tags):
            continue
        way_wkb.append(wkb)
        closed = len(obj.nodes) >= 4 and obj.nodes.ends_have_same_location() and is_area(tags)
        index = len(way_wkb) - 1
        add_way_rows(
            rows,
            obj.id,
            tags,
            line=WayRef(index, area=False),
            area=WayRef(index, area=True) if closed else None,
        )
    for layer_rows in (*rows.values(), cut_rows["compounds"]):
        resolve_geometries(layer_rows, way_wkb)
    member_wkb = member_lines(src, relations, untagged_wkb)
    add_relation_rows(rows, notes, src, relations, member_wkb)

    bounds = header or tuple(extent)
    return OSMLayers(
        compounds=osm_frame(
            rows["compounds"],
            ["id", "name", "name_source", "osm_type", "osm_id", "residential", "partial"],
        ),
        pois=osm_frame(rows["pois"], ["id", "name", "osm_type", "osm_id", *POI_COLUMNS, "tags"]),
        entrances=osm_frame(rows["entrances"], ["id", "osm_id", "entrance", "barrier", "access"]),
        barriers=osm_frame(rows["barriers"], ["id", "kind", "subtype", "name", "osm_id"]),
        parcels=osm_frame(rows["parcels"], ["id", "name", "kind", "landuse", "osm_id", "note"]),
        buildings=osm_frame(rows["buildings"], ["id", "building", "levels"]),
        cut_compounds=osm_frame(
            cut_rows["compounds"],
            ["id", "name", "name_source", "osm_type", "osm_id", "residential", "partial"],
        ),
        bounds=bounds,  # type: ignore[arg-type]
        notes=notes,
        walk=walk.result(gate_ids),
    )
