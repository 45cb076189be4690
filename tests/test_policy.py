"""Policy profiles at their boundaries, needs, ranking, annual plans and facility siting."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from spatial.bundling.finance import parcel_finance
from spatial.network import walk_network_from_lines
from spatial.policy import PROFILES, annual_plan, eligibility, load_profile, needs, rank, rollup
from spatial.policy.siting import maximal_covering, site_facilities


def _compounds(**cols):
    n = len(next(iter(cols.values())))
    return pd.DataFrame({"id": [f"C{i}" for i in range(n)], **cols})


@pytest.mark.parametrize("name", ["shandong", "taian", "liaocheng"])
def test_shandong_profiles_cut_at_2005_and_prioritise_2000(name):
    status = eligibility(_compounds(build_year=[2000, 2001, 2005, 2006, None]), load_profile(name))[
        "status"
    ].tolist()
    assert status == ["priority", "eligible", "eligible", "excluded", "unknown"]


@pytest.mark.parametrize("name", ["qinghai", "xining"])
def test_qinghai_profiles_expropriation_structure_and_no_cutoff(name):
    prof = load_profile(name)
    frame = _compounds(
        build_year=[2000, 2001, 2015, 1990, 1990, 1990],
        expropriation_year=[None, None, None, 2025, 2026, None],
        structure_grade=["B", "B", "A", "B", "B", "D"],
    )
    out = eligibility(frame, prof)
    assert out["status"].tolist() == [
        "priority",
        "eligible",
        "eligible",
        "excluded",
        "priority",
        "excluded",
    ]
    assert "2021—2025年内列入征收计划" in out.loc[3, "reason_zh"]
    assert "unsound" in out.loc[5, "reason_en"]


def test_demolition_rule_only_where_the_profile_has_it():
    frame = _compounds(build_year=[1990], planned_demolition=[True])
    assert eligibility(frame, load_profile("liaocheng"))["status"].item() == "excluded"
    assert eligibility(frame, load_profile("taian"))["status"].item() == "priority"
    unsound = _compounds(build_year=[1990], structure_grade=["D"])
    assert eligibility(unsound, load_profile("taian"))["status"].item() == "priority"


def test_every_profile_loads_with_sources_and_a_users_own(tmp_path):
    for name in PROFILES:
        prof = load_profile(name)
        assert prof.source and sum(prof.weights.values()) == pytest.approx(1.0)
    own = tmp_path / "mine.toml"
    own.write_text(
        'id = "mine"\nzh = "某市"\nen = "My city"\nplan_start_year = 2024\n'
        "plan_end_year = 2026\n[eligibility]\ncutoff_build_year = 1995\n"
        "priority_build_year = 1990\n[ranking]\nage = 1.0\n",
        encoding="utf-8",
    )
    status = eligibility(_compounds(build_year=[1990, 1995, 1996]), load_profile(own))
    assert status["status"].tolist() == ["priority", "eligible", "excluded"]
    with pytest.raises(ValueError, match="unknown profile"):
        load_profile("atlantis")


def test_needs_list_items_and_cost_with_the_profiles_subsidy():
    frame = gpd.GeoDataFrame(
        _compounds(
            build_year=[1990],
            households=[100],
            floor_area_m2=[10_000.0],
            floors=[6],
            buildings=[2],
            elevator=[False],
            missing=["kindergarten;parking"],
        ),
        geometry=[box(0, 0, 100, 100)],
        crs=32650,
    )
    out = needs(frame, load_profile("qinghai"))
    assert "加装电梯4部" in out.loc[0, "improvement_items"]
    assert "停车场" in out.loc[0, "improvement_items"]
    assert out.loc[0, "upgrade_items"] == "幼儿园"
    money = parcel_finance(frame.assign(kind="old_compound"))
    assert out.loc[0, "cost_yuan"] == money.loc[0, "cost_yuan"]
    assert out.loc[0, "subsidy_yuan"] == 100 * 15_000 + 4 * 150_000


def test_ranking_is_transparent_priority_first_and_ties_by_willingness():
    prof = load_profile("xining")
    frame = _compounds(
        build_year=[1995, 1995, 2010, 2020],
        n_missing=[5, 5, 20, 26],
        willingness=[0.6, 0.9, 0.5, 0.5],
        contribution_share=[0.5] * 4,
        structure_grade=["B", "B", "C", "A"],
    )
    status = eligibility(frame, prof)["status"]
    out = rank(frame, status, prof, n_categories=26)
    manual = sum(out.loc[1, f"f_{k}"] * w for k, w in prof.weights.items())
    assert out.loc[1, "score"] == pytest.approx(manual)
    # C1 and C0 are both priority; same factors but willingness: C1 first.
    assert out["rank"].tolist()[:2] == [2, 1]
    assert out.loc[2, "score"] > out.loc[0, "score"]  # the 2010 one scores higher …
    assert out.loc[2, "rank"] > out.loc[0, "rank"]  # … but comes after the priority ones


def test_ranking_counts_only_categories_with_data_and_names_its_assumptions():
    """Two categories with data (24 without): missing one is half the deficit, not 1/26;
    a compound with no willingness in the survey says that 0.5 was assumed."""
    prof = load_profile("xining")
    no_data = ";".join(f"c{k}" for k in range(24))
    frame = _compounds(
        build_year=[1990, 1990],
        n_missing=[1, 2],
        willingness=[0.8, None],
        contribution_share=[0.5, 0.5],
        structure_grade=["B", "B"],
    ).assign(no_data=no_data)
    out = rank(frame, eligibility(frame, prof)["status"], prof, n_categories=26)
    assert out["f_facility_deficit"].tolist() == [0.5, 1.0]
    assert out.loc[1, "f_willingness"] == 0.5
    assert "居民意愿" in out.loc[1, "assumed"] and "居民意愿" not in (out.loc[0, "assumed"] or "")


def test_annual_plan_respects_budgets_exactly_and_is_reproducible():
    rng = np.random.default_rng(4)
    n = 60
    costs = pd.Series(rng.uniform(1e7, 9e7, n))
    ranks = pd.Series(np.arange(1, n + 1), dtype="Int64")
    hh = pd.Series(rng.integers(100, 900, n))
    prio = pd.Series(np.arange(n) < 20)
    years = range(2021, 2026)
    plan = annual_plan(
        costs, ranks, hh, years=years, budget_yuan=3e8, households_per_year=4000, priority=prio
    )
    again = annual_plan(
        costs, ranks, hh, years=years, budget_yuan=3e8, households_per_year=4000, priority=prio
    )
    assert plan.equals(again)
    for y in years:
        assert costs[plan == y].sum() <= 3e8 and hh[plan == y].sum() <= 4000
    assert plan.notna().sum() > 10
    assert plan[prio].notna().all()  # every priority compound fits: all scheduled
    first_other = plan[~prio].dropna().min()
    assert plan[prio].max() >= first_other  # others only fill what priority left
    huge = annual_plan(
        pd.Series([5e8]),
        pd.Series([1], dtype="Int64"),
        pd.Series([10]),
        years=years,
        budget_yuan=3e8,
    )
    assert huge.isna().all()  # bigger than any year's budget: not scheduled


def test_rollup_sums_to_the_total():
    plan = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "district": ["示范区"] * 3,
            "subdistrict": ["甲街道", "甲街道", "乙街道"],
            "community": ["一社区", "二社区", "三社区"],
            "households": [100, 200, 300],
            "cost_yuan": [1.0, 2.0, 3.0],
            "year": pd.array([2021, 2021, 2022], dtype="Int64"),
        }
    )
    out = rollup(plan)
    total = out[out["level"] == "total"]
    assert total["households"].sum() == 600 and total["cost_yuan"].sum() == 6.0
    sub = out[(out["level"] == "subdistrict") & (out["year"] == 2021)]
    assert sub["households"].tolist() == [300]


def test_maximal_covering_finds_the_known_optimum_and_beats_random():
    rng = np.random.default_rng(11)
    cover = rng.random((12, 40)) < 0.15
    weights = rng.integers(50, 800, 40).astype(float)
    best = max(
        weights[cover[list(c)].any(axis=0)].sum() for c in itertools.combinations(range(12), 3)
    )
    chosen, value, gap = maximal_covering(cover, weights, 3)
    assert value == pytest.approx(best) and len(chosen) <= 3 and gap == pytest.approx(0)
    random_values = [
        weights[cover[rng.choice(12, 3, replace=False)].any(axis=0)].sum() for _ in range(50)
    ]
    assert value > np.mean(random_values) and value >= max(random_values)


def test_site_facilities_on_a_network():
    street = LineString([(440000, 4428000), (442000, 4428000)])
    net = walk_network_from_lines(gpd.GeoDataFrame(geometry=[street], crs=32650))
    homes = gpd.GeoDataFrame(
        {"id": ["A", "B", "C"], "households": [500, 400, 50]},
        geometry=[Point(440100, 4428010), Point(441900, 4428010), Point(441000, 4428010)],
        crs=32650,
    )
    sites = gpd.GeoDataFrame(
        {
            "id": ["S1", "S2", "S3"],
            "name": ["西", "东", "中"],
            "kind": ["low_efficiency", "function_conversion", "vacant"],
        },
        geometry=[
            box(440150, 4428020, 440200, 4428060),
            box(441800, 4428020, 441850, 4428060),
            box(440980, 4428020, 441020, 4428060),
        ],
        crs=32650,
    )
    covered = pd.DataFrame({"kindergarten": [False, False, False]}, index=["A", "B", "C"])
    ranked, choice = site_facilities(net, homes, sites, covered, k=2)
    kg = choice.set_index("category").loc["kindergarten"]
    assert set(kg["chosen_sites"].split(";")) == {"S1", "S2"}
    assert kg["households_newly_covered"] == 900 and kg["optimality_gap"] == pytest.approx(0)
    top = ranked[ranked["category"] == "kindergarten"].sort_values("rank")
    assert top["site_id"].tolist()[0] == "S1" and top["households_alone"].tolist()[0] == 500
