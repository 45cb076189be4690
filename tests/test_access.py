"""Ways into a compound and school levels as real OSM maps them: gates within 5 m and
every crossing of the boundary; building entrances are not ways in; school levels from
tags and names; residential areas cut by the extract's edge."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from conftest import SHARED, metric, write_osm_xml
from shapely.geometry import box
from typer.testing import CliRunner

from spatial.cli import app
from spatial.lifecircle import compute_gaps
from spatial.lifecircle.pois import classify_pois, unknown_level_schools
from spatial.network import walk_network_from_osm
from spatial.network.attach import compound_access_points
from spatial.standards import load_categories

UTM = "EPSG:32650"
CATS = [c for c in load_categories() if c.id in ("kindergarten", "primary_school", "junior_school")]
runner = CliRunner()


def _square() -> gpd.GeoSeries:
    return gpd.GeoSeries([box(440000, 4428000, 440100, 4428100)], crs=UTM)


def test_a_gate_4_m_off_the_boundary_is_a_way_in_and_a_staircase_is_not(tmp_path):
    nodes = {
        1: (-4, -100),
        2: (-4, 50, {"barrier": "gate"}),  # 4 m west of the compound's west side
        3: (-4, 80, {"entrance": "staircase"}),  # a building's door, on the same path
        4: (-4, 200),
    }
    net = walk_network_from_osm(
        write_osm_xml(tmp_path / "g.osm", nodes, [([1, 2, 3, 4], {"highway": "footway"})])
    )
    assert net.gate.sum() == 1  # the staircase entrance is not a gate
    at5 = compound_access_points(net, _square(), snap_limit_m=150)
    assert list(at5.kind) == ["gate"] and at5.leg_m[0] == 0
    gate_xy = net.node_xy[net.gate][0]
    assert gate_xy == pytest.approx([439996, 4428050], abs=0.01)
    at3 = compound_access_points(net, _square(), snap_limit_m=150, gate_tolerance_m=3)
    # without the gate: the compound is entered from the path along its west side
    assert set(at3.kind) == {"perimeter"} and at3.leg_m.min() == pytest.approx(4, abs=0.01)


def _gate_and_two_crossings(tmp_path, extra_nodes=None, extra_ways=()):
    nodes = {
        # the gate on the west side, a path out to a road around the compound
        10: (0, 50, {"barrier": "gate"}),
        11: (-60, 50),
        12: (-60, -30),
        13: (160, -30),
        14: (160, 20),
        15: (160, 80, {"amenity": "kindergarten", "name": "东门幼儿园"}),
        # two service roads crossing the east side, at y=20 and y=80
        20: (80, 20),
        21: (80, 80),
        **(extra_nodes or {}),
    }
    ways = [
        ([20, 21, 10, 11], {"highway": "service"}),  # inside, to the gate and out
        ([11, 12, 13, 14, 15], {"highway": "residential"}),
        ([20, 14], {"highway": "service"}),  # crosses x=100 at y=20
        ([21, 15], {"highway": "service"}),  # crosses x=100 at y=80
        *extra_ways,
    ]
    return write_osm_xml(tmp_path / "c.osm", nodes, ways)


def test_gates_and_crossings_are_all_ways_in_and_the_nearer_wins(tmp_path):
    osm = _gate_and_two_crossings(tmp_path)
    net = walk_network_from_osm(osm)
    access = compound_access_points(net, _square(), snap_limit_m=150)
    assert sorted(access.kind) == ["crossing", "crossing", "gate"]
    comp = gpd.GeoDataFrame({"id": ["C0"], "name": ["x"], "households": [100]}, geometry=_square())
    pois = gpd.GeoDataFrame(
        {"id": ["P0"], "name": ["东门幼儿园"], "category": ["kindergarten"]},
        geometry=[metric(160, 80)],
        crs=UTM,
    )
    res = compute_gaps(comp, pois, net, categories=CATS[:1], service_areas=False)
    # from the crossing at (100, 80) east along the road: 60 m. Through the gate it would be
    # 60 west + 80 south + 220 east + 50 north + 60 north = 470 m.
    assert res.gaps.loc[0, "distance_m"] == pytest.approx(60, abs=0.05)
    assert res.compounds.loc[0, "access"] == "gate"


def test_school_levels_from_tags_and_names():
    rows = [
        ("清华附小", {"amenity": "school"}, "primary_school"),
        ("北京市第一〇一中学", {"amenity": "school"}, "junior_school"),
        ("人大附中", {"amenity": "school"}, "junior_school"),
        ("海淀实验学校", {"amenity": "school"}, "primary_school;junior_school"),
        ("九年一贯制学校", {"amenity": "school"}, "primary_school;junior_school"),
        ("某高级中学", {"amenity": "school"}, ""),  # senior only: no life-circle level
        ("十一学校", {"amenity": "school", "isced:level": "2;3"}, "junior_school"),
        ("育英学校", {"amenity": "school", "grades": "1-9"}, "primary_school;junior_school"),
        ("北京小学", {"amenity": "school", "isced:level": "2"}, "junior_school"),  # tags win
        ("十一学校", {"amenity": "school"}, ""),  # no clue: level unknown
    ]
    pois = pd.DataFrame(
        {"name": [r[0] for r in rows], "tags": [json.dumps(r[1], ensure_ascii=False) for r in rows]}
    )
    got = classify_pois(pois, categories=CATS)
    assert [set(g.split(";")) - {""} for g in got] == [set(r[2].split(";")) - {""} for r in rows]
    assert unknown_level_schools(pois).tolist() == [False] * 9 + [True]
    both = classify_pois(pois, categories=CATS, school_unknown="both")
    assert set(both.iloc[-1].split(";")) == {"primary_school", "junior_school"}
    assert both.iloc[:-1].tolist() == got.iloc[:-1].tolist()


def test_a_name_ending_in_kindergarten_or_nursery_says_what_it_is():
    cats = [c for c in load_categories() if c.id in ("kindergarten", "nursery", "primary_school")]
    rows = [
        ("北京市海淀区阳光幼儿园", {"amenity": "school"}, "kindergarten"),
        ("育英幼儿园（北区）", {"amenity": "school"}, "kindergarten"),
        ("小天使托儿所", {"amenity": "school"}, "nursery"),
        ("农大幼儿园", {"amenity": "childcare"}, "kindergarten"),
        ("幼儿园路小学", {"amenity": "school"}, "primary_school"),  # the name ends in 小学
        ("十一学校", {"amenity": "school"}, ""),
    ]
    pois = pd.DataFrame(
        {"name": [r[0] for r in rows], "tags": [json.dumps(r[1], ensure_ascii=False) for r in rows]}
    )
    assert classify_pois(pois, categories=cats).tolist() == [r[2] for r in rows]
    # a 幼儿园 tagged amenity=school is no "school of unknown level"
    assert unknown_level_schools(pois).tolist() == [False] * 5 + [True]


def test_a_school_of_unknown_level_is_reported_in_problems_csv(tmp_path):
    school = {30: (160, 0, {"amenity": "school", "name": "十一学校"})}
    osm = _gate_and_two_crossings(tmp_path, school, [([13, 30, 14], {"highway": "footway"})])
    res = {"landuse": "residential", "name": "东区"}
    ring = {40: (0, 0), 41: (100, 0), 42: (100, 100), 43: (0, 100)}
    text = osm.read_text(encoding="utf-8")
    osm2 = write_osm_xml(
        tmp_path / "d.osm",
        {**_nodes_of(text), **ring},
        [*_ways_of(text), ([40, 41, 42, 43, 40], res)],
    )
    out = tmp_path / "g"
    done = runner.invoke(app, ["gaps", "--osm", str(osm2), "--out", str(out)])
    assert done.exit_code == 0, done.output
    problems = pd.read_csv(out / "problems.csv")
    unknown = problems[problems["message"].str.contains("school of unknown level")]
    # the school named in the message, the column the fix is about in the column slot
    assert len(unknown) == 1 and unknown["message"].iloc[0].startswith("十一学校")
    assert unknown["column"].iloc[0] == "category"
    gaps = pd.read_csv(out / "gaps.csv").set_index("category")
    assert gaps.loc["primary_school", "status"] == "no_data"
    out2 = tmp_path / "g2"
    args = ["gaps", "--osm", str(osm2), "--out", str(out2), "--school-unknown", "primary"]
    assert runner.invoke(app, args).exit_code == 0
    gaps2 = pd.read_csv(out2 / "gaps.csv").set_index("category")
    assert gaps2.loc["primary_school", "status"] == "covered"


def _nodes_of(text: str) -> dict:
    """Nodes of a file written by write_osm_xml, back in the test frame's metres."""
    import re

    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
    nodes = {}
    for m in re.finditer(
        r'<node id="(\d+)"[^>]*lat="([\d.]+)" lon="([\d.]+)"(/>|>(.*?)</node>)', text
    ):
        x, y = tr.transform(float(m.group(3)), float(m.group(2)))
        tags = dict(re.findall(r'<tag k="([^"]+)" v="([^"]*)"/>', m.group(5) or ""))
        nodes[int(m.group(1))] = (round(x - 440000, 3), round(y - 4428000, 3), tags)
    return nodes


def _ways_of(text: str) -> list:
    import re

    ways = []
    for m in re.finditer(r"<way [^>]*>(.*?)</way>", text):
        refs = [int(r) for r in re.findall(r'<nd ref="(\d+)"/>', m.group(1))]
        ways.append((refs, dict(re.findall(r'<tag k="([^"]+)" v="([^"]*)"/>', m.group(1)))))
    return ways


def test_a_residential_area_cut_by_the_extract_is_listed_or_kept_partial(tmp_path):
    nodes = {1: (-50, 50), 2: (200, 50), 40: (0, 0), 41: (100, 0), 43: (0, 100)}
    nodes[3] = (50, 50, {"amenity": "kindergarten", "name": "园"})
    ways = [
        ([1, 3, 2], {"highway": "residential"}),
        ([40, 41, 999, 43, 40], {"landuse": "residential", "name": "切边小区"}),  # 999 is outside
    ]
    osm = write_osm_xml(tmp_path / "cut.osm", nodes, ways)
    out = tmp_path / "a"
    done = runner.invoke(app, ["gaps", "--osm", str(osm), "--out", str(out)])
    assert done.exit_code == 1  # no compound left: said so, with the way
    assert "way 2" in done.output and "--keep-cut" in " ".join(done.output.split())
    out = tmp_path / "b"
    done = runner.invoke(app, ["gaps", "--osm", str(osm), "--out", str(out), "--keep-cut"])
    assert done.exit_code == 0, done.output
    comp = gpd.read_file(out / "compounds.gpkg", layer="compounds")
    assert comp["name"].tolist() == ["切边小区"] and bool(comp["partial"].iloc[0])
    problems = pd.read_csv(out / "problems.csv")
    assert problems["message"].str.contains("cut by the extract's edge").sum() == 2
    assert (problems["row"] == "way 2").any()


def test_cau_compound_reaches_its_kindergarten_by_a_crossing(tmp_path):
    """CAU way 609225889 (10.8 ha, one mapped gate, paths crossing its wall): the
    kindergarten inside its boundary is reached through a crossing, 164 m (446 m by the gate
    alone); the pharmacy 181 m, reached from the streets within 20 m of its nearest (278 m
    when a facility hung on its one nearest edge)."""
    out = tmp_path / "cau"
    osm = SHARED / "data" / "osm" / "beijing_cau_haidian.osm"
    assert runner.invoke(app, ["gaps", "--osm", str(osm), "--out", str(out)]).exit_code == 0
    gaps = pd.read_csv(out / "gaps.csv")
    row = gaps[gaps["compound_id"] == "w609225889"].set_index("category")
    assert row.loc["kindergarten", "distance_m"] == pytest.approx(164.45, abs=0.05)
    assert row.loc["pharmacy", "distance_m"] == pytest.approx(181.26, abs=0.05)
    assert row.loc["kindergarten", "status"] == "covered"
