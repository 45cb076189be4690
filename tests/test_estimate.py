"""Figures OSM does not carry, estimated and labelled; what an extract's edge cut, said once."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from conftest import write_osm_xml
from shapely.geometry import box as _box

from spatial._errors import Problem, summarise_problems
from spatial.io.osm.read import read_osm
from spatial.io.survey.estimate import estimate_from_buildings

UTM = "EPSG:32650"


def box(x0, y0, x1, y1):
    """A rectangle near Beijing, in metres of UTM 50N (where the local zone is the same)."""
    return _box(x0 + 440000, y0 + 4428000, x1 + 440000, y1 + 4428000)


def test_households_from_footprints_and_levels_by_hand():
    comp = gpd.GeoDataFrame(
        {"id": ["A", "B", "C"], "households": [np.nan, np.nan, 100.0]},
        geometry=[box(0, 0, 100, 100), box(200, 0, 250, 50), box(400, 0, 500, 100)],
        crs=UTM,
    )
    buildings = gpd.GeoDataFrame(
        {"id": ["b1", "b2", "shed", "out", "c1"], "levels": ["5", None, "1", "9", "3层"]},
        geometry=[
            box(10, 10, 30, 20),  # 200 m² × 5 levels
            box(40, 40, 60, 50),  # 200 m² × 6 (default)
            box(70, 70, 73, 73),  # 9 m²: a shed, not a home
            box(150, 0, 170, 10),  # in no compound
            box(410, 10, 430, 30),  # 400 m² × 3
        ],
        crs=UTM,
    )
    out, problems = estimate_from_buildings(comp, buildings, source="x.osm")
    a, b, c = (out.iloc[k] for k in range(3))
    assert a["floor_area_m2"] == 200 * 5 + 200 * 6 and a["households"] == round(2200 / 75)
    assert a["floors"] == 5 and a["estimated"] == "floor_area_m2,households"
    assert "2 OSM buildings (1 with building:levels" in a["estimate_basis"]
    assert b["floor_area_m2"] == pytest.approx(2500 * 1.5, abs=5)  # no building: land × FAR
    assert b["households"] == 50 and "no building mapped" in b["estimate_basis"]
    assert c["households"] == 100 and c["estimated"] == "floor_area_m2"  # survey value kept
    assert c["floor_area_m2"] == 1200
    assert comp["households"].isna().sum() == 2  # the argument is not changed
    assert len(problems) == 1 and "3 compound(s) estimated" in problems[0].message


def test_a_cut_compound_is_reported_and_a_cut_street_keeps_its_inside(tmp_path):
    nodes = {1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (0, 100), 5: (-50, -20), 6: (150, -20)}
    ways = [
        ([1, 2, 3, 99, 1], {"landuse": "residential", "name": "切边小区"}),  # node 99 absent
        ([5, 6, 98], {"highway": "residential"}),  # street running out of the extract
        ([2, 3, 97, 2], {"building": "yes"}),  # a cut building: not worth a word
    ]
    layers = read_osm(write_osm_xml(tmp_path / "cut.osm", nodes, ways))
    messages = [(p.row, p.message) for p in layers.notes]
    assert messages == [
        ("way 1", "residential area (compound) cut by the extract's edge was left out")
    ]
    assert layers.notes[0].column == "切边小区"
    assert len(layers.compounds) == 0
    assert layers.walk is not None and layers.walk.pairs.tolist() == [[5, 6]]  # kept


def test_many_problems_of_one_kind_are_one_line_with_a_count():
    many = [
        Problem.warning("x.osm", "cut by the edge", row=f"way {k}", hint="use a larger extract")
        for k in range(10_000)
    ]
    lines = summarise_problems([*many, Problem.error("y.csv", "bad year", row=3)])
    assert lines[0].startswith("[error] y.csv, row 3")
    assert lines[1] == (
        "[warning] x.osm: 10000 × cut by the edge (way 0, way 1, way 2, …) — fix: use a larger "
        "extract"
    )


def test_an_empty_layer_is_an_error_naming_the_file(tmp_path):
    from spatial._errors import InputError
    from spatial.io.load import LoadSpec, check_layers

    path = write_osm_xml(
        tmp_path / "none.osm", {1: (0, 0), 2: (50, 0)}, [([1, 2], {"highway": "footway"})]
    )
    with pytest.raises(InputError) as err:
        check_layers([LoadSpec(path, "parcels")])
    assert [(p.file, p.message) for p in err.value.problems] == [
        (str(path), "no parcels in the file")
    ]
