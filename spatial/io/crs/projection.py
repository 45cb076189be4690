"""CRS checks and automatic local projection.

Everything inside the toolkit is in metres in a local UTM zone; WGS84 (EPSG:4326)
is used only at the edges (reading lon/lat tables, writing web maps).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from spatial._errors import input_error

__all__ = [
    "THREADED_FROM_VERTICES",
    "WGS84",
    "assert_metric",
    "local_metric_crs",
    "reproject",
    "require_crs",
    "to_metric",
    "to_wgs84",
]

WGS84 = CRS.from_epsg(4326)

#: From this many vertices on, a frame is reprojected in two threads (PROJ works without
#: Python's lock: a city's 33 M outline vertices in half the time on two cores).
THREADED_FROM_VERTICES = 1_000_000


def reproject(gdf: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    """``gdf.to_crs(crs)``, a large frame's coordinates transformed in two threads.

    Parameters
    ----------
    gdf
        A GeoDataFrame with a CRS.
    crs
        Target CRS (anything ``to_crs`` takes).

    Returns
    -------
    GeoDataFrame
        A new frame, same index and columns, in ``crs``: the same coordinates as
        ``to_crs`` gives.
    """
    require_crs(gdf)
    target = CRS.from_user_input(crs)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    if (
        gdf.crs.equals(target)
        or shapely.get_num_coordinates(geoms).sum() < THREADED_FROM_VERTICES
        or shapely.has_z(geoms).any()
    ):
        return gdf.to_crs(target)
    moves = Transformer.from_crs(gdf.crs, target, always_xy=True)

    def halves(xy: np.ndarray) -> np.ndarray:
        cut = len(xy) // 2
        with ThreadPoolExecutor(2) as pool:
            parts = list(pool.map(lambda s: np.column_stack(moves.transform(*xy[s].T)),
                                  (slice(0, cut), slice(cut, None))))  # fmt: skip
        return np.concatenate(parts)

    out = gdf.copy()
    out[gdf.geometry.name] = gpd.GeoSeries(
        shapely.transform(geoms, halves), index=gdf.index, crs=target
    )
    return out.set_crs(target, allow_override=True)


def require_crs(gdf: gpd.GeoDataFrame, *, what: str = "data") -> CRS:
    """Return the CRS of ``gdf`` or raise ``ValueError`` if it has none.

    Parameters
    ----------
    gdf
        Any GeoDataFrame.
    what
        Name of the data for the message.

    Returns
    -------
    pyproj.CRS
        The frame's CRS.
    """
    if gdf.crs is None:
        raise input_error(
            str(what),
            "no coordinate reference system (CRS)",
            hint="set one with gdf.set_crs('EPSG:4326') if the coordinates are WGS84 lon/lat",
        )
    return CRS.from_user_input(gdf.crs)


def assert_metric(gdf: gpd.GeoDataFrame, *, what: str = "data") -> None:
    """Raise ``ValueError`` unless ``gdf`` is in a projected CRS with metre units.

    Distances in degrees are meaningless for walking; this guards every
    distance computation.

    Parameters
    ----------
    gdf
        Any GeoDataFrame.
    what
        Name of the data for the message.
    """
    crs = require_crs(gdf, what=what)
    if not crs.is_projected:
        raise ValueError(f"{what} is in geographic CRS {crs.name}: distances would be in degrees")
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if unit not in ("metre", "meter"):
        raise ValueError(f"{what} is in CRS {crs.name} with units '{unit}', not metres")


def local_metric_crs(gdf: gpd.GeoDataFrame) -> CRS:
    """The UTM zone (WGS84 datum) that contains the centre of ``gdf``.

    Parameters
    ----------
    gdf
        A GeoDataFrame with a CRS.

    Returns
    -------
    pyproj.CRS
        The UTM zone, metres.
    """
    require_crs(gdf)
    minx, miny, maxx, maxy = gdf.total_bounds
    if not gdf.crs.is_geographic:
        minx, miny, maxx, maxy = _to_lonlat(gdf.crs).transform_bounds(minx, miny, maxx, maxy)
    if minx > maxx:  # across the antimeridian
        maxx += 360.0
    lon = ((minx + maxx) / 2 + 180.0) % 360.0 - 180.0
    lat = (miny + maxy) / 2
    if not (np.isfinite(lon) and np.isfinite(lat)):
        raise RuntimeError("Unable to determine UTM CRS: the layer has no finite bounds")
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return _utm(32600 + zone if lat >= 0 else 32700 + zone)


# geopandas' estimate_utm_crs builds a transformer and queries the PROJ database on every
# call (~80 ms); maps call this once per layer, so the zone is computed here (the same
# 6° bands, WGS84 datum) and the transformer and CRS are kept.
@lru_cache(maxsize=16)
def _to_lonlat(crs: CRS) -> Transformer:
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


@lru_cache(maxsize=128)
def _utm(epsg: int) -> CRS:
    return CRS.from_epsg(epsg)


def to_metric(gdf: gpd.GeoDataFrame, crs: CRS | str | int | None = None) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in a metric CRS.

    Parameters
    ----------
    gdf
        A GeoDataFrame with a CRS.
    crs
        Target CRS (default: the local UTM zone of ``gdf``).

    Returns
    -------
    GeoDataFrame
        Same index, coordinates in metres.
    """
    require_crs(gdf)
    target = CRS.from_user_input(crs) if crs is not None else local_metric_crs(gdf)
    out = reproject(gdf, target)
    assert_metric(out)
    return out


def to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in WGS84 lon/lat (EPSG:4326) for maps and exports.

    Parameters
    ----------
    gdf
        A GeoDataFrame with a CRS.

    Returns
    -------
    GeoDataFrame
        Same index, EPSG:4326.
    """
    require_crs(gdf)
    if gdf.crs.equals(WGS84):  # a map draws thousands of layers in WGS84 already
        return gdf.copy()
    return reproject(gdf, WGS84)
