"""The compound database on both back ends: a GeoPackage file and a real PostgreSQL/PostGIS
server started by scripts/postgres.sh. Round trip against the file path, history, bad
input writing nothing, two imports at once, statuses and roll-ups, QGIS-ready layers."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box
from typer.testing import CliRunner

from spatial._errors import InputError
from spatial.cli import app
from spatial.db.connect import init_db, open_db
from spatial.db.frames import read_compounds, read_table
from spatial.db.progress import import_status, import_targets
from spatial.db.rollup import progress
from spatial.db.survey import import_survey


def _survey(path: Path, rows: list[dict]) -> Path:
    """A survey layer in WGS84 with Chinese headers."""
    frame = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k != "geometry"} for r in rows],
        geometry=[r["geometry"] for r in rows],
        crs="EPSG:4326",
    )
    frame.to_file(path, layer="compounds", engine="pyogrio")
    return path


def _cell(i: int) -> box:
    x = 116.35 + 0.004 * i
    return box(x, 40.0, x + 0.002, 40.002)


BASE = [
    {"小区编号": "A1", "小区名称": "农大北区", "街道": "东升", "社区": "农大", "户数": 300,
     "建成年份": 1990, "geometry": _cell(0)},
    {"小区编号": "A2", "小区名称": "农大南区", "街道": "东升", "社区": "农大", "户数": 200,
     "建成年份": 1995, "geometry": _cell(1)},
    {"小区编号": "A3", "小区名称": "石科院生活区", "街道": "学院路", "社区": "石科", "户数": 500,
     "建成年份": 1988, "geometry": _cell(2)},
]  # fmt: skip


def _counts(db) -> dict[str, int]:
    with db.reading() as conn:
        return {
            t: len(read_table(conn, db, t))
            for t in ("rounds", "compounds", "compound_history", "renovation_status")
        }


def test_history_keeps_old_values_with_when_who_and_source(target, tmp_path):
    db = init_db(target)
    first = import_survey(db, _survey(tmp_path / "r1.gpkg", BASE), round_name="2025", by="李四")
    assert (first.added, first.changed) == (3, 0)
    second_rows = [dict(r) for r in BASE]
    second_rows[0]["户数"] = 320
    second_rows[1]["户数"] = None  # a blank cell does not erase what is known
    second_rows[2]["小区名称"] = "石油化工科学研究院生活区"
    second = import_survey(
        db, _survey(tmp_path / "r2.gpkg", second_rows), round_name="2026", by="张三"
    )
    assert (second.added, second.changed, second.unchanged) == (0, 2, 1)
    with db.reading() as conn:
        comp = read_compounds(conn, db).set_index("id")
        hist = read_table(conn, db, "compound_history")
    assert comp.loc["A1", "households"] == 320
    assert comp.loc["A2", "households"] == 200
    assert comp.loc["A3", "name"] == "石油化工科学研究院生活区"
    changed = hist[hist["round_id"] == 2].set_index("compound_id")
    assert changed.loc["A1", "field"] == "households"
    assert (changed.loc["A1", "old_value"], changed.loc["A1", "new_value"]) == ("300", "320")
    assert changed.loc["A3", "old_value"] == "石科院生活区"
    assert set(changed["changed_by"]) == {"张三"} and set(changed["source"]) == {"r2.gpkg"}
    assert changed["changed_at"].str.match(r"\d{4}-\d\d-\d\dT").all()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("same round", "was imported already"),
        ("id changed", "an id that changed"),
        ("name on two footprints", "is on two footprints"),
        ("footprint claimed twice", "claim the same footprint"),
    ],
)
def test_bad_survey_is_reported_with_its_row_and_writes_nothing(target, tmp_path, case, message):
    db = init_db(target)
    import_survey(db, _survey(tmp_path / "r1.gpkg", BASE), round_name="2025")
    rows = [dict(r) for r in BASE]
    name = "2026"
    if case == "same round":
        name = "2025"
        rows[0]["户数"] = 1
    elif case == "id changed":
        rows[1]["小区编号"] = "B2"  # the same footprint and name under a new id
    elif case == "name on two footprints":
        rows.append({**rows[0], "小区编号": "A4", "geometry": _cell(5)})
    else:
        rows.append({**rows[2], "小区编号": "A5", "小区名称": "另一个小区"})
    before = _counts(db)
    with pytest.raises(InputError) as err:
        import_survey(db, _survey(tmp_path / "r2.gpkg", rows), round_name=name)
    found = [p for p in err.value.errors if message in p.message]
    assert found, err.value
    if case != "same round":
        assert all(p.row is not None for p in found)
    assert _counts(db) == before


def test_status_never_goes_back_and_rolls_up_against_targets(target, tmp_path):
    db = init_db(target)
    import_survey(db, _survey(tmp_path / "r1.gpkg", BASE), round_name="2025")
    pd.DataFrame(
        {"小区编号": ["A1", "A2", "A3", "A1"], "年度": [2025, 2025, 2025, 2026],
         "状态": ["计划", "在建", "储备", "完工"]}
    ).to_csv(tmp_path / "s1.csv", index=False)  # fmt: skip
    assert import_status(db, tmp_path / "s1.csv", round_name="状态2025") == 4
    pd.DataFrame(
        {"层级": ["街道", "全部"], "名称": ["东升", "全部"], "年度": [2025, 2025],
         "小区数": [4, 10], "户数": [1000, 2000], "投资（万元）": [100, 500]}
    ).to_csv(tmp_path / "t.csv", index=False)  # fmt: skip
    import_targets(db, tmp_path / "t.csv", round_name="目标2025")
    table = progress(db, year=2025).set_index(["level", "unit"])
    east = table.loc[("subdistrict", "东升")]
    assert (east["compounds"], east["households"], east["started"]) == (2, 500, 1)
    assert east["target_compounds"] == 4 and east["share_compounds"] == pytest.approx(0.5)
    assert east["target_money_yuan"] == pytest.approx(1e6)
    total = table.loc[("total", "全部 all")]
    assert (total["compounds"], total["households"], total["share_households"]) == (2, 500, 0.25)
    assert table.loc[("community", "石科"), "compounds"] == 0
    with db.reading() as conn:
        comp = read_compounds(conn, db).set_index("id")
    assert comp.loc["A1", "status"] == "completed" and comp.loc["A1", "status_year"] == 2026
    # backwards: 完工 (2026) → 计划 (2027), and 在建 → 储备 in the same year
    pd.DataFrame(
        {"小区编号": ["A1", "A2", "X9"], "年度": [2027, 2025, 2027],
         "状态": ["计划", "储备", "完工"]}
    ).to_csv(tmp_path / "s2.csv", index=False)  # fmt: skip
    before = _counts(db)
    with pytest.raises(InputError) as err:
        import_status(db, tmp_path / "s2.csv", round_name="状态2027")
    messages = {(p.row, p.message.split(":")[0]) for p in err.value.errors}
    assert (2, "A1") in messages and (3, "A2") in messages
    assert any(p.row == 4 and "no compound 'X9'" in p.message for p in err.value.errors)
    assert _counts(db) == before


def _import_in_process(args: tuple[str, str, str]) -> str:
    target, path, name = args
    try:
        import_survey(open_db(target), path, round_name=name)
    except InputError as exc:
        return str(exc)
    return "ok"


def test_two_imports_at_once_lose_no_update_and_a_failed_one_leaves_nothing(
    target, tmp_path, monkeypatch
):
    db = init_db(target)
    import_survey(db, _survey(tmp_path / "r1.gpkg", BASE), round_name="2025")
    # two surveys of different compounds, imported at the same moment
    a = [{**BASE[0], "户数": 333}]
    b = [{**BASE[1], "小区名称": "农大南院"}, {**BASE[2], "户数": 555}]
    jobs = [
        (target, str(_survey(tmp_path / "a.gpkg", a)), "A轮"),
        (target, str(_survey(tmp_path / "b.gpkg", b)), "B轮"),
    ]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        assert pool.map(_import_in_process, jobs) == ["ok", "ok"]
    with db.reading() as conn:
        comp = read_compounds(conn, db).set_index("id")
        hist = read_table(conn, db, "compound_history")
    assert comp.loc["A1", "households"] == 333
    assert comp.loc["A2", "name"] == "农大南院" and comp.loc["A3", "households"] == 555
    assert len(hist[hist["round_id"] > 1]) == 3
    # a failure in the middle of the writes (after the compounds, before the history)
    import spatial.db.survey as survey

    def broken(*_a, **_k):
        raise RuntimeError("disk full")

    c = [dict(r) for r in BASE] + [{**BASE[0], "小区编号": "A9", "小区名称": "新小区",
                                     "geometry": _cell(7)}]  # fmt: skip
    before = _counts(db)
    monkeypatch.setattr(survey, "now_text", lambda: "2026-01-01T00:00:00+08:00")
    real_insert = survey.insert

    def insert(table):
        return broken() if table.name == "compound_history" else real_insert(table)

    monkeypatch.setattr(survey, "insert", insert)
    with pytest.raises(RuntimeError):
        import_survey(db, _survey(tmp_path / "c.gpkg", c), round_name="C轮")
    assert _counts(db) == before


def test_geopackage_opens_in_gis_with_aliases_and_style(tmp_path):
    db = init_db(tmp_path / "库.gpkg")
    import_survey(db, _survey(tmp_path / "r1.gpkg", BASE), round_name="2025")
    layer = gpd.read_file(tmp_path / "库.gpkg", layer="compounds", engine="pyogrio")
    assert layer.crs.to_epsg() == 4326 and len(layer) == 3
    assert layer.geometry.iloc[0].equals_exact(_cell(0), 1e-9)
    con = sqlite3.connect(tmp_path / "库.gpkg")
    try:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        aliases = dict(
            con.execute(
                "SELECT column_name, name FROM gpkg_data_columns WHERE table_name='compounds'"
            ).fetchall()
        )
        qml = con.execute(
            "SELECT styleQML FROM layer_styles WHERE f_table_name='compounds' AND useAsDefault"
        ).fetchone()[0]
    finally:
        con.close()
    assert aliases["name"] == "名称" and aliases["households"] == "户数"
    assert 'attr="status"' in qml and "完工 completed" in qml and 'name="户数"' in qml


def test_round_trip_demo_city_equals_the_file_path(target, demo_city, tmp_path):
    runner = CliRunner()
    osm, gpkg = str(demo_city.osm), str(demo_city.gpkg)
    common = ["--osm", osm, "--pois", gpkg, "--pois-layer", "pois"]
    assert runner.invoke(app, ["db", "init", "--db", target]).exit_code == 0
    r = runner.invoke(
        app, ["db", "import", gpkg, "--db", target, "--round", "2025", "--layer", "compounds"]
    )
    assert r.exit_code == 0, r.output
    file_run = ["gaps", "--compounds", gpkg, "--compounds-layer", "compounds", *common]
    assert runner.invoke(app, [*file_run, "--out", str(tmp_path / "gf")]).exit_code == 0
    r = runner.invoke(app, ["gaps", "--db", target, *common, "--out", str(tmp_path / "gd")])
    assert r.exit_code == 0, r.output
    plan = ["plan", "--profile", "taian", "--budget-yuan", "5e7"]
    r = runner.invoke(app, [*plan, "--gaps", str(tmp_path / "gf"), "--out", str(tmp_path / "pf")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, [*plan, "--db", target, "--out", str(tmp_path / "pd")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["db", "export", "--db", target, "--out", str(tmp_path / "ex")])
    assert r.exit_code == 0, r.output
    want = pd.read_csv(tmp_path / "gf" / "gaps.csv")
    got = pd.read_csv(tmp_path / "ex" / "gaps.csv").drop(columns=["run_id", "reachable_count"])
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert len(want) > 0
    got_plan = pd.read_excel(tmp_path / "pd" / "plan.xlsx", sheet_name=None)
    want_plan = pd.read_excel(tmp_path / "pf" / "plan.xlsx", sheet_name=None)
    assert list(got_plan) == list(want_plan) and len(want_plan) >= 6
    for sheet, frame in want_plan.items():
        if sheet == "封面 cover":  # says where the data came from: the database, the folder
            cover = got_plan[sheet].set_index("项目 Item")["内容 Content"]
            assert cover["数据 Data"] == "老旧小区数据库 compound database"
            continue
        pd.testing.assert_frame_equal(got_plan[sheet], frame)
    planned = pd.read_csv(tmp_path / "ex" / "plan.csv")
    status = pd.read_csv(tmp_path / "ex" / "status.csv")
    in_plan = planned[planned["year"].notna()]
    assert len(in_plan) > 0
    assert set(status["compound_id"]) == set(in_plan["compound_id"])
    assert set(status["status"]) == {"planned"}
    r = runner.invoke(app, ["map", "--db", target, "--out", str(tmp_path / "m.html")])
    assert r.exit_code == 0, r.output
    html = (tmp_path / "m.html").read_text(encoding="utf-8")
    name = str(gpd.read_file(gpkg, layer="compounds")["小区名称"].iloc[0])
    assert name in html or json.dumps(name)[1:-1] in html
    # the streets under the map come back from the database with the run
    from spatial.db.results import load_gap_tables_db
    from spatial.io.outputs.results import load_gap_tables

    context = load_gap_tables_db(open_db(target)).context
    want_context = load_gap_tables(tmp_path / "gf").context
    assert context is not None and len(context) == len(want_context) > 0
    assert context.attrs["sources"] == want_context.attrs["sources"] == ["synthetic"]
    with open_db(target).reading() as conn:
        runs = read_table(conn, open_db(target), "runs")
    assert runs["kind"].tolist() == ["gaps", "plan", "map"]
    assert runs["outputs"].iloc[-1].endswith("m.html")


def test_cli_bad_input_exits_1_without_traceback(tmp_path):
    runner = CliRunner()
    db = tmp_path / "x.gpkg"
    assert runner.invoke(app, ["db", "status", "--db", str(db), "--year", "2025"]).exit_code == 1
    assert runner.invoke(app, ["db", "init", "--db", str(db)]).exit_code == 0
    assert runner.invoke(app, ["db", "init", "--db", str(db)]).exit_code == 1
    bad = tmp_path / "s.csv"
    pd.DataFrame({"小区编号": ["Z"], "年度": ["明年"], "状态": ["拆了"]}).to_csv(bad, index=False)
    r = runner.invoke(app, ["db", "import", str(bad), "--db", str(db), "--round", "s", "--kind",
                            "status"])  # fmt: skip
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    for text in ("no compound 'Z'", "not a year", "unknown status"):
        assert text in r.output


def test_a_database_from_before_the_access_column_gets_it_when_opened(tmp_path):
    path = tmp_path / "old.gpkg"
    init_db(path)
    with sqlite3.connect(path) as conn:  # as an earlier version made it
        conn.execute("ALTER TABLE gap_results DROP COLUMN access")
    with sqlite3.connect(path) as conn:
        assert "access" not in {r[1] for r in conn.execute("PRAGMA table_info(gap_results)")}
    open_db(path)
    with sqlite3.connect(path) as conn:
        assert "access" in {r[1] for r in conn.execute("PRAGMA table_info(gap_results)")}


def test_db_history_shows_an_added_compound_s_old_value_as_empty(target, tmp_path):
    """A compound added by an import has no old value: blank in `spatial db history`,
    not the text "nan" (both back ends)."""
    db_path = target
    db = init_db(db_path)
    import_survey(db, _survey(tmp_path / "r1.gpkg", BASE), round_name="2025", by="李四")
    res = CliRunner().invoke(app, ["db", "history", "--db", db_path], terminal_width=200)
    assert res.exit_code == 0, res.output
    added = [line for line in res.output.splitlines() if "added" in line]
    assert len(added) == 3 and not any("nan" in line for line in added)


def test_db_import_and_status_without_round_or_year_use_today(tmp_path):
    """`db import` without --round names the round from the file and today, `db status`
    without --year takes this year; both say so."""
    from datetime import date

    db_path = str(tmp_path / "老旧小区.gpkg")
    init_db(db_path)
    survey = _survey(tmp_path / "摸底.gpkg", BASE)
    res = CliRunner().invoke(app, ["db", "import", str(survey), "--db", db_path])
    assert res.exit_code == 0, res.output
    named = f"摸底 {date.today().isoformat()}"
    assert f"round named {named}" in res.output and "added 新增 3" in res.output
    with open_db(db_path).reading() as conn:
        assert named in set(read_table(conn, open_db(db_path), "rounds")["name"])
    res = CliRunner().invoke(app, ["db", "status", "--db", db_path])
    assert res.exit_code == 0, res.output
    assert f"year {date.today().year}" in res.output


def test_names_are_stored_exactly_as_given(tmp_path):
    """Full-width brackets and digits in a name stay as written (loaded and in the
    database); matching still compares their reduced forms."""
    db_path = str(tmp_path / "老旧小区.gpkg")
    db = init_db(db_path)
    rows = [dict(BASE[0], 小区名称="清华东路２７号院（农大宿舍）")]
    import_survey(db, _survey(tmp_path / "r1.gpkg", rows), round_name="2025", by="李四")
    with db.reading() as conn:
        assert read_compounds(conn, db)["name"].tolist() == ["清华东路２７号院（农大宿舍）"]


def test_a_database_server_is_compounds_for_bundles(postgres, tmp_path):
    """`--compounds postgresql://…`: the compounds as they stand in the database."""
    import psycopg

    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS as_input")
        conn.execute("CREATE DATABASE as_input")
    url = postgres.rsplit("/", 1)[0] + "/as_input"
    db = init_db(url)
    import_survey(db, _survey(tmp_path / "r1.gpkg", BASE), round_name="2025", by="李四")
    res = CliRunner().invoke(app, ["bundles", "--compounds", url, "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    members = gpd.read_file(tmp_path / "b" / "bundles.gpkg", layer="members")
    assert sorted(members.loc[members["kind"] == "old_compound", "id"]) == ["A1", "A2", "A3"]
