"""Judging a plan year by year (``spatial evaluate``): the incremental rerun against a hand
case and against a full rerun of the gap engine with the plan's facilities added."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import metric, open_offline
from shapely.geometry import LineString

from spatial import prepare
from spatial.lifecircle import compute_gaps
from spatial.network import walk_network_from_lines
from spatial.policy.evaluation import (
    Additions,
    evaluate_plan,
    planned_facilities,
)
from spatial.policy.evaluation_tables import evaluation_by_year
from spatial.standards import load_categories

UTM = "EPSG:32650"
CATS = tuple(c for c in load_categories() if c.id in ("kindergarten", "elderly_daycare"))


def _street():
    """A 2 km street; compounds A (100 households) at 290 m, B (200) at 500 m, C (400) at
    1,200 m, 5 m off it; an elderly day-care centre at 1,900 m and a kindergarten at 0 m."""
    net = walk_network_from_lines(
        gpd.GeoDataFrame(geometry=[LineString([(440000, 4428000), (442000, 4428000)])], crs=UTM)
    )
    comp = gpd.GeoDataFrame(
        {"id": ["A", "B", "C"], "name": ["甲", "乙", "丙"], "households": [100, 200, 400]},
        geometry=[metric(290, 5), metric(500, 5), metric(1200, 5)],
        crs=UTM,
    )
    pois = gpd.GeoDataFrame(
        {"name": ["日照", "幼儿园"], "category": ["elderly_daycare", "kindergarten"]},
        geometry=[metric(1900, 5), metric(0, 5)],
        crs=UTM,
    )
    return net, comp, pois


def test_a_plan_year_by_year_by_hand():
    """A's renovation (2027) builds a day-care room in A: A gains it at 0 m and B, 210 m
    along the street, too; C (710 m) does not. A kindergarten site at 1,250 m opens in
    2028: C (50 m) gains it, B (750 m) does not. Money 100 and 300 万元."""
    net, comp, pois = _street()
    before = compute_gaps(comp, pois, net, categories=CATS, service_areas=False)
    assert before.gaps.pivot(index="compound_id", columns="category", values="covered").to_dict(
        "index"
    ) == {
        "A": {"elderly_daycare": False, "kindergarten": True},
        "B": {"elderly_daycare": False, "kindergarten": False},
        "C": {"elderly_daycare": False, "kindergarten": False},
    }
    plan = pd.DataFrame(
        {"compound_id": ["A", "B", "C"], "year": [2027, 2028, None], "cost_yuan": [1e6, 3e6, 0]}
    )
    sites = gpd.GeoDataFrame(
        {"id": ["P1"], "categories": ["kindergarten"]}, geometry=[metric(1250, 30)], crs=UTM
    )
    missing = pd.DataFrame(
        {"elderly_daycare": [True, True, True], "kindergarten": [False, True, True]},
        index=["A", "B", "C"],
    )
    adds = Additions(improvement=(), upgrade=("elderly_daycare",))
    fac = planned_facilities(
        comp, plan, missing=missing, additions=adds, sites=sites, sites_year=2028
    )
    # B's renovation in 2028 builds a day-care room too (it still lacks one on paper)
    assert sorted(zip(fac["facility"], fac["year"], strict=True)) == [
        ("R:A:elderly_daycare", 2027),
        ("R:B:elderly_daycare", 2028),
        ("S:P1:kindergarten", 2028),
    ]
    ev = evaluate_plan(comp, before.gaps, fac, net, categories=CATS, years=[2027, 2028])
    got = ev.gained.sort_values(["year", "compound_id"])
    assert list(zip(got["compound_id"], got["category"], got["year"], strict=True)) == [
        ("A", "elderly_daycare", 2027),
        ("B", "elderly_daycare", 2027),
        ("C", "kindergarten", 2028),
    ]
    dist = dict(zip(got["compound_id"], got["distance_m"], strict=True))
    assert dist["A"] == 0.0
    # the walks are the engine's own (legs and all): those of a full run with both added
    added = gpd.GeoDataFrame(
        {"name": ["A room", "site"], "category": ["elderly_daycare", "kindergarten"]},
        geometry=[comp.geometry[0], metric(1250, 30)],
        crs=UTM,
    )
    full = compute_gaps(comp, pd.concat([pois, added]), net, categories=CATS, service_areas=False)
    walk = full.gaps.set_index(["compound_id", "category"])["distance_m"]
    assert dist["B"] == pytest.approx(walk["B", "elderly_daycare"]) and 210 <= dist["B"] <= 300
    assert dist["C"] == pytest.approx(walk["C", "kindergarten"]) and 50 <= dist["C"] <= 300
    assert ev.missing.to_dict("index") == {
        "A": {"before": 1, 2027: 0, 2028: 0},
        "B": {"before": 2, 2027: 1, 2028: 1},
        "C": {"before": 2, 2027: 2, 2028: 1},
    }
    t = evaluation_by_year(ev, plan, comp).set_index("year")
    assert t.loc[2027, "money_wan"] == 100 and t.loc[2028, "money_wan"] == 300
    assert t.loc[2027, "households_newly_covered"] == 300
    assert t.loc[2027, "household_categories"] == 300
    assert t.loc[2027, "compounds_off_gap_list"] == 1  # A
    assert t.loc[2027, "money_per_household_wan"] == pytest.approx(100 / 300, abs=1e-4)
    assert t.loc[2028, "households_newly_covered"] == 400
    assert t.loc[2028, "compounds_on_gap_list"] == 2


@pytest.fixture(scope="module")
def demo_plan(demo_city, tmp_path_factory):
    """gaps (with capacity) and two plans of the demo city (budgets 3e8 and 8e8)."""
    from typer.testing import CliRunner

    from spatial.cli import app

    tmp = tmp_path_factory.mktemp("evaluate")
    g, osm = str(demo_city.gpkg), str(demo_city.osm)
    runner = CliRunner()
    gaps = tmp / "gaps"
    args = ["gaps", "--compounds", g, "--compounds-layer", "compounds", "--pois", g]
    args += ["--pois-layer", "pois", "--osm", osm, "--capacity", "--no-service-areas"]
    done = runner.invoke(app, [*args, "--out", str(gaps)])
    assert done.exit_code == 0, done.output
    plans = []
    for budget in ("3e8", "8e8"):
        out = tmp / f"plan_{budget}"
        done = runner.invoke(
            app,
            [
                "plan",
                "--gaps",
                str(gaps),
                "--profile",
                "taian",
                "--budget-yuan",
                budget,
                "--start-year",
                "2027",
                "--parcels",
                g,
                "--parcels-layer",
                "parcels",
                "--osm",
                osm,
                "--sites-k",
                "1",
                "--out",
                str(out),
            ],
        )
        assert done.exit_code == 0, done.output
        plans.append(out)
    out = tmp / "evaluation"
    done = runner.invoke(
        app,
        [
            "evaluate",
            "--gaps",
            str(gaps),
            "--plan",
            str(plans[0]),
            "--plan",
            str(plans[1]),
            "--osm",
            osm,
            "--out",
            str(out),
        ],
    )
    assert done.exit_code == 0, done.output
    return gaps, plans, out, demo_city


def test_the_evaluation_equals_a_full_rerun_with_the_facilities_added(demo_plan):
    """Every compound and category, after each year, as a rerun of the whole city with the
    plan's facilities of the years so far added; three compounds' gains year by year."""
    from spatial.io.outputs.results import load_gap_tables
    from spatial.io.outputs.write import read_own_csv
    from spatial.network import walk_network_from_osm
    from spatial.pipeline.evaluate import read_plan

    gaps, plans, out, city = demo_plan
    tables = load_gap_tables(gaps, service_areas=False)
    book = pd.read_excel(out / "evaluation.xlsx", sheet_name=None)
    fac = book["新增设施 facilities"]
    fac = fac[fac["方案 plan"] == plans[0].name]
    comp_all = book["小区 compounds"]
    comp_all = comp_all[comp_all["方案 plan"] == plans[0].name]
    assert len(fac) and (fac["年度 year"].nunique() >= 2)
    pois = prepare(gpd.read_file(city.gpkg, layer="pois"), "pois").to_crs(4326)
    compounds = prepare(gpd.read_file(city.gpkg, layer="compounds"), "compounds")
    net = walk_network_from_osm(city.osm, crs=UTM)
    years = sorted(fac["年度 year"].unique())
    gained = comp_all.set_index("小区编号 compound id")["补齐类别(年度) categories gained (year)"]
    counted = sorted(set(tables.gaps.loc[tables.gaps["status"] != "no_data", "category"]))
    zh = {c.id: c.zh for c in tables.categories}
    before = tables.gaps.pivot(index="compound_id", columns="category", values="covered")
    checked = 0
    for year in years:
        now = fac[fac["年度 year"] <= year]
        added = gpd.GeoDataFrame(
            {"name": now["设施编号 facility"], "category": now["设施类别 category"]},
            geometry=gpd.points_from_xy(now["经度 lon (WGS84)"], now["纬度 lat (WGS84)"]),
            crs=4326,
        )
        both = pd.concat([pois, added], ignore_index=True)
        full = compute_gaps(compounds, both, net, service_areas=False)
        after = full.gaps.pivot(index="compound_id", columns="category", values="covered")
        own = now[now["来源 from (site / renovation)"] == "renovation"]
        for cid, cat in zip(own["小区编号 compound id"], own["设施类别 category"], strict=True):
            after.loc[str(cid), cat] = True  # built inside: covers its compound at 0 m
        for cid in after.index:
            expect = sorted(c for c in counted if after.loc[cid, c] and not before.loc[cid, c])
            text = gained.get(cid)
            listed = sorted(
                c
                for c in counted
                for part in (str(text).split("、") if isinstance(text, str) else [])
                if part.startswith(zh[c] + "(") and int(part[len(zh[c]) + 1 : -1]) <= year
            )
            assert listed == expect, (cid, year)
            checked += len(expect)
    assert checked > 0
    # the by-year table adds up the compounds' gains
    by_year = read_own_csv(out / "evaluation_by_year.csv")
    mine = by_year[by_year["plan"] == plans[0].name]
    n_gained = sum(len(str(v).split("、")) for v in gained.dropna().to_numpy())
    assert int(mine["gaps_closed"].sum()) == n_gained
    plan0 = read_plan(plans[0]).table
    assert mine["money_wan"].sum() == pytest.approx(
        plan0.loc[plan0["year"].notna(), "cost_yuan"].sum() / 1e4, rel=1e-6
    )


def test_two_plans_side_by_side_and_the_workbook_for_officials(demo_plan):
    _gaps, plans, out, _ = demo_plan
    book = pd.read_excel(out / "evaluation.xlsx", sheet_name=None)
    assert list(book) == [
        "封面 cover",
        "逐年 by year",
        "分单位 by unit",
        "分类别 by category",
        "小区 compounds",
        "新增设施 facilities",
        "方案对比 comparison",
    ]
    comparison = book["方案对比 comparison"].set_index("指标 measure")
    money = comparison.loc["投资（万元） money (10k yuan)"]
    by_year = book["逐年 by year"]
    for p in plans:
        spent = by_year.loc[by_year["方案 plan"] == p.name, "投资（万元） money (10k yuan)"]
        assert money[p.name] == pytest.approx(spent.sum())
        assert pd.api.types.is_numeric_dtype(spent)
    # a larger budget renovates more compounds in the same years
    renovated = comparison.loc["改造小区数 compounds renovated"]
    assert renovated[plans[1].name] >= renovated[plans[0].name]
    cover = " ".join(book["封面 cover"].astype(str).to_numpy().ravel())
    assert "国办发〔2020〕23号" in cover and "首年" in cover and "调查 survey" in cover
    units = book["分单位 by unit"]
    assert set(units["层级 level"]) == {"district", "subdistrict", "community"}
    # per district, the year's compounds add up to the whole
    d = units[(units["层级 level"] == "district") & (units["方案 plan"] == plans[0].name)]
    whole = by_year[by_year["方案 plan"] == plans[0].name].set_index("年度 year")
    per = d.groupby("年度 year")["改造小区数 compounds renovated"].sum()
    assert per.to_dict() == whole["改造小区数 compounds renovated"].to_dict()
    assert (out / "coverage_by_year.png").stat().st_size > 10_000


def test_the_before_after_map_switches_state_offline(demo_plan, browser):
    _gaps, plans, out, _ = demo_plan
    book = pd.read_excel(out / "evaluation.xlsx", sheet_name="小区 compounds")
    mine = book[book["方案 plan"] == plans[0].name]
    page, errors = open_offline(browser, out / "before_after.html")
    page.wait_for_function("() => window.SPATIAL_READY === true")
    page.wait_for_function("() => window.SPATIAL_STATE !== undefined")
    assert page.evaluate("() => window.SPATIAL_STATE.lacking") == int(
        (mine["改造前缺项 lacking before"] > 0).sum()
    )
    n = page.locator("select[data-state] option").count()
    page.select_option("select[data-state]", str(n - 1))
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.SPATIAL_STATE.lacking") == int(
        (mine["期末缺项 lacking after"] > 0).sum()
    )
    # one point per site and per renovated compound (stacked points would cancel out)
    fac = pd.read_excel(out / "evaluation.xlsx", sheet_name="新增设施 facilities")
    fac = fac[fac["方案 plan"] == plans[0].name]
    place = fac["地块 site"].where(
        fac["来源 from (site / renovation)"] == "site", fac["小区编号 compound id"]
    )
    groups = fac.assign(place=place.astype(str)).drop_duplicates(
        ["来源 from (site / renovation)", "place", "年度 year"]
    )
    assert page.evaluate("() => SpatialMap.layers['new_facilities'].spec.count") == len(groups)
    assert errors == []


def test_evaluate_without_network_or_plan_says_both(tmp_path):
    from typer.testing import CliRunner

    from spatial.cli import app

    done = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--gaps",
            str(tmp_path / "nope"),
            "--plan",
            str(tmp_path / "noplan"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert done.exit_code == 1
    assert "Traceback" not in done.output
    from spatial import InputError
    from spatial.pipeline.evaluate import run_evaluate

    with pytest.raises(InputError) as err:  # every problem at once, before any work
        run_evaluate(
            gaps_dir=tmp_path / "nope", plan_dirs=[tmp_path / "noplan"], out_dir=tmp_path / "out"
        )
    said = " | ".join(p.message for p in err.value.problems)
    assert "walk network is needed" in said and "plan.gpkg is missing" in said
    assert "output folder of `spatial gaps` is needed" in said
    assert not (tmp_path / "out").exists()


def test_missing_households_are_not_counted_as_zero():
    from spatial.policy.evaluation_tables import households_basis

    frame = pd.DataFrame(
        {"households": [10, np.nan, 30], "estimated": [None, None, "floor_area_m2,households"]}
    )
    assert households_basis(frame).tolist() == ["调查 survey", "缺失 missing", "估算 estimate"]


def test_evaluate_the_database_s_latest_runs(demo_city, tmp_path):
    """gaps --db → plan --db → evaluate --db: the plan run's compounds and cost."""
    from typer.testing import CliRunner

    from spatial.cli import app

    runner = CliRunner()
    db, g, osm = str(tmp_path / "城市.gpkg"), str(demo_city.gpkg), str(demo_city.osm)
    steps = [
        ["db", "init", "--db", db],
        ["db", "import", g, "--layer", "compounds", "--db", db, "--round", "2026"],
        [
            *("gaps", "--db", db, "--pois", g, "--pois-layer", "pois", "--osm", osm),
            *("--no-service-areas", "--out", str(tmp_path / "gaps")),
        ],
        [
            *("plan", "--db", db, "--profile", "taian", "--budget-yuan", "3e8"),
            *("--start-year", "2027", "--out", str(tmp_path / "plan")),
        ],
        ["evaluate", "--db", db, "--osm", osm, "--out", str(tmp_path / "ev")],
    ]
    for args in steps:
        done = runner.invoke(app, args)
        assert done.exit_code == 0, (args, done.output)
    by_year = pd.read_csv(tmp_path / "ev" / "evaluation_by_year.csv", encoding="utf-8-sig")
    plan = pd.read_excel(tmp_path / "plan" / "plan.xlsx", sheet_name="年度计划 annual plan")
    assert by_year["plan"].str.startswith("plan run").all()
    assert by_year["compounds_renovated"].sum() == len(plan)
    assert by_year["money_wan"].sum() == pytest.approx(
        plan["估算投资（万元） Cost (10k yuan)"].sum(), rel=1e-4
    )
    assert by_year["gaps_closed"].sum() > 0
