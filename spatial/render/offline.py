"""Folium maps that open with no network: Leaflet inlined, optional base maps.

Leaflet 1.9.4 (JS, CSS and its images) comes from the PyPI package
``django-js-lib-leaflet`` and is written into the HTML; folium's CDN links are dropped.
Base maps: ``none`` (plain background), ``osm``, ``tianditu`` (天地图, CGCS2000 ≈ WGS84,
needs a key) and ``amap`` (高德, GCJ-02: the data are shifted to GCJ-02 to line up).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure

from spatial._errors import input_error
from spatial.io.crs.chinese import wgs84_to_gcj02
from spatial.io.crs.projection import to_wgs84
from spatial.io.outputs.fileset import RUN_STAMP
from spatial.io.outputs.write import atomic_path

__all__ = [
    "BASEMAPS",
    "Basemap",
    "add_legend",
    "figure",
    "html_text",
    "map_frame",
    "offline_map",
    "save_map",
    "script_json",
]


def figure(m: folium.Map) -> Figure:
    """The HTML document a map renders into.

    Parameters
    ----------
    m
        The map.

    Returns
    -------
    branca.element.Figure
        The map's root.
    """
    return cast(Figure, m.get_root())


Basemap = Literal["none", "osm", "tianditu", "amap"]
BASEMAPS: tuple[str, ...] = ("none", "osm", "tianditu", "amap")
OSM_ATTRIBUTION = (
    "Data © <a href='https://www.openstreetmap.org/copyright'>OpenStreetMap</a> contributors (ODbL)"
)
_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
    "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
_AMAP = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
    "&x={x}&y={y}&z={z}"
)


@lru_cache(maxsize=1)
def _leaflet_assets() -> tuple[str, str]:
    root = resources.files("js_lib_leaflet").joinpath("static").joinpath("js_lib_leaflet")
    js = root.joinpath("leaflet.js").read_text("utf-8")
    css = root.joinpath("leaflet.css").read_text("utf-8")

    def inline(match: re.Match[str]) -> str:
        data = root.joinpath(match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode()})"

    return js, re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)


def offline_map(
    bounds: tuple[float, float, float, float],
    *,
    basemap: Basemap = "none",
    tianditu_key: str | None = None,
    attribution: str = "",
) -> folium.Map:
    """An empty folium map over ``bounds`` with Leaflet inlined.

    Parameters
    ----------
    bounds
        ``(minlon, minlat, maxlon, maxlat)`` in WGS84; with ``basemap="amap"`` pass them
        already in GCJ-02 (see :func:`map_frame`).
    basemap
        ``"none"`` (no tiles, works offline), ``"osm"``, ``"tianditu"`` or ``"amap"``.
    tianditu_key
        Key for the Tianditu tiles.
    attribution
        Credit line for the data.

    Returns
    -------
    folium.Map
        The map, fitted to ``bounds``.
    """
    if basemap not in BASEMAPS:
        raise ValueError(f"basemap must be one of {BASEMAPS}")
    m = folium.Map(
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
        zoom_start=14,
        location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
    )
    m.default_js = []
    m.default_css = []
    js, css = _leaflet_assets()
    header = figure(m).header
    header.add_child(Element(f"<style>{css}</style>"), name="leaflet_css")
    header.add_child(Element(f"<script>{js}</script>"), name="leaflet_js")
    header.add_child(
        Element(
            "<style>.folium-map{background:#f4f3ef}"
            ".spatial-legend{position:absolute;z-index:1000;bottom:26px;"
            "right:10px;background:#fff;padding:6px 9px;font:12px sans-serif;"
            "border-radius:4px;box-shadow:0 0 4px #888;max-width:260px}"
            ".spatial-legend i{display:inline-block;width:12px;height:12px;"
            "margin-right:5px;vertical-align:middle}</style>"
        ),
        name="spatial_css",
    )
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(m)
    elif basemap == "tianditu":
        if not tianditu_key:
            raise input_error(
                "--tianditu-key",
                "the Tianditu base map needs a key",
                hint="give --tianditu-key (tianditu_key=), or another --basemap",
            )
        for layer, name in (("vec", "天地图 Tianditu"), ("cva", "天地图注记 labels")):
            folium.TileLayer(
                _TIANDITU.format(s="{s}", layer=layer, key=tianditu_key),
                attr="© 天地图 Tianditu",
                name=name,
                subdomains="01234567",
            ).add_to(m)
    elif basemap == "amap":
        folium.TileLayer(
            _AMAP, attr="© 高德地图 AutoNavi", name="高德 Amap", subdomains="1234"
        ).add_to(m)
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    text = "; ".join(t for t in (attribution,) if t)
    if text:
        script = (
            f"<script>document.addEventListener('DOMContentLoaded',function(){{"
            f"{m.get_name()}.attributionControl.addAttribution({script_json(text)});}});</script>"
        )
        figure(m).html.add_child(Element(script), name="spatial_attribution")
    return m


def map_frame(
    gdf: gpd.GeoDataFrame,
    *,
    basemap: Basemap = "none",
    simplify_m: float = 1.0,
    decimals: int | None = 6,
) -> gpd.GeoDataFrame:
    """Geometry for a web map: simplified, in WGS84 (GCJ-02 on Amap), rounded.

    Parameters
    ----------
    gdf
        Any layer with a CRS.
    basemap
        The base map; ``"amap"`` shifts coordinates to GCJ-02.
    simplify_m
        Simplification tolerance, metres (0: none); a layer in degrees is simplified in
        degrees (no point moves more than ``simplify_m``).
    decimals
        Decimals kept of the coordinates (6 ≈ 0.1 m); None keeps them all (for a
        writer that quantises them itself, as :func:`spatial.render.page.layer_json`).

    Returns
    -------
    GeoDataFrame
        A copy indexed like ``gdf``, EPSG:4326.
    """
    if simplify_m > 0 and gdf.crs is not None and gdf.crs.is_geographic:
        # in degrees, sparing two reprojections: a degree of latitude is 111.32 km and
        # one of longitude less, so no point moves more than ``simplify_m``
        out = to_wgs84(gdf)
        out["geometry"] = shapely.simplify(out.geometry.values, simplify_m / 111_320.0)
    elif simplify_m > 0:  # simplified in metres
        out = gdf.copy()
        out["geometry"] = out.geometry.simplify(simplify_m)
        out = to_wgs84(out)
    else:
        out = to_wgs84(gdf)

    def shift(xy: np.ndarray) -> np.ndarray:
        if basemap == "amap":
            xy = np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
        return xy if decimals is None else np.round(xy, decimals)

    if basemap == "amap" or decimals is not None:
        out["geometry"] = shapely.transform(out.geometry.values, shift)
    return out


def data_bounds(gdf: gpd.GeoDataFrame, *, basemap: Basemap = "none") -> tuple[_Bounds, _Bounds]:
    """Bounds of a layer on the map (GCJ-02 on Amap) and in WGS84, projected once.

    Parameters
    ----------
    gdf
        Any layer with a CRS.
    basemap
        The base map; ``"amap"`` shifts the map bounds to GCJ-02.

    Returns
    -------
    map bounds, lon/lat bounds
        ``(minx, miny, maxx, maxy)`` each, degrees.
    """
    lonlat = to_wgs84(gdf[["geometry"]])
    plain = _bounds(lonlat)
    if basemap != "amap":
        return plain, plain
    return _bounds(map_frame(lonlat, basemap=basemap, simplify_m=0, decimals=None)), plain


_Bounds = tuple[float, float, float, float]


def _bounds(gdf: gpd.GeoDataFrame) -> _Bounds:
    x0, y0, x1, y1 = (float(v) for v in gdf.total_bounds)
    return x0, y0, x1, y1


def html_text(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Escape text columns for folium tooltips and popups, which insert values as HTML.

    Parameters
    ----------
    frame
        Any table.
    columns
        Columns shown in a tooltip or popup; missing ones are skipped.

    Returns
    -------
    DataFrame
        A copy indexed like ``frame`` with ``&``, ``<``, ``>`` and quotes escaped in the
        text cells of ``columns`` (numbers and empty cells unchanged).
    """
    out = frame.copy()
    for col in columns:
        if col in out:
            out[col] = out[col].map(lambda v: escape(v) if isinstance(v, str) else v)
    return cast("pd.DataFrame", out)


def script_json(value: object) -> str:
    """JSON that is safe inside an inline ``<script>`` (no ``</script>`` can end it).

    Parameters
    ----------
    value
        Anything :func:`json.dumps` takes.

    Returns
    -------
    str
        JSON with ``<``, ``>`` and ``&`` written as ``\\u`` escapes.
    """
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def add_legend(m: folium.Map, title: str, items: list[tuple[str, str]]) -> None:
    """A fixed legend box in the map's corner.

    Parameters
    ----------
    m
        The map.
    title
        Legend heading (escaped).
    items
        ``(CSS colour, label)`` pairs; labels are escaped.
    """
    rows = "".join(
        f"<div><i style='background:{escape(c)}'></i>{escape(label)}</div>" for c, label in items
    )
    html = f"<div class='spatial-legend'><b>{escape(title)}</b>{rows}</div>"
    figure(m).html.add_child(Element(html), name=f"legend_{len(figure(m).html._children)}")


def save_map(m: folium.Map | Any, path: str | Path) -> Path:
    """Write the map's HTML atomically (UTF-8).

    Parameters
    ----------
    m
        The map, or a :class:`spatial.render.page.MapPage` (rendered first).
    path
        Target ``.html``.

    Returns
    -------
    Path
        ``path``.
    """
    # a page's pieces are written one by one (a city's page is hundreds of megabytes)
    parts = [figure(m).render()] if isinstance(m, folium.Map) else m.html_parts()
    stamp = RUN_STAMP.get()
    if stamp is not None:  # the run of the set this page belongs to (spatial map)
        text = parts[0]
        at = text.find("<head>") + len("<head>") if "<head>" in text else 0
        meta = f'<meta name="spatial-run" content="{escape(stamp)}">'
        parts = [text[:at] + meta + text[at:], *parts[1:]]
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.writelines(parts)
    return Path(path)
