"""The offline context drawn under every map: streets by class, water, railways, names.

The rows come from :mod:`spatial.io.context.store` (an OSM file, GIS layers or a run's
``context.gpkg``); here they become the map page's 底图 Context layers, cut to the data,
styled by ``spatial/standards/maps.toml``, footpaths left out of a whole city's map.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from spatial.io.context.store import CONTEXT_LAYERS, context_style
from spatial.render.layer import Layer

__all__ = ["add_context", "credit_osm"]

_NAMES = {
    "street": "道路 Streets",
    "water": "水系 Water",
    "rail": "铁路 Railways",
    "place": "地名 Place names",
}


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
    present: list[str] = []
    limit = int(context_style()["lod"]["path_coordinates"])
    for layer in CONTEXT_LAYERS:
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
            Layer(
                id=f"context_{layer}",
                name=name,
                group="context",
                style=base,
                pane="context",
                simplify_m=2.0,
                decimals=5,
                **kwargs,
            ),
            cols=cols,
        )
        drawn = drawn or bool(len(part))
        if len(part):
            present.append(_NAMES[layer])
    if present:
        page.notes.append("底图 Context: " + " · ".join(present))
    if not drawn:  # say it on the map's face: the compounds float on a blank page
        page.legend(
            "底图 Context",
            [],
            note="无街道、水系底图 no streets or water under the data: none was kept with "
            "these results or it could not be read from the extract; "
            "`spatial map --context FILE` adds one",
        )
    return drawn


def credit_osm(page: Any, *, osm_data: bool, context: gpd.GeoDataFrame | None) -> None:
    """Add the OpenStreetMap (ODbL) credit when OSM data is on the map.

    Parameters
    ----------
    page
        A :class:`~spatial.render.page.MapPage`.
    osm_data
        The data drawn come from OpenStreetMap.
    context
        The context drawn; read from an OSM file (``attrs["sources"]``), it needs the
        credit too.
    """
    from spatial.render.offline import OSM_ATTRIBUTION

    if osm_data or (context is not None and "osm" in context.attrs.get("sources", ())):
        page.credit(OSM_ATTRIBUTION)
