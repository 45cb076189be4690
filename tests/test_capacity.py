"""Supply and demand (2SFCA / E2SFCA) on the gap engine's exact walk distances."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import metric
from shapely.geometry import LineString

from spatial import InputError
from spatial.lifecircle import compute_gaps
from spatial.lifecircle.capacity import gaussian_weight, load_capacity
from spatial.network import walk_network_from_lines, walk_network_from_osm
from spatial.standards import load_categories

UTM = "EPSG:32650"
KG = [c for c in load_categories() if c.id == "kindergarten"]  # radius 300 m

_RULES = """
[meta]
decay = {{ value = "{decay}", source = "test" }}
[demand]
persons_per_household = {{ value = 1.0, source = "test" }}
[age_share]
"3-6" = {{ value = 1.0, source = "test" }}
[category.kindergarten]
unit = "学位 places"
serves = "3-6"
need = {{ value = 1.0, source = "test" }}
capacity = {{ value = 90, source = "test: the default scale" }}
columns = ["学位"]
classes = ["班数"]
places_per_class = {{ value = 30, source = "test" }}
"""


def _rules(tmp_path, decay: str):
    path = tmp_path / f"capacity_{decay}.toml"
    path.write_text(_RULES.format(decay=decay), encoding="utf-8")
    return path


def _street_case(tmp_path, decay: str, **poi_columns):
    """One street; compounds A (1,000 households) and B (500) 100 m either side of a
    kindergarten, C (200) 550 m away; the kindergarten's places from its columns."""
    net = walk_network_from_lines(
        gpd.GeoDataFrame(geometry=[LineString([(440000, 4428000), (441000, 4428000)])], crs=UTM)
    )
    comp = gpd.GeoDataFrame(
        {"id": ["A", "B", "C"], "name": ["甲", "乙", "丙"], "households": [1000, 500, 200]},
        geometry=[metric(300, 5), metric(500, 5), metric(950, 5)],
        crs=UTM,
    )
    pois = gpd.GeoDataFrame(
        {
            "name": ["幼儿园"],
            "category": ["kindergarten"],
            **{k: [v] for k, v in poi_columns.items()},
        },
        geometry=[metric(400, -5)],
        crs=UTM,
    )
    res = compute_gaps(
        comp,
        pois,
        net,
        categories=KG,
        service_areas=False,
        capacity=True,
        capacity_file=_rules(tmp_path, decay),
    )
    return res, res.capacity.set_index("compound_id")


def test_two_compounds_sharing_one_kindergarten_share_its_places(tmp_path):
    res, cap = _street_case(tmp_path, "none")
    # 90 places for 1,500 children in reach: 0.06 a child; C is out of reach
    assert cap.loc["A", "places_per_person"] == pytest.approx(0.06, abs=1e-12)
    assert cap.loc["B", "places_per_person"] == pytest.approx(0.06, abs=1e-12)
    assert cap.loc["C", "places_per_person"] == 0.0
    assert cap["shortfall_places"].to_dict() == pytest.approx({"A": 940.0, "B": 470.0, "C": 200.0})
    assert cap.loc["A", "status"] == cap.loc["B", "status"] == "covered_over_capacity"
    assert cap.loc["C", "status"] == "too_far"
    assert (res.gaps.set_index("compound_id").loc[["A", "B"], "status"] == "covered").all()
    assert (cap["demand_basis"] == "survey").all() and (cap["method"] == "2SFCA").all()
    pairs = res.capacity_pairs
    assert sorted(pairs["compound_id"]) == ["A", "B"] and pairs["places_default"].all()
    assert any("no capacity in the data" in p.message for p in res.problems)


def test_places_from_the_data_and_enough_places_leave_no_shortfall(tmp_path):
    _, cap = _street_case(tmp_path, "none", 学位=3000)
    assert cap.loc["A", "places_per_person"] == pytest.approx(2.0)
    assert cap.loc["A", "shortfall_places"] == 0 and cap.loc["A", "status"] == "covered"
    _, by_class = _street_case(tmp_path, "none", 班数=10)  # 10 classes × 30 = 300 places
    assert by_class.loc["B", "places_per_person"] == pytest.approx(300 / 1500)


def test_distance_decay_weights_by_hand(tmp_path):
    res, cap = _street_case(tmp_path, "gaussian")
    dist = res.gaps.set_index("compound_id")["distance_m"]
    pairs = res.capacity_pairs.set_index("compound_id")
    assert pairs["walk_m"].to_dict() == pytest.approx(dist[["A", "B"]].to_dict(), abs=0.01)
    edge = np.exp(-0.5)
    w = {k: (np.exp(-0.5 * (pairs.loc[k, "walk_m"] / 300) ** 2) - edge) / (1 - edge) for k in "AB"}
    ratio = 90 / (1000 * w["A"] + 500 * w["B"])
    assert cap.loc["A", "places_per_person"] == pytest.approx(ratio * w["A"], rel=1e-12)
    assert cap.loc["B", "places_per_person"] == pytest.approx(ratio * w["B"], rel=1e-12)
    assert gaussian_weight(np.array([0.0, 300.0]), 300.0) == pytest.approx([1.0, 0.0])
    assert cap["method"].eq("E2SFCA gaussian").all()


# PySAL access 1.1.10 calls DataFrame.set_index(inplace=True), deprecated in pandas 3.1
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.set_index")
@pytest.mark.parametrize("decay", ["none", "gaussian"])
def test_ratios_equal_pysal_access_on_the_same_distances(demo_city, decay):
    """PySAL access computes 2SFCA / E2SFCA from the toolkit's own pairs and distances."""
    from access import Access

    from spatial.io import load_layer

    comp = load_layer(demo_city.gpkg, "compounds", source_layer="compounds")
    net = walk_network_from_osm(demo_city.osm, crs=comp.crs)
    pois = load_layer(demo_city.gpkg, "pois", source_layer="pois")
    cats = [c for c in load_categories() if c.id in ("kindergarten", "elderly_daycare")]
    std = load_capacity()
    path = std.path.read_text(encoding="utf-8").replace(
        'decay = { value = "gaussian"', f'decay = {{ value = "{decay}"'
    )
    rules = demo_city.gpkg.parent / f"capacity_{decay}.toml"
    rules.write_text(path, encoding="utf-8")
    res = compute_gaps(
        comp, pois, net, categories=cats, service_areas=False, capacity=True, capacity_file=rules
    )
    checked = 0
    for cat in cats:
        rows = res.capacity[res.capacity["category"] == cat.id]
        pairs = res.capacity_pairs[res.capacity_pairs["category"] == cat.id]
        assert len(pairs) > 10 and rows["need_places"].gt(0).all()
        demand = rows[["compound_id", "need_places"]]
        supply = pairs.groupby("poi", as_index=False)["places"].first()
        cost = pairs[["compound_id", "poi", "walk_m"]]
        model = Access(
            demand_df=demand,
            demand_index="compound_id",
            demand_value="need_places",
            supply_df=supply,
            supply_index="poi",
            supply_value="places",
            cost_df=cost,
            cost_origin="compound_id",
            cost_dest="poi",
            cost_name="walk_m",
        )
        if decay == "gaussian":
            out = model.enhanced_two_stage_fca(
                max_cost=cat.radius_m,
                weight_fn=lambda d, r=cat.radius_m: float(gaussian_weight(np.array(d), r)),
            )
        else:
            out = model.two_stage_fca(max_cost=cat.radius_m)
        theirs = out.iloc[:, 0].reindex(rows["compound_id"]).fillna(0.0).to_numpy()
        mine = rows["places_per_person"].to_numpy()
        assert mine == pytest.approx(theirs, abs=1e-9, rel=0)
        assert (mine > 0).sum() > 5 and (mine == 0).any()  # in and out of reach
        checked += 1
    assert checked == 2


def test_a_capacity_file_without_sources_is_refused(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        _RULES.format(decay="none").replace(
            'need = { value = 1.0, source = "test" }', "need = 1.0"
        ),
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="need needs"):
        load_capacity(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(_RULES.format(decay="linear").replace('serves = "3-6"', 'serves = "3-7"'))
    with pytest.raises(InputError) as err:
        load_capacity(wrong)
    text = str(err.value)
    assert "serves '3-7' is no age group" in text and "gaussian or none" in text


def test_reach_matrix_equals_networkx_on_every_pair():
    """Every facility–compound pair within the radius, with its metres, against networkx
    shortest paths over the same network, legs and offsets (an independent computation)."""
    import networkx as nx

    from spatial.lifecircle import reach_matrix
    from spatial.network import attach_points
    from spatial.network.attach import compound_access_points

    rng = np.random.default_rng(11)
    ticks = [100 * k for k in range(11)]
    lines = [LineString([(440000 + i, 4428000 + j) for j in ticks]) for i in ticks]
    lines += [LineString([(440000 + i, 4428000 + j) for i in ticks]) for j in ticks]
    net = walk_network_from_lines(gpd.GeoDataFrame(geometry=lines, crs=UTM))
    pts = rng.uniform([440000, 4428000], [441000, 4429000], (30, 2))
    homes = gpd.GeoSeries(
        gpd.points_from_xy(*rng.uniform([440000, 4428000], [441000, 4429000], (12, 2)).T), crs=UTM
    )
    src = attach_points(net, pts, snap_limit_m=150)
    acc = compound_access_points(net, homes, snap_limit_m=150)
    radius = 350.0
    reach = reach_matrix(net, src, acc, len(homes), radius_m=radius, max_cells=5 * net.n_nodes)
    got = {(int(r), int(c)): m for r, c, m in zip(reach.row, reach.col, reach.metres, strict=True)}
    g = nx.Graph()
    for u, v, w in zip(net.u, net.v, net.length_m, strict=True):
        if not g.has_edge(u, v) or g[u][v]["weight"] > w:
            g.add_edge(int(u), int(v), weight=float(w))
    want = {}
    for s in range(len(pts)):
        e, off, leg = src.edge[s], src.offset_m[s], src.leg_m[s]
        h = g.copy()
        h.add_edge("s", int(net.u[e]), weight=leg + off)
        h.add_edge("s", int(net.v[e]), weight=leg + net.length_m[e] - off)
        d = nx.single_source_dijkstra_path_length(h, "s", weight="weight")
        for a in range(len(acc.edge)):
            ea, oa, la = acc.edge[a], acc.offset_m[a], acc.leg_m[a]
            total = la + min(  # d counts the facility's leg
                d.get(int(net.u[ea]), np.inf) + oa,
                d.get(int(net.v[ea]), np.inf) + net.length_m[ea] - oa,
            )
            if ea == e:  # along the shared edge, straight
                total = min(total, leg + la + abs(off - oa))
            key = (s, int(acc.owner[a]))
            if total <= radius and total < want.get(key, np.inf):
                want[key] = total
    assert len(want) > 20
    assert set(got) == set(want)
    for key, metres in want.items():
        assert got[key] == pytest.approx(metres, abs=1e-6), key


def test_assess_checks_each_community_as_a_hand_count_does(demo_city, tmp_path, browser):
    """gaps --capacity → assess: one community's items counted by hand from gaps.csv."""
    from typer.testing import CliRunner

    from spatial.cli import app
    from spatial.io.outputs.write import read_own_csv

    g = str(demo_city.gpkg)
    runner = CliRunner()
    gaps = tmp_path / "gaps"
    args = ["gaps", "--compounds", g, "--compounds-layer", "compounds", "--pois", g]
    args += ["--pois-layer", "pois", "--osm", str(demo_city.osm), "--capacity"]
    done = runner.invoke(app, [*args, "--no-service-areas", "--out", str(gaps)])
    assert done.exit_code == 0, done.output
    out = tmp_path / "assess"
    done = runner.invoke(app, ["assess", "--gaps", str(gaps), "--out", str(out)])
    assert done.exit_code == 0, done.output
    check = read_own_csv(out / "community_check.csv")
    comp = gpd.read_file(gaps / "compounds.gpkg", layer="compounds")
    long = read_own_csv(gaps / "gaps.csv")
    name = comp["community"].value_counts().index[0]
    mine = comp[comp["community"] == name]
    unit = f"{mine['subdistrict'].iloc[0]} {name}"
    rows = check[check["unit"] == unit].set_index("item")
    assert len(rows) == 16
    for item, cats in (
        ("kindergarten", ["kindergarten"]),
        ("supermarket", ["convenience_store", "fresh_market"]),
    ):
        st = long[
            long["compound_id"].astype(str).isin(mine["id"].astype(str))
            & long["category"].isin(cats)
        ]
        reached = st.groupby("compound_id")["status"].agg(lambda s: (s == "covered").any())
        out_of_reach = int((~reached).sum())
        assert rows.loc[item, "compounds_out_of_reach"] == out_of_reach
        assert rows.loc[item, "verdict"] == ("达标 met" if out_of_reach == 0 else "不达标 not met")
    assert rows.loc["green", "verdict"] == "无数据 no data"
    cap = read_own_csv(gaps / "capacity.csv")
    kg = cap[
        (cap["category"] == "kindergarten")
        & cap["compound_id"].astype(str).isin(mine["id"].astype(str))
    ]
    assert rows.loc["kindergarten", "shortfall_places"] == pytest.approx(
        kg["shortfall_places"].sum()
    )
    book = pd.read_excel(out / "assessment.xlsx", sheet_name=None)
    assert list(book) == [
        "说明 cover",
        "社区 units",
        "完整社区 check",
        "千人指标 per 1,000",
        "千人指标 categories",
        "类别 categories",
        "小区供需 compounds",
    ]
    cover = " ".join(book["说明 cover"].astype(str).to_numpy().ravel())
    assert "2.62" in cover and "default scale" in cover and "第七次全国人口普查" in cover
    assert "结论 verdict" in book["完整社区 check"].columns
    # the plan lists the places each compound is short of
    plan = tmp_path / "plan"
    done = runner.invoke(
        app,
        [
            "plan",
            "--gaps",
            str(gaps),
            "--profile",
            "taian",
            "--budget-yuan",
            "5e8",
            "--out",
            str(plan),
        ],
    )
    assert done.exit_code == 0, done.output
    needs = pd.read_excel(plan / "plan.xlsx", sheet_name="改造内容 needs")
    col = "学位/床位缺口 Places short (capacity.csv)"
    by_id = needs.set_index(needs.columns[0])[col].fillna("")
    first = kg.iloc[kg["shortfall_places"].to_numpy().argmax()]
    assert f"幼儿园 缺 {first['shortfall_places']:,.0f} 学位" in by_id[first["compound_id"]]
    # with the assessment: the m² the compound's community is short of (千人指标)
    args = ["plan", "--gaps", str(gaps), "--assess", str(out), "--profile", "taian"]
    args += ["--budget-yuan", "5e8", "--out", str(tmp_path / "plan_m2")]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    book = pd.read_excel(tmp_path / "plan_m2" / "plan.xlsx", sheet_name=None)
    needs = book["改造内容 needs"].set_index("编号 ID")
    per = read_own_csv(out / "per_thousand.csv")
    five = per[(per["unit"] == unit) & (per["level"] == "5min")].iloc[0]
    said = needs.loc[
        mine["id"].iloc[0], "所在社区千人指标缺口 Unit's m² short (GB 50180 表5.0.2, 5 min)"
    ]
    assert said == (
        f"{unit}: 建筑 floor {five['floor_short_m2']:,.0f} m², "
        f"用地 land {five['land_short_m2']:,.0f} m² 缺 short"
    )
    to_add = book["千人指标缺口 m² to add"]
    assert len(to_add) == int(((per["floor_short_m2"] > 0) | (per["land_short_m2"] > 0)).sum())
    # siting with candidate parcels: capacitated where places are short
    sited = tmp_path / "plan_sites"
    args = ["plan", "--gaps", str(gaps), "--profile", "taian", "--budget-yuan", "5e8"]
    args += ["--parcels", g, "--parcels-layer", "parcels", "--osm", str(demo_city.osm)]
    done = runner.invoke(app, [*args, "--out", str(sited)])
    assert done.exit_code == 0, done.output
    choice = pd.read_excel(sited / "plan.xlsx", sheet_name="选址方案 site choice")
    row = choice.set_index(choice.columns[0]).loc["kindergarten"]
    given = row["新设施提供学位/床位 Places the new sites give"]
    assert 0 <= given <= 3 * load_capacity().rules["kindergarten"].capacity
    assert given <= row["学位/床位缺口 Places short (capacity.csv)"]
    # the gap map's one-category view tells "covered, short of places" apart
    from conftest import open_offline

    html = tmp_path / "map.html"
    done = runner.invoke(app, ["map", "--gaps", str(gaps), "--out", str(html)])
    assert done.exit_code == 0, done.output
    page, errors = open_offline(browser, html)
    page.wait_for_function("() => window.SPATIAL_READY === true")
    select = page.locator("select[data-view=category]")
    select.select_option(select.locator("option", has_text="幼儿园").get_attribute("value"))
    page.wait_for_timeout(300)
    counts = page.evaluate("() => window.SPATIAL_VIEW")
    over = cap[(cap["category"] == "kindergarten") & (cap["status"] == "covered_over_capacity")]
    assert counts.get("k", 0) == len(over) > 0
    assert "short of places" in page.locator(".sp-view-legend").inner_text()
    assert errors == []
    # spatial map --assess: each community by the items it meets
    html2 = tmp_path / "map2.html"
    done = runner.invoke(
        app, ["map", "--gaps", str(gaps), "--assess", str(out), "--out", str(html2)]
    )
    assert done.exit_code == 0, done.output
    page, errors = open_offline(browser, html2)
    page.wait_for_function("() => window.SPATIAL_READY === true")
    page.locator("input[data-layer=communities]").check()
    layer = page.evaluate(
        "() => { const l = SpatialMap.layers.communities.build();"
        " return [l.cols.unit, l.cols.met, l.cols.per_1000]; }"
    )
    met = dict(zip(*layer[:2], strict=True))
    per = read_own_csv(out / "per_thousand.csv")
    five = per[(per["unit"] == unit) & (per["level"] == "5min")].iloc[0]
    text = dict(zip(layer[0], layer[2], strict=True))[unit]
    assert f"缺 short {five['floor_short_m2']:,.0f} / {five['land_short_m2']:,.0f} m²" in text
    n_met = int((rows["verdict"] == "达标 met").sum())
    n_answered = int((rows["verdict"] != "无数据 no data").sum())
    assert met[unit] == f"{n_met} / {n_answered}" and len(met) == check["unit"].nunique()
    assert "完整社区 layer" in page.locator(".spatial-legend").inner_text()
    assert errors == []


def test_proposed_units_stay_within_size_and_never_cross_a_main_road():
    from spatial.policy.community import planning_units

    xs = [0, 120, 240, 360, 600, 720, 840, 960]
    comp = gpd.GeoDataFrame(
        {"id": [f"C{i}" for i in range(8)], "households": [1000] * 8},
        geometry=[metric(x, 0).buffer(40) for x in xs],
        crs=UTM,
    )
    road = gpd.GeoSeries([LineString([(440480, 4427000), (440480, 4429000)])], crs=UTM)
    residents = np.full(8, 2000.0)
    units, proposed = planning_units(
        comp, residents=residents, residents_min=5000, residents_max=12000, barriers=road
    )
    assert proposed
    west, east = set(units[:4]), set(units[4:])
    assert not west & east  # nothing joined across the road
    sizes = pd.Series(residents, index=units.to_numpy()).groupby(level=0).sum()
    assert sizes.max() <= 12000 and sizes.min() >= 5000
    assert units.str.startswith("规划单元 proposed unit").all()


def test_assess_without_a_gaps_folder_says_so(tmp_path):
    from typer.testing import CliRunner

    from spatial.cli import app

    done = CliRunner().invoke(
        app, ["assess", "--gaps", str(tmp_path / "none"), "--out", str(tmp_path / "a")]
    )
    assert done.exit_code == 1 and "Traceback" not in done.output
    assert "gaps" in done.output and not (tmp_path / "a").exists()


def test_places_from_an_osm_capacity_tag():
    from spatial.lifecircle.capacity import supply_of

    rule = load_capacity().rules["kindergarten"]
    pois = pd.DataFrame({"tags": ['{"amenity": "kindergarten", "capacity": "180"}', "{}", None]})
    places, defaulted = supply_of(pois, rule)
    assert places.tolist() == [180.0, rule.capacity, rule.capacity]
    assert defaulted.tolist() == [False, True, True]


def test_capacitated_covering_by_hand():
    from scipy import sparse

    from spatial.policy.capacitated import capacitated_covering

    # site 0 reaches compounds 0 and 1, site 1 reaches 1 and 2; short 100, 300, 50
    cover = sparse.csr_array(np.array([[1, 1, 0], [0, 1, 1]], dtype=bool))
    short = np.array([100.0, 300.0, 50.0])
    chosen, given, per = capacitated_covering(cover, short, capacity=200, k=2)
    assert chosen.tolist() == [0, 1] and given == pytest.approx(400)
    assert (per <= short + 1e-9).all() and per.sum() == pytest.approx(400)
    chosen, given, _ = capacitated_covering(cover, short, capacity=1000, k=1)
    assert chosen.tolist() == [0] and given == pytest.approx(400)  # 100 + 300 > 300 + 50
    chosen, given, _ = capacitated_covering(cover, np.zeros(3), capacity=200, k=2)
    assert len(chosen) == 0 and given == 0
