"""On the real CAU extract, every distance agrees with an independent networkx computation.

The reference here shares no code with the engine's network, attachment or search:
it parses the XML with ElementTree, applies its own copy of the osmnx walk filter,
inserts every POI and access point into the graph by *splitting* edges (the engine uses
a virtual source instead) and runs networkx's multi-source Dijkstra.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections import defaultdict

import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from spatial.io import read_osm
from spatial.lifecircle import compute_gaps
from spatial.network import walk_network_from_osm

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
SNAP_M, GATE_TOL_M, LIMIT_M = 150.0, 5.0, 3000.0
# ways in: entrances except a building's own doors, and gates people walk through
BUILDING_DOORS = {"staircase", "home", "garage", "emergency"}
WALK_GATES = {"gate", "lift_gate", "turnstile", "kissing_gate", "swing_gate"}


def _walkable(tags):
    return "highway" in tags and not any(
        k in tags and re.search(p, tags[k]) for k, p in EXCLUDE.items()
    )


@pytest.fixture(scope="module")
def parsed(cau_osm):
    root = ET.parse(cau_osm).getroot()
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
def engine(cau_osm):
    net = walk_network_from_osm(cau_osm)
    layers = read_osm(cau_osm)
    result = compute_gaps(layers.compounds, layers.pois, net, service_areas=False)
    return net, layers, result


def _reference(parsed, compounds, pois, categories):
    nodes, node_tags, ways = parsed
    tr = Transformer.from_crs(4326, 32650, always_xy=True)
    xy = {}
    g = nx.Graph()
    for refs, tags in ways:
        if not _walkable(tags):
            continue
        for a, b in itertools.pairwise(refs):
            if a in nodes and b in nodes and a != b:
                for n in (a, b):
                    xy.setdefault(n, np.array(tr.transform(*nodes[n])))
                w = float(np.linalg.norm(xy[a] - xy[b]))
                if not g.has_edge(a, b) or g[a][b]["w"] > w:
                    g.add_edge(a, b, w=w)
    edges = list(g.edges)
    seg_a = np.array([xy[a] for a, _ in edges])
    seg_b = np.array([xy[b] for _, b in edges])

    def nearest(p):  # brute force over all segments
        d = seg_b - seg_a
        t = np.clip(((p - seg_a) * d).sum(1) / (d * d).sum(1), 0, 1)
        q = seg_a + d * t[:, None]
        dist = np.linalg.norm(q - p, axis=1)
        i = int(np.argmin(dist))
        return i, float(t[i] * np.linalg.norm(d[i])), float(dist[i])

    inserts = defaultdict(list)  # edge -> [(offset, name, leg)]
    poi_nodes = defaultdict(list)
    for k, (geom, cats) in enumerate(zip(pois.geometry, pois["categories"], strict=True)):
        if not cats:
            continue
        p = np.array(tr.transform(geom.x, geom.y))
        i, off, leg = nearest(p)
        if leg <= SNAP_M:
            inserts[i].append((off, ("poi", k), leg))
            for c in cats.split(";"):
                poi_nodes[c].append(("poi", k))
    access = defaultdict(list)
    gates = [
        n
        for n in g.nodes
        if node_tags[n].get("entrance", "staircase") not in BUILDING_DOORS
        or node_tags[n].get("barrier") in WALK_GATES
    ]
    for ci, geom in enumerate(compounds.to_crs(32650).geometry):
        ring = geom.boundary
        # gates near the boundary and every crossing of it are all ways in
        access[ci] = [n for n in gates if ring.distance(shapely.Point(xy[n])) <= GATE_TOL_M]
        for i, (a, b) in enumerate(edges):
            hit = ring.intersection(shapely.LineString([xy[a], xy[b]]))
            for x, y in shapely.get_coordinates(hit):
                off = float(np.linalg.norm(np.array([x, y]) - xy[a]))
                inserts[i].append((off, ("acc", ci, x, y), 0.0))
                access[ci].append(("acc", ci, x, y))
        if not access[ci]:
            line = shapely.shortest_line(
                geom, shapely.MultiLineString([[xy[a], xy[b]] for a, b in edges])
            )
            leg = line.length
            i, off, _ = nearest(np.array(line.coords[1]))
            if leg <= SNAP_M:
                inserts[i].append((off, ("acc", ci), leg))
                access[ci].append(("acc", ci))
    h = g.copy()
    for i, items in inserts.items():
        a, b = edges[i]
        h.remove_edge(a, b)
        chain, last_off = a, 0.0
        for off, name, leg in sorted(items, key=lambda r: r[0]):
            mid = ("mid", i, off)
            h.add_edge(chain, mid, w=max(off - last_off, 0.0)) if chain != mid else None
            h.add_edge(mid, name, w=leg)
            chain, last_off = mid, off
        h.add_edge(chain, b, w=float(np.linalg.norm(xy[a] - xy[b])) - last_off)
    out = {}
    for cat in categories:
        src = poi_nodes.get(cat.id, [])
        dist = (
            nx.multi_source_dijkstra_path_length(
                h, src, cutoff=max(LIMIT_M, cat.radius_m), weight="w"
            )
            if src
            else {}
        )
        for ci in range(len(compounds)):
            found = [dist[a] for a in access.get(ci, []) if a in dist]
            out[(ci, cat.id)] = min(found) if found else np.nan
    return out, g


def test_every_distance_agrees_with_networkx(engine, parsed):
    from spatial.standards import load_categories

    _net, layers, result = engine
    pois = layers.pois.assign(categories=result.pois["categories"].to_numpy())  # WGS84
    ref, _ = _reference(parsed, layers.compounds, pois, load_categories())
    gaps = result.gaps
    ids = list(layers.compounds["id"])
    compared = 0
    for row in gaps.itertuples():
        expected = ref[(ids.index(row.compound_id), row.category)]
        if np.isnan(expected):
            assert np.isnan(row.distance_m), row
        else:
            assert row.distance_m == pytest.approx(expected, abs=0.5), row
            compared += 1
    assert compared > 100  # most compound × category pairs have a distance to compare
    assert gaps["covered"].any() and not gaps["covered"].all()


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
