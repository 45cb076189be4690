"""Walk networks from every source agree; the pedestrian filter comes before anything else."""

from __future__ import annotations

import warnings

import numpy as np
import osmnx as ox
import pytest

from spatial.network import (
    is_walkable,
    walk_network_from_graph,
    walk_network_from_graphml,
    walk_network_from_osm,
    walk_network_from_place,
)


@pytest.fixture(scope="module")
def osm_net(cau_osm):
    return walk_network_from_osm(cau_osm)


@pytest.fixture(scope="module")
def raw_graph(cau_osm):
    with warnings.catch_warnings():
        # osmnx warns that graph_from_xml is meant for small files; ours is one.
        warnings.simplefilter("ignore", UserWarning)
        return ox.graph_from_xml(cau_osm, simplify=False, retain_all=True)


@pytest.mark.parametrize(
    ("tags", "walkable"),
    [
        ({"highway": "footway"}, True),
        ({"highway": "primary"}, True),
        ({"highway": "motorway"}, False),
        ({"highway": "motorway_link"}, False),
        ({"highway": "cycleway"}, False),
        ({"highway": "construction"}, False),
        ({"highway": "residential", "foot": "no"}, False),
        ({"highway": "service", "access": "private"}, False),
        ({"highway": "pedestrian", "area": "yes"}, False),
        ({"highway": "primary", "sidewalk": "separate"}, False),
        ({"building": "yes"}, False),
    ],
)
def test_walk_rule_is_osmnx_walk(tags, walkable):
    assert is_walkable(tags) is walkable


def test_network_is_undirected_metric_and_reports_pieces(osm_net):
    assert osm_net.crs.to_epsg() == 32650
    assert (osm_net.u != osm_net.v).all()
    pairs = {frozenset(p) for p in zip(osm_net.u.tolist(), osm_net.v.tolist(), strict=True)}
    assert len(pairs) == osm_net.n_edges  # one edge per pair: direction is ignored
    seg = np.hypot(*(osm_net.node_xy[osm_net.u] - osm_net.node_xy[osm_net.v]).T)
    np.testing.assert_allclose(osm_net.length_m, seg)
    pieces = osm_net.pieces()
    assert pieces["nodes"].sum() == osm_net.n_nodes and len(pieces) > 1
    assert pieces["nodes"].is_monotonic_decreasing


def test_graph_from_xml_is_filtered_before_use(osm_net, raw_graph):
    net = walk_network_from_graph(raw_graph)
    assert raw_graph.number_of_nodes() > 3 * net.n_nodes  # buildings etc. in the raw graph
    assert net.n_nodes == osm_net.n_nodes and net.n_edges == osm_net.n_edges
    assert net.length_m.sum() == pytest.approx(osm_net.length_m.sum(), rel=1e-9)


def test_simplifying_before_filtering_is_wrong(osm_net, raw_graph):
    """osmnx.simplify_graph on the unfiltered graph merges outlines into street edges."""
    wrong = walk_network_from_graph(ox.simplify_graph(raw_graph))
    assert wrong.length_m.sum() > 1.2 * osm_net.length_m.sum()


def test_graphml_round_trip(osm_net, raw_graph, tmp_path):
    path = tmp_path / "cau.graphml"
    ox.save_graphml(raw_graph, path)
    net = walk_network_from_graphml(path)
    assert net.n_edges == osm_net.n_edges
    assert net.length_m.sum() == pytest.approx(osm_net.length_m.sum(), rel=1e-9)


def test_graphml_keeps_curved_geometry_without_osmnx(raw_graph, tmp_path):
    """Read with networkx alone: WKT geometry, list-valued tags and node ids come back typed."""
    simple = ox.simplify_graph(raw_graph)
    path = tmp_path / "simple.graphml"
    ox.save_graphml(simple, path)
    direct = walk_network_from_graph(simple)
    read = walk_network_from_graphml(path)
    assert read.n_edges == direct.n_edges
    assert read.length_m.sum() == pytest.approx(direct.length_m.sum(), rel=1e-9)
    assert sorted(read.node_id[read.node_id >= 0]) == sorted(direct.node_id[direct.node_id >= 0])


def test_place_download_path_offline(osm_net, raw_graph, monkeypatch):
    """The real osmnx call is kept; here osmnx answers from the local file."""
    calls = []

    def fake(query, **kwargs):
        calls.append((query, kwargs))
        return raw_graph

    monkeypatch.setattr(ox, "graph_from_place", fake)
    net = walk_network_from_place("海淀区, 北京市")
    assert calls == [
        ("海淀区, 北京市", {"network_type": "walk", "simplify": False, "retain_all": True})
    ]
    assert net.n_edges == osm_net.n_edges


def test_attachment_is_the_nearest_edge_by_brute_force(osm_net):
    """Every point goes to its nearest edge within the snap limit, as measured against all
    edges; points off the limit, missing or empty are left off."""
    import shapely

    from spatial.network import attach_points

    rng = np.random.default_rng(7)
    lo, hi = osm_net.node_xy.min(axis=0) - 300, osm_net.node_xy.max(axis=0) + 300
    pts = rng.uniform(lo, hi, (400, 2))
    pts[:20] = osm_net.node_xy[:20]  # on nodes: ties between the edges meeting there
    geoms = shapely.points(pts)
    geoms[-2:] = [None, shapely.Point()]
    got = attach_points(osm_net, geoms, snap_limit_m=150, main_band_m=None)
    dist = shapely.distance(geoms[:-2, None], osm_net.edge_lines[None, :])
    best = dist.min(axis=1)
    near = best <= 150
    assert 0 < near.sum() < len(near)  # both kinds occur
    assert (got.on_network[:-2] == near).all() and not got.on_network[-2:].any()
    assert np.allclose(got.leg_m[:-2][near], best[near])
    rows = np.flatnonzero(near)
    assert (got.edge[rows] == np.argmin(dist[rows], axis=1)).all()  # ties: lowest edge index
    loc = shapely.line_locate_point(osm_net.edge_lines[got.edge[rows]], geoms[rows])
    assert np.allclose(got.offset_m[rows], loc)
    # by default a point nearest a small piece goes to the main network within 20 m more
    main = osm_net.component[osm_net.u] == 0
    pref = attach_points(osm_net, geoms, snap_limit_m=150)
    d_main = np.where(main[None, :], dist, np.inf).min(axis=1)
    moved = near & ~main[np.argmin(dist, axis=1)] & (d_main <= best + 20)
    assert moved.any() and (main[pref.edge[:-2][moved]]).all()
    assert np.allclose(pref.leg_m[:-2][moved], d_main[moved])
    kept = near & ~moved
    assert (pref.edge[:-2][kept] == got.edge[:-2][kept]).all()
