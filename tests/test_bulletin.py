"""The monthly bulletin (月通报) on both back ends: a constructed year of statuses reported
month by month, ranked as a hand count ranks it."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box
from typer.testing import CliRunner

from spatial.cli import app
from spatial.db.bulletin import bulletin
from spatial.db.connect import init_db
from spatial.db.progress import import_status, import_targets
from spatial.db.survey import import_survey


def _cell(i: int, j: int) -> box:
    x, y = 116.35 + 0.004 * i, 40.0 + 0.004 * j
    return box(x, y, x + 0.002, y + 0.002)


#: Three districts: 东城 (4 compounds), 西城 (3), 南城 (2, no target).
SURVEY = [
    ("E1", "东城", "东街", 100, 0, 0), ("E2", "东城", "东街", 200, 1, 0),
    ("E3", "东城", "北街", 300, 2, 0), ("E4", "东城", "北街", 400, 3, 0),
    ("W1", "西城", "西街", 150, 0, 2), ("W2", "西城", "西街", 250, 1, 2),
    ("W3", "西城", "西街", 350, 2, 2),
    ("S1", "南城", "南街", 500, 0, 4), ("S2", "南城", "南街", 600, 1, 4),
]  # fmt: skip


def _database(target, tmp_path):
    db = init_db(target)
    frame = gpd.GeoDataFrame(
        {
            "小区编号": [r[0] for r in SURVEY],
            "小区名称": [f"{r[0]}小区" for r in SURVEY],
            "区县": [r[1] for r in SURVEY],
            "街道": [r[2] for r in SURVEY],
            "户数": [r[3] for r in SURVEY],
            "建成年份": 1990,
        },
        geometry=[_cell(r[4], r[5]) for r in SURVEY],
        crs="EPSG:4326",
    )
    frame.to_file(tmp_path / "survey.gpkg", layer="compounds", engine="pyogrio")
    import_survey(db, tmp_path / "survey.gpkg", round_name="2026调查")
    pd.DataFrame(
        {"层级": ["区县", "区县", "全部"], "名称": ["东城", "西城", "全部"],
         "年度": [2026] * 3, "小区数": [4, 2, 8], "户数": [1000, 400, 2000],
         "投资（万元）": [400, 200, 800]}
    ).to_csv(tmp_path / "targets.csv", index=False)  # fmt: skip
    import_targets(db, tmp_path / "targets.csv", round_name="2026目标")
    reports = {
        "2026-02-10": {"E1": "计划", "E2": "计划", "E3": "计划", "E4": "计划",
                       "W1": "计划", "W2": "计划", "S1": "计划"},
        "2026-09-20": {"E1": "在建", "W1": "在建", "W2": "在建"},
        "2026-10-15": {"E1": "完工", "W1": "完工", "E2": "在建"},
        "2026-11-12": {"W2": "完工", "E3": "在建", "S1": "在建"},
        "2026-12-05": {"E2": "完工"},  # after November: not in its bulletin
    }  # fmt: skip
    for when, rows in reports.items():
        path = tmp_path / f"status_{when}.csv"
        pd.DataFrame({"小区编号": list(rows), "年度": 2026, "状态": list(rows.values())}).to_csv(
            path, index=False
        )
        import_status(db, path, round_name=f"状态{when}", reported_on=when)
    return db


def test_november_bulletin_ranks_as_a_hand_count(target, tmp_path):
    db = _database(target, tmp_path)
    b = bulletin(db, month="2026-11")
    units = b.units.set_index(["level", "unit"])
    east, west, south = (units.loc[("district", d)] for d in ("东城", "西城", "南城"))
    # 东城 at the end of November: E1 完工, E2 在建, E3 在建, E4 计划 → 3 started, 1 done of 4
    assert (east["started"], east["completed"], east["target_compounds"]) == (3, 1, 4)
    assert east["households_completed"] == 100 and east["share_completed"] == 0.25
    # 西城: W1, W2 完工 of a target of 2 → 100 %; first; W3 has no status
    assert (west["started"], west["completed"], west["share_completed"]) == (2, 2, 1.0)
    assert (west["rank"], east["rank"]) == (1, 2)
    # 南城 has no target: listed, not ranked, its figures kept
    assert pd.isna(south["rank"]) and south["note"] == "未下达目标 no target"
    assert south["started"] == 1
    # the change since October: E3, S1 started; W2 completed
    assert (east["started_this_month"], east["completed_this_month"]) == (1, 0)
    assert (west["started_this_month"], west["completed_this_month"]) == (0, 1)
    # behind: planned on 10 February, not started by the end of November: E4 only
    assert b.behind["compound_id"].tolist() == ["E4"]
    total = units.loc[("total", "全部 all")]
    assert (total["started"], total["completed"], total["rank"]) == (6, 3, 1)
    # October's bulletin: before the November changes
    october = bulletin(db, month="2026-10").units.set_index(["level", "unit"])
    assert october.loc[("district", "西城"), "completed"] == 1
    assert october.loc[("district", "东城"), "rank"] == 2


def test_the_bulletin_files_in_chinese(tmp_path):
    path = str(tmp_path / "db.gpkg")
    db = _database(path, tmp_path)
    out = tmp_path / "bulletin"
    done = CliRunner().invoke(
        app,
        [
            "db",
            "bulletin",
            "--db",
            str(tmp_path / "db.gpkg"),
            "--month",
            "2026-11",
            "--out",
            str(out),
        ],
    )
    assert done.exit_code == 0, done.output
    book = pd.read_excel(out / "bulletin.xlsx", sheet_name=None)
    assert list(book) == ["封面 cover", "通报 ranking", "滞后 behind", "小区 compounds"]
    ranking = book["通报 ranking"]
    assert "完工率 share of target completed" in ranking.columns
    pdf = (out / "bulletin.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000  # the map, the table, a CJK font
    text = _pdf_text(out / "bulletin.pdf")
    assert "2026年11月" in text and "西城" in text and "未下达目标" in text
    # a bad month is refused with the fix
    bad = CliRunner().invoke(
        app,
        ["db", "bulletin", "--db", path, "--month", "11/2026", "--out", str(tmp_path / "b2")],
    )
    assert bad.exit_code == 1 and "2026-11" in bad.output and "Traceback" not in bad.output
    assert db is not None


def _pdf_text(path) -> str:
    import subprocess

    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail("pdftotext is missing: run scripts/test-deps.sh")
    return done.stdout
