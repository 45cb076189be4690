"""The offline context drawn under every map: streets by class, water, railways, names.

Read from an OpenStreetMap file (one libosmium pass; only tagged streets, water,
railways and places reach Python) or from a planner's GIS layers (road centrelines
classed by ``road_classes.toml``, water and railway layers found by their names).
``spatial gaps`` keeps it in ``context.gpkg`` beside its results, so a map drawn later,
or on another machine, has the same streets. What is drawn and how is
``spatial/standards/maps.toml``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial._errors import InputError, Problem
from spatial.io.write import atomic_path
from spatial.standards.files import read_toml

__all__ = [
    "CONTEXT_FILE",
    "add_context",
    "context_style",
    "load_context",
    "read_context",
    "write_context",
]

CONTEXT_FILE = "context.gpkg"
_SYNTHETIC = "spatial demo"
_LAYERS = ("water", "rail", "street", "place")
_NAMES = {
    "street": "道路 Streets",
    "water": "水系 Water",
    "rail": "铁路 Railways",
    "place": "地名 Place names",
}
_WATER_WORDS = ("water", "river", "lake", "水", "河", "湖", "渠")
_RAIL_WORDS = ("rail", "铁路", "轨道", "地铁")
_ROAD_WORDS = ("road", "street", "highway", "道路", "路网", "街道中心线", "dl")


@lru_cache(maxsize=1)
def context_style() -> dict[str, Any]:
    """The table of ``spatial/standards/maps.toml``: classes, tag lists and styles."""
    return read_toml(None, default="maps.toml")[0]


def _frame(rows: dict[str, list[Any]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"layer": rows["layer"], "cls": rows["cls"], "name": rows["name"]},
        geometry=shapely.from_wkb(rows["wkb"]) if rows["wkb"] else [],
        crs="EPSG:4326",
    )


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

    def add(layer: str, cls: str, name: str | None, geom: bytes | str) -> None:
        rows["layer"].append(layer)
        rows["cls"].append(cls)
        rows["name"].append(name or None)
        rows["wkb"].append(geom)

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
                if highway in streets and tags.get("area") != "yes":
                    add("street", streets[highway], tags.get("name"), wkb.create_linestring(obj))
                elif railway in rails:
                    add("rail", railway, tags.get("name"), wkb.create_linestring(obj))
                elif waterway in water_lines:
                    add("water", waterway, tags.get("name"), wkb.create_linestring(obj))
            elif obj.is_area() and (
                tags.get("natural") == "water"
                or "water" in tags
                or tags.get("landuse") in ("reservoir", "basin")
                or tags.get("waterway") == "riverbank"
            ):
                add("water", "area", tags.get("name"), wkb.create_multipolygon(obj))
        except RuntimeError:  # a way cut at the edge of the extract: too few nodes
            continue
    return _frame(rows)


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

    from spatial.network.roadclass import classify_lines, load_road_classes

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
        return _frame({"layer": [], "cls": [], "name": [], "wkb": []})
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
    from spatial.io.osm import is_osm_file

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
        else _frame({"layer": [], "cls": [], "name": [], "wkb": []})
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


def write_context(frame: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write the context as ``context.gpkg``: one layer per kind that has rows (atomically)."""
    with atomic_path(path) as tmp:
        written = False
        for layer in _LAYERS:
            part = frame[frame["layer"] == layer]
            if len(part):
                part.to_file(tmp, layer=layer, engine="pyogrio", append=written)
                written = True
        if not written:
            frame.iloc[:0].to_file(tmp, layer="street", engine="pyogrio")
        sources = ",".join(frame.attrs.get("sources", []))
        pd.DataFrame({"sources": [sources]}).pipe(
            lambda t: gpd.GeoDataFrame(t, geometry=[None], crs="EPSG:4326")
        ).to_file(tmp, layer="sources", engine="pyogrio", append=True)
    return Path(path)


def load_context(path: str | Path) -> gpd.GeoDataFrame:
    """Read a ``context.gpkg`` back (see :func:`write_context`)."""
    import pyogrio

    names = [n for n, _ in pyogrio.list_layers(path)]
    parts = [gpd.read_file(path, layer=n, engine="pyogrio") for n in names if n in _LAYERS]
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else _frame({"layer": [], "cls": [], "name": [], "wkb": []})
    )
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")


def _clip(frame: gpd.GeoDataFrame, bounds: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """The rows within ``bounds`` (WGS84) grown by a fifth on each side."""
    minx, miny, maxx, maxy = bounds
    dx, dy = (maxx - minx) * 0.2 + 0.002, (maxy - miny) * 0.2 + 0.002
    return frame.cx[minx - dx : maxx + dx, miny - dy : maxy + dy]


def add_context(
    page: Any, frame: gpd.GeoDataFrame | None, *, bounds: tuple[float, float, float, float]
) -> bool:
    """Add the context layers to a :class:`~spatial.render.page.MapPage`, under the data.

    Parameters
    ----------
    page
        The page being built.
    frame
        From :func:`read_context` or :func:`load_context` (WGS84), or None.
    bounds
        The data's ``(minlon, minlat, maxlon, maxlat)``: the context is cut to them.

    Returns
    -------
    bool
        Whether any context was drawn.
    """
    page.group("context", "底图 Context", expanded=False)
    style = context_style()["style"]
    frame = _clip(frame, bounds) if frame is not None and len(frame) else None
    drawn = False
    limit = int(context_style()["lod"]["path_coordinates"])
    for layer in _LAYERS:
        part = frame[frame["layer"] == layer] if frame is not None else None
        part = part if part is not None else gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
        name = _NAMES[layer]
        if layer == "street" and len(part):
            paths = (part["cls"] == "path").to_numpy()
            if shapely.get_num_coordinates(part.geometry.values[paths]).sum() > limit:
                part = part[~paths]
                name += (
                    f" (小路 {paths.sum():,} 条未画 paths left out at this scale; see --by maps)"
                )
        names = part["name"] if "name" in part else pd.Series([], dtype=object)
        cols: dict[str, list[Any]] = {"name": [None if pd.isna(v) else str(v) for v in names]}
        kwargs: dict[str, Any] = {}
        if layer == "street":
            cols["cls"] = [str(v) for v in part["cls"]] if len(part) else []
            kwargs = {
                "class_col": "cls",
                "classes": style["street"],
                "width_by_zoom": True,
                "label": {"col": "name", "minZoom": 15, "font": "11px sans-serif"},
                "swatch": style["street"]["major"]["stroke"],
            }
            base = {"stroke": "#ffffff", "weight": 1}
        elif layer == "place":
            base = dict(style["place"])
            kwargs = {
                "label": {
                    "col": "name",
                    "minZoom": 11,
                    "font": "bold 13px sans-serif",
                    "colour": "#333",
                }
            }
        else:
            base = dict(style[layer])
            kwargs = {"swatch": base.get("fill", base.get("stroke"))}
        page.add(
            part,
            layer_id=f"context_{layer}",
            name=name,
            group="context",
            style=base,
            cols=cols,
            pane="context",
            simplify_m=2.0,
            decimals=5,
            **kwargs,
        )
        drawn = drawn or bool(len(part))
    return drawn


def _lonlat_bounds(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    b = frame.to_crs(4326).total_bounds if len(frame) else np.zeros(4)
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
