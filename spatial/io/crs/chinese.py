"""Vectorised conversions between WGS84, GCJ-02 (Amap, Tencent) and BD-09 (Baidu).

GCJ-02 is the obfuscated datum required for published maps in China; BD-09 adds a
further Baidu offset. Both are applied only inside China's bounding box, as the
real transforms are. The inverses are iterative (fixed-point on the forward
transform) and converge to far below a centimetre.

CGCS2000 (EPSG:4490) differs from WGS84 by centimetres and is treated as WGS84.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spatial.settings import CHINA_BBOX_WGS84

__all__ = [
    "COORD_SYSTEMS",
    "CoordSystem",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "bd09mc_to_bd09",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

CoordSystem = Literal["wgs84", "gcj02", "bd09", "bd09mc"]
COORD_SYSTEMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09", "bd09mc")

# Constants of the published GCJ-02 algorithm (Krasovsky 1940 ellipsoid).
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
_Pair = tuple[NDArray[np.float64], NDArray[np.float64]]


def _arrays(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where the point lies in the box in which the Chinese offsets apply.

    Parameters
    ----------
    lon, lat
        Longitude and latitude, degrees.

    Returns
    -------
    ndarray of bool
        One flag per point.
    """
    x, y = _arrays(lon, lat)
    x0, y0, x1, y1 = CHINA_BBOX_WGS84
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def _delta(x: NDArray[np.float64], y: NDArray[np.float64]) -> _Pair:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS84 lon ``x``, lat ``y``."""
    u, v = x - 105.0, y - 35.0
    s = np.sqrt(np.abs(u))
    wave = (20.0 * np.sin(6.0 * u * np.pi) + 20.0 * np.sin(2.0 * u * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * u + 3.0 * v + 0.2 * v * v + 0.1 * u * v + 0.2 * s + wave
    dlat += (20.0 * np.sin(v * np.pi) + 40.0 * np.sin(v / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(v / 12.0 * np.pi) + 320.0 * np.sin(v * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + u + 2.0 * v + 0.1 * u * u + 0.1 * u * v + 0.1 * s + wave
    dlon += (20.0 * np.sin(u * np.pi) + 40.0 * np.sin(u / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(u / 12.0 * np.pi) + 300.0 * np.sin(u / 30.0 * np.pi)) * 2.0 / 3.0
    rad = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sq = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sq) * np.pi)
    dlon = dlon * 180.0 / (_A / sq * np.cos(rad) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """WGS84 lon/lat (degrees) to GCJ-02; points outside China are returned unchanged.

    Parameters
    ----------
    lon, lat
        WGS84 longitude and latitude, degrees.

    Returns
    -------
    lon, lat : ndarray
        GCJ-02 degrees.
    """
    x, y = _arrays(lon, lat)
    dlon, dlat = _delta(x, y)
    inside = in_china(x, y)
    return np.where(inside, x + dlon, x), np.where(inside, y + dlat, y)


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], _Pair],
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    tol_deg: float = 1e-10,
) -> _Pair:
    """Solve forward(w) = g for w by fixed-point iteration starting at w = g."""
    gx, gy = _arrays(lon, lat)
    wx, wy = gx.copy(), gy.copy()
    for _ in range(30):
        fx, fy = forward(wx, wy)
        ex, ey = fx - gx, fy - gy
        wx, wy = wx - ex, wy - ey
        if np.all(np.abs(ex) < tol_deg) and np.all(np.abs(ey) < tol_deg):
            break
    return wx, wy


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """GCJ-02 lon/lat to WGS84 (iterative inverse, error far below 1 cm).

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    lon, lat : ndarray
        WGS84 degrees.
    """
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """GCJ-02 lon/lat to BD-09 lon/lat; points outside China unchanged.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    lon, lat : ndarray
        BD-09 degrees.
    """
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    inside = in_china(x, y)
    return (
        np.where(inside, z * np.cos(theta) + 0.0065, x),
        np.where(inside, z * np.sin(theta) + 0.006, y),
    )


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """BD-09 lon/lat to GCJ-02 (iterative inverse of :func:`gcj02_to_bd09`).

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    lon, lat : ndarray
        GCJ-02 degrees.
    """
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """WGS84 lon/lat to BD-09.

    Parameters
    ----------
    lon, lat
        WGS84 longitude and latitude, degrees.

    Returns
    -------
    lon, lat : ndarray
        BD-09 degrees.
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """BD-09 lon/lat to WGS84.

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    lon, lat : ndarray
        WGS84 degrees.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def bd09mc_to_bd09(x: ArrayLike, y: ArrayLike) -> _Pair:
    """Convert Baidu Mercator metres (BD-09MC) to BD-09 lon/lat.

    Baidu's Mercator is not a standard projection but a banded polynomial fit; the
    coefficient tables are data (``spatial/standards/bd09mc.toml``, with their source),
    and each point uses the band of its own ``y``.

    Parameters
    ----------
    x, y
        BD-09MC coordinates in Baidu's metres.

    Returns
    -------
    lon, lat
        BD-09 longitude and latitude in degrees.
    """
    from spatial.standards.files import read_toml

    data, _ = read_toml(None, default="bd09mc.toml")
    bands = np.asarray(data["band"], dtype=float)
    coef = np.asarray(data["mc2ll"], dtype=float)
    xa, ya = _arrays(x, y)
    ay = np.abs(ya)
    # first band from the top whose lower edge |y| reaches (bands are descending, last is 0)
    k = np.argmax(ay[:, None] >= bands[None, :], axis=1)
    c = coef[k]
    lon = c[:, 0] + c[:, 1] * np.abs(xa)
    t = ay / c[:, 9]
    lat = c[:, 2] + t * (
        c[:, 3] + t * (c[:, 4] + t * (c[:, 5] + t * (c[:, 6] + t * (c[:, 7] + t * c[:, 8]))))
    )
    return np.sign(xa) * lon, np.sign(ya) * lat


def to_wgs84(lon: ArrayLike, lat: ArrayLike, source: CoordSystem) -> _Pair:
    """Convert coordinates from ``source`` to WGS84 lon/lat.

    Parameters
    ----------
    lon, lat
        Coordinates: degrees, or metres for ``"bd09mc"``.
    source
        ``"wgs84"``, ``"gcj02"``, ``"bd09"`` or ``"bd09mc"`` (Baidu Mercator metres).

    Returns
    -------
    lon, lat : ndarray
        WGS84 degrees.
    """
    if source == "wgs84":
        return _arrays(lon, lat)
    if source == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if source == "bd09":
        return bd09_to_wgs84(lon, lat)
    if source == "bd09mc":
        return bd09_to_wgs84(*bd09mc_to_bd09(lon, lat))
    raise ValueError(f"unknown coordinate system {source!r}; use one of {COORD_SYSTEMS}")
