"""Ways into surveyed compounds without gates, on hand-drawn CAD road lines, with exact
distances; and the property that 0.3 m of CAD noise does not move a verdict.

Definition (README "How a compound is entered"): without gates or a main-network path
into it, a compound's radius is ``R = d_min + 20 m``; every walk edge that comes within
``R`` is a way in along its whole length, each point with its straight leg, metres of
leg beyond ``R`` counting twice.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import SHARED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

from spatial.lifecircle import compute_gaps
from spatial.network import walk_network_from_lines
from spatial.standards import load_categories

UTM = 32650
X0, Y0 = 440000.0, 4428000.0
BUS = [c for c in load_categories() if c.id == "bus_stop"]


def _lines(*coords):
    return gpd.GeoDataFrame(
        {"道路等级": ["支路"] * len(coords)},
        geometry=[LineString([(X0 + x, Y0 + y) for x, y in line]) for line in coords],
        crs=UTM,
    )


def _compound(x0, y0, x1, y1):
    return gpd.GeoDataFrame(
        {"id": ["C1"], "name": ["测试小区"], "households": [500]},
        geometry=[box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)],
        crs=UTM,
    )


def _stops(*points):
    return gpd.GeoDataFrame(
        {"id": [f"S{i}" for i in range(len(points))], "name": "公交站", "category": "bus_stop"},
        geometry=[Point(X0 + x, Y0 + y) for x, y in points],
        crs=UTM,
    )


def _distance(lines, compound, stops):
    net = walk_network_from_lines(lines)
    res = compute_gaps(compound, stops, net, categories=BUS, service_areas=False)
    row = res.gaps.iloc[0]
    return row["distance_m"], res.compounds["access"].iloc[0]


def test_a_block_ringed_by_four_streets_is_entered_from_every_side():
    # a 100 m block, streets 10 m off each side; the east street runs on to the north
    ring = [[(-10, -10), (110, -10)], [(110, -10), (110, 400)], [(110, 110), (-10, 110)]]
    ring.append([(-10, 110), (-10, -10)])
    block = _compound(0, 0, 100, 100)
    # a stop on the far (east) street facing the block: its 10 m leg, not via a corner
    d, access = _distance(_lines(*ring), block, _stops((110, 50)))
    assert access == "perimeter"
    assert d == pytest.approx(10.0, abs=0.01)
    # a stop 200 m up the east street: the leg from the block's corner to the point
    # of the street 30 m (R = d_min + 20) from it, then along the street (beyond R a
    # leg's metres count twice: cutting the corner farther does not pay)
    d, _ = _distance(_lines(*ring), block, _stops((110, 300)))
    assert d == pytest.approx(30 + 300 - (100 + math.sqrt(30**2 - 10**2)), abs=0.01)


def test_a_compound_80_m_from_its_only_street():
    street = _lines([(-200, -80), (200, -80)])
    compound = _compound(0, 0, 50, 50)
    d, access = _distance(street, compound, _stops((25, -80)))
    assert access == "perimeter" and d == pytest.approx(80.0, abs=0.01)
    # farther along: leave the compound straight to the street's point 100 m (R) from it
    d, _ = _distance(street, compound, _stops((150, -80)))
    assert d == pytest.approx(100 + (150 - (50 + 60)), abs=0.01)


def test_a_street_running_through_a_compound():
    street = _lines([(-100, 50), (200, 50)])
    compound = _compound(0, 0, 100, 100)
    d, access = _distance(street, compound, _stops((150, 50)))
    assert access == "crossing" and d == pytest.approx(50.0, abs=0.01)
    d, _ = _distance(street, compound, _stops((60, 50)))  # a stop inside the compound
    assert d == pytest.approx(0.0, abs=0.01)


def test_two_streets_crossing_without_a_shared_vertex():
    # the compound is 10 m north of the east-west street, 110 m west of the other
    streets = _lines([(-300, 0), (300, 0)], [(0, -200), (0, 200)])
    compound = _compound(-150, 10, -110, 50)
    d, access = _distance(streets, compound, _stops((0, -80)))
    assert access == "perimeter"
    # north on the second street to the crossing, west to the point 30 m from the compound
    assert d == pytest.approx(80 + (110 - math.sqrt(30**2 - 10**2)) + 30, abs=0.01)


def test_a_piece_inside_a_compound_does_not_hide_the_street_around_it():
    # a short lane drawn inside the compound (its own piece) and the main street 12 m off
    lines = _lines([(20, 30), (80, 30)], [(-300, -12), (0, -12), (300, -12)])
    compound = _compound(0, 0, 100, 100)
    d, access = _distance(lines, compound, _stops((250, -12)))
    assert access == "perimeter"
    assert d == pytest.approx(32 + 250 - (100 + math.sqrt(32**2 - 12**2)), abs=0.01)


def test_a_compound_a_few_metres_from_a_stop_is_covered_whatever_street_is_nearest():
    # survey polygon ringed by streets at 6 m, a stop on the one facing away from the
    # corner that is nearest another street: covered, at 6 m
    ring = [[(-6, -6), (206, -6)], [(206, -6), (206, 126)], [(206, 126), (-6, 126)]]
    ring.append([(-6, 126), (-6, -6)])
    compound = _compound(0, 0, 200, 120)
    d, _ = _distance(_lines(*ring), compound, _stops((100, 126.0)))
    assert d == pytest.approx(6.0, abs=0.01)


# -- the property: CAD noise of 0.3 m moves no verdict ---------------------------------


@pytest.fixture(scope="module")
def planners_base(tmp_path_factory):
    """The BUPT and CAU planner's sets' compounds and POIs, and their exact road lines."""
    from planner_set import STREET_CLASSES, planner_set

    from spatial.io import LoadSpec, load_layers
    from spatial.network import read_line_layer

    out = {}
    for name in ("beijing_bupt_haidian", "beijing_cau_haidian"):
        files = planner_set(
            SHARED / "data" / "osm" / f"{name}.osm", tmp_path_factory.mktemp(name), jitter_m=0
        )
        layers = load_layers(
            [
                LoadSpec(files["compounds"], "compounds"),
                LoadSpec(files["pois"], "pois", coords="gcj02"),
            ]
        )
        roads = read_line_layer(files["network"])
        roads = roads[roads["道路等级"].isin(STREET_CLASSES)]  # survey polygons, streets only
        net = walk_network_from_lines(roads)
        base = compute_gaps(layers["compounds"], layers["pois"], net, service_areas=False)
        out[name] = (layers, roads, base.gaps)
    return out


def _jitter(roads: gpd.GeoDataFrame, seed: int, jitter_m: float) -> gpd.GeoDataFrame:
    import shapely

    rng = np.random.default_rng(seed)
    geoms = roads.geometry.to_numpy()
    xy, idx = shapely.get_coordinates(geoms, return_index=True)
    angle = rng.uniform(0, 2 * np.pi, len(xy))
    radius = jitter_m * np.sqrt(rng.uniform(0, 1, len(xy)))
    xy = xy + np.column_stack([np.cos(angle), np.sin(angle)]) * radius[:, None]
    return roads.set_geometry(shapely.linestrings(xy, indices=idx), crs=roads.crs)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**32 - 1),
    name=st.sampled_from(["beijing_bupt_haidian", "beijing_cau_haidian"]),
)
def test_cad_noise_of_0_3_m_moves_no_verdict(planners_base, seed, name):
    layers, roads, base = planners_base[name]
    net = walk_network_from_lines(_jitter(roads, seed, 0.3))  # re-snapped with --line-snap-m 1
    moved = compute_gaps(layers["compounds"], layers["pois"], net, service_areas=False).gaps
    both = base.merge(moved, on=["compound_id", "category"], suffixes=("", "_j"))
    assert len(both) == len(base)
    assert (both["covered"] == both["covered_j"]).all()
    assert (both["status"] == both["status_j"]).all()
    change = (both["distance_m"] - both["distance_m_j"]).abs().dropna()
    assert len(change) > 20
    # no cut slides along a street, neither for compounds nor for facilities
    assert change.max() <= 2.0, both.loc[change.sort_values().index[-5:]]


@pytest.mark.parametrize("name", ["beijing_bupt_haidian", "beijing_cau_haidian"])
def test_a_facility_a_few_metres_from_a_survey_polygon_covers_it(name, tmp_path):
    """Survey polygons ringed by jittered street lines (no paths into them): every
    facility within 15 m of a compound covers it for its categories."""
    from planner_set import STREET_CLASSES, planner_set

    from spatial.io import LoadSpec, load_layers
    from spatial.network import read_line_layer

    files = planner_set(SHARED / "data" / "osm" / f"{name}.osm", tmp_path)
    layers = load_layers(
        [LoadSpec(files["compounds"], "compounds"), LoadSpec(files["pois"], "pois", coords="gcj02")]
    )
    roads = read_line_layer(files["network"])
    net = walk_network_from_lines(roads[roads["道路等级"].isin(STREET_CLASSES)])
    res = compute_gaps(layers["compounds"], layers["pois"], net, service_areas=False)
    comp = res.compounds.to_crs(net.crs)[["id", "geometry"]]
    pois = res.pois[res.pois["categories"] != ""].to_crs(net.crs)
    near = gpd.sjoin(pois, comp, predicate="dwithin", distance=15)
    pairs = {
        (cid, c)
        for cid, cats in zip(near["id_right"], near["categories"], strict=True)
        for c in cats.split(";")
    }
    assert len(pairs) >= 3
    gaps = res.gaps.set_index(["compound_id", "category"])
    assert all(gaps.loc[p, "covered"] for p in pairs), gaps.loc[list(pairs)]
    assert "perimeter" in set(res.compounds["access"])  # streets only: most compounds


def test_meetings_searched_where_they_may_matter_give_every_pair_s_distances(
    planners_base, monkeypatch
):
    """Meetings on shared edges are searched only where a lower bound says they may beat
    what a compound already has; searching every crossed pair gives the same table."""
    import spatial.lifecircle.reach as reach_module
    import spatial.network.meeting as meeting

    searched: list[int] = []
    search = meeting._meetings

    def counted(network, compounds, radius_c, xy, facilities, shared, leg_factor):
        searched.append(len(shared))
        return search(network, compounds, radius_c, xy, facilities, shared, leg_factor)

    monkeypatch.setattr(meeting, "_meetings", counted)
    layers, roads, _ = planners_base["beijing_cau_haidian"]
    net = walk_network_from_lines(roads)
    pruned = compute_gaps(layers["compounds"], layers["pois"], net, service_areas=False)
    every = meeting.same_edge_costs

    def unpruned(*args, worth=None, **kwargs):
        return every(*args, **kwargs)

    monkeypatch.setattr(reach_module, "same_edge_costs", unpruned)
    full = compute_gaps(layers["compounds"], layers["pois"], net, service_areas=False)
    assert 0 < searched[0] < searched[1], searched  # some pairs were left out, none needed
    pd.testing.assert_frame_equal(pruned.gaps, full.gaps)
