"""The `spatial` command line as a planner uses it."""

from __future__ import annotations

import pandas as pd
import pyogrio
import pytest
from conftest import REPO
from typer.testing import CliRunner

from spatial.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_gaps(tmp_path_factory, demo_city):
    """`spatial gaps` run once on the demo city, for the commands that read its outputs."""
    out = tmp_path_factory.mktemp("gaps")
    res = runner.invoke(
        app,
        [
            "gaps",
            "--compounds",
            str(demo_city.gpkg),
            "--pois",
            str(demo_city.gpkg),
            "--osm",
            str(demo_city.osm),
            "--out",
            str(out),
            "--no-service-areas",
        ],
        terminal_width=200,
    )
    assert res.exit_code == 0, res.output
    return out


def test_validate_lists_every_problem_and_exits_1(tmp_path):
    path = tmp_path / "小区调查.csv"
    pd.DataFrame(
        {
            "小区名称": ["甲", "乙", "丙"],
            "经度": [116.35, 116.36, 40.0],
            "纬度": [40.0, 40.0, 116.35],
            "户数": ["100", "很多", "80"],
            "建成年份": ["1990", "1985", "2090"],
        }
    ).to_csv(path, index=False)
    result = runner.invoke(app, ["validate", str(path)], terminal_width=200)
    assert result.exit_code == 1, result.output
    assert "3 error(s)" in result.output
    for text in ("很多", "swapped", "future"):
        assert text in result.output


def test_validate_clean_file_exits_0(tmp_path):
    path = tmp_path / "ok.csv"
    pd.DataFrame({"小区名称": ["甲"], "经度": [116.35], "纬度": [40.0]}).to_csv(path, index=False)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0 and "0 error(s)" in result.output


def test_validate_guesses_layers_and_reads_osm(cau_osm):
    result = runner.invoke(app, ["validate", str(cau_osm)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "compounds: 11 records" in result.output
    # each OSM note once, not once per layer; the households estimated from buildings;
    # the categories its POIs lack
    assert "4 warning(s)" in result.output and "POI categories with facilities" in result.output
    assert "estimated" in result.output


def test_validate_amap_file_read_as_wgs84_is_refused(tmp_path):
    path = tmp_path / "amap_pois.csv"
    pd.DataFrame({"名称": ["x"], "经度": [116.35], "纬度": [40.0]}).to_csv(path, index=False)
    result = runner.invoke(app, ["validate", str(path)], terminal_width=200)
    assert result.exit_code == 1 and "gcj02" in result.output
    ok = runner.invoke(app, ["validate", str(path), "--coords", "gcj02"])
    assert ok.exit_code == 0, ok.output


def test_demo_generates_and_writes_outputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo", "--size", "3"])
    assert result.exit_code == 0, result.output
    assert "generated demo city" in result.output
    assert (tmp_path / "data/demo/demo_city.osm").exists()
    inventory = pd.read_csv(tmp_path / "results/demo/inventory.csv")
    assert inventory.iloc[-1, 0] == "合计 total"
    assert inventory["小区数 compounds"].iloc[:-1].sum() == inventory["小区数 compounds"].iloc[-1]
    gaps = pd.read_csv(tmp_path / "results/demo/gaps.csv")
    assert len(gaps) == 26 * inventory["小区数 compounds"].iloc[-1]
    assert 0 < gaps["covered"].mean() < 1  # real gaps, real coverage
    png = (tmp_path / "maps/demo/overview.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    again = runner.invoke(app, ["demo"])  # files exist now: not generated again
    assert again.exit_code == 0 and "generated" not in again.output


def test_osm_command_writes_layers(tmp_path, cau_osm):
    out = tmp_path / "cau.gpkg"
    result = runner.invoke(app, ["osm", str(cau_osm), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "ODbL" in result.output
    layers = dict(pyogrio.list_layers(out))
    assert {"compounds", "pois", "entrances", "barriers"} <= set(layers)
    # estimated as gaps and bundles estimate them when they read the OSM file
    comp = pyogrio.read_dataframe(out, layer="compounds")
    assert comp["households"].gt(0).all() and comp["estimate_basis"].str.len().gt(0).all()


def test_the_osm_command_s_geopackage_feeds_bundles_and_gaps(tmp_path, cau_osm):
    """`spatial osm` → `spatial bundles --parcels` and `spatial gaps --compounds/--pois`:
    layers taken by kind (barriers as barriers, entrances not as POIs)."""
    import geopandas as gpd

    gpkg = tmp_path / "cau.gpkg"
    assert runner.invoke(app, ["osm", str(cau_osm), "--out", str(gpkg)]).exit_code == 0
    res = runner.invoke(app, ["bundles", "--parcels", str(gpkg), "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    assert "barriers taken from its layer 'barriers'" in " ".join(res.output.split())
    members = gpd.read_file(tmp_path / "b" / "bundles.gpkg", layer="members")
    n_comp = len(pyogrio.read_dataframe(gpkg, layer="compounds"))
    assert (members["kind"] == "old_compound").sum() == n_comp
    res = runner.invoke(
        app,
        ["gaps", "--compounds", str(gpkg), "--pois", str(gpkg), "--osm", str(cau_osm),
         "--out", str(tmp_path / "g")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    gaps = pd.read_csv(tmp_path / "g" / "gaps.csv")
    assert gaps["compound_id"].nunique() == n_comp and gaps["covered"].any()
    from spatial.io.kinds import guess_kinds

    kinds = dict((layer, kind) for kind, layer in guess_kinds(gpkg))
    assert kinds["entrances"] == "entrances" and kinds["barriers"] == "barriers"


def test_gaps_from_an_osm_file(tmp_path, cau_osm):
    import geopandas as gpd

    from spatial.io.outputs.results import GAPS_COLUMNS

    out = tmp_path / "gaps"
    result = runner.invoke(
        app, ["gaps", "--osm", str(cau_osm), "--out", str(out)], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    # no compound is left on a piece cut off from the main network: a piece inside a
    # compound never wins over the streets of the main network around it
    assert "cut off from the main network" not in " ".join(result.output.split())
    gaps = pd.read_csv(out / "gaps.csv")
    assert tuple(gaps.columns) == (*GAPS_COLUMNS, "access")
    # how each compound was entered: OSM compounds by mapped gates and paths into them
    assert set(gaps["access"]) <= {"gate", "crossing", "perimeter", "nearest", "off-network"}
    assert gaps.groupby("compound_id")["access"].nunique().max() == 1
    assert len(gaps) == 11 * 26 and gaps["compound_name"].str.contains("农大小区").any()
    comp = gpd.read_file(out / "compounds.gpkg", layer="compounds")
    assert {"n_missing", "missing", "gap_score"} <= set(comp.columns)
    assert comp.crs.to_epsg() == 4326
    lacking = gaps[~gaps["covered"] & (gaps["status"] != "no_data")]
    missing = lacking.groupby("compound_id").size()
    assert (comp.set_index("id")["n_missing"] == missing.reindex(comp["id"]).fillna(0)).all()
    # every empty distance says why; every distance up to the search limit is there
    assert (
        gaps.loc[gaps["distance_m"].isna(), "status"]
        .isin(["beyond_limit", "unreachable", "off_network", "no_data"])
        .all()
    )
    assert gaps.loc[gaps["distance_m"].notna(), "status"].isin(["covered", "too_far"]).all()
    no_data = set(gaps.loc[gaps["status"] == "no_data", "category"])
    assert no_data and set(comp["no_data"].iloc[0].split(";")) == no_data
    areas = gpd.read_file(out / "service_areas.gpkg")
    assert (
        "kindergarten" in set(areas["category"])
        and areas.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    )


def test_gaps_with_own_files_and_bad_input(tmp_path, cau_osm):
    layers = tmp_path / "cau.gpkg"
    assert runner.invoke(app, ["osm", str(cau_osm), "--out", str(layers)]).exit_code == 0
    comp_csv = tmp_path / "小区.csv"
    pd.DataFrame(
        {"小区名称": ["测试小区"], "经度": [116.3525], "纬度": [40.0030], "户数": ["600"]}
    ).to_csv(comp_csv, index=False)
    out = tmp_path / "out"
    command = [
        "gaps",
        "--compounds",
        str(comp_csv),
        "--pois",
        str(layers),
        "--network",
        str(cau_osm),
        "--out",
        str(out),
    ]
    ok = runner.invoke(
        app,
        command,
        terminal_width=200,
    )
    assert ok.exit_code == 0, ok.output
    gaps = pd.read_csv(out / "gaps.csv")
    assert set(gaps["compound_name"]) == {"测试小区"} and gaps["distance_m"].notna().any()
    pd.DataFrame({"小区名称": ["坏"], "经度": [40.0], "纬度": [116.35], "户数": ["很多"]}).to_csv(
        comp_csv, index=False
    )
    before = (out / "gaps.csv").read_bytes()
    bad = runner.invoke(
        app,
        command,
        terminal_width=200,
    )
    assert bad.exit_code == 1 and "swapped" in bad.output and "很多" in bad.output
    assert (out / "gaps.csv").read_bytes() == before  # earlier outputs untouched


def test_bundles_with_gaps(tmp_path, demo_city, demo_gaps):
    import geopandas as gpd

    gaps_dir = demo_gaps
    out = tmp_path / "bundles"
    res = runner.invoke(
        app,
        [
            "bundles",
            "--parcels",
            str(demo_city.gpkg),
            "--osm",
            str(demo_city.osm),
            "--gaps",
            str(gaps_dir),
            "--out",
            str(out),
        ],
        terminal_width=200,
    )
    assert res.exit_code == 0, res.output
    assert "self-balancing" in res.output
    layers = dict(pyogrio.list_layers(out / "bundles.gpkg"))
    assert {"bundles", "members"} <= set(layers)
    table = pd.read_csv(out / "bundles.csv")
    geo = gpd.read_file(out / "bundles.gpkg", layer="bundles")
    assert len(table) == len(geo) and geo.crs.to_epsg() == 4326
    assert table["gaps_missing"].fillna("").str.len().gt(0).any()
    members = gpd.read_file(out / "bundles.gpkg", layer="members")
    assert set(members["bundle_id"]) == set(table["bundle_id"])
    assert (out / "pairs.csv").exists() and (out / "packages.csv").exists()


def test_plan_command_writes_the_workbook(tmp_path, demo_city, demo_gaps):
    from openpyxl import load_workbook

    gaps_dir = demo_gaps
    out = tmp_path / "plan"
    res = runner.invoke(
        app,
        [
            "plan",
            "--profile",
            "taian",
            "--gaps",
            str(gaps_dir),
            "--out",
            str(out),
            "--budget-yuan",
            "5e8",
            "--parcels",
            str(demo_city.gpkg),
            "--osm",
            str(demo_city.osm),
            "--sites-k",
            "2",
        ],
        terminal_width=200,
    )
    assert res.exit_code == 0, res.output
    book = load_workbook(out / "plan.xlsx", read_only=True)
    assert book.sheetnames == [
        "封面 cover",
        "资格认定 eligibility",
        "改造内容 needs",
        "排序 ranking",
        "年度计划 annual plan",
        "逐级汇总 rollup",
        "设施选址 sites",
        "选址方案 site choice",
    ]
    header = [c.value for c in next(book["年度计划 annual plan"].iter_rows(max_row=1))]
    assert "小区名称 Name" in header and "改造年度 Year" in header
    book.close()
    plan = pd.read_excel(out / "plan.xlsx", sheet_name="年度计划 annual plan")
    per_year = plan.groupby("改造年度 Year")["估算投资（万元） Cost (10k yuan)"].sum()
    assert (per_year <= 5e4 + 1e-6).all() and len(per_year) >= 1


def test_eligibility_command(tmp_path, demo_gaps):
    out = tmp_path / "elig.csv"
    res = runner.invoke(
        app,
        ["eligibility", "--profile", "liaocheng", "--gaps", str(demo_gaps), "--out", str(out)],
        terminal_width=200,
    )
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out)
    assert set(table["status"]) <= {"priority", "eligible", "excluded", "unknown"}
    assert (table.loc[table["build_year"] > 2005, "status"] == "excluded").all()
    assert (table.loc[table["build_year"] <= 2000, "status"].isin(["priority", "excluded"])).all()
    bad = runner.invoke(app, ["eligibility", "--profile", "atlantis", "--gaps", str(demo_gaps)])
    assert bad.exit_code == 1 and "unknown profile" in bad.output


def test_a_plan_without_build_years_says_why_it_is_empty(tmp_path, cau_osm):
    """OSM compounds have no build year: the annual plan is empty, and the console and
    the workbook's cover say why and how to add them; no siting is said too."""
    gaps = tmp_path / "gaps"
    res = runner.invoke(app, ["gaps", "--osm", str(cau_osm), "--out", str(gaps)])
    assert res.exit_code == 0, res.output
    out = tmp_path / "plan"
    res = runner.invoke(
        app,
        ["plan", "--gaps", str(gaps), "--profile", "taian", "--budget-yuan", "5e7",
         "--out", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert "no compound has a build year (建成年代)" in said and "spatial match" in said
    assert "no facility sites chosen" in said and "Annual plan: empty" in said
    cover = pd.read_excel(out / "plan.xlsx", sheet_name=0)
    attention = cover.loc[cover.iloc[:, 0] == "注意 Attention"].iloc[:, 1].tolist()
    assert len(attention) == 2 and "建成年代" in attention[0]


def test_plan_sites_facilities_on_a_road_line_network(tmp_path, demo_city, demo_gaps):
    """`plan --network` takes any network `gaps` takes: here the demo's streets as a
    road-centre line layer, as a city without OSM holds them."""
    from openpyxl import load_workbook

    from spatial.network import walk_network_from_osm

    edges = walk_network_from_osm(demo_city.osm).edges_gdf()
    roads = tmp_path / "道路中心线.gpkg"
    edges.assign(highway=edges["highway"].replace({"": "footway"}))[
        ["highway", "geometry"]
    ].to_file(roads, engine="pyogrio")
    out = tmp_path / "plan"
    args = ["plan", "--profile", "taian", "--gaps", str(demo_gaps), "--out", str(out),
            "--budget-yuan", "5e8", "--parcels", str(demo_city.gpkg), "--sites-k", "2"]  # fmt: skip
    res = runner.invoke(app, [*args, "--network", str(roads)], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "no facility sites chosen" not in res.output
    book = load_workbook(out / "plan.xlsx", read_only=True)
    assert {"设施选址 sites", "选址方案 site choice"} <= set(book.sheetnames)
    book.close()
    choice = pd.read_excel(out / "plan.xlsx", sheet_name="选址方案 site choice")
    assert len(choice) > 0
    both = runner.invoke(app, [*args, "--network", str(roads), "--osm", str(demo_city.osm)])
    assert both.exit_code == 2 and "once" in both.output


def test_a_map_book_by_a_missing_column_is_refused_naming_the_columns(tmp_path, cau_osm):
    """--by subdistrict on compounds without 街道: exit 1 before any map is written, with
    the columns looked for, not a one-page book of 未注明."""
    gaps = tmp_path / "gaps"
    assert runner.invoke(app, ["gaps", "--osm", str(cau_osm), "--out", str(gaps)]).exit_code == 0
    out = tmp_path / "图.html"
    res = runner.invoke(
        app, ["map", "--gaps", str(gaps), "--out", str(out), "--by", "subdistrict"],
        terminal_width=250,
    )  # fmt: skip
    assert res.exit_code == 1, res.output
    said = " ".join(res.output.split())
    assert "街道办事处" in said and "leave out --by" in said
    assert not out.exists() and not (tmp_path / "图").exists()


def test_validate_says_which_categories_the_pois_cover(tmp_path):
    """Two categories of 26 in the POI file: validate says so (counts per category, and a
    warning naming the categories without data), not gaps' 24 no-data rows later."""
    path = tmp_path / "设施.csv"
    pd.DataFrame(
        {
            "名称": ["阳光幼儿园", "北街公交站", "南街公交站"],
            "类型": ["幼儿园", "公交车站", "公交车站"],
            "经度": [116.35, 116.351, 116.352],
            "纬度": [40.0, 40.001, 40.002],
        }
    ).to_csv(path, index=False)
    res = runner.invoke(app, ["validate", str(path), "--kind", "pois"])
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert "POI categories with facilities: 2 of 26" in said
    assert "幼儿园 1" in said and "公交车站 2" in said and "1 warning(s)" in said
    from spatial.cli.data import _category_coverage
    from spatial.io import load_layer

    (warned,) = _category_coverage([load_layer(path, "pois")])
    assert "no facility of 24 of 26 categories" in warned.message
    assert "pharmacy" in warned.message and "kindergarten" not in warned.message


def test_quiet_prints_errors_only(tmp_path, cau_osm):
    """-q: nothing on a run that succeeds (no table, no warnings, no "wrote"), and the
    problem table when the input is wrong."""
    res = runner.invoke(app, ["-q", "gaps", "--osm", str(cau_osm), "--out", str(tmp_path / "g")])
    assert res.exit_code == 0 and res.output.strip() == "", res.output
    assert (tmp_path / "g" / "gaps.csv").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("小区名称,经度,纬度\n甲,abc,40\n", encoding="utf-8")
    res = runner.invoke(app, ["-q", "validate", str(bad)])
    assert res.exit_code == 1 and "error" in res.output and "经度" in res.output
    res = runner.invoke(app, ["validate", str(bad)])  # the next run without -q says all
    assert "error(s)" in res.output and "records" in res.output


def test_a_clipped_extract_keeps_its_map_context(tmp_path, cau_osm):
    """Ways cut by the extract's edge (nodes missing from the file) keep their inside
    part in the context, instead of the whole context being lost."""
    import re

    import geopandas as gpd

    from spatial.io.context.read import read_context

    text = cau_osm.read_text(encoding="utf-8")
    lons = sorted(float(x) for x in re.findall(r'<node [^>]*lon="([0-9.]+)"', text))
    cut = lons[len(lons) * 3 // 4]

    def inside(m: re.Match) -> str:
        return m.group(0) if float(re.search(r'lon="([0-9.]+)"', m.group(0)).group(1)) < cut else ""

    clipped = tmp_path / "clipped.osm"
    clipped.write_text(
        re.sub(r"<node [^>]*?/>|<node [^>]*?>.*?</node>", inside, text, flags=re.S),
        encoding="utf-8",
    )
    whole = read_context([cau_osm])
    part = read_context([clipped])
    streets = part[part["layer"] == "street"]
    assert 0 < len(streets) <= (whole["layer"] == "street").sum()
    assert streets.total_bounds[2] <= cut + 1e-9  # only what is inside the file
    res = runner.invoke(app, ["gaps", "--osm", str(clipped), "--out", str(tmp_path / "g")])
    assert res.exit_code == 0, res.output
    assert len(gpd.read_file(tmp_path / "g" / "context.gpkg", layer="street")) == len(streets)


def test_a_context_that_cannot_be_read_is_said(tmp_path, monkeypatch):
    """The run goes on without a map context, and warns (not a log line)."""
    import spatial.io.context.read as context
    from spatial._errors import InputError, InputWarning, Problem
    from spatial.pipeline.side import write_context

    def broken(paths):
        raise InputError([Problem.error("x.osm.pbf", "cannot read the context layers: bad")])

    monkeypatch.setattr(context, "read_context", broken)
    with pytest.warns(InputWarning, match="map context left out"):
        assert write_context("x.osm.pbf", tmp_path) is None


def test_output_folders_feed_the_commands_that_ask_for_compounds(tmp_path, cau_osm):
    """Producer → consumer: a gaps folder and a plan folder are compounds for bundles and
    gaps; a bundles folder gives its member compounds; a folder without POIs is refused
    with the folders that hold them."""
    import geopandas as gpd

    def run(*args: str):
        return runner.invoke(app, [*args], terminal_width=250)

    g, p, b = tmp_path / "g", tmp_path / "p", tmp_path / "b"
    assert run("gaps", "--osm", str(cau_osm), "--out", str(g)).exit_code == 0
    plan = run("plan", "--gaps", str(g), "--profile", "taian", "--budget-yuan", "5e7",
               "--out", str(p))  # fmt: skip
    assert plan.exit_code == 0, plan.output
    n = len(gpd.read_file(g / "compounds.gpkg", layer="compounds"))
    for source in (g, p):
        res = run("bundles", "--compounds", str(source), "--out", str(b))
        assert res.exit_code == 0, res.output
        members = gpd.read_file(b / "bundles.gpkg", layer="members")
        assert (members["kind"] == "old_compound").sum() == n
    again = run("gaps", "--compounds", str(g), "--osm", str(cau_osm), "--out", str(tmp_path / "g2"))
    assert again.exit_code == 0, again.output
    first = pd.read_csv(g / "gaps.csv")
    second = pd.read_csv(tmp_path / "g2" / "gaps.csv")
    assert first["distance_m"].equals(second["distance_m"])
    b2 = tmp_path / "b2"
    res = run("bundles", "--compounds", str(b), "--out", str(b2))
    assert res.exit_code == 0, res.output
    again = gpd.read_file(b2 / "bundles.gpkg", layer="members")
    assert sorted(again["id"]) == sorted(members["id"])
    assert again["households"].sum() == members["households"].sum()
    both = run("bundles", "--compounds", str(b), "--parcels", str(b), "--out", str(tmp_path / "b3"))
    assert both.exit_code == 0, both.output  # the same folder twice: its compounds once
    assert len(gpd.read_file(tmp_path / "b3" / "bundles.gpkg", layer="members")) == n
    from spatial._errors import InputError
    from spatial.io.outputs.runfolder import folder_layer

    assert folder_layer(b, "compounds") == (b / "bundles.gpkg", "members")
    with pytest.raises(InputError) as info:
        folder_layer(b, "pois")
    (problem,) = info.value.problems
    assert problem.message == "an output folder of `spatial bundles`, which holds no pois"
    assert "`spatial gaps`'s" in problem.hint
    assert folder_layer(g, "pois") == (g / "compounds.gpkg", "pois")


def test_the_compound_database_feeds_bundles_and_gaps(tmp_path, cau_osm):
    """`spatial osm` → `db import` → the database file as --compounds of bundles and gaps
    (its `compounds` layer chosen among its tables; an all-empty 街道 column is fine)."""
    gpkg, db = tmp_path / "cau.gpkg", tmp_path / "老旧小区.gpkg"
    assert runner.invoke(app, ["osm", str(cau_osm), "--out", str(gpkg)]).exit_code == 0
    assert runner.invoke(app, ["db", "init", "--db", str(db)]).exit_code == 0
    res = runner.invoke(app, ["db", "import", str(gpkg), "--db", str(db), "--round", "r1"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["bundles", "--compounds", str(db), "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    assert len(pd.read_csv(tmp_path / "b" / "bundles.csv")) > 0
    res = runner.invoke(
        app,
        ["gaps", "--compounds", str(db), "--pois", str(gpkg), "--osm", str(cau_osm),
         "--out", str(tmp_path / "g")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    n = len(pyogrio.read_dataframe(gpkg, layer="compounds"))
    assert pd.read_csv(tmp_path / "g" / "gaps.csv")["compound_id"].nunique() == n


@pytest.mark.parametrize(
    ("module", "argv", "extra"),
    [
        ("sqlalchemy", ["db", "status", "--db", "x.gpkg"], "db"),
        # batch runs on this machine's processes without Dask; a Dask cluster needs it
        (
            "distributed",
            ["batch", "data/demo/province.toml", "--out", "{tmp}/o", "--scheduler", "tcp://127.0.0.1:9"],
            "batch",
        ),
    ],
)  # fmt: skip
def test_a_command_missing_its_extra_says_which_to_install(tmp_path, module, argv, extra):
    """The core install leaves out the database and Dask libraries: the command says
    which extra installs them (exit 1), not an internal error."""
    import subprocess
    import sys

    argv = [a.replace("{tmp}", tmp_path.as_posix()) for a in argv]

    code = (
        f"import sys; sys.modules[{module!r}] = None; from spatial.cli import main; "
        f"sys.argv = ['spatial', *{argv!r}]; main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 1, done.stdout + done.stderr
    said = " ".join((done.stdout + done.stderr).split())
    assert f"pip install 'spatial[{extra}]'" in said and "internal error" not in said
