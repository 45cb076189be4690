"""千人指标 per unit: facility floor area and land per 1,000 residents against GB 50180-2018
表5.0.2, by hand and through ``spatial gaps`` → ``spatial assess``."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import metric

from spatial import InputError
from spatial.lifecircle.floorspace import facility_areas, load_floorspace
from spatial.policy.per_thousand import WHOLE_RUN, per_thousand
from spatial.standards import load_categories

UTM = "EPSG:32650"
CATS = load_categories()


def _square(x: float, y: float, side: float = 60.0):
    from shapely.geometry import box

    p = metric(x, y)
    return box(p.x, p.y, p.x + side, p.y + side)


def _case():
    """Community 甲 (compounds A, B: 1,000 residents each), 乙 (C: 1,000), one subdistrict
    named on A and C and none on B; a kindergarten inside A with its floor area and land
    in the data, a community station beside C at the default scale, a convenience store
    2 km from every compound."""
    comp = gpd.GeoDataFrame(
        {
            "id": ["A", "B", "C"],
            "community": ["甲", "甲", "乙"],
            "subdistrict": ["东街道", None, "东街道"],
        },
        geometry=[_square(0, 0), _square(200, 0), _square(0, 400)],
        crs=UTM,
    )
    pois = gpd.GeoDataFrame(
        {
            "name": ["幼儿园", "社区服务站", "便利店"],
            "categories": ["kindergarten", "community_station", "convenience_store"],
            "建筑面积": [2000.0, None, None],
            "用地面积": ["3000", "", None],
        },
        geometry=[metric(30, 30), metric(30, 480), metric(2500, 2500)],
        crs=UTM,
    )
    units = pd.Series(["甲", "甲", "乙"], index=comp.index, dtype=object)
    return comp, pois, units, np.array([1000.0, 1000.0, 1000.0])


def test_per_thousand_and_shortfall_by_hand():
    comp, pois, units, residents = _case()
    fs = load_floorspace()
    areas = facility_areas(pois, categories=CATS, standard=fs)
    got = areas.set_index("category")
    assert got.loc["kindergarten", "floor_m2"] == 2000.0
    assert got.loc["kindergarten", "land_m2"] == 3000.0
    assert not got.loc["kindergarten", "floor_default"]
    assert got.loc["community_station", "floor_m2"] == fs.rules["community_station"].floor_m2
    assert got.loc["community_station", "land_default"]
    pt = per_thousand(
        comp.to_crs(4326),  # any CRS: reprojected to metres inside
        pois.to_crs(4326),
        areas,
        units=units,
        residents=residents,
        standard=fs,
        categories=CATS,
    )
    assert (pt.facilities, pt.unassigned) == (3, 1)
    rows = pt.levels.set_index(["unit", "level"])
    five = fs.levels["5min"]
    a = rows.loc[("甲", "5min")]
    assert a["residents"] == 2000
    assert a["floor_per_1000"] == pytest.approx(1000.0)  # 2,000 m² for 2,000 people
    assert a["land_per_1000"] == pytest.approx(1500.0)
    assert a["floor_short_m2"] == pytest.approx(five.floor_per_1000[0] * 2 - 2000.0)
    assert a["land_short_m2"] == pytest.approx(five.land_per_1000[0] * 2 - 3000.0)
    assert a["facilities_default_scale"] == 0
    b = rows.loc[("乙", "5min")]
    station = fs.rules["community_station"]
    assert b["floor_per_1000"] == pytest.approx(station.floor_m2)  # 1,000 residents
    assert b["floor_short_m2"] == pytest.approx(max(five.floor_per_1000[0] - station.floor_m2, 0))
    assert b["land_short_m2"] == pytest.approx(max(five.land_per_1000[0] - station.land_m2, 0))
    assert b["facilities_default_scale"] == 1 and b["verdict"] == "不达标 not met"
    # the store is in no unit: the block level of 甲 has nothing
    blk = rows.loc[("甲", "block")]
    assert blk["facilities"] == 0
    assert blk["floor_short_m2"] == pytest.approx(fs.levels["block"].floor_per_1000[0] * 2)
    # subdistricts: 东街道 (A, C) and the compound naming none in the whole run
    sub = pt.levels[pt.levels["level"] == "15min"].set_index("unit")
    assert sub.loc["东街道", "residents"] == 2000 and sub.loc[WHOLE_RUN, "residents"] == 1000
    assert set(pt.levels["level"]) == {"5min", "block", "10min", "15min"}
    cats = pt.categories.set_index(["unit", "category"])
    assert cats.loc[("甲", "幼儿园 Kindergarten"), "land_per_1000"] == pytest.approx(1500.0)


def test_enough_floor_area_and_land_is_met(tmp_path):
    comp, pois, units, residents = _case()
    pois.loc[1, ["建筑面积", "用地面积"]] = [2000.0, "5000"]  # 乙: 2,000 / 5,000 m² per 1,000
    fs = load_floorspace()
    areas = facility_areas(pois, categories=CATS, standard=fs)
    pt = per_thousand(
        comp, pois, areas, units=units, residents=residents, standard=fs, categories=CATS
    )
    b = pt.levels.set_index(["unit", "level"]).loc[("乙", "5min")]
    assert b["verdict"] == "达标 met"
    assert b["floor_short_m2"] == 0 and b["land_short_m2"] == 0


def test_a_floorspace_file_with_every_fault_is_refused_at_once(tmp_path):
    bad = tmp_path / "floorspace.toml"
    bad.write_text(
        """
[meta]
assign_within_m = { value = 500 }
[level.5min]
scale = "district"
land_per_1000 = { value = [1710], source = "x" }
floor_per_1000 = { value = [1070, 1820], source = "x" }
[level.20min]
scale = "community"
[category.kindergarten]
floor_m2 = { value = -1, source = "x" }
land_m2 = { value = 5240, source = "x" }
""",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        load_floorspace(bad)
    text = str(err.value)
    for part in ("assign_within_m", "district", "land_per_1000", "20min", "floor_m2"):
        assert part in text, text


@pytest.mark.slow
def test_gaps_then_assess_counts_one_community_as_a_hand_count_does(demo_city, tmp_path):
    """POIs with 建筑面积/用地面积 columns → gaps → assess: one community's 5-minute floor area
    and land, counted by hand with an independent nearest-compound join."""
    from typer.testing import CliRunner

    from spatial.cli import app
    from spatial.io.outputs.write import read_own_csv

    g = str(demo_city.gpkg)
    pois = gpd.read_file(g, layer="pois")
    kg = np.flatnonzero(pois["设施类别"].to_numpy() == "kindergarten")[:6]
    pois["建筑面积"] = np.nan
    pois["用地面积"] = np.nan
    pois.loc[pois.index[kg], "建筑面积"] = 4000.0 + np.arange(len(kg))
    pois.loc[pois.index[kg], "用地面积"] = 6000.0
    mine = tmp_path / "pois.gpkg"
    pois.to_file(mine, layer="pois")
    runner = CliRunner()
    gaps = tmp_path / "gaps"
    args = ["gaps", "--compounds", g, "--compounds-layer", "compounds", "--pois", str(mine)]
    args += ["--osm", str(demo_city.osm), "--no-service-areas", "--out", str(gaps)]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    out = tmp_path / "assess"
    done = runner.invoke(app, ["assess", "--gaps", str(gaps), "--out", str(out)])
    assert done.exit_code == 0, done.output
    table = read_own_csv(out / "per_thousand.csv")
    # by hand: each 5-minute facility to its nearest compound (≤ 500 m), summed per community
    comp = gpd.read_file(gaps / "compounds.gpkg", layer="compounds")
    crs = comp.estimate_utm_crs()
    fs = load_floorspace()
    five = {c.id for c in CATS if c.level == "5min" and c.id in fs.rules}
    fac = pois[pois["设施类别"].isin(five)].to_crs(crs)
    near = gpd.sjoin_nearest(
        fac,
        comp.to_crs(crs)[["community", "subdistrict", "households", "geometry"]],
        max_distance=500.0,
    )
    near = near[~near.index.duplicated()]
    floor = near["建筑面积"].fillna(near["设施类别"].map(lambda c: fs.rules[c].floor_m2))
    land = near["用地面积"].fillna(near["设施类别"].map(lambda c: fs.rules[c].land_m2))
    name = near.loc[near["建筑面积"].notna(), "community"].iloc[0]  # one with data
    here = (near["community"] == name).to_numpy()
    sub = comp.loc[comp["community"] == name, "subdistrict"].iloc[0]
    people = comp.loc[comp["community"] == name, "households"].sum() * 2.62
    row = table[(table["unit"] == f"{sub} {name}") & (table["level"] == "5min")].iloc[0]
    assert row["floor_m2"] == pytest.approx(floor[here].sum())
    assert row["land_m2"] == pytest.approx(land[here].sum())
    assert row["residents"] == pytest.approx(people, abs=0.5)
    assert row["facilities_default_scale"] == int(near.loc[here, "建筑面积"].isna().sum())
    short = max(fs.levels["5min"].floor_per_1000[0] * people / 1000 - floor[here].sum(), 0)
    assert row["floor_short_m2"] == pytest.approx(short, abs=0.06)
    book = pd.read_excel(out / "assessment.xlsx", sheet_name=None)
    assert "千人指标 per 1,000" in book and "千人指标 categories" in book
    cover = book["说明 cover"].astype(str).set_index("内容 what")["数值 value"]
    assert "表5.0.2" in cover["千人指标 standard"]
    assert "check the figures before quoting" in cover["千人指标 note"]
    n_kg = int((pois["设施类别"] == "kindergarten").sum())
    assert cover["kindergarten: 默认建筑面积 default floor area"] == (
        f"{fs.rules['kindergarten'].floor_m2:g} m² × {n_kg - len(kg)} of {n_kg}"
    )


def test_boundaries_decide_the_unit_of_compounds_and_facilities():
    """A subdistrict polygon around A and the kindergarten; B and C lie outside it. As
    communities, a polygon around C alone takes the community station but not A."""
    from shapely.geometry import box

    from spatial.policy.per_thousand import OUTSIDE

    comp, pois, units, residents = _case()
    fs = load_floorspace()
    areas = facility_areas(pois, categories=CATS, standard=fs)
    lo, hi = metric(-50, -50), metric(100, 100)
    north = gpd.GeoDataFrame(
        {"unit": ["北区"]}, geometry=[box(lo.x, lo.y, hi.x, hi.y)], crs=UTM
    ).to_crs(4326)
    pt = per_thousand(
        comp,
        pois,
        areas,
        units=units,
        residents=residents,
        standard=fs,
        categories=CATS,
        boundaries=north,
        boundary_scale="subdistrict",
    )
    sub = pt.levels[pt.levels["level"] == "5min"].set_index("unit")  # communities unchanged
    assert sub.loc["甲", "floor_m2"] == 2000.0
    ten = pt.levels[pt.levels["level"] == "15min"].set_index("unit")
    assert ten.loc["北区", "residents"] == 1000 and ten.loc[OUTSIDE, "residents"] == 2000
    # the store is outside the polygon and far from every compound; the station outside
    assert (pt.unassigned, pt.outside) == (1, 2)
    lo, hi = metric(-10, 380), metric(70, 500)
    west = gpd.GeoDataFrame({"unit": ["西社区"]}, geometry=[box(lo.x, lo.y, hi.x, hi.y)], crs=UTM)
    pt = per_thousand(
        comp,
        pois,
        areas,
        units=units,
        residents=residents,
        standard=fs,
        categories=CATS,
        boundaries=west,
        boundary_scale="community",
    )
    five = pt.levels[pt.levels["level"] == "5min"].set_index("unit")
    assert five.loc["西社区", "residents"] == 1000
    assert five.loc["西社区", "floor_m2"] == fs.rules["community_station"].floor_m2
    assert five.loc[OUTSIDE, "residents"] == 2000 and five.loc[OUTSIDE, "floor_m2"] == 0
    assert pt.outside == 2  # the kindergarten and the store


def test_a_boundary_layer_with_every_fault_is_refused_at_once(tmp_path):
    from shapely.geometry import Point, box

    from spatial.io.boundaries import read_boundaries

    path = tmp_path / "units.gpkg"
    # a layer saved without its coordinate system, as planners' files sometimes are
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
        gpd.GeoDataFrame(
            {"社区": ["", "乙"]}, geometry=[box(0, 0, 1, 1), Point(5, 5)], crs=None
        ).to_file(path, layer="units")
    with pytest.raises(InputError) as err:
        read_boundaries(path)
    text = str(err.value)
    assert "no CRS" in text and "not polygons" in text and "without a name" in text, text
    with pytest.raises(InputError) as err:
        read_boundaries(path, name_column="名字")
    assert "no column '名字'" in str(err.value) and "社区" in str(err.value)
    with pytest.raises(InputError) as err:
        read_boundaries(tmp_path / "none.gpkg")
    assert "no such file" in str(err.value)


def test_each_facility_goes_to_its_nearest_compound_within_the_distance():
    """The pairs within 60 m at once, the rest one by one: the same as a brute force."""
    import shapely

    from spatial.policy.per_thousand import _NEAR_M

    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 3000, (300, 2))
    boxes = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + 40, xy[:, 1] + 25)
    pts = shapely.points(rng.uniform(-800, 3800, (2000, 2)))
    from spatial.policy import per_thousand as module

    got = module._nearest(boxes, pts, within_m=500.0)
    d = shapely.distance(pts[:, None], boxes[None, :])
    best = d.min(axis=1)
    far = best > 500.0
    assert (got[far] == -1).all() and (got[~far] >= 0).all()
    assert np.allclose(d[np.flatnonzero(~far), got[~far]], best[~far])
    assert (best < _NEAR_M).any() and ((best > _NEAR_M) & ~far).any()  # both paths ran


def test_a_boundary_drawn_across_itself_is_repaired_and_said(tmp_path):
    from shapely.geometry import Polygon, box

    from spatial import InputWarning
    from spatial.io.boundaries import read_boundaries

    path = tmp_path / "街道.gpkg"
    bowtie = Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])  # two triangles
    gpd.GeoDataFrame(
        {"街道": ["甲", "乙"]}, geometry=[bowtie, box(200, 0, 300, 100)], crs=UTM
    ).to_file(path)
    with pytest.warns(InputWarning, match="1 invalid polygons repaired"):
        units = read_boundaries(path)
    assert units.geometry.is_valid.all()
    assert units.set_index("unit").area["甲"] == pytest.approx(5000.0)  # both triangles


@pytest.mark.slow
def test_a_survey_without_households_says_why_every_unit_has_no_data(demo_city, tmp_path):
    from typer.testing import CliRunner

    from spatial.cli import app
    from spatial.io.outputs.write import read_own_csv

    g = str(demo_city.gpkg)
    comp = gpd.read_file(g, layer="compounds").drop(columns=["户数", "建筑面积"])
    survey = tmp_path / "小区.gpkg"
    comp.to_file(survey, layer="compounds")
    runner = CliRunner()
    gaps, out = tmp_path / "gaps", tmp_path / "assess"
    args = ["gaps", "--compounds", str(survey), "--pois", g, "--pois-layer", "pois"]
    done = runner.invoke(
        app, [*args, "--osm", str(demo_city.osm), "--no-service-areas", "--out", str(gaps)]
    )
    assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["assess", "--gaps", str(gaps), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "no compound has households" in " ".join(done.output.split())
    table = read_own_csv(out / "per_thousand.csv")
    assert (table["verdict"] == "无数据 no data").all() and (table["residents"] == 0).all()
    cover = pd.read_excel(out / "assessment.xlsx", sheet_name="说明 cover")
    said = cover.set_index("内容 what")["数值 value"]["无人口小区 compounds without residents"]
    assert said == f"{len(comp)} of {len(comp)}"


def test_assess_names_every_bad_input_at_once(tmp_path):
    """A folder that is no gaps output, a boundary layer without names and a figures file
    without sources: one error listing all three, before any work."""
    from shapely.geometry import box

    from spatial.pipeline.assess import run_assess

    bounds = tmp_path / "units.gpkg"
    gpd.GeoDataFrame({"x": [1]}, geometry=[box(0, 0, 1, 1)], crs=UTM).to_file(bounds)
    figures = tmp_path / "floorspace.toml"
    figures.write_text("[meta]\nassign_within_m = { value = 500 }\n", encoding="utf-8")
    (tmp_path / "gaps").mkdir()
    with pytest.raises(InputError) as err:
        run_assess(
            gaps_dir=tmp_path / "gaps",
            out_dir=tmp_path / "out",
            boundaries=bounds,
            floorspace_file=figures,
        )
    text = str(err.value)
    assert "gaps" in text and "no name column" in text and "assign_within_m" in text, text
    assert not (tmp_path / "out").exists()
