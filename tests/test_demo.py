"""The demo city: deterministic, scalable, realistic enough to show gaps, read by normal loaders."""

from __future__ import annotations

import hashlib
import itertools
import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import pytest

from spatial.demo import generate_demo, size_for_nodes
from spatial.io import LoadSpec, load_layers, read_osm
from spatial.io.survey.schema import PARCEL_KINDS
from spatial.standards import load_categories


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _walk_graph(osm_path) -> nx.Graph:
    g = nx.Graph()
    for way in osmium.FileProcessor(str(osm_path), osmium.osm.WAY):
        hw = way.tags.get("highway")
        if hw and hw not in ("motorway", "motorway_link"):
            refs = [n.ref for n in way.nodes]
            g.add_edges_from(itertools.pairwise(refs))
    return g


def test_same_seed_gives_identical_files(tmp_path, demo_city):
    again = generate_demo(tmp_path, size=demo_city.size, seed=demo_city.seed)
    assert _digest(again.gpkg) == _digest(demo_city.gpkg)
    assert _digest(again.osm) == _digest(demo_city.osm)
    other = generate_demo(tmp_path / "other", size=demo_city.size, seed=demo_city.seed + 1)
    assert _digest(other.osm) != _digest(demo_city.osm)


def test_size_scales_the_city(tmp_path):
    small = generate_demo(tmp_path / "s", size=3, seed=1).counts
    large = generate_demo(tmp_path / "l", size=12, seed=1).counts
    assert large["superblocks"] == 16 * small["superblocks"]
    assert 10 < large["nodes"] / small["nodes"] < 22
    assert 8 < large["compounds"] / small["compounds"] < 30
    assert size_for_nodes(1_000_000) == pytest.approx(149, abs=2)
    assert size_for_nodes(10) == 1


def test_one_superblock_still_works(tmp_path):
    city = generate_demo(tmp_path, size=1, seed=3)
    assert city.counts["superblocks"] == 1 and city.counts["nodes"] > 20


def test_demo_reads_through_the_normal_loaders(demo_city):
    specs = [
        LoadSpec(demo_city.gpkg, kind, source_layer=kind)
        for kind in ("compounds", "pois", "parcels")
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the demo is clean: no warning either
        layers = load_layers(specs)
    c, p, parcels = layers["compounds"], layers["pois"], layers["parcels"]
    assert c.crs.is_projected and c["id"].is_unique
    assert c["build_year"].between(1975, 2020).all() and c["households"].gt(0).all()
    assert c["build_year"].lt(2000).any() and c["build_year"].gt(2010).any()
    assert {"subdistrict", "community", "floors", "elevator", "willingness"} <= set(c.columns)
    assert set(p["category"]) == {cat.id for cat in load_categories()}
    assert set(parcels["kind"]) == set(PARCEL_KINDS) - {"old_compound", "old_block"}


def test_street_network_is_connected_and_has_gates_and_barriers(demo_city):
    g = _walk_graph(demo_city.osm)
    assert nx.is_connected(g)
    assert g.number_of_nodes() == demo_city.counts["nodes"]
    layers = read_osm(demo_city.osm)
    assert len(layers.entrances) >= demo_city.counts["compounds"]  # every compound has a gate
    assert {"road", "rail", "water"} == set(layers.barriers["kind"])
    assert "motorway" in set(layers.barriers["subtype"])


def test_facilities_are_sparse_enough_that_gaps_exist(demo_city):
    """Straight-line distance is a lower bound of walking distance: beyond the radius = a gap."""
    comp = gpd.read_file(demo_city.gpkg, layer="compounds").to_crs(32650)
    pois = gpd.read_file(demo_city.gpkg, layer="pois").to_crs(32650)
    gapped = 0
    for cat in load_categories():
        sub = pois[pois["设施类别"] == cat.id]
        dist = np.array([sub.distance(geom).min() for geom in comp.geometry])
        if (dist > cat.radius_m).any():
            gapped += 1
    assert gapped >= 8
