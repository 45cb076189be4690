"""The gap engine on hand-built networks with known answers."""

from __future__ import annotations

import warnings
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import metric, write_osm_xml
from shapely.geometry import LineString, Polygon
from shapely.geometry import box as rect

from spatial._errors import InputWarning
from spatial.lifecircle import compute_gaps
from spatial.network import walk_network_from_lines, walk_network_from_osm
from spatial.standards import load_categories

UTM = "EPSG:32650"
KG = [c for c in load_categories() if c.id in ("kindergarten", "bus_stop")]  # radius 300, 500


def _gdf(rows, geoms):
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=UTM)


def _compounds(*geoms, households=100):
    return _gdf(
        {
            "id": [f"C{i}" for i in range(len(geoms))],
            "name": [f"小区{i}" for i in range(len(geoms))],
            "households": [households] * len(geoms),
        },
        list(geoms),
    )


def _pois(*items):
    return _gdf(
        {"name": [f"P{i}" for i in range(len(items))], "category": [c for c, _ in items]},
        [g for _, g in items],
    )


def _distance(result, compound_id, category):
    g = result.gaps.set_index(["compound_id", "category"])
    return g.loc[(compound_id, category), "distance_m"]


def test_poi_on_the_same_edge_as_the_access_point():
    net = walk_network_from_lines(_gdf({}, [LineString([(440000, 4428000), (441000, 4428000)])]))
    comp = _compounds(metric(300, 10))
    pois = _pois(("kindergarten", metric(500, -5)))
    res = compute_gaps(comp, pois, net, categories=KG, service_areas=False)
    # a point 10 m off the street leaves it straight to the street's point 30 m from it
    # (R = d_min + 20), walks on and reaches the kindergarten 5 m off the street from the
    # point 25 m from it: not 10 m across, 200 m along and 5 m across
    expected = 30 + 25 + 200 - np.sqrt(30**2 - 10**2) - np.sqrt(25**2 - 5**2)
    assert _distance(res, "C0", "kindergarten") == pytest.approx(expected, abs=0.01)
    assert res.compounds.loc[0, "access"] == "nearest"
    assert res.gaps.set_index("category").loc["kindergarten", "covered"]


def test_one_way_street_binds_no_walker_and_motorway_and_buildings_are_not_edges(tmp_path):
    nodes = {
        1: (0, 0),
        2: (400, 0),
        3: (800, 0),
        4: (0, 100),
        5: (800, 100),
        6: (0, 50),
        7: (800, 50),
        8: (100, 300),
        9: (700, 300),
    }
    ways = [
        ([3, 2, 1], {"highway": "residential", "oneway": "yes"}),  # runs west only
        ([4, 5], {"highway": "motorway"}),  # a shortcut a walker may not take
        ([6, 7], {"building": "yes"}),  # an outline, not a street
        ([1, 8, 9, 3], {"highway": "footway", "foot": "no"}),
    ]
    path = write_osm_xml(tmp_path / "oneway.osm", nodes, ways)
    net = walk_network_from_osm(path)
    assert set(net.highway) == {"residential"} and net.n_edges == 2
    comp = _compounds(metric(0, -20))  # near node 1
    pois = _pois(("kindergarten", metric(800, -30)))  # near node 3: east, against the one-way
    res = compute_gaps(comp, pois, net, categories=KG, service_areas=False)
    # OSM stores coordinates to 1e-7 degrees (about 1 cm): compare to the centimetre.
    expected = 40 + 50 + 800 - np.sqrt(40**2 - 20**2) - np.sqrt(50**2 - 30**2)  # R 40, 50 m
    assert _distance(res, "C0", "kindergarten") == pytest.approx(expected, abs=0.02)


def test_compound_with_two_gates_takes_the_nearer(tmp_path):
    nodes = {
        1: (110, -200),
        2: (110, -10),
        3: (110, 50),
        4: (110, 300),
        5: (-300, -10),
        6: (50, -10),
        10: (100, 50, {"barrier": "gate"}),
        11: (50, 0, {"entrance": "main"}),
    }
    ways = [
        ([1, 2, 3, 4], {"highway": "secondary"}),
        ([5, 6, 2], {"highway": "residential"}),
        ([10, 3], {"highway": "footway"}),
        ([11, 6], {"highway": "footway"}),
    ]
    net = walk_network_from_osm(write_osm_xml(tmp_path / "gates.osm", nodes, ways))
    assert net.gate.sum() == 2
    square = Polygon([(440000, 4428000), (440100, 4428000), (440100, 4428100), (440000, 4428100)])
    comp = _compounds(square)
    pois = _pois(("kindergarten", metric(-300, -15)), ("bus_stop", metric(110, 290)))
    res = compute_gaps(comp, pois, net, categories=KG, service_areas=False)
    assert res.compounds.loc[0, "access"] == "gate"
    # south gate: 10 to the street, west to the point 25 m (its R) from the kindergarten
    # 5 m off the street's end, then straight to it; east gate: 10 + 60 + 410 + more.
    expected = 10 + 350 - np.sqrt(25**2 - 5**2) + 25
    assert _distance(res, "C0", "kindergarten") == pytest.approx(expected, abs=0.02)
    # east gate: 10 to the street, 240 north, 0 leg.
    assert _distance(res, "C0", "bus_stop") == pytest.approx(10 + 240, abs=0.02)


def test_boundary_crossings_are_access_points_without_gates():
    lines = [LineString([(439800, 4428050), (440300, 4428050)])]  # crosses the compound
    net = walk_network_from_lines(_gdf({}, lines))
    comp = _compounds(rect(440000, 4428000, 440100, 4428100))
    pois = _pois(("kindergarten", metric(290, 50)))
    res = compute_gaps(comp, pois, net, categories=KG, service_areas=False)
    assert res.compounds.loc[0, "access"] == "crossing"
    assert _distance(res, "C0", "kindergarten") == pytest.approx(190, abs=1e-6)


def test_category_without_poi_unreachable_piece_and_off_network_poi():
    lines = [
        LineString([(440000, 4428000), (441000, 4428000)]),
        LineString([(440000, 4429000), (440100, 4429000)]),
    ]  # a separate piece
    net = walk_network_from_lines(_gdf({}, lines))
    comp = _compounds(metric(100, 5), metric(50, 1005))
    pois = _pois(("kindergarten", metric(200, -5)), ("kindergarten", metric(600, 400)))
    res = compute_gaps(comp, pois, net, categories=KG, service_areas=False)
    expected = 25 + 25 + 100 - 2 * np.sqrt(25**2 - 5**2)  # both R = 5 + 20 m
    assert _distance(res, "C0", "kindergarten") == pytest.approx(expected, abs=0.01)
    assert np.isnan(_distance(res, "C1", "kindergarten"))  # empty, never a sentinel
    assert not res.gaps.set_index(["compound_id", "category"]).loc[
        ("C1", "kindergarten"), "covered"
    ]
    assert res.gaps.query("category == 'bus_stop'")["distance_m"].isna().all()
    assert res.pois["attached"].tolist() == [True, False]  # 400 m off: left out
    messages = " | ".join(p.message for p in res.problems)
    assert "1 POI(s) are more than 150 m" in messages
    no_poi = [p for p in res.problems if p.message == "no POI of the category in the inputs"]
    assert [p.column for p in no_poi] == ["bus_stop 公交车站"]
    cut = [p for p in res.problems if "cut off from the main network" in p.message]
    assert [(p.row, p.column) for p in cut] == [("C1", None)]
    assert cut[0].message.startswith("compound 小区1 reaches only")
    status = res.gaps.set_index(["compound_id", "category"])["status"]
    assert status[("C0", "kindergarten")] == "covered"
    assert status[("C1", "kindergarten")] == "unreachable"  # its piece has no kindergarten
    assert status[("C0", "bus_stop")] == status[("C1", "bus_stop")] == "no_data"
    # a category with no data is listed apart, not counted as missing ...
    comp_out = res.compounds.set_index("id")
    assert comp_out.loc["C1", "missing"] == "kindergarten"
    assert comp_out.loc["C1", "no_data"] == "bus_stop"
    assert comp_out.loc["C0", "n_missing"] == 0
    assert res.summary.set_index("category").loc["bus_stop", "status_no_data"] == 2
    assert res.summary.set_index("category").loc["kindergarten", "facilities"] == 1
    # ... unless asked
    asked = compute_gaps(comp, pois, net, categories=KG, service_areas=False, count_no_data=True)
    asked_out = asked.compounds.set_index("id")
    assert asked_out.loc["C1", "missing"] == "kindergarten;bus_stop"
    assert asked_out.loc["C0", "n_missing"] == 1
    assert asked_out.loc["C0", "gap_score"] == pytest.approx(100 * 1 / 2)


def test_beyond_the_search_limit_is_empty_with_a_status_and_summary_weights_households():
    net = walk_network_from_lines(_gdf({}, [LineString([(440000, 4428000), (445000, 4428000)])]))
    comp = _gdf(
        {"id": ["A", "B"], "name": ["甲", "乙"], "households": [300, 100]},
        [metric(0, 0), metric(4000, 0)],
    )
    pois = _pois(("kindergarten", metric(100, 0)))
    res = compute_gaps(comp, pois, net, categories=KG[:1], search_limit_m=3000, service_areas=False)
    assert _distance(res, "A", "kindergarten") == pytest.approx(100)
    assert np.isnan(_distance(res, "B", "kindergarten"))  # 3900 m > 3000 m
    status = res.gaps.set_index("compound_id")["status"]
    assert status["A"] == "covered" and status["B"] == "beyond_limit"
    longer = compute_gaps(
        comp, pois, net, categories=KG[:1], search_limit_m=5000, service_areas=False
    )
    assert _distance(longer, "B", "kindergarten") == pytest.approx(3900)
    assert longer.gaps.set_index("compound_id").loc["B", "status"] == "too_far"
    away = comp.assign(geometry=[metric(0, 0), metric(100, 900)])  # B 900 m off the street
    res_away = compute_gaps(away, pois, net, categories=KG[:1], service_areas=False)
    assert res_away.gaps.set_index("compound_id").loc["B", "status"] == "off_network"
    row = res.summary.iloc[0]
    assert row["share_compounds_covered"] == 0.5 and row["share_households_covered"] == 0.75


def test_service_area_is_the_reachable_part_of_edges():
    net = walk_network_from_lines(
        _gdf(
            {},
            [
                LineString([(440000, 4428000), (441000, 4428000), (442000, 4428000)]),
                LineString([(441000, 4428000), (441000, 4429000)]),
            ],
        )
    )  # joined at a shared vertex
    comp = _compounds(metric(300, 0))
    pois = _pois(("kindergarten", metric(1000, 100)))  # on the north branch, 100 m up
    res = compute_gaps(comp, pois, net, categories=KG[:1], service_area_streets=True)
    area = res.service_areas.iloc[0]["streets"]
    # kept only when asked: a whole city's street parts take gigabytes
    assert "streets" not in compute_gaps(comp, pois, net, categories=KG[:1]).service_areas
    # 300 m around the POI: 400 along the branch (100 down, 300 up), 200 each way east/west.
    assert area.length == pytest.approx(400 + 200 + 200, abs=1e-6)
    assert _distance(res, "C0", "kindergarten") == pytest.approx(700 + 100)
    # traced on 5 m cells: the corridor keeps its shape, and nothing is said
    assert res.service_areas.iloc[0]["cell_m"] == 5.0
    assert not [p for p in res.problems if p.column == "cell_m"]
    # a grid too small for the area: coarser cells, and the run says the outline is generalised
    coarse = compute_gaps(comp, pois, net, categories=KG[:1], service_area_max_cells=500)
    cell_m = coarse.service_areas.iloc[0]["cell_m"]
    assert cell_m > 12.0
    (said,) = [p for p in coarse.problems if p.column == "cell_m"]
    assert said.severity == "warning" and f"{cell_m:.0f} m" in said.message
    assert "generalised" in said.message and "service_area_max_cells" in said.hint
    # up to 0.8 of the 15 m half width (12 m) the outline keeps its shape
    for cell_m, says in ((12.0, False), (12.5, True)):
        res = compute_gaps(comp, pois, net, categories=KG[:1], service_area_cell_m=cell_m)
        assert res.service_areas.iloc[0]["cell_m"] == cell_m
        assert bool([p for p in res.problems if p.column == "cell_m"]) is says


def _reachable_parts_checked(net, sources, radius_m: float) -> int:
    """Check the reachable parts of ``sources`` against points every 0.5 m of every edge
    whose walk to the nearest source networkx measures; the points checked."""
    import networkx as nx
    import shapely

    from spatial.lifecircle.areas import _reachable_segments
    from spatial.lifecircle.engine import node_distances

    g = nx.Graph()
    for a, b, w in zip(net.u.tolist(), net.v.tolist(), net.length_m.tolist(), strict=True):
        if not g.has_edge(a, b) or g[a][b]["weight"] > w:
            g.add_edge(a, b, weight=w)
    n = np.maximum(np.ceil(net.length_m / 0.5).astype(int), 1)
    edge = np.repeat(np.arange(len(n)), n + 1)
    share = (np.arange(len(edge)) - np.repeat(np.cumsum(n + 1) - (n + 1), n + 1)) / n[edge]
    along = share * net.length_m[edge]
    p0, p1 = net.node_xy[net.u[edge]], net.node_xy[net.v[edge]]
    pts = p0 + (p1 - p0) * share[:, None]
    ok = sources.on_network
    e, off, leg = sources.edge[ok], sources.offset_m[ok], sources.leg_m[ok]
    seeds: dict[int, float] = {}
    for ei, o, lg in zip(e.tolist(), off.tolist(), leg.tolist(), strict=True):
        for node, way in ((int(net.u[ei]), o), (int(net.v[ei]), net.length_m[ei] - o)):
            seeds[node] = min(seeds.get(node, np.inf), lg + way)
    for node, d in seeds.items():
        g.add_edge("facilities", node, weight=d)
    node_dist = nx.single_source_dijkstra_path_length(g, "facilities")
    dn = np.array([node_dist.get(k, np.inf) for k in range(len(net.node_xy))])
    walk = np.minimum(dn[net.u[edge]] + along, dn[net.v[edge]] + net.length_m[edge] - along)
    for ei, o, lg in zip(e.tolist(), off.tolist(), leg.tolist(), strict=True):
        here = edge == ei
        walk[here] = np.minimum(walk[here], lg + np.abs(along[here] - o))
    seg = _reachable_segments(
        net, node_distances(net, sources, limit_m=radius_m), sources, radius_m
    )
    parts = shapely.linestrings(seg.reshape(-1, 2), indices=np.repeat(np.arange(len(seg)), 2))
    near = np.zeros(len(pts), dtype=bool)
    near[shapely.STRtree(parts).query(shapely.points(pts), "dwithin", distance=1e-6)[0]] = True
    clear = np.abs(walk - radius_m) > 1e-6  # a point at the very end may go either way
    assert (near[clear] == (walk[clear] <= radius_m)).all()
    # merged: no two parts overlap
    assert shapely.union_all(parts).length == pytest.approx(shapely.length(parts).sum(), rel=1e-9)
    return int((near & clear).sum())


def test_reachable_street_parts_match_an_independent_walk(demo_city):
    """Every street point within the radius, and only those, lies on a reachable part,
    and no two parts overlap: points every 0.5 m of every edge, their walk to the
    nearest facility measured by networkx (the facility's leg and its way along its
    edge, then the network), not by the engine. Edges reached from both ends, whole or
    not, and edges with facilities on them (their pieces merged), on the demo and on
    long streets with facilities halfway along them."""
    from spatial.io import load_layer
    from spatial.lifecircle.pois import classify_pois
    from spatial.network import attach_points

    x0, y0 = 440000, 4428000
    long_streets = walk_network_from_lines(
        _gdf(
            {},
            [
                LineString([(x0, y0), (x0 + 2000, y0), (x0 + 2000, y0 + 700)]),
                LineString([(x0, y0), (x0, y0 + 700), (x0 + 2000, y0 + 700)]),
            ],
        )
    )
    at = np.array([[x0 + 1000, y0 + 40], [x0 + 1250, y0 - 10], [x0 + 300, y0 + 700]])
    sources = attach_points(long_streets, at, snap_limit_m=150)
    assert _reachable_parts_checked(long_streets, sources, 300.0) > 2_000

    comp = load_layer(demo_city.gpkg, "compounds", source_layer="compounds")
    net = walk_network_from_osm(demo_city.osm, crs=comp.crs)
    pois = load_layer(demo_city.gpkg, "pois", source_layer="pois").to_crs(net.crs)
    kinds = classify_pois(pois, categories=load_categories()).fillna("").str.split(";")
    xy = np.column_stack([pois.geometry.x, pois.geometry.y])
    attach = attach_points(net, xy, snap_limit_m=150)
    checked = 0
    for cat in [c for c in load_categories() if c.id in ("kindergarten", "pharmacy", "bus_stop")]:
        sources = attach.take(kinds.map(lambda k, c=cat: c.id in k).to_numpy())
        checked += _reachable_parts_checked(net, sources, cat.radius_m)
    assert checked > 10_000


def test_reachable_counts_match_distances():
    lines = [
        LineString([(440000, 4428000), (440500, 4428000), (441000, 4428000)]),
        LineString([(440500, 4428000), (440500, 4428600)]),
    ]
    net = walk_network_from_lines(_gdf({}, lines))
    comp = _compounds(metric(100, 0), metric(500, 500), metric(950, 0))
    # Kindergartens at 150 m, 280 m and 450 m from the first compound along the street.
    pois = _pois(
        ("kindergarten", metric(250, 0)),
        ("kindergarten", metric(380, 0)),
        ("kindergarten", metric(550, 0)),
        ("bus_stop", metric(500, 100)),
    )
    res = compute_gaps(comp, pois, net, categories=KG, count_reachable=True, service_areas=False)
    counts = res.gaps.set_index(["compound_id", "category"])["reachable_count"]
    # C0: 150 and 280 within 300 m. C1 (on the branch, 500 m up): none within 300 m.
    # C2: 550 at 400 m, 380 at 570: none within 300 m.
    assert counts.loc[("C0", "kindergarten")] == 2
    assert counts.loc[("C1", "kindergarten")] == 0 and counts.loc[("C2", "kindergarten")] == 0
    assert counts.loc[("C1", "bus_stop")] == 1 and counts.loc[("C0", "bus_stop")] == 1
    covered = res.gaps.set_index(["compound_id", "category"])["covered"]
    assert ((counts > 0) == covered).all()


def test_reachable_counts_in_batches_equal_one_batch():
    from spatial.lifecircle import reachable_counts
    from spatial.network import attach_points
    from spatial.network.attach import compound_access_points

    rng = np.random.default_rng(5)
    ticks = [100 * k for k in range(11)]  # a 1 km grid, streets joined at every crossing
    lines = [LineString([(440000 + i, 4428000 + j) for j in ticks]) for i in ticks]
    lines += [LineString([(440000 + i, 4428000 + j) for i in ticks]) for j in ticks]
    net = walk_network_from_lines(_gdf({}, lines))
    assert net.n_nodes == 121
    pts = rng.uniform([440000, 4428000], [441000, 4429000], (40, 2))
    homes = gpd.GeoSeries(
        gpd.points_from_xy(*rng.uniform([440000, 4428000], [441000, 4429000], (15, 2)).T), crs=UTM
    )
    src = attach_points(net, pts, snap_limit_m=150)
    acc = compound_access_points(net, homes, snap_limit_m=150)
    one = reachable_counts(net, src, acc, 15, radius_m=300)
    many = reachable_counts(net, src, acc, 15, radius_m=300, max_cells=3 * net.n_nodes)
    assert (one == many).all() and one.sum() > 0


def test_searches_shared_with_a_second_process_equal_those_done_here(demo_city, monkeypatch):
    """The per-category searches split between two processes give the distances one
    process gives, category by category."""
    import time

    import spatial.lifecircle.parallel as parallel
    from spatial.io import load_layer
    from spatial.lifecircle.engine import point_distances
    from spatial.lifecircle.gaps import _membership
    from spatial.lifecircle.parallel import category_distances
    from spatial.lifecircle.pois import classify_pois
    from spatial.network import attach_points
    from spatial.network.attach import compound_access_points

    comp = load_layer(demo_city.gpkg, "compounds", source_layer="compounds")
    net = walk_network_from_osm(demo_city.osm, crs=comp.crs)
    pois = load_layer(demo_city.gpkg, "pois", source_layer="pois").to_crs(net.crs)
    access = compound_access_points(net, comp.to_crs(net.crs).geometry, snap_limit_m=150)
    member = _membership(classify_pois(pois, categories=load_categories()))
    pts = np.column_stack([pois.geometry.x, pois.geometry.y])
    attach = attach_points(net, pts, snap_limit_m=150)
    sources = [attach.take(member[c].to_numpy()) for c in member.columns]
    limits = [3000.0] * len(sources)
    here = []
    search = parallel.owner_node_distances

    def slow_here(*args):  # the spawned process searches at full speed meanwhile
        here.append(1)
        time.sleep(0.3)
        return search(*args)

    monkeypatch.setattr(parallel, "owner_node_distances", slow_here)
    shared = category_distances(net, sources, access, len(comp), limits_m=limits, process_nodes=0)
    assert 0 < len(here) < len(sources)  # both processes searched
    monkeypatch.undo()
    # per compound, the least over its access points' own distances
    alone = [
        pd.Series(point_distances(net, s, access, limit_m=3000.0))
        .groupby(access.owner)
        .min()
        .reindex(range(len(comp)))
        .to_numpy()
        for s in sources
    ]
    assert len(sources) >= 4 and np.isfinite(np.concatenate(alone)).sum() > 1000
    for got, want in zip(shared, alone, strict=True):
        assert np.allclose(got, want, rtol=0, atol=1e-9, equal_nan=True)


def test_searches_that_draw_service_areas_give_what_each_gives_alone(demo_city, monkeypatch):
    """On a large network each category's search also draws its service area from its
    node distances (one search, not two), shared with a second process from the last
    category: the distances are the searches' alone, the areas those traced alone, and
    ``spatial gaps``' service areas are the same either way."""
    import time

    import shapely

    import spatial.lifecircle.gaps as gaps_module
    import spatial.lifecircle.parallel as parallel
    from spatial.io import load_layer
    from spatial.lifecircle.areas import service_area
    from spatial.lifecircle.gaps import _membership
    from spatial.lifecircle.parallel import category_distances, searches_and_outlines
    from spatial.lifecircle.pois import classify_pois
    from spatial.network import attach_points
    from spatial.network.attach import compound_access_points
    from spatial.settings import DEFAULTS

    comp = load_layer(demo_city.gpkg, "compounds", source_layer="compounds")
    net = walk_network_from_osm(demo_city.osm, crs=comp.crs)
    pois = load_layer(demo_city.gpkg, "pois", source_layer="pois").to_crs(net.crs)
    access = compound_access_points(net, comp.to_crs(net.crs).geometry, snap_limit_m=150)
    cats = {c.id: c for c in load_categories()}
    member = _membership(classify_pois(pois, categories=load_categories()))
    pts = np.column_stack([pois.geometry.x, pois.geometry.y])
    attach = attach_points(net, pts, snap_limit_m=150)
    sources = [attach.take(member[c].to_numpy()) for c in member.columns]
    drawn = [cats[c] if k % 3 else None for k, c in enumerate(member.columns)]  # some not
    limits = [3000.0] * len(sources)
    options = {"half_width_m": 15.0, "cell_m": 5.0}
    here = []
    search = parallel.owner_and_node_distances

    def slow_here(*args):  # the spawned process searches and draws at full speed meanwhile
        here.append(1)
        time.sleep(0.3)
        return search(*args)

    monkeypatch.setattr(parallel, "owner_and_node_distances", slow_here)
    dist, areas = searches_and_outlines(
        net, sources, access, len(comp), limits_m=limits, outlines=drawn,
        outline_options=options, process_nodes=0,
    )  # fmt: skip
    assert 0 < len(here) < sum(c is not None for c in drawn)  # both processes drew
    monkeypatch.undo()
    alone = category_distances(net, sources, access, len(comp), limits_m=limits)
    for got, want in zip(dist, alone, strict=True):
        assert np.array_equal(got, want, equal_nan=True)
    assert sum(a is not None and not a["geometry"].is_empty for a in areas) >= 4
    for got_area, s, cat in zip(areas, sources, drawn, strict=True):
        if cat is None:
            assert got_area is None
            continue
        want_area = service_area(net, s, cat, **options)
        assert got_area["cell_m"] == want_area["cell_m"]
        assert shapely.equals_exact(got_area["geometry"], want_area["geometry"], tolerance=0)

    def no_process(*args, **kwargs):  # a daemonic Dask worker may not start one
        raise AssertionError("daemonic processes are not allowed to have children")

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", no_process)
    here_only = searches_and_outlines(
        net, sources, access, len(comp), limits_m=limits, outlines=drawn,
        outline_options=options, process_nodes=0,
    )  # fmt: skip
    monkeypatch.undo()
    for got_area, area in zip(here_only[1], areas, strict=True):
        assert (got_area is None) == (area is None)
        if area is not None:
            assert shapely.equals_exact(got_area["geometry"], area["geometry"], tolerance=0)
    # the gap run: its service areas drawn by the searches equal those traced apart
    apart = gaps_module.compute_gaps(comp, pois, net).service_areas
    monkeypatch.setattr(gaps_module, "DEFAULTS", replace(DEFAULTS, engine_process_nodes=0))
    together = gaps_module.compute_gaps(comp, pois, net).service_areas
    assert list(together["category"]) == list(apart["category"]) and len(apart) >= 4
    same = shapely.equals_exact(together.geometry.values, apart.geometry.values, tolerance=0)
    assert same.all()


def test_service_areas_traced_by_a_second_process_equal_those_traced_here(demo_city, monkeypatch):
    """Service areas split between two processes (the second from the last category)
    are the outlines one process traces, in the order of the categories."""
    import time

    import shapely

    import spatial.lifecircle.parallel as parallel
    from spatial.io import load_layer
    from spatial.lifecircle.areas import service_area
    from spatial.lifecircle.parallel import Outlines
    from spatial.lifecircle.pois import classify_pois
    from spatial.network import attach_points

    comp = load_layer(demo_city.gpkg, "compounds", source_layer="compounds")
    net = walk_network_from_osm(demo_city.osm, crs=comp.crs)
    pois = load_layer(demo_city.gpkg, "pois", source_layer="pois").to_crs(net.crs)
    cats = load_categories()
    kinds = classify_pois(pois, categories=cats).fillna("").str.split(";")
    pts = np.column_stack([pois.geometry.x, pois.geometry.y])
    attach = attach_points(net, pts, snap_limit_m=150)
    jobs = [(attach.take(kinds.map(lambda k, c=c: c.id in k).to_numpy()), c) for c in cats[:8]]
    here = []

    def slow_here(*args, **kwargs):  # the spawned process traces at full speed meanwhile
        here.append(1)
        time.sleep(0.5)
        return service_area(*args, **kwargs)

    monkeypatch.setattr(parallel, "service_area", slow_here)
    shared = Outlines(net, jobs, half_width_m=15.0, process_nodes=0)
    assert shared.pool is not None
    got = shared.collect()
    assert 0 < len(here) < len(jobs) and shared.pool is None  # both traced; it stopped
    monkeypatch.undo()
    alone = Outlines(net, jobs, half_width_m=15.0, process_nodes=10**9)
    assert alone.pool is None
    want = alone.collect()
    assert [a["category"] for a in got] == [c.id for _, c in jobs]
    assert sum(not a["geometry"].is_empty for a in want) >= 4
    for a, b in zip(got, want, strict=True):
        assert shapely.equals_exact(a["geometry"], b["geometry"], tolerance=0)

    def no_process(*args, **kwargs):  # a daemonic Dask worker may not start one
        raise AssertionError("daemonic processes are not allowed to have children")

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", no_process)
    fallback = Outlines(net, jobs[:3], half_width_m=15.0, process_nodes=0)
    assert fallback.pool is None
    for a, b in zip(fallback.collect(), want[:3], strict=True):
        assert shapely.equals_exact(a["geometry"], b["geometry"], tolerance=0)


@pytest.mark.parametrize("where", ["demo", "cau"])
def test_service_area_outline_equals_the_buffered_streets(where, demo_city, cau_osm):
    """The outline traced on the grid against buffering the street parts with GEOS: area
    within 4 % per category, the same place (symmetric difference under 12 % of the
    area), every street point inside; on the 10 m cells of a 20 km district too (the
    contour a tenth of a cell short of 15 m left those 6 % short)."""
    import shapely

    from spatial import api
    from spatial.io.load import LoadSpec, load_layers
    from spatial.lifecircle.areas import corridor_outline
    from spatial.network import walk_network_from_osm

    if where == "demo":
        specs = [LoadSpec(demo_city.gpkg, "compounds", source_layer="compounds")]
        specs += [LoadSpec(demo_city.gpkg, "pois", source_layer="pois")]
        osm = demo_city.osm
    else:
        specs, osm = [LoadSpec(cau_osm, "compounds"), LoadSpec(cau_osm, "pois")], cau_osm
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)  # the extract's estimates, said elsewhere
        layers = load_layers(specs)
        net = walk_network_from_osm(osm, crs=layers["compounds"].crs)
        areas = api.gap_result(
            layers["compounds"], layers["pois"], net, service_area_streets=True
        ).service_areas
    assert len(areas) >= 10
    for outline, streets in zip(areas.geometry.values, areas["streets"].values, strict=True):
        runs = shapely.get_parts(shapely.line_merge(streets))
        exact = shapely.union_all(shapely.buffer(runs, 15.0, quad_segs=8))
        assert abs(outline.area - exact.area) / exact.area < 0.04
        assert shapely.symmetric_difference(outline, exact).area / exact.area < 0.12
        coarse = corridor_outline(streets, half_width_m=15.0, cell_m=10.0)
        assert abs(coarse.area - exact.area) / exact.area < 0.04
        on_streets = shapely.points(shapely.get_coordinates(shapely.segmentize(streets, 10.0)))
        assert shapely.contains(shapely.buffer(outline, 0.5), on_streets).all()


def test_an_outline_cut_to_a_box_simplifies_to_its_polygons():
    """A map book cuts outlines to a unit's box: lines, points and slivers may come out."""
    import shapely

    from spatial.lifecircle.areas import simplify_outline

    square = shapely.box(0, 0, 100, 100).difference(shapely.box(40, 40, 60, 60))
    sliver = shapely.box(200, 0, 200.01, 50)  # collapses when simplified by 1 m
    cut = shapely.GeometryCollection(
        [square, shapely.LineString([(300, 0), (310, 0)]), shapely.Point(5, 5), sliver]
    )
    out = simplify_outline(cut, 1.0)
    assert out.is_valid and out.geom_type == "Polygon"
    assert out.area == pytest.approx(100 * 100 - 20 * 20)
    assert len(out.interiors) == 1
    assert simplify_outline(shapely.LineString([(0, 0), (1, 1)]), 1.0).is_empty


def test_the_cells_a_street_part_crosses_form_an_unbroken_line():
    """Each part marks its end cells and one cell per step along its longer axis, each
    next to the last (8-connected): no gap the corridor would have to bridge."""
    from spatial.lifecircle.areas import _cells_crossed

    rng = np.random.default_rng(11)
    seg = rng.uniform(0, 50, (500, 2, 2))
    seg[:5, 1] = seg[:5, 0] + 0.3  # parts within one cell: their two ends alone
    cells = _cells_crossed(seg)
    k = len(seg)  # the start cells, the end cells, then the steps between, part by part
    steps = np.ceil(np.abs(seg[:, 1] - seg[:, 0]).max(axis=1)).astype(int)
    between = np.maximum(steps - 1, 0)
    assert len(cells) == 2 * k + between.sum()
    starts = 2 * k + np.r_[0, np.cumsum(between)[:-1]]
    for i, (a, n) in enumerate(zip(starts, between, strict=True)):
        line = np.vstack([cells[i], cells[a : a + n], cells[k + i]])
        assert (line[0] == np.floor(seg[i, 0])).all() and (line[-1] == np.floor(seg[i, 1])).all()
        assert (np.abs(np.diff(line, axis=0)) <= 1).all()
