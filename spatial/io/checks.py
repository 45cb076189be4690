"""Geometry and coordinate checks shared by every loader.

Each check returns :class:`~spatial._errors.Problem` records; none raises, so that a
loader can report all problems of all files at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from spatial._errors import Problem
from spatial.io.crs.chinese import bd09_to_wgs84, gcj02_to_wgs84

__all__ = [
    "ALLOWED_TYPES",
    "MAX_VERTICES",
    "check_degrees",
    "check_geometries",
    "check_location",
    "check_offset",
]

#: Vertices of one feature beyond which it is no compound, POI or parcel (a whole city's
#: boundary has ~100,000): refused before it is repaired or projected.
MAX_VERTICES = 500_000

#: Geometry types each layer accepts.
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "compounds": ("Polygon", "MultiPolygon", "Point"),
    "pois": ("Point", "MultiPoint", "Polygon", "MultiPolygon"),
    "parcels": ("Polygon", "MultiPolygon"),
}
_FAMILY = {
    "Point": "point",
    "MultiPoint": "point",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
    "LineString": "line",
    "MultiLineString": "line",
}


def check_geometries(
    geoms: gpd.GeoSeries,
    layer: str,
    *,
    source: str,
    row_label: Callable[[int], Any],
) -> tuple[gpd.GeoSeries, list[Problem]]:
    """Check that every geometry is present, non-empty, valid and of an allowed type.

    Invalid geometries are repaired with :func:`shapely.make_valid` when the repair
    keeps the geometry family (a self-touching polygon stays a polygon); the repair
    is reported as a warning. Everything else is an error.

    Parameters
    ----------
    geoms
        Geometries as read, any CRS.
    layer
        ``"compounds"``, ``"pois"`` or ``"parcels"``: decides the allowed types.
    source
        File name for the messages.
    row_label
        Turns a position into the row number (or label) the user sees in the file.

    Returns
    -------
    geometry, problems
        A new GeoSeries (same index) with repaired geometries, and the problems.
    """
    allowed = ALLOWED_TYPES[layer]
    out = geoms.copy()
    problems: list[Problem] = []
    values = np.asarray(geoms.values, dtype=object)
    # only the rows with something to say are looked at one by one
    missing = shapely.is_missing(values)
    suspect = missing | shapely.is_empty(values) | ~shapely.is_valid(values)
    suspect |= ~np.isin(
        shapely.get_type_id(values), [shapely.GeometryType[t.upper()] for t in allowed]
    )
    coords, owner = shapely.get_coordinates(values, return_index=True)
    not_finite = np.zeros(len(values), dtype=bool)
    not_finite[owner[~np.isfinite(coords).all(axis=1)]] = True
    too_many = shapely.get_num_coordinates(values) > MAX_VERTICES
    suspect |= not_finite | too_many
    for pos in np.flatnonzero(suspect).tolist():
        geom = values[pos]
        row = row_label(pos)
        if not_finite[pos] or too_many[pos]:
            problems.append(
                Problem.error(
                    source,
                    "coordinates that are not numbers (NaN or infinity)"
                    if not_finite[pos]
                    else f"a geometry of {shapely.get_num_coordinates(geom):,} vertices (more "
                    f"than {MAX_VERTICES:,}: not a {layer[:-1]} outline)",
                    row=row,
                    column="geometry",
                    hint="redraw the feature or delete the row"
                    if not_finite[pos]
                    else "simplify it in a GIS (QGIS 'Simplify') or delete the row",
                )
            )
            continue
        if geom is None or shapely.is_missing(geom):
            problems.append(
                Problem.error(
                    source,
                    "geometry is missing",
                    row=row,
                    column="geometry",
                    hint="draw the feature or delete the row",
                )
            )
            continue
        if geom.is_empty:
            problems.append(
                Problem.error(
                    source,
                    "geometry is empty",
                    row=row,
                    column="geometry",
                    hint="draw the feature or delete the row",
                )
            )
            continue
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            fixed = shapely.make_valid(geom)
            if fixed.geom_type == "GeometryCollection":
                parts = [g for g in fixed.geoms if g.geom_type in allowed]
                fixed = shapely.union_all(parts) if parts else fixed
            if fixed.is_empty or _FAMILY.get(fixed.geom_type) != _FAMILY.get(geom.geom_type):
                problems.append(
                    Problem.error(
                        source,
                        f"invalid {geom.geom_type} ({reason}) cannot be repaired",
                        row=row,
                        column="geometry",
                        hint="redraw the outline in a GIS (e.g. QGIS 'Fix geometries')",
                    )
                )
                continue
            out.iloc[pos] = fixed
            geom = fixed
            problems.append(
                Problem.warning(
                    source,
                    f"invalid geometry ({reason}) was repaired with make_valid",
                    row=row,
                    column="geometry",
                    hint="check the outline; redraw it if the repair is wrong",
                )
            )
        if geom.geom_type not in allowed:
            problems.append(
                Problem.error(
                    source,
                    f"{geom.geom_type} is not allowed for {layer}",
                    row=row,
                    column="geometry",
                    hint=f"{layer} must be {' or '.join(allowed)}",
                )
            )
    return out, problems


def check_degrees(
    geoms: gpd.GeoSeries, *, source: str, row_label: Callable[[int], Any]
) -> list[Problem]:
    """For a geographic CRS: report features whose coordinates are not lon/lat degrees.

    A feature with latitude beyond ±90° but a longitude within ±90° is reported as
    swapped longitude/latitude (in China longitudes are 73–135°, latitudes 18–54°).

    Parameters
    ----------
    geoms
        Geometries in a geographic CRS.
    source
        File name for the messages.
    row_label
        Turns a position into the row number (or label) the user sees in the file.

    Returns
    -------
    list of Problem
        One error per feature out of range.
    """
    if geoms.crs is None or not CRS.from_user_input(geoms.crs).is_geographic:
        return []
    problems = []
    bounds = geoms.bounds.to_numpy()
    with np.errstate(invalid="ignore"):
        odd = np.abs(bounds).max(axis=1, initial=0.0, where=np.isfinite(bounds)) > 90
    for pos in np.flatnonzero(odd & np.isfinite(bounds[:, 0])).tolist():
        x0, y0, x1, y1 = bounds[pos]
        lat_bad = max(abs(y0), abs(y1)) > 90
        lon_bad = max(abs(x0), abs(x1)) > 180
        if lat_bad and max(abs(x0), abs(x1)) <= 90:
            problems.append(
                Problem.error(
                    source,
                    f"latitude {y0:g} is impossible and longitude {x0:g} looks like a latitude: "
                    "x and y are swapped",
                    row=row_label(pos),
                    column="geometry",
                    hint="write x = longitude, y = latitude (EPSG:4326 axis order "
                    "lon, lat in GIS files)",
                )
            )
        elif lat_bad or lon_bad:
            problems.append(
                Problem.error(
                    source,
                    f"coordinates ({x0:g}, {y0:g}) are not degrees though the CRS is geographic",
                    row=row_label(pos),
                    column="geometry",
                    hint="the file's CRS is wrong: set the CRS the coordinates are really in",
                )
            )
    return problems


def _median_gap_m(points: gpd.GeoSeries, reference: gpd.GeoSeries) -> float:
    crs = points.estimate_utm_crs()
    pts = points.to_crs(crs)
    tree = shapely.STRtree(reference.to_crs(crs).values)
    _, dist = tree.query_nearest(pts.values, return_distance=True, all_matches=False)
    return float(np.median(dist)) if len(dist) else float("nan")


def check_offset(
    points: gpd.GeoSeries,
    reference: gpd.GeoSeries,
    *,
    source: str,
    min_offset_m: float = 60.0,
) -> Problem | None:
    """Detect data in GCJ-02 or BD-09 that was declared WGS84, by comparing with a reference.

    The median distance from ``points`` (declared WGS84) to the nearest ``reference``
    geometry (e.g. the street network or POIs in true WGS84) is compared with the
    same distance after undoing a GCJ-02 or a BD-09 offset. If one conversion
    halves it and the raw median exceeds ``min_offset_m`` metres, the data are in
    that system.

    Parameters
    ----------
    points
        Geometries declared WGS84 (or CGCS2000), geographic CRS.
    reference
        Geometries known to be in true WGS84, geographic CRS.
    source
        File name for the message.
    min_offset_m
        Medians below this many metres are not reported (GCJ-02 offsets are
        300–700 m in Chinese cities, BD-09 ones about 1 km).

    Returns
    -------
    Problem or None
        An error naming the system the data are in, or None when they look right.
    """
    pts = points[~points.is_empty & points.notna()].representative_point()
    ref = reference[~reference.is_empty & reference.notna()]
    if len(pts) == 0 or len(ref) == 0:
        return None
    raw = _median_gap_m(pts, ref)
    best: tuple[float, str] | None = None
    for system, inverse in (("gcj02", gcj02_to_wgs84), ("bd09", bd09_to_wgs84)):
        lon, lat = inverse(pts.x.to_numpy(), pts.y.to_numpy())
        moved = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=pts.crs)
        gap = _median_gap_m(moved, ref)
        if best is None or gap < best[0]:
            best = (gap, system)
    assert best is not None
    if raw > min_offset_m and best[0] < 0.5 * raw:
        name = {"gcj02": "GCJ-02 (Amap/高德, Tencent)", "bd09": "BD-09 (Baidu/百度)"}[best[1]]
        return Problem.error(
            source,
            f"coordinates look like {name}, not WGS84: they lie a median {raw:.0f} m from the "
            f"reference data, {best[0]:.0f} m after converting from {best[1]}",
            column="geometry",
            hint=f"load the file with coords='{best[1]}' (--coords {best[1]})",
        )
    return None


def check_location(
    geoms: gpd.GeoSeries, *, source: str, row_label: Callable[[int], Any]
) -> list[Problem]:
    """Report features at (0, 0) (a missing location written as zero) and outside China.

    Parameters
    ----------
    geoms
        Geometries with a CRS.
    source
        File name for the messages.
    row_label
        Turns a position into the row number (or label) the user sees in the file.

    Returns
    -------
    list of Problem
        An error per feature at (0, 0); a warning per feature outside China's extent.
    """
    if geoms.crs is None or len(geoms) == 0:
        return []
    present = ~(geoms.isna() | geoms.is_empty)
    points = gpd.GeoSeries(shapely.point_on_surface(geoms[present].values), crs=geoms.crs)
    lonlat = shapely.get_coordinates(points.to_crs(4326).values)
    positions = np.flatnonzero(present.to_numpy())
    lo, hi = _CHINA_LONLAT
    problems = []
    lon_all, lat_all = lonlat[:, 0], lonlat[:, 1]
    inside = (lo[0] <= lon_all) & (lon_all <= hi[0]) & (lo[1] <= lat_all) & (lat_all <= hi[1])
    for k in np.flatnonzero(~inside).tolist():
        pos, (lon, lat) = int(positions[k]), lonlat[k]
        if abs(lon) < 1e-6 and abs(lat) < 1e-6:
            problems.append(
                Problem.error(
                    source,
                    "the location is (0, 0): a missing coordinate written as zero",
                    row=row_label(pos),
                    column="geometry",
                    hint="fill in the real location (经度/纬度) or remove the row",
                )
            )
        elif not (lo[0] <= lon <= hi[0] and lo[1] <= lat <= hi[1]):
            problems.append(
                Problem.warning(
                    source,
                    "the location is outside China (longitude 73–136°, latitude 3–54°)",
                    row=row_label(pos),
                    column="geometry",
                    hint="check the coordinates and the coordinate system (--coords, CRS)",
                )
            )
    return problems


# China's extent including the South China Sea islands (lon, lat): (min), (max)
_CHINA_LONLAT = ((73.0, 3.0), (136.0, 54.0))
