"""Service-area outlines made into the text of a map layer, without the page's own
modules (folium): a second process started by ``spatial map`` makes them while the run
reads its tables and builds the rest of the page
(:class:`spatial.render.outlines.OutlineLayers`).

A layer's text is what ``spatial-map.js`` reads: the geometry as integer steps of
``10**-decimals`` degrees from the previous point with shapely's ragged-array offsets,
one part per geometry family, and the attribute columns (:func:`layer_text`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pandas as pd
import shapely

from spatial.io.crs.projection import to_wgs84
from spatial.io.outputs.write import read_gpkg
from spatial.lifecircle.areas import RING_TOLERANCE_CELLS

if TYPE_CHECKING:  # the page's modules (folium) are not loaded in the second process
    import geopandas as gpd

    from spatial.render.offline import Basemap

__all__ = [
    "METRES_PER_DEGREE",
    "OUTLINE_TOLERANCE_M",
    "layer_text",
    "outline_file",
    "outline_layer_text",
    "outline_part",
    "simplified_m",
]

#: The gap map's outlines are simplified by this many metres (no point moves more).
OUTLINE_TOLERANCE_M = 8.0
#: Metres in a degree of latitude (a degree of longitude is shorter: a tolerance in
#: degrees of this size moves no point further than asked).
METRES_PER_DEGREE = 111_320.0


def layer_text(parts: Sequence[Mapping[str, Any]], cols: Mapping[str, Sequence[Any]]) -> str:
    """The JSON text of a layer from its encoded geometry families.

    Parameters
    ----------
    parts
        One mapping per geometry family: ``t`` (GeoJSON type), ``s`` (units per degree),
        ``c`` (integer steps from the previous point, x and y interleaved), ``off``
        (shapely's ragged-array offsets) and ``rows`` (the row of each geometry).
    cols
        Attribute columns by name.

    Returns
    -------
    str
        ``{"parts": [...], "cols": {...}}``, safe inside an inline ``<script>``.
    """
    body = orjson.dumps(
        {"parts": list(parts), "cols": {k: list(v) for k, v in cols.items()}},
        option=orjson.OPT_SERIALIZE_NUMPY,
    ).decode()
    return body.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def outline_part(
    geoms: np.ndarray,
    *,
    tolerance_deg: float,
    scale: int,
    basemap: str = "none",
) -> dict[str, Any] | None:
    """Polygons simplified ring by ring and encoded as one geometry family of a layer.

    The rings are taken apart once and encoded as they come out of Douglas–Peucker
    (shapely, without keeping topology), not made into polygons again and taken apart a
    second time: a district's outlines have ~10⁵ rings and ~10⁶–10⁷ vertices. A shell
    simplified to a line or less drops its polygon, a hole so simplified is dropped.

    Parameters
    ----------
    geoms
        (Multi)Polygons in WGS84 (other types are left out), one per row.
    tolerance_deg
        Largest move of a point, degrees (0: not simplified).
    scale
        Units per degree of the integer coordinates (``10**decimals``).
    basemap
        ``"amap"`` shifts the coordinates to GCJ-02.

    Returns
    -------
    dict or None
        ``t, s, c, off, rows`` (see :func:`layer_text`), ``Polygon`` when every row kept
        has one polygon (as shapely's ragged arrays), or None when nothing is left.
    """
    parts, part_row = shapely.get_parts(geoms, return_index=True)
    poly = shapely.get_type_id(parts) == 3
    rings, ring_part = shapely.get_rings(parts[poly], return_index=True)
    part_row = part_row[poly]
    if tolerance_deg > 0:
        rings = shapely.simplify(rings, tolerance_deg, preserve_topology=False)
    n = shapely.get_num_coordinates(rings)
    ok = (shapely.get_type_id(rings) == 2) & (n >= 4)
    shell = np.r_[True, ring_part[1:] != ring_part[:-1]][: len(ring_part)]
    lost = np.zeros(len(part_row), dtype=bool)
    lost[ring_part[shell & ~ok]] = True
    ok &= ~lost[ring_part]
    if not ok.any():
        return None
    rings, ring_part, n = rings[ok], ring_part[ok], n[ok]
    xy = shapely.get_coordinates(rings)
    if basemap == "amap":
        from spatial.io.crs.chinese import wgs84_to_gcj02

        xy = np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
    kept, ring_of = np.unique(ring_part, return_inverse=True)
    rows, part_of = np.unique(part_row[kept], return_inverse=True)
    per_part = np.bincount(ring_of.ravel(), minlength=len(kept))
    per_row = np.bincount(part_of.ravel(), minlength=len(rows))
    q = np.round(xy * scale).astype(np.int64)
    deltas = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    offsets = [np.r_[0, np.cumsum(n)], np.r_[0, np.cumsum(per_part)]]
    single = bool((per_row == 1).all())
    if not single:
        offsets.append(np.r_[0, np.cumsum(per_row)])
    return {
        "t": "Polygon" if single else "MultiPolygon",
        "s": scale,
        "c": np.ascontiguousarray(deltas.ravel()),
        "off": [o.astype(np.int64) for o in offsets],
        "rows": rows.astype(np.int64),
    }


def simplified_m(areas: gpd.GeoDataFrame) -> float:
    """How far service areas' outlines were simplified already, metres.

    Parameters
    ----------
    areas
        Service areas: simplified for display (``attrs["simplified_m"]``) or as the gap
        run traced them (a ring moves up to :data:`~spatial.lifecircle.areas.RING_TOLERANCE_CELLS`
        of its cell, ``cell_m``: 8.3 m on the 33 m cells of a 63 km city).

    Returns
    -------
    float
        The least any row was simplified by; 0 when not known.
    """
    marked = float(areas.attrs.get("simplified_m", 0.0))
    if "cell_m" not in areas.columns or not len(areas):
        return marked
    traced = float(pd.to_numeric(areas["cell_m"], errors="coerce").min()) * RING_TOLERANCE_CELLS
    return max(marked, traced) if traced == traced else marked


def outline_layer_text(
    areas: gpd.GeoDataFrame,
    *,
    tolerance_m: float = OUTLINE_TOLERANCE_M,
    decimals: int = 5,
    basemap: Basemap = "none",
) -> str:
    """Service areas as the text of a map layer (:func:`spatial.render.page.layer_json`'s
    format, no attribute columns), simplified ring by ring on the way
    (:func:`outline_part`).

    The same as :func:`~spatial.render.outlines.generalise_outlines`, ``map_frame`` and
    ``layer_json`` one after the other, without making the simplified rings into
    polygons and taking them apart again.

    Parameters
    ----------
    areas
        Service areas (``geometry``), any CRS (reprojected to WGS84 first, then simplified
        in degrees as :func:`~spatial.render.outlines.generalise_outlines` does); not
        simplified again when simplified by at least ``tolerance_m`` already
        (:func:`simplified_m`).
    tolerance_m
        How far a point may move, metres.
    decimals
        Decimals of a degree kept.
    basemap
        ``"amap"`` shifts the coordinates to GCJ-02.

    Returns
    -------
    str
        The layer's JSON text; a row whose outline simplifies away is left out.
    """
    done = simplified_m(areas) >= tolerance_m
    geoms = np.asarray(to_wgs84(areas[[areas.geometry.name]]).geometry.values, dtype=object)
    part = outline_part(
        geoms,
        tolerance_deg=0.0 if done else tolerance_m / METRES_PER_DEGREE,
        scale=10**decimals,
        basemap=basemap,
    )
    return layer_text([part] if part is not None else [], {})


def outline_file(
    path: str | Path,
    category: str,
    target: str | Path,
    *,
    tolerance_m: float,
    decimals: int,
    basemap: Basemap = "none",
) -> int:
    """Write one category's outlines of a ``service_areas.gpkg`` as a layer's text
    (:func:`outline_layer_text`).

    Parameters
    ----------
    path
        The ``service_areas.gpkg``.
    category
        A category id.
    target
        The text file written (UTF-8).
    tolerance_m, decimals, basemap
        As for :func:`outline_layer_text`.

    Returns
    -------
    int
        The number of outlines read (rows of the layer).
    """
    areas = read_gpkg(path, where="category = '{}'".format(category.replace("'", "''")))
    text = outline_layer_text(areas, tolerance_m=tolerance_m, decimals=decimals, basemap=basemap)
    Path(target).write_text(text, encoding="utf-8")
    return len(areas)
