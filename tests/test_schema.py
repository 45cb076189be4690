"""Column aliases and value parsing of survey tables with Chinese headers."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from spatial.io.survey.conform import conform
from spatial.io.survey.schema import map_columns
from spatial.io.survey.values import (
    normalize_header,
    parse_bool,
    parse_number,
    parse_share,
    parse_year,
)


def test_chinese_and_english_headers_map_to_the_same_contract():
    zh = [
        "小区名称",
        "建成年份",
        "户数",
        "楼栋数",
        "层数",
        "建筑面积（㎡）",
        "占地面积(平方米)",
        "街道",
        "社区",
        "加装电梯",
        "居民意愿",
        "备注",
    ]
    en = [
        "name",
        "build_year",
        "households",
        "buildings",
        "floors",
        "floor_area_m2",
        "land_area_m2",
        "subdistrict",
        "community",
        "elevator",
        "willingness",
        "note",
    ]
    mapped_zh, p1 = map_columns(zh, "compounds")
    mapped_en, p2 = map_columns(en, "compounds")
    assert not p1 and not p2
    assert [mapped_zh.get(c) for c in zh] == [mapped_en.get(c) for c in en]
    assert mapped_zh["建筑面积（㎡）"] == "floor_area_m2"
    assert "备注" not in mapped_zh  # unknown columns are kept, not mapped


def test_alternative_chinese_headers_and_full_width_forms():
    mapped, _ = map_columns(
        ["建成年代", "总户数", "街道办事处", "社区居委会", " 层数 "], "compounds"
    )
    assert sorted(mapped.values()) == [
        "build_year",
        "community",
        "floors",
        "households",
        "subdistrict",
    ]
    assert normalize_header("Floor Area (m2)") == "floor_area"


def test_two_headers_for_one_field_is_an_error():
    _, problems = map_columns(["户数", "households"], "compounds", source="x.csv")
    assert len(problems) == 1
    assert "both '户数' and 'households'" in problems[0].message


@pytest.mark.parametrize(
    ("raw", "year", "approx"),
    [
        (1990, 1990, False),
        (1990.0, 1990, False),
        ("1985年", 1985, False),
        ("1990年代", 1990, True),
        ("1990s", 1990, True),
        ("80年代", 1980, True),
        ("九十年代", 1990, True),
        ("2003-05", 2003, False),
        ("2003年5月", 2003, False),
        (dt.date(1999, 3, 1), 1999, False),
        ("", None, False),
    ],
)
def test_years_that_parse(raw, year, approx):
    assert parse_year(raw, today=dt.date(2026, 1, 1)) == (year, approx, None)


@pytest.mark.parametrize("raw", ["不详", "abc", "19900", "1995s", 1990.5, "1850", "2031年"])
def test_years_that_do_not_parse(raw):
    year, _, err = parse_year(raw, today=dt.date(2026, 1, 1))
    assert year is None and err


def test_future_year_allowed_only_where_the_field_says_so():
    assert parse_year(2029, today=dt.date(2026, 1, 1), future_ok=True)[0] == 2029
    assert "future" in parse_year(2029, today=dt.date(2026, 1, 1))[2]


def test_numbers_booleans_and_shares():
    assert parse_number("1,200户") == (1200.0, None)
    assert parse_number("约300") == (300.0, None)
    assert parse_number("1.5万") == (15000.0, None)
    assert parse_number("许多")[1]
    assert parse_bool("是") == (True, None) and parse_bool("无") == (False, None)
    assert parse_bool("也许")[1]
    assert parse_share("85%") == (0.85, None)
    assert parse_share(0.85) == (0.85, None) and parse_share(85) == (0.85, None)
    assert parse_share("150%")[1]


def test_conform_types_columns_and_keeps_the_index():
    df = pd.DataFrame(
        {
            "小区名称": ["甲", "乙"],
            "建成年份": ["1990年代", "1988"],
            "户数": ["1,200户", "300"],
            "加装电梯": ["是", "否"],
            "备注": ["a", "b"],
        },
        index=[10, 11],
    )
    out, problems = conform(df, "compounds")
    assert problems == []
    assert list(out.index) == [10, 11]
    assert out["build_year"].tolist() == [1990, 1988]
    assert out["build_year_approx"].tolist() == [True, False]
    assert out["households"].tolist() == [1200, 300]
    assert out["elevator"].tolist() == [True, False]
    assert out["id"].tolist() == ["C00001", "C00002"]
    assert out["备注"].tolist() == ["a", "b"]
    assert "小区名称" in df  # the argument is not mutated


def test_conform_reports_every_bad_cell_with_its_row_and_column():
    df = pd.DataFrame(
        {
            "编号": ["A", "B", "A"],
            "户数": ["300", "很多", "-5"],
            "建成年份": ["2099", "1980", "不详"],
        }
    )
    _, problems = conform(df, "compounds", source="survey.csv")
    found = {(p.row, p.column) for p in problems}
    assert found == {
        (3, "户数"),
        (4, "户数"),
        (2, "建成年份"),
        (4, "建成年份"),
        (2, "编号"),
        (4, "编号"),
    }
    assert all(p.file == "survey.csv" and p.severity == "error" and p.hint for p in problems)


def test_parcel_kinds_in_chinese():
    df = pd.DataFrame({"地块类型": ["棚户区", "城中村", "旧厂(矿)区", "危房", "低效用地", "公园"]})
    out, problems = conform(df, "parcels")
    assert out["kind"].tolist()[:5] == [
        "shantytown",
        "urban_village",
        "old_factory",
        "dilapidated",
        "low_efficiency",
    ]
    assert len(problems) == 1 and problems[0].row == 7 and "公园" in problems[0].message
