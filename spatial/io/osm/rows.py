"""OSM tags to rows of the layers: which objects are compounds, POIs, parcels, barriers
and buildings, and what a way cut by the extract's edge would have been."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import shapely

__all__ = [
    "BARRIER_TAGS",
    "POI_COLUMNS",
    "POI_KEYS",
    "WayRef",
    "add_way_rows",
    "barrier_kind",
    "cut_kind",
    "gives_rows",
    "is_area",
    "osm_name",
    "poi_kind",
    "poi_row",
    "relation_wanted",
    "resolve_geometries",
]

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
_POI_KEY_SET = frozenset(POI_KEYS)
_ROW_KEYS = frozenset({"landuse", "building", "railway", "waterway", "natural", *POI_KEYS})
_STATION_RAILWAY = {"station", "halt", "subway_entrance", "tram_stop"}
_BARRIER_ROADS = {"motorway", "motorway_link", "trunk", "trunk_link", "primary", "secondary"}
_BARRIER_RAIL = {"rail", "subway", "light_rail", "narrow_gauge", "monorail"}
_BARRIER_WATER = {"river", "canal"}
_PARCEL_LANDUSE = {"industrial": "old_factory", "brownfield": "low_efficiency"}
_ROW_HIGHWAYS = _BARRIER_ROADS | {"bus_stop"}
#: ``(key, value)`` pairs of which a way must carry one to be a barrier
#: (:func:`barrier_kind`), for libosmium's tag filter
BARRIER_TAGS = tuple(
    [("highway", v) for v in sorted(_BARRIER_ROADS)]
    + [("railway", v) for v in sorted(_BARRIER_RAIL)]
    + [("waterway", v) for v in sorted(_BARRIER_WATER | {"riverbank"})]
    + [("natural", "water")]
)
POI_COLUMNS = (*POI_KEYS, "highway", "railway", "social_facility:for", "cuisine")


def cut_kind(tags: dict[str, str]) -> str:
    """What a way cut by the extract's edge would have been.

    Parameters
    ----------
    tags
        The way's tags.

    Returns
    -------
    str
        The layer it would have given rows of; ``""`` when none.
    """
    landuse = tags.get("landuse")
    if landuse == "residential":
        return "residential area (compound)"
    if landuse in _PARCEL_LANDUSE:
        return f"landuse={landuse} area (parcel)"
    if poi_kind(tags) and "highway" not in tags:
        return "facility area (POI)"
    return ""


def is_area(tags: dict[str, str]) -> bool:
    """Whether a closed way with these tags is an area (not a closed line).

    Parameters
    ----------
    tags
        The way's tags.

    Returns
    -------
    bool
    """
    return tags.get("area") != "no"


def poi_kind(tags: dict[str, str]) -> bool:
    """Whether the tags make a point of interest.

    Parameters
    ----------
    tags
        The element's tags.

    Returns
    -------
    bool
    """
    if not _POI_KEY_SET.isdisjoint(tags):
        return True
    return tags.get("highway") == "bus_stop" or tags.get("railway") in _STATION_RAILWAY


def barrier_kind(tags: dict[str, str]) -> tuple[str, str] | None:
    """The barrier a way is (for bundling), if any.

    Parameters
    ----------
    tags
        The way's tags.

    Returns
    -------
    tuple of str or None
        ``(kind, name)``, e.g. ``("rail", "京包铁路")``; None: no barrier.
    """
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


def gives_rows(tags: dict[str, str]) -> bool:
    """Whether a complete way with these tags makes a row of some layer.

    Parameters
    ----------
    tags
        The way's tags.

    Returns
    -------
    bool
    """
    if _ROW_KEYS.isdisjoint(tags) and tags.get("highway") not in _ROW_HIGHWAYS:
        return False  # most streets: no row-giving key at all
    return (
        tags.get("landuse") in ("residential", *_PARCEL_LANDUSE)
        or tags.get("building", "no") != "no"
        or poi_kind(tags)
        or barrier_kind(tags) is not None
    )


def relation_wanted(tags: dict[str, str]) -> bool:
    """Whether a relation with these tags may give rows (a multipolygon of some layer).

    Parameters
    ----------
    tags
        The relation's tags.

    Returns
    -------
    bool
    """
    return tags.get("type") == "multipolygon" and (
        tags.get("landuse") in ("residential", *_PARCEL_LANDUSE)
        or poi_kind(tags)
        or barrier_kind(tags) is not None
    )


def osm_name(tags: dict[str, str]) -> str | None:
    """The element's name: Chinese first, then the plain name.

    Parameters
    ----------
    tags
        The element's tags.

    Returns
    -------
    str or None
    """
    return tags.get("name") or tags.get("name:zh") or tags.get("name:zh-Hans")


def poi_row(prefix: str, osm_id: int, tags: dict[str, str], geom) -> dict:
    """The POI row of an element.

    Parameters
    ----------
    prefix
        ``n``, ``w`` or ``r``, for the row's id.
    osm_id
        The element's id.
    tags
        Its tags.
    geom
        Its geometry (or a :class:`WayRef`).

    Returns
    -------
    dict
    """
    row = {
        "id": f"{prefix}{osm_id}",
        "name": osm_name(tags),
        "osm_type": {"n": "node", "w": "way", "r": "relation"}[prefix],
        "osm_id": osm_id,
    }
    row.update({k: tags.get(k) for k in POI_COLUMNS})
    row["tags"] = json.dumps(tags, ensure_ascii=False, sort_keys=True)
    row["geometry"] = geom
    return row


@dataclass(frozen=True, slots=True)
class WayRef:
    """A way's geometry still to be made: position in the reader's WKB list, and how.

    Parameters
    ----------
    index
        Position in the WKB list.
    area
        Make a polygon (else a line).
    point
        Make a representative point.
    """

    index: int
    area: bool  # closed way as a polygon, else its line
    point: bool = False  # the representative point of that polygon or line


def _point_of(geom: Any) -> Any:
    if isinstance(geom, WayRef):
        return replace(geom, point=True)
    return geom.representative_point()


def add_way_rows(rows, osm_id, tags, *, line, area, prefix="w", partial=False) -> None:
    """Add the rows a way or multipolygon gives.

    Parameters
    ----------
    rows
        Rows per layer (changed in place).
    osm_id
        The element's id.
    tags
        Its tags.
    line, area
        Its geometries, or :class:`WayRef` to make them later.
    prefix
        ``w`` (way) or ``r`` (relation), for the row's id.
    partial
        Cut by the extract's edge (the part inside).
    """
    osm_type = "way" if prefix == "w" else "relation"
    if area is not None and tags.get("landuse") == "residential":
        name = osm_name(tags)
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
                "name": osm_name(tags) or f"{prefix}{osm_id}",
                "kind": _PARCEL_LANDUSE[tags["landuse"]],
                "landuse": tags["landuse"],
                "osm_id": osm_id,
                "note": "candidate from OSM landuse: confirm with the survey",
                "geometry": area,
            }
        )
    if area is not None and tags.get("building", "no") != "no":
        rows["buildings"].append(
            {
                "id": f"{prefix}{osm_id}",
                "building": tags["building"],
                "levels": tags.get("building:levels"),
                "geometry": area,
            }
        )
    if poi_kind(tags):
        geom = area if area is not None else line
        if geom is not None:
            rows["pois"].append(poi_row(prefix, osm_id, tags, _point_of(geom)))
    barrier = barrier_kind(tags)
    if barrier is not None:
        geom = (
            area
            if (barrier[1] == "water_area" and area is not None)
            else (line if line is not None else area)
        )
        if geom is not None:
            rows["barriers"].append(
                {
                    "id": f"{prefix}{osm_id}",
                    "kind": barrier[0],
                    "subtype": barrier[1],
                    "name": osm_name(tags),
                    "osm_id": osm_id,
                    "geometry": geom,
                }
            )


def resolve_geometries(rows: list[dict], wkb: list[bytes]) -> None:
    """Replace the :class:`WayRef` geometries of ``rows`` by shapely objects, in bulk (in place).

    Parameters
    ----------
    rows
        Rows whose ``geometry`` may be a :class:`WayRef`.
    wkb
        The reader's WKB list the references point into.
    """
    refs = [(i, g) for i, r in enumerate(rows) if isinstance(g := r["geometry"], WayRef)]
    if not refs:
        return
    lines = shapely.from_wkb(np.asarray([wkb[g.index] for _, g in refs], dtype=object))
    as_area = np.array([g.area for _, g in refs], dtype=bool)
    geoms = np.asarray(lines, dtype=object).copy()
    if as_area.any():
        coords, which = shapely.get_coordinates(lines[as_area], return_index=True)
        geoms[as_area] = shapely.polygons(shapely.linearrings(coords, indices=which))
    as_point = np.array([g.point for _, g in refs], dtype=bool)
    if as_point.any():
        geoms[as_point] = shapely.point_on_surface(geoms[as_point])
    for (i, _), geom in zip(refs, geoms, strict=True):
        rows[i]["geometry"] = geom
