"""Reading the map context: streets by class, water, railways and place names.

From an OpenStreetMap file (one libosmium pass; only tagged streets, water, railways and
places reach Python) or from a planner's GIS layers (road centrelines classed by
``road_classes.toml`` as the walk network's lines are, water and railway layers found by
their names). :mod:`spatial.io.context.store` keeps the result in ``context.gpkg``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import pandas as pd

from spatial._errors import InputError, Problem
from spatial.io.context.store import context_frame, context_style
from spatial.io.roadclass import classify_lines, load_road_classes

__all__ = ["read_context"]

_SYNTHETIC = "spatial demo"
_WATER_WORDS = ("water", "river", "lake", "水", "河", "湖", "渠")
_RAIL_WORDS = ("rail", "铁路", "轨道", "地铁")
_ROAD_WORDS = ("road", "street", "highway", "道路", "路网", "街道中心线", "dl")


def _read_osm(path: Path) -> gpd.GeoDataFrame:
    import osmium

    table = context_style()
    streets = table["street_classes"]
    water_lines, rails = set(table["waterway_lines"]), set(table["railways"])
    places = set(table["places"])
    keys = ("highway", "railway", "waterway", "natural", "landuse", "water", "place")
    reader = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_areas(osmium.filter.KeyFilter("natural", "water", "landuse", "waterway"))
        .with_filter(osmium.filter.KeyFilter(*keys))
    )
    wkb = osmium.geom.WKBFactory()
    rows: dict[str, list[Any]] = {"layer": [], "cls": [], "name": [], "wkb": []}

    def add(layer: str, cls: str | None, name: str | None, geom: bytes | str) -> None:
        rows["layer"].append(layer)
        rows["cls"].append(str(cls))
        rows["name"].append(name or None)
        rows["wkb"].append(geom)

    obj: Any
    for obj in reader:
        tags = obj.tags
        try:
            if obj.is_node():
                if tags.get("place") in places and tags.get("name"):
                    add("place", tags["place"], tags.get("name"), wkb.create_point(obj))
            elif obj.is_way():
                highway, railway, waterway = (
                    tags.get("highway"),
                    tags.get("railway"),
                    tags.get("waterway"),
                )
                kind = None
                if highway in streets and tags.get("area") != "yes":
                    kind = ("street", streets[highway])
                elif railway in rails:
                    kind = ("rail", railway)
                elif waterway in water_lines:
                    kind = ("water", waterway)
                line = _inside_line(obj) if kind is not None else None
                if kind is not None and line is not None:
                    add(*kind, tags.get("name"), line)
            elif obj.is_area() and (
                tags.get("natural") == "water"
                or "water" in tags
                or tags.get("landuse") in ("reservoir", "basin")
                or tags.get("waterway") == "riverbank"
            ):
                add("water", "area", tags.get("name"), wkb.create_multipolygon(obj))
        except (RuntimeError, osmium.InvalidLocationError):  # an area cut at the edge
            continue
    return context_frame(rows)


def _inside_line(way: Any) -> bytes | None:
    """WKB of the parts of a way whose nodes are in the file (a way cut by the extract's
    edge keeps its inside part); None when no two nodes in a row are."""
    import shapely

    runs: list[list[tuple[float, float]]] = [[]]
    for node in way.nodes:
        if node.location.valid():
            runs[-1].append((node.location.lon, node.location.lat))
        elif runs[-1]:
            runs.append([])
    parts = [shapely.LineString(r) for r in runs if len(r) >= 2]
    if not parts:
        return None
    return cast(
        "bytes | None",
        shapely.to_wkb(parts[0] if len(parts) == 1 else shapely.MultiLineString(parts)),
    )


def _kind_of_layer(name: str, geom_type: str) -> str | None:
    low = name.lower()
    if any(w in low for w in _RAIL_WORDS):
        return "rail"
    if any(w in low for w in _WATER_WORDS):
        return "water"
    if any(w in low for w in _ROAD_WORDS) or "Line" in geom_type:
        return "street" if "Line" in geom_type else None
    return None


def _read_gis(path: Path) -> gpd.GeoDataFrame:
    import pyogrio

    streets = context_style()["street_classes"]
    parts = []
    for layer, geom_type in pyogrio.list_layers(path):
        kind = _kind_of_layer(f"{path.stem} {layer}", str(geom_type))
        if kind is None:
            continue
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
        if frame.crs is None:
            raise InputError(
                [Problem.error(f"{path} [{layer}]", "layer has no CRS", hint="add a .prj or CRS")]
            )
        name = next((c for c in ("name", "名称", "道路名称", "NAME") if c in frame), None)
        cls: Iterable[str]
        if kind == "street":
            highway, _, _ = classify_lines(frame, load_road_classes(), str(path))
            cls = [streets.get(h, "minor") for h in highway]
        else:
            cls = ["area" if "Polygon" in str(t) else "line" for t in frame.geom_type]
        parts.append(
            gpd.GeoDataFrame(
                {
                    "layer": kind,
                    "cls": list(cls),
                    "name": frame[name].astype(object) if name else None,
                },
                geometry=frame.geometry.to_crs(4326).values,
                crs="EPSG:4326",
            )
        )
    if not parts:
        return context_frame({"layer": [], "cls": [], "name": [], "wkb": []})
    return pd.concat(parts, ignore_index=True)


def read_context(paths: Iterable[str | Path]) -> gpd.GeoDataFrame:
    """Streets, water, railways and place names of OSM files or GIS layers.

    Parameters
    ----------
    paths
        ``.osm``/``.osm.pbf`` files, or GIS files whose layers are named after roads
        (道路, road …), water (水系, 河 …) or railways (铁路 …); a line layer of another
        name is taken as streets.

    Returns
    -------
    GeoDataFrame
        ``layer`` (street, water, rail, place), ``cls`` (street class major/mid/minor/path,
        or the tag value), ``name``; WGS84.

    Raises
    ------
    InputError
        When a file is missing, unreadable or a layer has no CRS.
    """
    from spatial.io.osm.read import is_osm_file

    parts, sources = [], []
    for path in map(Path, paths):
        if not path.exists():
            raise InputError([Problem.error(str(path), "file not found", hint="check the path")])
        try:
            if is_osm_file(path):
                parts.append(_read_osm(path))
                sources.append("synthetic" if _synthetic(path) else "osm")
            else:
                parts.append(_read_gis(path))
                sources.append("gis")
        except InputError:
            raise
        except Exception as exc:  # osmium/GDAL errors on a damaged file
            raise InputError(
                [Problem.error(str(path), f"cannot read the context layers: {exc}")]
            ) from exc
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else context_frame({"layer": [], "cls": [], "name": [], "wkb": []})
    )
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    out = gpd.GeoDataFrame(frame.reset_index(drop=True), geometry="geometry", crs="EPSG:4326")
    out.attrs["sources"] = sources
    return out


def _synthetic(path: Path) -> bool:
    """Whether an OSM file is the toolkit's synthetic demo city (no OSM credit then)."""
    import osmium

    reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    try:
        return _SYNTHETIC in (reader.header().get("generator") or "")
    finally:
        reader.close()
