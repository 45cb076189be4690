"""Survey rows matched to footprints by name: normalisation, precision and recall on
tables written the ways planners write the real extract's compounds, review loop."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box
from typer.testing import CliRunner

from spatial.cli import app
from spatial.io.outputs.write import write_xlsx
from spatial.io.survey.match import match_names
from spatial.io.survey.names import chinese_numerals_to_digits, normalize_name
from spatial.pipeline.match import read_footprints, run_match


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("农大小区-北区", "农大北区"),
        ("农大小区（北区）", "农大北院"),
        ("清华东路27号院", "清华东路二十七号院"),
        ("清华东路２７号院", "清华东路27号"),
        ("石科院生活区", "石科院家属院"),
        ("中建壹品·学府公馆", "中建壹品 学府公馆"),
        ("双泉堡甲2号院", "双泉堡甲二号院"),
    ],
)
def test_names_written_differently_reduce_to_one_form(a, b):
    assert normalize_name(a) == normalize_name(b) != ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("农大北区", "农大南区"),
        ("双泉堡甲2号院", "双泉堡2号院"),
        ("清华东路27号院", "清华东路17号院"),
    ],
)
def test_real_differences_stay(a, b):
    assert normalize_name(a) != normalize_name(b)


def test_chinese_numerals():
    assert chinese_numerals_to_digits("二十七号") == "27号"
    assert chinese_numerals_to_digits("十号楼, 一百零五, 一〇五, 两栋") == "10号楼, 105, 105, 2栋"


# Each table lists a compound once, written one way; several tables (survey rounds of
# different districts) give the variants. "" = a row with no footprint in the extract.
TRUTH = {
    "富润家园": ["富润家园小区", "富润家园", "富润家园 "],
    "石科院生活区": ["石科院家属院", "石科院宿舍", "石科院生活区"],
    "农大小区-北区": ["农大北区", "农大小区（北区）", "农大北院"],
    "清华东路27号院": ["清华东路二十七号院", "清华东路27号", "清华东路２７号院"],
    "静淑苑": ["静淑苑小区", "静淑苑社区", "静淑苑"],
    "中建壹品·学府公馆": ["中建壹品学府公馆", "中建壹品 学府公馆", "中建壹品·学府公馆小区"],
    "双泉嘉苑": ["双泉嘉苑小区", "双泉嘉苑", "双泉嘉苑住宅小区"],
    "学士居": ["学士居小区", "学士居", "学士居宿舍"],
    "大华花园别墅": ["大华花园别墅区", "大华花园别墅", "大华花园别墅小区"],
    "双泉堡甲2号院": ["双泉堡甲二号院", "双泉堡甲2号", "双泉堡甲２号院"],
}
NOWHERE = [
    "农大小区南区",
    "清华东路17号院",
    "双泉堡乙3号院",
    "学院路20号院",
    "双榆树东里",
    "志新村小区",
    "北航北区家属院",
    "石油大院",
]


# Harder: full names for abbreviations, a part of the name, a phase, a note in brackets.
HARD = {
    "石科院生活区": "石油化工科学研究院生活区",
    "农大小区-北区": "中国农业大学北区",
    "中建壹品·学府公馆": "学府公馆",
    "双泉嘉苑": "双泉嘉苑一期",
    "大华花园别墅": "大华别墅",
    "清华东路27号院": "清华东路27号院（农大宿舍）",
    "富润家园": "富润家园",
    "静淑苑": "静淑苑",
    "学士居": "学士居",
    "双泉堡甲2号院": "双泉堡甲2号院",
}


def _tables(k_range=range(3)) -> list[pd.DataFrame]:
    out = []
    for k in k_range:
        rows = [(name, variants[k]) for name, variants in TRUTH.items()]
        rows += [("", n) for n in NOWHERE]
        out.append(pd.DataFrame(rows, columns=["truth", "name"]))
    return out


def _score(feet: gpd.GeoDataFrame, tables: list[pd.DataFrame]) -> tuple[float, float, str]:
    by_name = dict(zip(feet["name"], feet["id"].astype(str), strict=True))
    correct = auto = should = 0
    for table in tables:
        found = match_names(table[["name"]], feet)
        truth = table["truth"].map(lambda t: by_name.get(t, ""))
        got = found["footprint_id"].where(found["match_status"] == "matched", "")
        auto += int((got != "").sum())
        correct += int(((got == truth) & (got != "")).sum())
        should += int((truth != "").sum())
        wrong = table[(got != "") & (got != truth)]
        assert wrong.empty, wrong  # no row is given another compound's footprint
    return correct / auto, correct / should, f"{correct}/{auto}, {correct}/{should}"


def test_precision_and_recall_on_the_real_extract(cau_osm):
    feet = read_footprints(cau_osm)
    precision, recall, counts = _score(feet, _tables())
    print(f"as written: precision {precision:.3f} recall {recall:.3f} ({counts})")
    assert precision >= 0.95 and recall >= 0.9
    hard = pd.DataFrame(
        [(t, n) for t, n in HARD.items()] + [("", n) for n in NOWHERE], columns=["truth", "name"]
    )
    precision, recall, counts = _score(feet, [hard])
    print(f"hard: precision {precision:.3f} recall {recall:.3f} ({counts})")
    assert precision == 1.0  # the hard names go to review, never to a wrong footprint


def test_near_misses_go_to_review_with_candidates(cau_osm):
    feet = read_footprints(cau_osm)
    rows = pd.DataFrame({"name": ["清华东路17号院", "学院路20号院", "静淑苑", "静淑苑小区"]})
    found = match_names(rows, feet)
    assert (
        found.loc[0, "match_status"] == "review" and "清华东路27号院" in found.loc[0, "candidates"]
    )
    assert found.loc[1, "match_status"] == "unmatched"
    assert (found.loc[2:3, "match_status"] == "review").all()  # one footprint, two rows
    assert "claimed by 2 rows" in found.loc[2, "match_reason"]


def test_only_footprints_of_the_rows_subdistrict_are_candidates():
    feet = gpd.GeoDataFrame(
        {"id": ["A", "B"], "name": ["幸福小区", "幸福小区"], "subdistrict": ["东街道", "西街道"]},
        geometry=[box(0, 0, 1, 1), box(2, 0, 3, 1)],
        crs="EPSG:32650",
    )
    rows = pd.DataFrame(
        {"name": ["幸福小区", "幸福小区", "幸福小区"], "subdistrict": ["西街道", "东街道", ""]}
    )
    found = match_names(rows, feet)
    assert found["footprint_id"].tolist()[:2] == ["B", "A"]
    assert found["match_status"].tolist() == ["matched", "matched", "review"]  # no area: two alike


def test_match_command_writes_layers_and_applies_a_review(cau_osm, tmp_path):
    table = pd.DataFrame(
        {
            "序号": ["1", "2", "3", "4"],
            "街道": ["东升镇"] * 4,
            "小区名称": ["农大北区", "学府公馆", "学院路20号院", '=HYPERLINK("x")'],
            "户数": ["320", "210", "400", "10"],
        }
    )
    path = write_xlsx({"台账": table}, tmp_path / "台账.xlsx")  # "=…" kept as text
    out = tmp_path / "m"
    runner = CliRunner()
    res = runner.invoke(app, ["match", str(path), "--footprints", str(cau_osm), "--out", str(out)])
    assert res.exit_code == 0, res.output
    layer = gpd.read_file(out / "matched.gpkg", layer="compounds")
    assert layer["小区名称"].tolist() == ["农大北区"] and layer["户数"].tolist() == ["320"]
    assert layer.crs.to_epsg() == 4326 and layer.geometry.iloc[0].area > 0
    review = pd.read_excel(out / "review.xlsx", dtype=str)
    assert review["行号 row_id"].tolist() == ["2", "3", "4"]
    assert "中建壹品·学府公馆" in review.loc[0, "候选 candidates"]
    feet = read_footprints(cau_osm)
    pick = str(feet.loc[feet["name"] == "中建壹品·学府公馆", "id"].iloc[0])
    review.loc[0, "决定 decision"] = pick
    review.loc[1, "决定 decision"] = "无"
    review.to_excel(tmp_path / "review.xlsx", index=False)
    res = runner.invoke(
        app,
        [
            "match",
            str(path),
            "--footprints",
            str(cau_osm),
            "--out",
            str(out),
            "--review",
            str(tmp_path / "review.xlsx"),
        ],
    )
    assert res.exit_code == 0, res.output
    rows = pd.read_excel(out / "matched.xlsx", dtype=str).set_index("row_id")
    assert rows.loc["2", "match_status"] == "matched" and rows.loc["2", "match_method"] == "review"
    assert rows.loc["3", "match_reason"] == "reviewed: no footprint"
    assert rows.loc["4", "小区名称"] == '=HYPERLINK("x")'  # stays text
    assert len(gpd.read_file(out / "matched.gpkg", layer="compounds")) == 2
    # the match folder is compounds for the next command
    res = runner.invoke(
        app, ["gaps", "--compounds", str(out), "--osm", str(cau_osm), "--out", str(tmp_path / "g")]
    )
    assert res.exit_code == 0, res.output
    assert pd.read_csv(tmp_path / "g" / "gaps.csv")["compound_name"].nunique() == 2


def test_match_refuses_a_table_without_names_and_a_bad_review(cau_osm, tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"地址": ["清华东路27号"]}).to_csv(path, index=False)
    res = CliRunner().invoke(
        app, ["match", str(path), "--footprints", str(cau_osm), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 1 and "no name column" in " ".join(res.output.split())
    assert "Traceback" not in res.output and not (tmp_path / "o").exists()
    good = tmp_path / "g.csv"
    pd.DataFrame({"小区名称": ["学府公馆"]}).to_csv(good, index=False)
    bad = tmp_path / "r.csv"
    pd.DataFrame({"row_id": ["2"], "decision": ["w0"]}).to_csv(bad, index=False)
    with pytest.raises(Exception, match="does not exist"):
        run_match(good, cau_osm, out_dir=tmp_path / "o2", review=bad)
    assert not (tmp_path / "o2").exists()


def test_a_polygon_layer_as_footprints(tmp_path):
    feet = gpd.GeoDataFrame(
        {"小区名称": ["阳光小区"], "编号": ["Y1"]}, geometry=[box(0, 0, 50, 50)], crs="EPSG:32650"
    )
    feet.to_file(tmp_path / "f.gpkg", engine="pyogrio")
    table = tmp_path / "t.csv"
    pd.DataFrame({"小区名称": ["阳光"]}).to_csv(table, index=False)
    run = run_match(table, tmp_path / "f.gpkg", out_dir=tmp_path / "o")
    assert run.rows["footprint_id"].tolist() == ["Y1"]


def test_a_one_column_csv_is_read(tmp_path):
    from spatial.io.survey.tables import read_table

    path = tmp_path / "one.csv"
    path.write_text("小区名称\n静淑苑\n学士居\n", encoding="utf-8")
    assert read_table(path)["小区名称"].tolist() == ["静淑苑", "学士居"]


# As clerks write them: house numbers that differ by a digit, a community or subdistrict
# written in front of the name (tuples: truth footprint, the row's name, its community).
CLERK_FEET = [
    "长江路200号院", "长江路2000号院", "黄河路600号", "泰山街12号院", "泰山街120号院",
    "和平里小区", "幸福家园", "阳光花园", "翠湖天地", "金桥新村", "望京西园三区", "望京西园四区",
]  # fmt: skip
CLERK_ROWS = [
    ("长江路2000号院", "长江路2000号小区", ""),
    ("长江路200号院", "长江路200号", ""),
    ("", "黄河路6900号", ""),
    ("泰山街12号院", "泰山街12号", ""),
    ("", "泰山街1200号院", ""),
    ("", "长江路20号院", ""),
    ("和平里小区", "和平社区和平里小区", ""),
    ("幸福家园", "幸福街道幸福家园", ""),
    ("阳光花园", "光明阳光花园", "光明社区"),
    ("翠湖天地", "东湖街道办事处翠湖天地小区", ""),
    ("金桥新村", "金桥新村", ""),
    ("望京西园三区", "望京西园3区", ""),
    ("", "望京西园五区", ""),
]


def test_numbers_must_agree_and_units_in_front_are_dropped():
    """Precision 1.00 where house numbers differ (2000号 is not 200号, 6900号 not 600号);
    a name written after its community or subdistrict matches its footprint."""
    feet = pd.DataFrame({"id": [f"F{i}" for i in range(len(CLERK_FEET))], "name": CLERK_FEET})
    rows = pd.DataFrame(CLERK_ROWS, columns=["truth", "name", "community"])
    found = match_names(rows[["name", "community"]], feet)
    by_name = dict(zip(feet["name"], feet["id"], strict=True))
    truth = rows["truth"].map(lambda t: by_name.get(t, ""))
    got = found["footprint_id"].where(found["match_status"] == "matched", "").fillna("")
    wrong = rows[(got != "") & (got != truth)]
    assert wrong.empty, found.loc[wrong.index]
    recall = ((got == truth) & (truth != "")).sum() / (truth != "").sum()
    assert recall >= 0.95, found[["match_status", "match_reason", "candidates"]]
    near = found.loc[rows["name"] == "黄河路6900号"].iloc[0]
    assert near["match_status"] == "review" and "(6900 vs 600)" in near["match_reason"]
