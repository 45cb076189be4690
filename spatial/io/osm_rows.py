"""OSM tags to rows of the layers: which objects are compounds, POIs, parcels, barriers
and buildings, and what a way cut by the extract's edge would have been."""

from __future__ import annotations

import json

from shapely.geometry import LineString

__all__ = ["POI_KEYS"]

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


def _cut_kind(tags: dict[str, str]) -> str:
    """What a way cut by the extract's edge would have been ("" when nothing needed)."""
    landuse = tags.get("landuse")
    if landuse == "residential":
        return "residential area (compound)"
    if landuse in _PARCEL_LANDUSE:
        return f"landuse={landuse} area (parcel)"
    if _poi_kind(tags) and "highway" not in tags:
        return "facility area (POI)"
    return ""


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
    if area is not None and tags.get("building", "no") != "no":
        rows["buildings"].append(
            {
                "id": f"{prefix}{osm_id}",
                "building": tags["building"],
                "levels": tags.get("building:levels"),
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
