"""The four financing modes: hand-computed cases, invariants, bad files, live workbook."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from spatial import InputError
from spatial.bundling import bundle_units, find_bundles, load_finance, parcel_finance
from spatial.finance import (
    COMPONENTS,
    cash_flows,
    finance_report,
    funding_sources,
    sensitivity,
    tornado_html,
    within_compound,
)

SHIPPED = REPO / "spatial" / "standards" / "finance.toml"
F = load_finance()


def _three_year() -> object:
    """Build in year 0, land sold in year 2, a 2-year bond repaid in equal payments."""
    return F.with_overrides(
        cashflow__horizon_years=3,
        cashflow__construction_years=1,
        cashflow__land_sale_year=2,
        cashflow__discount_rate=0.10,
        cashflow__start_year=2030,
        bond__rate=0.05,
        bond__term_years=2,
        bond__grace_years=0,
        loan__term_years=2,
        loan__grace_years=0,
        operating__opens_after_years=1,
    )


def test_three_year_bond_project_by_hand():
    project = pd.DataFrame(
        {
            "cost_yuan": [1000.0],
            "grants_yuan": [200.0],
            "sources_yuan": [100.0],
            "land_yuan": [1000.0],
        }
    )
    cf = cash_flows(project, finance=_three_year())
    s = cf.summary.iloc[0]
    # year 0: −1000 + 200 + 100; year 1: nothing; year 2: land 1000
    assert cf.lines["net"][0].tolist() == pytest.approx([-700.0, 0.0, 1000.0])
    assert cf.years.tolist() == [2030, 2031, 2032]
    assert s["npv_yuan"] == pytest.approx(-700 + 1000 / 1.1**2)  # 126.45
    assert s["irr"] == pytest.approx((1000 / 700) ** 0.5 - 1)  # 19.5 %
    payment = 700 * 0.05 / (1 - 1.05**-2)  # annuity of 700 over 2 years at 5 %
    assert cf.lines["debt_service"][0].tolist() == pytest.approx([0.0, payment, payment])
    assert cf.lines["interest"][0].tolist() == pytest.approx(
        [0.0, 35.0, (700 - (payment - 35)) * 0.05]
    )
    assert cf.lines["debt_balance"][0][-1] == pytest.approx(0.0, abs=1e-9)
    assert s["debt_yuan"] == 700.0
    assert s["bond_coverage"] == pytest.approx(1000 / (2 * payment))  # 1.328
    assert s["bond_eligible"] and s["financing"] == "bond"
    assert s["payback_year"] == 2032


def test_bond_test_fails_below_the_threshold_and_falls_back_to_a_loan():
    project = pd.DataFrame({"cost_yuan": [1000.0], "land_yuan": [1100.0]})
    tight = _three_year()
    s = cash_flows(project, finance=tight).summary.iloc[0]
    payment = 1000 * 0.05 / (1 - 1.05**-2)
    assert s["bond_coverage"] == pytest.approx(1100 / (2 * payment))  # 1.02 < 1.2
    assert s["financing"] == "loan" and not s["bond_eligible"]
    loose = tight.with_overrides(bond__min_coverage=1.0)
    assert cash_flows(project, finance=loose).summary.iloc[0]["financing"] == "bond"


def test_grace_years_pay_interest_only():
    f = F.with_overrides(bond__rate=0.04, bond__term_years=5, bond__grace_years=2)
    project = pd.DataFrame({"cost_yuan": [1000.0], "land_yuan": [5000.0]})
    cf = cash_flows(project, finance=f)
    service = cf.lines["debt_service"][0]
    payment = 1000 * 0.04 / (1 - 1.04**-3)
    assert service[:6].tolist() == pytest.approx([0, 40, 40, payment, payment, payment])
    assert service[6:].sum() == 0
    assert cf.lines["debt_balance"][0][5] == pytest.approx(0.0, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 1e9), min_size=8, max_size=8),
    st.integers(1, 4),
    st.integers(0, 6),
)
def test_npv_at_zero_rate_is_the_sum_of_flows(parts, build_years, sale_year):
    f = F.with_overrides(
        cashflow__discount_rate=0.0,
        cashflow__construction_years=build_years,
        cashflow__land_sale_year=sale_year,
    )
    project = pd.DataFrame([parts], columns=list(COMPONENTS))  # in their documented order
    cf = cash_flows(project, finance=f)
    assert cf.summary["npv_yuan"].iloc[0] == pytest.approx(
        cf.lines["net"][0].sum(), rel=1e-9, abs=1e-3
    )
    # the yearly lines add up to the totals they spread
    assert -cf.lines["construction"][0].sum() == pytest.approx(parts[0])
    assert cf.lines["land"][0].sum() == pytest.approx(parts[4])


def _compound(**columns: object) -> gpd.GeoDataFrame:
    base = {"id": ["C1"], "name": ["样板小区"], "kind": ["old_compound"], "households": [100]}
    base.update({k: [v] for k, v in columns.items()})
    return gpd.GeoDataFrame(base, geometry=[box(0, 0, 100, 100)], crs="EPSG:32650")


def test_a_compound_paid_by_five_sources_that_sum_to_its_cost():
    c = _compound(floor_area_m2=7500.0, floors=3, contribution_share=0.8, owner_unit="市机械厂")
    # the maintenance fund per household is set so that the five lines meet the cost exactly
    f = F.with_overrides(sources__maintenance_fund_yuan_per_household=27675)
    money = parcel_finance(c, defaults=f)
    assert money["cost_yuan"].iloc[0] == 7500 * (400 + 250 + 150)  # 6,000,000
    lines = funding_sources(c, money, finance=f).iloc[0]
    networks = 7500 * 400 * 0.35  # 1,050,000 of utility networks
    assert lines["subsidy_yuan"] == 100 * 15000
    assert lines["utility_yuan"] == pytest.approx(networks - networks * 0.5 * 0.3)  # 892,500
    assert lines["original_owner_yuan"] == pytest.approx(6_000_000 * 0.1)
    assert lines["residents_yuan"] == pytest.approx(100 * 0.8 * 3000)  # surveyed share
    assert lines["maintenance_fund_yuan"] == pytest.approx(100 * 27675)
    five = [
        "subsidy_yuan",
        "utility_yuan",
        "original_owner_yuan",
        "residents_yuan",
        "maintenance_fund_yuan",
    ]
    assert lines[five].sum() == pytest.approx(6_000_000)
    assert lines["city_budget_yuan"] == pytest.approx(0.0, abs=1e-6)
    assert "出资比例 80% (survey)" in lines["basis"]


def test_without_survey_or_owner_the_defaults_apply_and_the_city_pays_the_rest():
    c = _compound(floor_area_m2=7500.0, floors=3)
    money = parcel_finance(c, defaults=F)
    lines = funding_sources(c, money, finance=F).iloc[0]
    assert lines["original_owner_yuan"] == 0
    assert lines["residents_yuan"] == pytest.approx(100 * 0.5 * 3000)  # default share
    paid = 1_500_000 + 892_500 + 150_000 + 100_000
    assert lines["city_budget_yuan"] == pytest.approx(6_000_000 - paid)
    assert lines["utility_award_yuan"] == pytest.approx(1_050_000 * 0.5 * 0.3)


@settings(max_examples=80, deadline=None)
@given(
    st.floats(0, 5e7),
    st.integers(0, 3000),
    st.floats(0, 1),
    st.floats(0, 2e5),
    st.floats(0, 1e6),
    st.booleans(),
)
def test_sources_never_exceed_the_cost(floor, households, share, per_household, subsidy, owner):
    c = _compound(floor_area_m2=floor, contribution_share=share, owner_unit="厂" if owner else None)
    c["households"] = households
    f = F.with_overrides(sources__resident_yuan_per_household=per_household)
    money = parcel_finance(c, defaults=f)
    money["subsidy_yuan"] = np.minimum(money["subsidy_yuan"] + subsidy, money["cost_yuan"])
    lines = funding_sources(c, money, finance=f).iloc[0]
    paid = lines[
        [
            "subsidy_yuan",
            "utility_yuan",
            "original_owner_yuan",
            "residents_yuan",
            "maintenance_fund_yuan",
        ]
    ]
    assert (paid >= 0).all() and lines["city_budget_yuan"] >= -1e-6
    assert paid.sum() <= lines["cost_yuan"] + 1e-6
    assert paid.sum() + lines["city_budget_yuan"] == pytest.approx(lines["cost_yuan"], abs=1e-3)


def test_within_compound_facilities_sized_by_hand():
    c = _compound(land_area_m2=20000.0, floor_area_m2=30000.0, floors=6, buildings=10)
    c["households"] = 600
    w = within_compound(c, finance=F).iloc[0]
    # footprint 30000/6 = 5000 m², free land 15000 m²: parking min(600×0.5, 15000×0.25/30) = 125
    build = 125 * 15000 + 25 * 8000 + 60 * 600 + 1 * 500000 + 120 * 1500 + 2 * 5000 + 10 * 2000
    income = 125 * 2400 + 25 * 2000 + 60 * 300 + 100000 + 120 * 360 + 2 * 3000 + 10 * 1500
    cost = 125 * 300 + 25 * 500 + 60 * 60 + 20000 + 120 * 40 + 2 * 200 + 10 * 100
    assert w["facility_build_yuan"] == pytest.approx(build)
    assert w["facility_income_yuan_per_year"] == pytest.approx(income)
    assert w["facility_cost_yuan_per_year"] == pytest.approx(cost)
    assert w["payback_years"] == pytest.approx(build / (income - cost))
    half = within_compound(c, finance=F.with_overrides(operating__uptake=0.5)).iloc[0]
    assert half["facility_income_yuan_per_year"] == pytest.approx(income / 2)
    small = _compound()  # 100 households, no canteen, land measured from the geometry
    s = within_compound(small, finance=F).iloc[0]
    assert s["facility_build_yuan"] > 0 and np.isfinite(s["payback_years"])


def _constructed_bundle() -> tuple[gpd.GeoDataFrame, object]:
    """A compound beside an old factory whose land just pays for both."""
    comp = _compound(floor_area_m2=10000.0, floors=3)
    comp["households"] = 120
    factory = gpd.GeoDataFrame(
        {"id": ["F1"], "name": ["旧厂"], "kind": ["old_factory"], "planned_far": [1.0]},
        geometry=[box(105, 0, 145, 100)],  # 4,000 m², next to the compound across a lane
        crs="EPSG:32650",
    )
    units = bundle_units(comp.drop(columns="kind"), factory)
    return units, find_bundles(units, finance=F, seed=1)


def test_sensitivity_shows_which_bundle_flips(tmp_path):
    units, result = _constructed_bundle()
    assert len(result.bundles) == 1
    report = finance_report(units, result, finance=F)
    sens = report.sensitivity
    assert len(sens) == 3 * 4
    land = sens[sens["factor"] == "land"].set_index("change")
    assert (land["npv_yuan"].diff().dropna() > 0).all()  # more land value, more NPV
    cost = sens[sens["factor"] == "cost"].set_index("change")
    assert (cost["npv_yuan"].diff().dropna() < 0).all()
    # land value alone moves the NPV by its discounted revenue × change
    pv_land = 4000 * 1.0 * 2500 / 1.06**2
    assert land.loc[-0.1, "delta_yuan"] == pytest.approx(-0.1 * pv_land, rel=1e-9)
    assert not sens["flips"].any()  # 4.9 million yuan above balance: nothing flips


def test_a_bundle_just_above_balance_flips_when_land_value_falls_or_cost_rises():
    f = _three_year()  # net flows: year 0 −(cost − grants − sources), year 2 land
    pv = 700 / 0.99  # land's present value: the NPV is +1 % of it
    bundle = pd.DataFrame(
        {
            "project_id": ["B0001"],
            "cost_yuan": [1000.0],
            "grants_yuan": [200.0],
            "sources_yuan": [100.0],
            "land_yuan": [pv * 1.21],
        }
    )
    bundle["npv_yuan"] = cash_flows(bundle, finance=f).summary["npv_yuan"]
    assert bundle["npv_yuan"].iloc[0] == pytest.approx(0.01 * pv)
    sens = sensitivity(bundle, finance=f)
    hit = sens[sens["flips"]]
    flips = set(zip(hit["factor"], hit["change"], strict=True))
    assert flips == {("land", -0.1), ("land", -0.2), ("cost", 0.1), ("cost", 0.2)}
    cost = sens[sens["factor"] == "cost"].set_index("change")
    assert cost.loc[0.1, "npv_yuan"] == pytest.approx(-800 + pv)  # building 1,100 in year 0
    assert (sens.loc[sens["factor"] == "uptake", "delta_yuan"] == 0).all()  # no facilities
    html = tornado_html(sens)
    assert "<svg" in html and "⚠" in html and "土地价值 land value -10%" in html


def test_sensitivity_of_no_bundles_is_empty():
    assert sensitivity(pd.DataFrame(columns=["project_id", "npv_yuan"]), finance=F).empty


def _bad(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    text = SHIPPED.read_text("utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    path = tmp_path / "finance.toml"
    path.write_text(text, encoding="utf-8")
    return path, text


def _line_of(text: str, needle: str) -> str:
    return f"line {next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)}"


def test_bad_finance_files_name_the_key_and_line(tmp_path):
    path, text = _bad(tmp_path, "[bond]  # local", "[bond]  # local")
    text = (
        text.replace("rate = { value = 0.03,", "rate = { value = -0.03,")  # a negative rate
        .replace("term_years = { value = 10,", "term_years = { value = 0,")  # loan term 0
        .replace(
            'shantytown_yuan_per_m2 = { value = 2000, source = "assumption: net value of '
            'rebuilt shantytown floor area" }\n',
            "",
        )
        .replace("min_households = { value = 500,", "min_househlds = { value = 500,")  # typo
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_finance(path)
    found = {(p.column, p.row): p for p in err.value.problems}
    assert ("bond.rate", _line_of(text, "rate = { value = -0.03")) in found
    assert ("loan.term_years", _line_of(text, "term_years = { value = 0,")) in found
    assert ("revenue.shantytown_yuan_per_m2", _line_of(text, "[revenue]")) in found
    typo = found[("canteen.min_househlds", _line_of(text, "min_househlds"))]
    assert "min_households" in typo.hint  # did you mean
    assert ("canteen.min_households", _line_of(text, "[canteen]")) in found  # so it is missing
    assert len(err.value.problems) == 5
    assert all(p.file == str(path) for p in err.value.problems)


def test_bad_finance_values_out_of_bounds(tmp_path):
    path, text = _bad(tmp_path, "grace_years = { value = 5,", "grace_years = { value = 15,")
    text = text.replace("uptake = { value = 1.0,", 'uptake = { value = "all",')
    text = text.replace(
        "utility_owned_share = { value = 0.5,", "utility_owned_share = { value = 1.5,"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_finance(path)
    messages = {p.column: p.message for p in err.value.problems}
    assert "leaves no year to repay" in messages["bond.grace_years"]
    assert "needs a number" in messages["operating.uptake"]
    assert "out of bounds" in messages["sources.utility_owned_share"]


def test_bundles_command_writes_finance_and_refuses_a_bad_finance_file(tmp_path):
    from typer.testing import CliRunner

    from spatial.cli import app

    gpkg = str(REPO / "data" / "demo" / "demo_city.gpkg")
    bad, text = _bad(tmp_path, "rate = { value = 0.03,", "rate = { value = -0.03,")
    runner = CliRunner()
    res = runner.invoke(
        app, ["bundles", "--parcels", gpkg, "--finance", str(bad), "--out", str(tmp_path / "b")]
    )
    assert res.exit_code == 1, res.output
    flat = " ".join(res.output.split())
    assert "bond.rate" in flat and _line_of(text, "value = -0.03") in flat
    assert "Traceback" not in res.output and not (tmp_path / "b").exists()
    res = runner.invoke(app, ["bundles", "--parcels", gpkg, "--out", str(tmp_path / "ok")])
    assert res.exit_code == 0, res.output
    out = tmp_path / "ok"
    for name in ("finance.xlsx", "sensitivity.html", "finance_projects.csv", "funding_lines.csv"):
        assert (out / name).is_file()
    projects = pd.read_csv(out / "finance_projects.csv", encoding="utf-8-sig")
    bundles = gpd.read_file(out / "bundles.gpkg", layer="bundles")
    b = projects[projects["kind"] == "bundle"].set_index("project_id")
    assert bundles.set_index("bundle_id")["npv_yuan"].to_dict() == pytest.approx(
        b["npv_yuan"].to_dict()
    )
    assert "special-bond test" in " ".join(res.output.split())
    sens = pd.read_csv(out / "sensitivity.csv", encoding="utf-8-sig")
    assert len(sens) == len(b) and {"npv_land_-10%", "npv_cost_+20%", "flips"} <= set(sens)
    row = sens.set_index("bundle_id").loc["B0001"]
    assert row["npv_land_+10%"] > row["base_npv_yuan"] > row["npv_land_-10%"]
    fac = pd.read_csv(out / "facilities.csv", encoding="utf-8-sig")
    assert len(fac) == (projects["kind"] == "compound").sum()
    assert {"parking_units", "canteen_units", "payback_years", "basis"} <= set(fac)


def test_no_workbook_leaves_out_finance_xlsx_only(tmp_path):
    """`spatial bundles --no-workbook` (batch runs): every CSV table, no workbook."""
    from typer.testing import CliRunner

    from spatial.cli import app

    gpkg = str(REPO / "data" / "demo" / "demo_city.gpkg")
    out = tmp_path / "b"
    res = CliRunner().invoke(
        app, ["bundles", "--parcels", gpkg, "--out", str(out), "--no-workbook"]
    )
    assert res.exit_code == 0, res.output
    assert not (out / "finance.xlsx").exists()
    for name in ("finance_projects.csv", "funding_lines.csv", "sensitivity.csv", "bundles.gpkg"):
        assert (out / name).is_file()


def test_cash_flow_sheets_option_sets_how_many_full_sheets(tmp_path):
    import openpyxl
    from typer.testing import CliRunner

    from spatial.cli import app

    gpkg = str(REPO / "data" / "demo" / "demo_city.gpkg")
    out = tmp_path / "b"
    runner = CliRunner()
    res = runner.invoke(
        app, ["bundles", "--parcels", gpkg, "--out", str(out), "--cash-flow-sheets", "2"]
    )
    assert res.exit_code == 0, res.output
    names = openpyxl.load_workbook(out / "finance.xlsx", read_only=True).sheetnames
    assert sum(n.startswith("CF ") for n in names) == 2
    bad = runner.invoke(
        app,
        ["bundles", "--parcels", gpkg, "--out", str(tmp_path / "c"), "--cash-flow-sheets", "-1"],
    )
    assert bad.exit_code == 1 and "cash" in bad.output and "Traceback" not in bad.output


def test_the_policy_profile_says_whether_utilities_get_an_award():
    from spatial.policy import load_profile, profile_finance

    c = _compound(floor_area_m2=7500.0, floors=3)
    networks = 7500 * 400 * 0.35
    lines = {}
    for name in ("taian", "xining"):
        f = profile_finance(F, load_profile(name))
        lines[name] = funding_sources(c, parcel_finance(c, defaults=f), finance=f).iloc[0]
    # Tai'an (以奖代补): utilities renovate what they own and, with a 30 % award, the rest
    assert lines["taian"]["utility_yuan"] == pytest.approx(networks * 0.5 + networks * 0.5 * 0.7)
    assert lines["taian"]["utility_award_yuan"] == pytest.approx(networks * 0.5 * 0.3)
    # Xining names no award: utilities pay for their own networks, the project the rest
    assert lines["xining"]["utility_yuan"] == pytest.approx(networks * 0.5)
    assert lines["xining"]["utility_award_yuan"] == 0
    assert "utility_nonowned_share=0 (user)" in lines["xining"]["basis"]
    assert lines["xining"]["subsidy_yuan"] == 100 * 15000  # Qinghai/Xining's figure


def test_the_sensitivity_page_draws_flipping_bundles_first_and_says_what_it_left_out():
    f = _three_year()
    pv = 700 / 0.99
    two = pd.DataFrame(
        {
            "project_id": ["B0001", "B0002"],
            "cost_yuan": [1000.0, 1000.0],
            "grants_yuan": [200.0, 200.0],
            "sources_yuan": [100.0, 100.0],
            "land_yuan": [5000.0, pv * 1.21],  # B0001 far above balance, B0002 just above
        }
    )
    two["npv_yuan"] = cash_flows(two, finance=f).summary["npv_yuan"]
    html = tornado_html(sensitivity(two, finance=f), max_bundles=1)
    assert 'id="B0002"' in html and 'id="B0001"' not in html
    assert "1 more bundles in sensitivity.csv" in html


@settings(max_examples=40, deadline=None)
@given(
    st.floats(100, 1e7),
    st.floats(0, 1e7),
    st.lists(st.floats(0, 2e6), min_size=3, max_size=3),
)
def test_irr_equals_numpy_financial(cost, grants, later):
    import numpy_financial as npf

    f = F.with_overrides(cashflow__horizon_years=3, bond__term_years=2, loan__term_years=2)
    f = f.with_overrides(bond__grace_years=0, loan__grace_years=0, operating__opens_after_years=2)
    project = pd.DataFrame(
        {
            "cost_yuan": [cost],
            "grants_yuan": [grants],
            "land_yuan": [later[0]],
            "facility_capacity_income_yuan_per_year": [later[1]],
            "facility_cost_yuan_per_year": [later[2] / 4],
        }
    )
    cf = cash_flows(project, finance=f)
    net = cf.lines["net"][0]
    got = cf.summary["irr"].iloc[0]
    if (net < 0).any() and (net > 0).any() and net.sum() >= 0:
        assert got == pytest.approx(npf.irr(net), abs=1e-9)
    else:
        assert np.isnan(got)


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(1e-6, 0.2),  # numpy-financial itself warns at 0 (checked below)
    years=st.integers(1, 30),
    debt=st.floats(0, 1e10),
)
def test_npv_and_annuity_equal_numpy_financial(rate, years, debt):
    """The two formulas written here (numpy-financial is only a test dependency)."""
    import numpy_financial as npf

    from spatial.finance.cashflow import annuity, npv_of

    flows = np.array([[-debt, *([debt / years] * years)]])
    assert npv_of(flows, rate)[0] == pytest.approx(npf.npv(rate, flows[0]), rel=1e-9, abs=1e-3)
    expected = npf.pmt(rate, years, -debt)
    assert annuity(np.array([debt]), rate=rate, years=years)[0] == pytest.approx(expected, rel=1e-9)
    assert annuity(np.array([debt]), rate=0.0, years=years)[0] == pytest.approx(debt / years)


def test_sensitivity_table_is_the_pivot_of_the_scenarios_with_what_flips():
    """One row per bundle (sorted), base NPV, one column per scenario (as pandas' pivot
    makes them, sorted), and the scenarios that flip it; a repeated row is refused."""
    from spatial.finance.sensitivity import sensitivity_table

    sens = pd.DataFrame(
        {
            "bundle_id": ["B2", "B1", "B2", "B1", "B1", "B2"],
            "factor": ["land", "land", "cost", "cost", "land", "land"],
            "change": [0.1, -0.1, 0.2, 0.2, 0.1, -0.1],
            "npv_yuan": [5.0, -1.0, 3.0, 2.0, 4.0, -6.0],
            "base_npv_yuan": [1.0, 2.0, 1.0, 2.0, 2.0, 1.0],
        }
    )
    sens["flips"] = (sens["npv_yuan"] >= 0) != (sens["base_npv_yuan"] >= 0)
    got = sensitivity_table(sens)
    labels = [f"npv_{f}_{c:+.0%}" for f, c in zip(sens["factor"], sens["change"], strict=True)]
    want = sens.assign(label=labels).pivot(index="bundle_id", columns="label", values="npv_yuan")
    assert got["bundle_id"].tolist() == ["B1", "B2"]
    assert list(got.columns) == ["bundle_id", "base_npv_yuan", *sorted(want.columns), "flips"]
    for col in want.columns:
        assert got[col].tolist() == pytest.approx(want[col].tolist(), nan_ok=True)
    assert got["base_npv_yuan"].tolist() == [2.0, 1.0]
    assert got["flips"].tolist() == ["land -10%", "land -10%"]
    with pytest.raises(ValueError, match="duplicate"):
        sensitivity_table(pd.concat([sens, sens.iloc[:1]], ignore_index=True))


def test_a_sensitivity_run_gives_the_whole_runs_net_and_npv_bit_for_bit():
    """``npv_only`` sums the flows year by year without the lines: the same net flows and
    NPV, to the last bit, as the whole computation, for every scale of the factors."""
    from spatial.finance.cashflow import COMPONENTS

    rng = np.random.default_rng(5)
    n = 400
    projects = pd.DataFrame({c: rng.uniform(-2e7, 9e7, n) for c in COMPONENTS})
    projects.loc[::7, "land_yuan"] = 0.0
    projects.index = pd.RangeIndex(n)[::-1] * 2
    for scale in (None, {"land": 0.8}, {"cost": 1.2}, {"uptake": 0.9, "land": 1.1}):
        whole = cash_flows(projects, finance=F, scale=scale)
        quick = cash_flows(projects, finance=F, scale=scale, npv_only=True)
        assert np.array_equal(quick.lines["net"], whole.lines["net"])
        assert np.array_equal(quick.summary["npv_yuan"], whole.summary["npv_yuan"])
        assert quick.summary.index.equals(projects.index)
        assert list(quick.lines) == ["net"]
