"""Real spreadsheets and junk files (#33): repeated and empty headers, stray far cells,
sparse and binary files, crafted workbooks, impossible geometries."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from spatial.cli import app
from spatial.io.checks import MAX_VERTICES
from spatial.io.load import check_file
from spatial.io.survey.tables import read_table

runner = CliRunner(env={"COLUMNS": "400"})  # the problem table unwrapped


def _book(path: Path, rows: list[list[object]], *, title: str = "台账") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _messages(loaded) -> str:
    return "\n".join(f"{p.severity} {p.row} {p.message}" for p in loaded.problems)


SURVEY = [
    ["小区名称", "户数", "户数", "备注", "备注", None, "经度", "纬度"],
    ["甲小区", 120, 999, "a", "b", "x", 116.35, 39.96],
    ["乙小区", 80, 999, "c", "d", None, 116.351, 39.961],
]


def test_repeated_and_empty_headers_load_and_are_reported(tmp_path):
    path = _book(tmp_path / "dup.xlsx", SURVEY)
    loaded = check_file(path, "compounds")
    assert loaded.frame is not None and loaded.ok
    # the first 户数 column (B) is the one read, not the repeated one (C)
    assert loaded.frame["households"].tolist() == [120, 80]
    text = _messages(loaded)
    assert "sheet '台账'" in text
    assert "header '户数' is repeated in columns B and C" in text
    assert "header '备注' is repeated in columns D and E" in text
    assert "column(s) F have values but no header" in text


def test_repeated_headers_in_csv_are_reported_the_same_way(tmp_path):
    path = tmp_path / "dup.csv"
    frame = pd.DataFrame(SURVEY[1:])
    frame.columns = ["小区名称", "户数", "户数", "备注", "备注", "", "经度", "纬度"]
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    loaded = check_file(path, "compounds")
    assert loaded.frame is not None and loaded.ok
    assert loaded.frame["households"].tolist() == [120, 80]
    text = _messages(loaded)
    assert "header '户数' is repeated in columns 2 and 3" in text
    assert "column(s) 6 have values but no header" in text


def test_a_frame_with_repeated_columns_is_prepared_with_a_warning():
    import geopandas as gpd
    import shapely

    import spatial
    from spatial import InputWarning

    frame = gpd.GeoDataFrame(
        {"a": ["甲", "乙"], "b": [120, 80], "c": [1, 2]},
        geometry=[shapely.Point(116.35, 39.96), shapely.Point(116.351, 39.961)],
        crs=4326,
    )
    frame.columns = ["小区名称", "户数", "户数", "geometry"]
    with pytest.warns(InputWarning, match="'户数' is repeated in columns 2 and 3"):
        out = spatial.prepare(frame, "compounds")
    assert out["households"].tolist() == [120, 80]


def test_title_rows_merged_headers_and_several_sheets(tmp_path):
    path = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "说明"
    notes.append(["本表为某区老旧小区台账"])
    ws = wb.create_sheet("数据")
    ws.append(["某区老旧小区改造台账（2026年）"])
    ws.merge_cells("A1:E1")
    ws.append([])
    ws.append(["小区名称", "户数", "位置", None, "建成年代"])
    ws.merge_cells("C3:D3")  # a merged header over two columns
    ws.append([None, None, "经度", "纬度", None])
    ws.append(["甲小区", 120, 116.35, 39.96, 1990])
    ws.append([])
    ws.append(["乙小区", 80, 116.351, 39.961, 1985])
    wb.save(path)
    table = read_table(path)
    assert table.attrs["sheet"] == "数据"
    loaded = check_file(path, "compounds")
    assert loaded.frame is not None and loaded.ok, _messages(loaded)
    assert loaded.frame["name"].tolist() == ["甲小区", "乙小区"]
    assert loaded.frame["build_year"].tolist() == [1990, 1985]


def test_rows_are_named_by_their_real_number_after_empty_rows(tmp_path):
    rows: list[list[object]] = [["小区名称", "户数", "经度", "纬度"], ["甲", 1, 116.35, 39.96]]
    rows += [[]] * 5 + [["乙", "很多", 116.351, 39.961]]  # row 8
    loaded = check_file(_book(tmp_path / "gap.xlsx", rows), "compounds")
    bad = [p for p in loaded.problems if "很多" in p.message or p.column == "户数"]
    assert bad and bad[0].row == 8, _messages(loaded)


def test_the_cells_read_equal_what_pandas_reads(tmp_path):
    """An independent reader (pandas over openpyxl) gives the same values on a dense sheet."""
    path = tmp_path / "types.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["名称", "整数", "小数", "日期", "是否", "文字数字", "经度", "纬度"])
    ws.append(["甲", 3, 2.5, dt.datetime(1990, 5, 1), True, "0012", 116.35, 39.96])
    ws.append(["乙", -7, 1e-7, dt.datetime(2001, 12, 31, 8, 30), False, "十二", 116.3, 39.9])
    ws["D2"].number_format = "yyyy-mm-dd"
    wb.save(path)
    ours = read_table(path)
    theirs = pd.read_excel(path, dtype=object)
    assert list(ours.columns) == list(theirs.columns)
    for col in theirs.columns:
        assert ours[col].tolist() == theirs[col].tolist(), col


def _far_cell_book(path: Path) -> Path:
    """A few rows, one cell at XFD1048576 and a declared dimension of the whole sheet."""
    small = _book(
        path.with_name("small.xlsx"), [["小区名称", "经度", "纬度"], ["甲", 116.35, 39.96]]
    )
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("sheet1.xml"):
                text = re.sub(
                    r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', data.decode()
                )
                far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
                data = text.replace("</sheetData>", far + "</sheetData>").encode()
            out.writestr(info, data)
    return path


def test_a_stray_cell_at_the_sheets_end_costs_nothing(tmp_path):
    """pandas builds 1,048,576 × 16,384 cells here (killed at 24 GB); only used cells are read."""
    path = _far_cell_book(tmp_path / "far.xlsx")
    table = read_table(path)
    assert table.shape == (2, 4)  # two rows hold values, four columns
    assert table.attrs["rows"] == [2, 1048576]
    loaded = check_file(path, "compounds")
    assert "column(s) XFD have values but no header" in _messages(loaded)


def test_a_sparse_file_of_nul_bytes_is_refused_from_its_first_bytes(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes("小区名称,经度,纬度\n甲,116.35,39.96\n".encode())
    with open(path, "r+b") as fh:
        fh.truncate(2 * 1024**3)  # 2 GB, sparse on disk: only three samples are read
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "internal" not in result.output
    text = _messages(check_file(path, "compounds"))
    assert "not a text table" in text and "a NUL byte at byte" in text


def test_utf16_text_as_excel_writes_it_loads(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("名称\t经度\t纬度\n幼儿园\t116.3\t40\n".encode("utf-16"))
    loaded = check_file(path, "pois")
    assert loaded.frame is not None and loaded.frame["name"].tolist() == ["幼儿园"]


def test_a_workbook_that_unpacks_to_gigabytes_is_refused_unread(tmp_path):
    path = tmp_path / "bomb.xlsx"
    small = _book(tmp_path / "s.xlsx", [["小区名称", "经度", "纬度"]])
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("sheet1.xml"):
                data = data.replace(b"</worksheet>", b" " * 60_000_000 + b"</worksheet>")
            out.writestr(info, data)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "internal" not in result.output
    assert "unpacks to 60 MB" in _messages(check_file(path, "compounds"))


@pytest.mark.parametrize(
    ("geometry", "expected"),
    [
        ({"type": "Point", "coordinates": [116.35, float("nan")]}, "not numbers"),
        ({"type": "Point", "coordinates": [float("inf"), 39.9]}, "not numbers"),
        ({"type": "MultiPoint", "coordinates": []}, "empty"),
    ],
)
def test_impossible_coordinates_are_located_errors(tmp_path, geometry, expected):
    path = tmp_path / "bad.geojson"
    features = [
        {
            "type": "Feature",
            "properties": {"名称": "好"},
            "geometry": {"type": "Point", "coordinates": [116.35, 39.96]},
        },
        {"type": "Feature", "properties": {"名称": "坏"}, "geometry": geometry},
    ]
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}).replace("NaN", "NaN")
    )
    result = runner.invoke(app, ["validate", str(path), "--kind", "pois"])
    assert result.exit_code == 1, result.output
    assert "internal" not in result.output
    found = [p for p in check_file(path, "pois").problems if p.severity == "error"]
    assert [(p.row, p.column) for p in found] == [("feature 1", "geometry")], found
    assert expected in found[0].message


def test_a_polygon_of_a_million_vertices_is_refused(tmp_path):
    import geopandas as gpd
    import shapely

    angle = np.linspace(0, 2 * np.pi, MAX_VERTICES + 10)
    ring = np.column_stack([116.35 + 0.001 * np.cos(angle), 39.96 + 0.001 * np.sin(angle)])
    frame = gpd.GeoDataFrame(
        {"小区名称": ["甲", "乙"]},
        geometry=[shapely.Polygon(ring), shapely.Point(116.35, 39.96).buffer(0.001)],
        crs=4326,
    )
    path = tmp_path / "big.gpkg"
    frame.to_file(path, layer="compounds")
    loaded = check_file(path, "compounds")
    assert any("vertices" in p.message and p.severity == "error" for p in loaded.problems)


def test_the_column_writer_reads_back_as_pandas_own_writer(tmp_path):
    """write_xlsx writes cells itself (not DataFrame.to_excel): every kind of column reads
    back as pandas' own writer gives it — missing values empty, booleans, dates, ±inf."""
    from spatial.io.outputs.write import write_xlsx

    frame = pd.DataFrame(
        {
            "float": [1.5, np.nan, 3.0],
            "nullable_float": pd.array([1.5, None, 2.0], dtype="Float64"),
            "int": [1, 2, 3],
            "nullable_int": pd.array([1, None, 3], dtype="Int64"),
            "text": ["甲", None, "乙"],
            "string": pd.array(["a", None, "c"], dtype="string"),
            "bool": [True, False, True],
            "mixed": pd.Series([True, None, 2.5], dtype=object),
            "category": pd.Categorical(["x", None, "y"]),
            "date": [dt.date(2020, 1, 2), None, dt.date(2021, 3, 4)],
            "stamp": pd.to_datetime(["2020-01-01 10:00", None, "2021-01-01 00:00"]),
            "inf": [np.inf, -np.inf, 0.0],
        }
    )
    ours = write_xlsx({"s": frame}, tmp_path / "ours.xlsx")
    with pd.ExcelWriter(tmp_path / "pandas.xlsx", engine="xlsxwriter") as xl:
        frame.to_excel(xl, index=False, sheet_name="s")
    got, want = pd.read_excel(ours), pd.read_excel(tmp_path / "pandas.xlsx")
    pd.testing.assert_frame_equal(got, want)
    # unlike pandas' writer, text is text, never a formula
    cell = openpyxl.load_workbook(
        write_xlsx({"s": pd.DataFrame({"t": ["=1+1"]})}, tmp_path / "f.xlsx")
    )["s"]["A2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")
