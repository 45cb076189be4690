"""Road line layers as planners have them: ends that miss, crossings without vertices,
Chinese road classes, bridges, multi-layer and polygon files."""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString, Polygon

from spatial import InputError
from spatial.network import (
    check_connected,
    load_network,
    read_line_layer,
    walk_network_from_lines,
)

UTM = 32650
X0, Y0 = 440000.0, 4428000.0


def _gdf(lines, **columns):
    return gpd.GeoDataFrame(columns, geometry=lines, crs=UTM)


def _jittered_grid(rng, n=6, step=100.0, jitter_m=0.3):
    """Block sides as separate lines whose ends miss the junction by up to ``jitter_m``,
    plus long avenues crossing every street without a shared vertex."""
    lines = []
    for i, j in itertools.product(range(n), range(n - 1)):
        for a, b in (((i, j), (i, j + 1)), ((j, i), (j + 1, i))):
            ends = [
                (X0 + step * p[0] + rng.uniform(-jitter_m, jitter_m) / 2, Y0 + step * p[1])
                for p in (a, b)
            ]
            lines.append(LineString(ends))
    return lines


def _ideal_grid(n=6, step=100.0):
    g = nx.grid_2d_graph(n, n)
    for u, v in g.edges:
        g.edges[u, v]["length"] = step
    return g


def test_jittered_cad_lines_join_within_snap_m_and_match_an_exact_grid():
    rng = np.random.default_rng(3)
    lines = _jittered_grid(rng)
    net = walk_network_from_lines(_gdf(lines), line_snap_m=1.0)
    assert net.n_nodes == 36 and len(net.pieces()) == 1
    # distances agree with the exact grid (networkx) to the jitter
    g = net.to_networkx()
    ideal = _ideal_grid()
    node_at = {
        (round((x - X0) / 100), round((y - Y0) / 100)): i for i, (x, y) in enumerate(net.node_xy)
    }
    for target in [(5, 5), (0, 5), (3, 2)]:
        ours = nx.shortest_path_length(g, node_at[(0, 0)], node_at[target], weight="length")
        exact = nx.shortest_path_length(ideal, (0, 0), target, weight="length")
        assert ours == pytest.approx(exact, abs=2.0)
    # without snapping the same layer falls apart, and that is an error with the fix
    loose = walk_network_from_lines(_gdf(lines), line_snap_m=0.0, split_crossings=False)
    assert len(loose.pieces()) > 10
    with pytest.raises(InputError) as err:
        check_connected(loose, source="roads.shp", line_snap_m=0.0)
    assert "pieces" in str(err.value) and "--line-snap-m" in str(err.value)


def test_crossing_lines_become_junctions_and_undershoots_join_where_they_project():
    avenue = LineString([(X0, Y0), (X0 + 1000, Y0)])
    street = LineString([(X0 + 400, Y0 - 300), (X0 + 400, Y0 + 300)])  # crosses, no vertex
    lane = LineString([(X0 + 700, Y0 + 200), (X0 + 700, Y0 + 0.6)])  # stops 0.6 m short
    net = walk_network_from_lines(_gdf([avenue, street, lane]))
    g = net.to_networkx()
    ids = {(round(x - X0), round(y - Y0)): i for i, (x, y) in enumerate(net.node_xy)}
    assert (400, 0) in ids and (700, 0) in ids  # the crossing and the T are nodes
    d = nx.shortest_path_length(g, ids[(400, -300)], ids[(700, 200)], weight="length")
    assert d == pytest.approx(300 + 300 + 200, abs=0.01)
    messages = " | ".join(p.message for p in net.problems)
    assert "1 line end(s) within 1 m joined a line" in messages
    assert "no bridge/tunnel/layer column" in messages
    assert "no road-class column found" in messages
    # as OSM does: only shared vertices join
    strict = walk_network_from_lines(
        _gdf([avenue, street, lane]), line_snap_m=0, split_crossings=False
    )
    assert len(strict.pieces()) == 3


def test_chinese_road_classes_keep_motorways_out_and_name_unknown_values():
    expressway = LineString([(X0, Y0), (X0 + 1000, Y0)])
    crossing = LineString([(X0 + 500, Y0 - 200), (X0 + 500, Y0 + 200)])
    side = LineString([(X0, Y0 + 200), (X0 + 1000, Y0 + 200)])
    odd = LineString([(X0, Y0 + 200), (X0, Y0 + 400)])
    layer = _gdf(
        [expressway, crossing, side, odd], 道路等级=["城市快速路", "主干路", "支路", "景观大道"]
    )
    net = walk_network_from_lines(layer)
    assert "motorway" not in set(net.highway)
    assert {"primary", "tertiary", "road"} <= set(net.highway)
    assert net.edges_gdf().length.sum() == pytest.approx(400 + 1000 + 200, abs=1e-6)
    messages = " | ".join(p.message for p in net.problems)
    assert "'景观大道' (1)" in messages and "taken as walkable" in messages
    assert "1 line(s) not walkable were left out: '城市快速路' (1)" in messages
    # Geofabrik fclass values are OSM values
    geofabrik = walk_network_from_lines(
        _gdf([expressway, crossing], fclass=["motorway", "footway"])
    )
    assert set(geofabrik.highway) == {"footway"}


def test_bridges_do_not_join_the_roads_beneath():
    road = LineString([(X0, Y0), (X0 + 1000, Y0)])
    bridge = LineString([(X0 + 500, Y0 - 300), (X0 + 500, Y0 + 300)])
    link = LineString([(X0 + 500, Y0 + 300), (X0 + 1000, Y0 + 300), (X0 + 1000, Y0)])
    layer = _gdf([road, bridge, link], 等级=["支路", "支路", "支路"], 桥梁=["否", "是", "否"])
    net = walk_network_from_lines(layer)
    g = net.to_networkx()
    ids = {(round(x - X0), round(y - Y0)): i for i, (x, y) in enumerate(net.node_xy)}
    assert (500, 0) not in ids  # no junction under the bridge
    d = nx.shortest_path_length(g, ids[(0, 0)], ids[(500, 300)], weight="length")
    assert d == pytest.approx(1000 + 300 + 500)
    assert not any("no bridge/tunnel/layer" in p.message for p in net.problems)


def test_line_files_layers_and_polygons(tmp_path):
    roads = _gdf([LineString([(X0, Y0), (X0 + 100, Y0)])], 道路等级=["支路"])
    walls = _gdf([Polygon([(X0, Y0), (X0 + 10, Y0), (X0 + 10, Y0 + 10)])])
    path = tmp_path / "城区.gpkg"
    roads.to_file(path, layer="道路", engine="pyogrio")
    roads.to_file(path, layer="河道中心线", engine="pyogrio")
    walls.to_file(path, layer="建筑", engine="pyogrio")
    with pytest.raises(InputError) as err:
        read_line_layer(path)
    assert "2 line layers" in str(err.value) and "--layer" in str(err.value)
    assert len(read_line_layer(path, layer="道路")) == 1
    with pytest.raises(InputError) as err:
        read_line_layer(path, layer="建筑")
    assert "not lines" in str(err.value)
    with pytest.raises(InputError) as err:
        read_line_layer(path, layer="桥")
    assert "no layer '桥'" in str(err.value) and "道路 (" in str(err.value)
    net = load_network(network=path, layer="道路")
    assert net.n_edges == 1
