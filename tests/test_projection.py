"""Metres inside, WGS84 at the edges; no distances in degrees."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point

from spatial.io.crs.chinese import (
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from spatial.io.crs.projection import (
    assert_metric,
    local_metric_crs,
    require_crs,
    to_metric,
    to_wgs84,
)


def test_local_utm_and_back():
    gdf = gpd.GeoDataFrame(geometry=[Point(116.35, 40.0), Point(116.36, 40.0)], crs=4326)
    assert local_metric_crs(gdf).to_epsg() == 32650
    m = to_metric(gdf)
    assert m.geometry.iloc[0].distance(m.geometry.iloc[1]) == pytest.approx(853.5, abs=1)
    back = to_wgs84(m)
    assert back.geometry.iloc[0].x == pytest.approx(116.35)
    assert gdf.crs.to_epsg() == 4326  # input untouched


@pytest.mark.parametrize("crs", [4326, 3857, 4490])
def test_the_local_zone_is_the_one_geopandas_estimates(crs):
    """The zone computed from the centre equals geopandas' database query (~80 ms a call)."""
    import numpy as np
    from shapely.geometry import box

    rng = np.random.default_rng(crs)
    lons, lats = rng.uniform(-179.5, 179.5, 20), rng.uniform(-79.0, 83.0, 20)
    lons[:3], lats[:3] = (116.35, 121.4, 73.6), (39.99, 31.3, 39.4)  # Beijing, Shanghai, Kashgar
    frames = [
        gpd.GeoDataFrame(geometry=[box(x, y, x + 0.04, y + 0.03)], crs=4326)
        for x, y in zip(lons, lats, strict=True)
    ]
    frames = [f.to_crs(crs) for f in frames]
    assert [local_metric_crs(f) for f in frames] == [f.estimate_utm_crs() for f in frames]


def test_degrees_and_missing_crs_are_refused():
    gdf = gpd.GeoDataFrame(geometry=[Point(116.35, 40.0)], crs=4326)
    with pytest.raises(ValueError, match="degrees"):
        assert_metric(gdf)
    with pytest.raises(ValueError, match="no coordinate reference system"):
        require_crs(gdf.set_crs(None, allow_override=True))


def test_published_gcj02_and_bd09_pairs():
    # Values published with the widely used coordTransform implementation.
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-9
    )
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-9
    )


def test_inverses_round_trip_and_outside_china_untouched():
    import numpy as np

    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(74, 134, 2000), rng.uniform(19, 53, 2000)
    for fwd, inv in ((wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)):
        x, y = inv(*fwd(lon, lat))
        assert np.abs(x - lon).max() * 111_000 < 0.01 and np.abs(y - lat).max() * 111_000 < 0.01
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


def test_a_large_frame_reprojected_in_two_threads_equals_to_crs(monkeypatch):
    """Polygons, lines and points over the threshold: the same coordinates, index, columns
    and CRS as geopandas' ``to_crs``, both ways; a frame with z goes through ``to_crs``."""
    import numpy as np
    import shapely

    from spatial.io.crs import projection

    monkeypatch.setattr(projection, "THREADED_FROM_VERTICES", 10)
    rng = np.random.default_rng(7)
    xy = rng.uniform([440_000, 4_420_000], [446_000, 4_426_000], (300, 2))
    geoms = [
        *shapely.points(xy[:100]),
        *shapely.linestrings(xy[100:199].reshape(-1, 3, 2)),
        shapely.box(440_000, 4_420_000, 440_500, 4_420_700),
        shapely.Polygon(),
    ]
    frame = gpd.GeoDataFrame(
        {"name": [f"n{k}" for k in range(len(geoms))]},
        geometry=geoms,
        index=np.arange(len(geoms))[::-1] * 3,
        crs=32650,
    )
    for src, crs in ((frame, 4326), (frame.to_crs(4326), 32650)):
        want, got = src.to_crs(crs), projection.reproject(src, crs)
        assert got.crs == want.crs and list(got.columns) == list(want.columns)
        assert got.index.equals(want.index) and got["name"].equals(want["name"])
        assert np.array_equal(
            shapely.get_coordinates(got.geometry.values),
            shapely.get_coordinates(want.geometry.values),
        )
        assert shapely.is_empty(got.geometry.values).tolist() == [False] * 134 + [True]
    assert src.crs.to_epsg() == 4326  # the argument is left as it was
    with_z = frame.set_geometry(shapely.force_3d(frame.geometry.values), crs=32650)
    assert projection.reproject(with_z, 4326).geometry.has_z.iloc[0]
