"""Service-area outlines cut once into tiles for a map book (spatial.render.outlines):
what a page draws equals the whole outline cut to the page's box."""

from functools import reduce

import geopandas as gpd
import numpy as np
import pytest
import shapely

from spatial.render.outlines import OutlineTiles


def _even_odd(shape: shapely.Geometry) -> shapely.Geometry:
    """What a canvas fills of a tile cut with the even-odd rule: the symmetric
    difference of its polygons."""
    return reduce(shapely.symmetric_difference, shapely.get_parts(shape))


def _outlines() -> gpd.GeoDataFrame:
    """A 2 km corridor-like outline with a lattice of 400 holes (blocks the service area
    leaves out) and an island, and a second category's small square, UTM 50N (Beijing)."""
    x0, y0 = 440_000.0, 4_420_000.0
    holes = [
        shapely.box(
            x0 + i * 100 + 20, y0 + j * 100 + 20, x0 + i * 100 + 80, y0 + j * 100 + 80
        ).exterior.coords
        for i in range(20)
        for j in range(20)
    ]
    shell = shapely.Polygon(shapely.box(x0, y0, x0 + 2000, y0 + 2000).exterior.coords, holes)
    island = shapely.box(x0 + 2200, y0, x0 + 2300, y0 + 100)
    other = shapely.box(x0 + 500, y0 + 500, x0 + 700, y0 + 700)
    return gpd.GeoDataFrame(
        {"category": ["bus_stop", "clinic"]},
        geometry=[shapely.MultiPolygon([shell, island]), other],
        crs=32650,
    )


def test_tiles_cover_what_the_outline_covers_in_any_box():
    frame = _outlines()
    tiles = OutlineTiles([frame], max_vertices=64)
    assert len(tiles) > 3  # the corridor was cut
    wgs = dict(zip(frame["category"], frame.to_crs(4326).geometry.values, strict=True))
    w, s, e, n = frame.to_crs(4326).total_bounds
    dx, dy = e - w, n - s
    boxes = [
        (w - dx, s - dy, e + dx, n + dy),  # everything
        (w + 0.1 * dx, s + 0.1 * dy, w + 0.45 * dx, s + 0.6 * dy),  # through holes
        (w + 0.3 * dx, s, w + 0.31 * dx, n),  # a thin strip across the lattice
        (w + 0.95 * dx, s, e, s + 0.05 * dy),  # the island alone
    ]
    for bounds in boxes:
        cut = tiles.cut(bounds)
        assert cut.crs.to_epsg() == 4326
        expected = {c for c, g in wgs.items() if shapely.intersects(g, shapely.box(*bounds))}
        assert set(cut["category"]) == expected
        for cat, shape in zip(cut["category"], cut.geometry.values, strict=True):
            ref = shapely.intersection(wgs[cat], shapely.box(*bounds))
            drawn = _even_odd(shape)
            assert shapely.area(shapely.symmetric_difference(drawn, ref)) <= 1e-9 * ref.area
    off = tiles.cut((w - 2 * dx, s - 2 * dy, w - 1.5 * dx, s - 1.5 * dy))
    assert len(off) == 0 and list(off.columns) == ["category", "geometry"]


def test_no_outlines_no_tiles():
    tiles = OutlineTiles([])
    assert len(tiles) == 0
    assert len(tiles.cut((116.0, 39.0, 117.0, 40.0))) == 0


def decoded_layer(text: str) -> dict[int, shapely.Geometry]:
    """A layer's text (spatial/render/page.py's format) back to geometries by row."""
    import json

    import numpy as np

    out = {}
    for part in json.loads(text)["parts"]:
        xy = np.cumsum(np.asarray(part["c"], dtype=np.int64).reshape(-1, 2), axis=0)
        xy = xy / part["s"]
        kind = {"Polygon": shapely.GeometryType.POLYGON}.get(
            part["t"], shapely.GeometryType.MULTIPOLYGON
        )
        offsets = tuple(np.asarray(o, dtype=np.int64) for o in part["off"])
        geoms = shapely.from_ragged_array(kind, xy, offsets)
        out |= dict(zip(part["rows"], geoms, strict=True))
    return out


def old_layer_text(areas: gpd.GeoDataFrame, basemap: str = "none") -> str:
    """The text the gap map wrote before: outlines simplified into polygons again, then
    the page's own path (map_frame, layer_json)."""
    from spatial.render.offline import map_frame
    from spatial.render.outlines import generalise_outlines
    from spatial.render.page import layer_json

    simple = generalise_outlines(areas[["category", "geometry"]]).to_crs(4326)
    geo = map_frame(simple[["geometry"]], basemap=basemap, simplify_m=0, decimals=None)
    return layer_json(geo.geometry, {}, decimals=5)


def test_outline_text_drops_what_simplifies_away_and_keeps_the_rest():
    """Rows whose polygons vanish are left out, a hole that vanishes leaves its shell,
    and what is kept is the outline simplified ring by ring (WGS84, 1e-5 degrees)."""
    from spatial.render.outline_text import outline_layer_text

    x0, y0 = 116.30, 39.95
    big = shapely.box(x0, y0, x0 + 0.01, y0 + 0.01)
    tiny_hole = shapely.box(x0 + 0.005, y0 + 0.005, x0 + 0.005 + 2e-5, y0 + 0.005 + 2e-5)
    frame = gpd.GeoDataFrame(
        {"category": list("abcd")},
        geometry=[
            shapely.Polygon(big.exterior.coords, [tiny_hole.exterior.coords]),
            shapely.box(x0, y0, x0 + 2e-5, y0 + 2e-5),  # ~2 m: gone at 8 m
            shapely.Polygon(),
            shapely.MultiPolygon([big, shapely.box(x0 + 0.02, y0, x0 + 0.03, y0 + 0.01)]),
        ],
        crs=4326,
    )
    text = outline_layer_text(frame, tolerance_m=8.0)
    rows = decoded_layer(text)
    assert sorted(int(r) for r in rows) == [0, 3]
    assert shapely.equals(rows[0], shapely.MultiPolygon([big])) or shapely.equals(rows[0], big)
    assert shapely.get_num_interior_rings(shapely.get_parts(rows[0])).sum() == 0
    assert shapely.get_num_geometries(rows[3]) == 2
    assert text == old_layer_text(frame)


def test_outlines_traced_on_coarse_cells_are_not_simplified_again():
    """A gap run's outline is simplified by a quarter of the cell it was traced on
    (``cell_m``): from 32 m cells on that is the map's 8 m already, so the map takes it
    as it is; on 5 m cells (1.25 m) the map simplifies it."""
    from spatial.render.outline_text import outline_layer_text, simplified_m
    from spatial.render.outlines import generalise_outlines

    x0, y0 = 116.30, 39.95
    ring = [(x0 + 0.01 * np.cos(t), y0 + 0.01 * np.sin(t)) for t in np.linspace(0, 6.2, 400)]
    frame = gpd.GeoDataFrame({"category": ["a"]}, geometry=[shapely.Polygon(ring)], crs=4326)
    plain = outline_layer_text(frame, tolerance_m=0.0)
    simplified = outline_layer_text(frame, tolerance_m=8.0)
    assert simplified != plain  # 400 points a few metres apart: the map drops some
    fine, coarse = frame.assign(cell_m=5.0), frame.assign(cell_m=33.2)
    assert simplified_m(fine) == 1.25 and simplified_m(coarse) == pytest.approx(8.3)
    assert outline_layer_text(fine, tolerance_m=8.0) == simplified
    assert outline_layer_text(coarse, tolerance_m=8.0) == plain
    assert generalise_outlines(coarse) is coarse
    assert (
        generalise_outlines(fine)
        .geometry.iloc[0]
        .equals(generalise_outlines(frame).geometry.iloc[0])
    )
    # a file from before cell_m: simplified as it always was
    assert simplified_m(frame) == 0.0
