"""On the three real extracts and on planner's sets built from them, every distance
agrees with an independent networkx computation (tests/access_reference.py).

The reference here shares no code with the engine's network, attachment or search:
it parses the XML with ElementTree, applies its own copy of the osmnx walk filter,
inserts every POI and access point into the graph by *splitting* edges (the engine uses
a virtual source instead) and runs networkx's multi-source Dijkstra.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from access_reference import BUILDING_DOORS, WALK_GATES, reference_distances
from conftest import SHARED
from pyproj import Transformer

from spatial.io import read_osm
from spatial.lifecircle import compute_gaps
from spatial.network import walk_network_from_osm
from spatial.standards import load_categories

# osmnx 2.1 network_type="walk", typed out from its Overpass filter.
EXCLUDE = {
    "area": "yes",
    "access": "private",
    "foot": "no",
    "service": "private",
    "highway": "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|"
    "proposed|raceway|razed|rest_area|services",
    "sidewalk": "separate",
    "sidewalk:both": "separate",
    "sidewalk:left": "separate",
    "sidewalk:right": "separate",
}


def _walkable(tags):
    return "highway" in tags and not any(
        k in tags and re.search(p, tags[k]) for k, p in EXCLUDE.items()
    )


EXTRACTS = ["beijing_cau_haidian", "beijing_bupt_haidian", "shanghai_shu_baoshan"]


def _parse(path):
    root = ET.parse(path).getroot()
    nodes, node_tags, ways = {}, {}, []
    for el in root:
        tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
        if el.tag == "node":
            nodes[int(el.get("id"))] = (float(el.get("lon")), float(el.get("lat")))
            node_tags[int(el.get("id"))] = tags
        elif el.tag == "way":
            ways.append(([int(n.get("ref")) for n in el.findall("nd")], tags))
    return nodes, node_tags, ways


@pytest.fixture(scope="module")
def parsed(cau_osm):
    return _parse(cau_osm)


@pytest.fixture(scope="module")
def engine(cau_osm):
    net = walk_network_from_osm(cau_osm)
    layers = read_osm(cau_osm)
    result = compute_gaps(layers.compounds, layers.pois, net, service_areas=False)
    return net, layers, result


def _osm_reference(parsed, compounds, pois, crs):
    """The reference over the XML's own walk ways, gates and the extract's compounds."""
    nodes, node_tags, ways = parsed
    tr = Transformer.from_crs(4326, crs, always_xy=True)
    edges = []
    for refs, tags in ways:
        if _walkable(tags):
            edges += [(a, b) for a, b in itertools.pairwise(refs) if a in nodes and b in nodes]
    used = {n for e in edges for n in e}
    xy = {n: tr.transform(*nodes[n]) for n in used}
    gates = {
        n
        for n in used
        if node_tags[n].get("entrance", "staircase") not in BUILDING_DOORS
        or node_tags[n].get("barrier") in WALK_GATES
    }
    comp = list(compounds.to_crs(crs).geometry)
    pts = pois.to_crs(crs).geometry.representative_point()
    cats = [(c.id, c.radius_m) for c in load_categories()]
    return reference_distances(
        edges, xy, gates, comp, list(zip(pts, pois["categories"], strict=True)), cats
    )


def _compare(gaps, ids, ref):
    compared = 0
    for row in gaps.itertuples():
        expected = ref[(ids.index(row.compound_id), row.category)]
        if np.isnan(expected):
            assert np.isnan(row.distance_m), row
        else:
            assert row.distance_m == pytest.approx(expected, abs=1 + 0.01 * expected), row
            compared += 1
    return compared


@pytest.mark.parametrize("name", EXTRACTS)
def test_every_distance_agrees_with_networkx(name):
    osm = SHARED / "data" / "osm" / f"{name}.osm"
    net = walk_network_from_osm(osm)
    layers = read_osm(osm)
    result = compute_gaps(layers.compounds, layers.pois, net, service_areas=False)
    pois = layers.pois.assign(categories=result.pois["categories"].to_numpy())  # WGS84
    ref = _osm_reference(_parse(osm), layers.compounds, pois, net.crs)
    compared = _compare(result.gaps, list(layers.compounds["id"]), ref)
    assert compared >= {"beijing_cau_haidian": 100, "beijing_bupt_haidian": 20}.get(name, 5)
    if name == "beijing_cau_haidian":
        assert result.gaps["covered"].any() and not result.gaps["covered"].all()


@pytest.mark.parametrize("streets_only", [False, True], ids=["all-ways", "streets-only"])
@pytest.mark.parametrize("name", EXTRACTS)
def test_planners_set_agrees_with_networkx(name, streets_only, tmp_path):
    """Survey polygons, Amap POIs and jittered CAD road lines (with the paths inside
    compounds, or the streets alone so that most compounds are entered from their
    perimeter): every distance and verdict as the reference computes them."""
    from planner_set import STREET_CLASSES, planner_set

    from spatial.io import LoadSpec, load_layers
    from spatial.network import read_line_layer, walk_network_from_lines

    files = planner_set(SHARED / "data" / "osm" / f"{name}.osm", tmp_path)
    layers = load_layers(
        [LoadSpec(files["compounds"], "compounds"), LoadSpec(files["pois"], "pois", coords="gcj02")]
    )
    roads = read_line_layer(files["network"])
    if streets_only:
        roads = roads[roads["道路等级"].isin(STREET_CLASSES)]
    net = walk_network_from_lines(roads)
    result = compute_gaps(layers["compounds"], layers["pois"], net, service_areas=False)
    comp = list(layers["compounds"].to_crs(net.crs).geometry)
    pts = result.pois.geometry.representative_point()
    xy = {i: tuple(p) for i, p in enumerate(net.node_xy)}
    edges = list(zip(net.u.tolist(), net.v.tolist(), strict=True))
    cats = [(c.id, c.radius_m) for c in load_categories()]
    ref = reference_distances(
        edges, xy, set(), comp, list(zip(pts, result.pois["categories"], strict=True)), cats
    )
    compared = _compare(result.gaps, list(layers["compounds"]["id"]), ref)
    assert compared > 0
    access = set(result.compounds["access"])
    assert ("perimeter" in access) if streets_only else ("crossing" in access)


def test_no_motorway_or_building_outline_is_an_edge(engine, parsed):
    net, _, _ = engine
    _, _, ways = parsed
    walk_pairs, banned = set(), set()
    for refs, tags in ways:
        pairs = {frozenset(p) for p in itertools.pairwise(refs)}
        if _walkable(tags):
            walk_pairs |= pairs
        elif "building" in tags or "motor" in tags.get("highway", "") or "landuse" in tags:
            banned |= pairs
    edges = {
        frozenset((int(net.node_id[a]), int(net.node_id[b])))
        for a, b in zip(net.u, net.v, strict=True)
    }
    assert edges == walk_pairs - {p for p in walk_pairs if len(p) == 1}
    assert not edges & (banned - walk_pairs)
    assert not {"motorway", "motorway_link"} & set(net.highway)
    assert len(banned) > 500  # the extract has hundreds of building outline segments
