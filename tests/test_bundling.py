"""Bundles on constructed cases with known answers, and their invariants on the demo city."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, box

from spatial.bundling import adjacency, bundle_units, find_bundles, load_limits
from spatial.bundling.finance import load_finance, parcel_finance
from spatial.io import LoadSpec, load_layers, read_osm

UTM = "EPSG:32650"
X0, Y0 = 440000.0, 4428000.0


def _unit(uid, kind, x0, y0, x1, y1, **extra):
    row = {
        "id": uid,
        "name": uid,
        "kind": kind,
        "geometry": box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1),
    }
    if kind == "old_compound":
        row.update(households=100, floor_area_m2=10_000.0, floors=6, buildings=2, elevator=False)
    row.update(extra)
    return row


def _frame(*rows):
    return gpd.GeoDataFrame(list(rows), geometry="geometry", crs=UTM)


# One compound: 10,000 m² × (400 + 250 + 150) + 2 buildings × 2 elevators × 650,000;
# subsidy 100 households × 15,000 + 4 elevators × 150,000 (Qinghai policy figures).
COMPOUND_COST = 10_000 * 800 + 4 * 650_000
COMPOUND_SUBSIDY = 100 * 15_000 + 4 * 150_000
FACTORY = dict(land_area_m2=40_000.0, planned_far=2.0)  # revenue 40,000 × 2 × 2,500


def test_two_compounds_touching_an_old_factory_form_one_self_balancing_bundle():
    units = _frame(
        _unit("C1", "old_compound", 0, 0, 100, 100),
        _unit("C2", "old_compound", 100, 0, 200, 100),
        _unit("F", "old_factory", 0, 100, 200, 300, **FACTORY),
    )
    res = find_bundles(units)
    [bundle] = res.bundles.itertuples()
    assert set(bundle.members.split(";")) == {"C1", "C2", "F"}
    assert bundle.status == "self-balancing"
    assert bundle.cost_yuan == pytest.approx(2 * COMPOUND_COST)
    assert bundle.subsidy_yuan == pytest.approx(2 * COMPOUND_SUBSIDY)
    assert bundle.revenue_yuan == pytest.approx(40_000 * 2 * 2_500)
    assert bundle.balance_yuan == pytest.approx(200e6 - 2 * (COMPOUND_COST - COMPOUND_SUBSIDY))
    assert res.pairs.empty


def test_the_same_across_a_railway_do_not_bundle_unless_allowed():
    units = _frame(
        _unit("C1", "old_compound", 0, 0, 100, 90),
        _unit("C2", "old_compound", 100, 0, 200, 90),
        _unit("F", "old_factory", 0, 110, 200, 300, **FACTORY),
    )
    rail = gpd.GeoSeries([LineString([(X0 - 500, Y0 + 100), (X0 + 700, Y0 + 100)])], crs=UTM)
    res = find_bundles(units, barriers=rail)
    assert all(b.split(";") in (["C1"], ["C2"]) for b in res.bundles["members"])
    assert (res.bundles["status"] == "deficit").all()
    assert len(res.pairs) == 1 and res.pairs.loc[0, "surplus_id"] == "F"  # paired instead
    crossing = find_bundles(units, barriers=rail, cross_barriers=True)
    assert len(crossing.bundles) == 1 and crossing.bundles.loc[0, "n_compounds"] == 2
    adj = adjacency(units, gap_m=30, barriers=rail, cross_barriers=True)
    assert adj.set_index(["i", "j"]).loc[(0, 2), "barrier"]


def test_a_compound_alone_in_deficit_is_paired_across_the_area():
    units = _frame(
        _unit("C1", "old_compound", 0, 0, 100, 100),
        _unit("F", "old_factory", 2000, 0, 2200, 200, **FACTORY),
        _unit("D", "dilapidated", 2500, 0, 2600, 100, floor_area_m2=5000.0),
    )
    res = find_bundles(units)
    [bundle] = res.bundles.itertuples()
    assert bundle.members == "C1" and bundle.status == "deficit"
    [pair] = res.pairs.itertuples()
    assert (pair.deficit_bundle, pair.surplus_kind, pair.surplus_id) == (
        bundle.bundle_id,
        "parcel",
        "F",
    )
    assert pair.distance_m == pytest.approx(np.hypot(2100 - 50, 100 - 50))
    assert pair.combined_balance_yuan == pytest.approx(200e6 - (COMPOUND_COST - COMPOUND_SUBSIDY))


def test_islands_follow_the_explicit_policy():
    units = _frame(
        _unit("C1", "old_compound", 0, 0, 100, 100),
        _unit("C2", "old_compound", 130, 0, 230, 100),  # 30 m away: a neighbour
        _unit("I", "old_compound", 1000, 1000, 1100, 1100),
    )
    single = find_bundles(units, islands="single")
    assert sorted(single.bundles["members"]) == ["C1", "C2", "I"]
    excluded = find_bundles(units, islands="exclude")
    assert sorted(excluded.bundles["members"]) == ["C1", "C2"]
    assert excluded.excluded["id"].tolist() == ["I"]
    assert "island" in excluded.excluded.loc[0, "reason"]


def test_limits_stop_growth_and_money_figures_follow_overrides():
    chain = [_unit(f"C{k}", "old_compound", 110 * k, 0, 110 * k + 100, 100) for k in range(12)]
    units = _frame(_unit("F", "old_factory", 0, 110, 300, 400, **FACTORY), *chain)
    res = find_bundles(units, limits=load_limits(max_span_m=600))
    big = res.bundles.sort_values("n_compounds").iloc[-1]
    assert big["span_m"] <= 600 and 1 < big["n_compounds"] < 12
    dearer = parcel_finance(units, overrides={"basic_yuan_per_m2": 1000})
    cheaper = parcel_finance(units)
    assert (dearer.loc[1, "cost_yuan"] - cheaper.loc[1, "cost_yuan"]) == pytest.approx(10_000 * 600)
    assert "basic_yuan_per_m2=1000 (user)" in dearer.loc[1, "basis"]
    assert "yuan_per_household=15000 (policy)" in cheaper.loc[1, "basis"]
    assert load_finance().sources["subsidy.yuan_per_household"].startswith("policy")


@pytest.fixture(scope="module")
def demo_bundles(demo_city):
    g = demo_city.gpkg
    layers = load_layers(
        [
            LoadSpec(g, "compounds", source_layer="compounds"),
            LoadSpec(g, "parcels", source_layer="parcels"),
        ]
    )
    units = bundle_units(layers["compounds"], layers["parcels"])
    barriers = read_osm(demo_city.osm).barriers.geometry
    return units, find_bundles(units, barriers=barriers, seed=3)


def test_demo_bundles_are_contiguous_within_limits_and_reconcile(demo_bundles):
    units, res = demo_bundles
    lim = load_limits()
    graph = nx.Graph(list(zip(res.adjacency["i"], res.adjacency["j"], strict=True)))
    pos = {uid: k for k, uid in enumerate(units["id"])}
    for b in res.bundles.itertuples():
        members = [pos[m] for m in b.members.split(";")]
        assert b.n_compounds >= 1
        if len(members) > 1:
            assert nx.is_connected(graph.subgraph(members)), b.bundle_id
        assert b.span_m <= lim.max_span_m and b.area_m2 <= lim.max_area_m2
        assert b.households <= lim.max_households
    assert (res.bundles["status"] == "self-balancing").any()
    sums = res.members.groupby("bundle_id")[
        ["cost_yuan", "subsidy_yuan", "revenue_yuan", "balance_yuan", "households"]
    ].sum()
    table = res.bundles.set_index("bundle_id")
    pd.testing.assert_frame_equal(sums, table[sums.columns], check_dtype=False)
    np.testing.assert_allclose(
        table["balance_yuan"], table["revenue_yuan"] - table["cost_yuan"] + table["subsidy_yuan"]
    )
    money = parcel_finance(units).set_index(units["id"])
    member_money = res.members.set_index("id")[["cost_yuan", "revenue_yuan"]]
    pd.testing.assert_frame_equal(
        member_money, money.loc[member_money.index, ["cost_yuan", "revenue_yuan"]]
    )
    assert res.members["id"].is_unique  # a parcel belongs to one bundle at most


def test_demo_bundles_respect_barriers_and_are_reproducible(demo_city, demo_bundles):
    units, res = demo_bundles
    assert not res.adjacency["barrier"].any()
    with_crossing = adjacency(
        units, gap_m=30, barriers=read_osm(demo_city.osm).barriers.geometry, cross_barriers=True
    )
    assert with_crossing["barrier"].sum() > 0  # arterials, rail and river cut neighbours
    again = find_bundles(units, barriers=read_osm(demo_city.osm).barriers.geometry, seed=3)
    assert again.bundles["members"].tolist() == res.bundles["members"].tolist()
    packages = res.packages[res.packages["level"] == "subdistrict"]
    assert packages["compounds"].sum() == (units["kind"] == "old_compound").sum()


def test_money_gaps_are_reported_per_parcel_and_default_far_is_labelled(tmp_path):
    """A factory without 规划容积率 earns nothing unless --default-far, and says so."""
    from spatial.pipeline import BundleOptions, run_bundles

    def square(x0: float) -> str:
        lon, lat, d = 116.35 + x0, 40.0, 0.002
        ring = [(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d), (lon, lat)]
        return "POLYGON((" + ",".join(f"{x} {y}" for x, y in ring) + "))"

    pd.DataFrame(
        {"小区编号": ["XQ1"], "小区名称": ["甲小区"], "户数": [400], "几何": [square(0)]}
    ).to_excel(tmp_path / "小区.xlsx", index=False)
    pd.DataFrame(
        {
            "地块编号": ["D1", "D2"],
            "地块名称": ["旧机床厂", "棚户区甲"],
            "地块类型": ["旧厂区", "棚户区"],
            "规划容积率": [None, 2.2],
            "几何": [square(0.002), square(-0.002)],
        }
    ).to_excel(tmp_path / "地块.xlsx", index=False)
    specs = [LoadSpec(tmp_path / "小区.xlsx", "compounds")]
    parcels = [LoadSpec(tmp_path / "地块.xlsx", "parcels")]
    run = run_bundles(out_dir=tmp_path / "b", compounds=specs, parcels=parcels)
    msgs = [p for p in run.problems if p.column in ("planned_far", "households")]
    by_row = {(p.row, p.column): p for p in msgs}
    factory = by_row[("2", "planned_far")]  # spreadsheet row 2 (header = row 1)
    assert factory.file.endswith("地块.xlsx") and "revenue is not counted" in factory.message
    assert "--default-far" in factory.hint
    shanty = by_row[("3", "households")]  # a shantytown without households to resettle
    assert "cost is understated" in shanty.message
    written = pd.read_csv(tmp_path / "b" / "problems.csv", encoding="utf-8-sig")
    assert written["message"].str.contains("without planned FAR").any()
    money = run.result.unit_money  # units: the compound, then the parcels in file order
    assert money is not None
    assert money.iloc[1]["revenue_yuan"] == 0 and money.iloc[1]["far_source"] == "missing"
    assert "D1" not in set(run.result.members["id"])  # earns nothing: nobody bundles it

    fixed = run_bundles(
        out_dir=tmp_path / "b2",
        compounds=specs,
        parcels=parcels,
        options=BundleOptions(default_far=True),
    )
    m2 = fixed.result.members.set_index("id")
    area = m2.loc["D1", "area_m2"]
    f = load_finance()
    assert m2.loc["D1", "far_source"] == "default"
    assert m2.loc["D1", "revenue_yuan"] == pytest.approx(
        area * f["default_far.old_factory"] * f["revenue.old_factory_yuan_per_m2"], rel=1e-6
    )
    assert "default planned_far=2 (assumption)" in m2.loc["D1", "basis"]
    assert fixed.result.unit_money is not None
    assert fixed.result.unit_money.iloc[2]["far_source"] == "given"  # a given FAR stays
    assert fixed.result.bundles["parcels_default_far"].sum() == 1
    assert any("default FAR of finance.toml was used" in p.message for p in fixed.problems)
