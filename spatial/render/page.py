"""A map page: a Leaflet map whose layers are drawn by the toolkit's canvas runtime.

Each layer is written once into the HTML as JSON text (geometry as a GeoJSON feature
collection whose features carry only their row number, attributes as a column table) and
parsed by the browser only when the layer is first shown. ``spatial-map.js`` slices the
layer into vector tiles with geojson-vt (Mapbox, ISC licence, vendored in ``assets/``)
and draws each tile on one canvas, so a city of 80,000 compounds opens in seconds: the
browser never holds one DOM or SVG element per feature. The page sets
``window.SPATIAL_READY = true`` when every layer shown at start is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element

from spatial.render.layer import Layer
from spatial.render.offline import Basemap, figure, map_frame, offline_map, save_map, script_json
from spatial.render.outline_text import layer_text

__all__ = ["MapPage", "column_values", "layer_json"]

_HEAD = "<!--spatial-head-->"
_BODY = "<!--spatial-body-->"


@lru_cache(maxsize=4)
def _asset(name: str) -> str:
    return resources.files("spatial.render").joinpath("assets").joinpath(name).read_text("utf-8")


def column_values(values: pd.Series | Sequence[Any]) -> list[Any]:
    """A column as JSON-ready Python values: NaN and NA become None, numpy scalars plain.

    Parameters
    ----------
    values
        Any column.

    Returns
    -------
    list
        One value per row.
    """
    s = pd.Series(values)
    if pd.api.types.is_float_dtype(s):
        arr = s.to_numpy(dtype=float)
        whole = np.isfinite(arr) & (arr == np.round(arr))
        if whole[np.isfinite(arr)].all():
            return [int(v) if ok else None for v, ok in zip(arr.tolist(), whole, strict=True)]
        return [v if np.isfinite(v) else None for v in arr.tolist()]
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_integer_dtype(s):
        return [None if pd.isna(v) else v for v in s.astype(object).tolist()]
    return [
        None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v
        for v in s.astype(object).tolist()
    ]


_TYPE_NAMES = {
    "POINT": "Point",
    "LINESTRING": "LineString",
    "POLYGON": "Polygon",
    "MULTILINESTRING": "MultiLineString",
    "MULTIPOLYGON": "MultiPolygon",
}


def _encode(geoms: np.ndarray, rows: np.ndarray, scale: int) -> dict[str, Any]:
    """One geometry family as integer deltas of ``scale`` units and ragged offsets."""
    multi_points = shapely.get_type_id(geoms) == 4  # a multipoint is drawn at its first point
    if multi_points.any():
        geoms = np.where(multi_points, shapely.get_point(geoms, 0), geoms)
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    q = np.round(coords * scale).astype(np.int64)
    deltas = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return {  # numpy arrays: orjson writes them without Python lists
        "t": _TYPE_NAMES[kind.name],
        "s": scale,
        "c": np.ascontiguousarray(deltas.ravel()),
        "off": [np.ascontiguousarray(o, dtype=np.int64) for o in offsets],
        "rows": np.ascontiguousarray(rows, dtype=np.int64),
    }


def layer_json(
    geometry: gpd.GeoSeries, cols: Mapping[str, Sequence[Any]], *, decimals: int = 6
) -> str:
    """A layer as the JSON text the runtime reads: compact geometry, attributes by column.

    Coordinates are written as integer steps of ``10**-decimals`` degrees from the
    previous point (about a third of GeoJSON's size) with shapely's ragged-array offsets,
    one part per geometry family; the runtime turns them back into GeoJSON features
    whose only property is their row number ``i``.

    Parameters
    ----------
    geometry
        WGS84 geometry (simplified and rounded already, see
        :func:`spatial.render.offline.map_frame`); empty or missing rows are left out of
        the geometry and keep their row number in ``cols``.
    cols
        Attribute columns, each as long as ``geometry``.
    decimals
        Decimals of a degree kept (6 ≈ 0.1 m, 5 ≈ 1 m).

    Returns
    -------
    str
        ``{"parts": [...], "cols": {...}}``, safe inside an inline ``<script>``.
    """
    geoms = np.asarray(geometry.values, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if ok.any():  # a collection (from make_valid) keeps its polygons
        coll = ok & (shapely.get_type_id(geoms) == 7)
        for k in np.flatnonzero(coll):
            polys = [p for p in shapely.get_parts(geoms[k]) if p.geom_type == "Polygon"]
            geoms[k] = shapely.multipolygons(polys) if polys else None
            ok[k] = bool(polys)
    # shapely type ids + 1: missing, Point, LineString, LinearRing, Polygon, Multi… , collection
    lookup = np.array(["", "Point", "Line", "", "Polygon", "Point", "Line", "Polygon", ""])
    families = lookup[shapely.get_type_id(geoms) + 1]
    parts = []
    for family in ("Polygon", "Line", "Point"):
        rows = np.flatnonzero(ok & (families == family))
        if len(rows):
            parts.append(_encode(geoms[rows], rows, 10**decimals))
    return layer_text(parts, cols)


def _data_element(element_id: str, text: str) -> str:
    return f'<script type="application/json" id="{element_id}">{text}</script>'


@dataclass
class MapPage:
    """An offline map page being built; :meth:`save` writes it.

    Parameters
    ----------
    bounds
        ``(minlon, minlat, maxlon, maxlat)`` of the data, WGS84 (GCJ-02 on ``amap``).
    title
        Shown at the top of the map and as the page title.
    basemap, tianditu_key
        Optional online base map (off: the page needs no network).
    data_date
        Date of the data shown under the title (default: today).

    Attributes
    ----------
    notes
        Lines shown under the title (e.g. which context layers the map has).
    """

    bounds: tuple[float, float, float, float]
    title: str
    basemap: Basemap = "none"
    tianditu_key: str | None = None
    data_date: str | None = None
    layers: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    credits: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.map: folium.Map = offline_map(
            self.bounds, basemap=self.basemap, tianditu_key=self.tianditu_key
        )
        self._data: list[str | Callable[[], str]] = []
        self._pending: dict[int, str] = {}  # position in _data → element id
        self._legends: list[str] = []

    def group(self, group_id: str, name: str, *, expanded: bool = False) -> None:
        """Add a collapsible group to the layer list (in the order added).

        Parameters
        ----------
        group_id, name
            Identifier the layers name, and the heading shown.
        expanded
            Open when the page opens (a group with a layer shown opens anyway).
        """
        if not any(g["id"] == group_id for g in self.groups):
            self.groups.append({"id": group_id, "name": name, "open": expanded})

    def add(
        self,
        frame: gpd.GeoDataFrame,
        layer: Layer,
        *,
        cols: Mapping[str, Sequence[Any]] | None = None,
    ) -> None:
        """Add a layer; an empty ``frame`` is listed as 无数据 (no data) and cannot be shown.

        Parameters
        ----------
        frame
            Any CRS; projected to WGS84 (GCJ-02 on ``amap``), simplified by
            ``layer.simplify_m`` metres and rounded to ``layer.decimals``.
        layer
            Its name, group, style and popup.
        cols
            Attribute columns by name, each as long as ``frame`` (for styles, labels,
            popups, search and filters).
        """
        spec = layer.spec()
        spec["count"] = len(frame)
        spec["empty"] = bool(len(frame) == 0)
        if len(frame):
            # layer_json quantises the coordinates to ``decimals`` itself
            geo = map_frame(
                frame[["geometry"]],
                basemap=self.basemap,
                simplify_m=layer.simplify_m,
                decimals=None,
            )
            element_id = f"spatial-data-{len(self._data)}"
            spec["data"] = element_id
            text = layer_json(geo.geometry, cols or {}, decimals=layer.decimals)
            self._data.append(_data_element(element_id, text))
        self.layers.append(spec)

    def add_prepared(self, layer: Layer, count: int, text: str | Callable[[], str]) -> None:
        """Add a layer whose JSON text is made elsewhere (e.g. by a second process while
        the page is built); the page asks for it only when written.

        Parameters
        ----------
        layer
            Its name, group, style and popup.
        count
            Its number of rows (0: listed as 无数据 no data; ``text`` is then not used).
        text
            The layer's text as :func:`layer_json` writes it, or a call that returns it.
        """
        spec = layer.spec()
        spec["count"] = int(count)
        spec["empty"] = count == 0
        if count:
            element_id = f"spatial-data-{len(self._data)}"
            spec["data"] = element_id
            if callable(text):
                self._pending[len(self._data)] = element_id
                self._data.append(text)
            else:
                self._data.append(_data_element(element_id, text))
        self.layers.append(spec)

    def credit(self, text: str) -> None:
        """Add a source credit to the attribution line.

        Parameters
        ----------
        text
            HTML from this toolkit (never from data), e.g. the OSM credit.
        """
        if text and text not in self.credits:
            self.credits.append(text)

    def legend(self, title: str, items: Sequence[tuple[str, str]], *, note: str = "") -> None:
        """A legend box in the map's corner.

        Parameters
        ----------
        title
            Heading.
        items
            ``(CSS colour, label)`` pairs.
        note
            A line under the items (all text is escaped).
        """
        rows = "".join(
            f"<div><i style='background:{escape(c)}'></i>{escape(label)}</div>"
            for c, label in items
        )
        extra = f"<div class='sp-note'>{escape(note)}</div>" if note else ""
        html = f"<div class='spatial-legend'><b>{escape(title)}</b>{rows}{extra}</div>"
        self._legends.append(html)

    def script(self, js: str) -> None:
        """Add page JavaScript that runs before the layers are built.

        Parameters
        ----------
        js
            Code from this toolkit (popup builders), never from data.
        """
        self.scripts.append(js)

    def render(self) -> folium.Map:
        """The folium map with placeholders where :meth:`html` puts the page's own parts.

        Returns
        -------
        folium.Map
            The map; its rendering holds ``<!--spatial-head-->`` and
            ``<!--spatial-body-->``, filled by :meth:`html`.
        """
        fig = figure(self.map)
        fig.header.add_child(Element(_HEAD), name="sp_head")
        fig.html.add_child(Element(_BODY), name="sp_body")
        return self.map

    def html(self) -> str:
        """The whole page: folium's map, the runtime, the data and the start-up script.

        The page's own parts are put in after folium renders its template, so no text
        from the data ever passes through Jinja (a name with ``{{ … }}`` stays text).

        Returns
        -------
        str
            The HTML document (:meth:`html_parts` joined).
        """
        return "".join(self.html_parts())

    def html_parts(self) -> list[str]:
        """The page as consecutive pieces, the data layers each a piece of its own, so
        that a whole city's page (hundreds of megabytes) is written without being joined.

        Returns
        -------
        list of str
            Pieces whose concatenation is :meth:`html`; the first holds ``<head>``.
        """
        m = self.render()
        when = self.data_date or date.today().isoformat()
        head = (
            f"<title>{escape(self.title)}</title>"
            f"<style>{_asset('spatial-map.css')}</style>"
            f"<script>{_asset('geojson-vt.js')}</script>"
            f"<script>{_asset('spatial-map.js')}</script>"
        )
        basemaps = [
            {"name": getattr(child, "tile_name", key), "layer": child.get_name(), "show": True}
            for key, child in m._children.items()
            if isinstance(child, folium.TileLayer)
        ]
        config = {
            "layers": self.layers,
            "groups": self.groups,
            "basemaps": basemaps,
            "bounds": list(self.bounds),
            **self.config,
        }
        credit = " | ".join(self.credits)
        init = (
            "document.addEventListener('DOMContentLoaded', function () {"
            + "".join(s for s in self.scripts if s)
            + f"var m = {m.get_name()};"
            + (f"m.attributionControl.addAttribution({script_json(credit)});" if credit else "")
            + f"SpatialMap.init(m, {script_json(config)});}});"
        )
        title_box = (
            f"<div class='sp-titlebox'><b>{escape(self.title)}</b>"
            f"<span>数据日期 data: {escape(when)} · 生成 made: {date.today().isoformat()}"
            "</span>"
            + "".join(f"<span class='sp-note'>{escape(n)}</span>" for n in self.notes)
            + "</div>"
            + "".join(self._legends)
        )
        text = figure(m).render()
        head_at, body_at = text.index(_HEAD), text.index(_BODY)
        return [
            text[:head_at] + head + text[head_at + len(_HEAD) : body_at] + title_box,
            *self._data_parts(),
            f"<script>{init}</script>" + text[body_at + len(_BODY) :],
        ]

    def _data_parts(self) -> list[str]:
        """The data elements, each prepared layer's text asked for once."""
        for k, element_id in list(self._pending.items()):
            make = self._data[k]
            assert callable(make)
            self._data[k] = _data_element(element_id, make())
            del self._pending[k]
        return [str(d) for d in self._data]

    def _repr_html_(self) -> str:
        """The page inline in a notebook (an iframe, as folium shows a map)."""
        doc = escape(self.html(), quote=True)
        return (
            '<div style="width:100%;"><div style="position:relative;width:100%;height:0;'
            'padding-bottom:60%;"><iframe srcdoc="' + doc + '" style="position:absolute;'
            'width:100%;height:100%;left:0;top:0;border:none !important;"></iframe></div></div>'
        )

    def save(self, path: str | Path) -> Path:
        """Render and write the page atomically (UTF-8).

        Parameters
        ----------
        path
            Target ``.html``.

        Returns
        -------
        Path
            ``path``.
        """
        return save_map(self, path)
