"""Fuzzing the file kinds planners hand over (#33): the XML inside an xlsx (repeated,
empty, offset and merged headers, odd cell types), OSM PBF, shapefiles with GBK names
and GeoPackages, mutated; only InputError may escape a loader.

Derandomized like tests/test_fuzz.py: the same cases every run.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from conftest import SHARED
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz import CASES, EDITS, SURVEY, _load, _mutate_bytes, _tmp

HEADERS = st.sampled_from(
    [
        "小区名称",
        "户数",
        "户数",
        "备注",
        "备注",
        "",
        "经度",
        "纬度",
        "建成年代",
        "小计",
        "  ",
        "=1+1",
    ]
)


def _cell(ref: str, value: object, kind: str) -> str:
    if kind == "inline":
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
    if kind == "bool":
        return f'<c r="{ref}" t="b"><v>{1 if value else 0}</v></c>'
    if kind == "error":
        return f'<c r="{ref}" t="e"><v>#N/A</v></c>'
    if kind == "date":
        return f'<c r="{ref}" s="1"><v>{value}</v></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def _sheet_xml(headers: list[str], offset: int, merges: list[tuple[int, int]], kinds) -> str:
    letters = "ABCDEFGHIJ"
    rows = (
        ['<row r="1"><c r="A1" t="inlineStr"><is><t>某区台账</t></is></c></row>'] if offset else []
    )
    top = offset + 1
    cells = "".join(_cell(f"{letters[i]}{top}", h, "inline") for i, h in enumerate(headers) if h)
    rows.append(f'<row r="{top}">{cells}</row>')
    values = {"小区名称": "甲", "户数": 300, "经度": 116.35, "纬度": 40.0, "建成年代": 1990}
    for k in range(3):
        r = top + 1 + k * (1 + offset)  # empty rows between records when offset
        row = "".join(
            _cell(f"{letters[i]}{r}", values.get(h, 1 + k + 0.5), kinds[(i + k) % len(kinds)])
            for i, h in enumerate(headers)
        )
        rows.append(f'<row r="{r}">{row}</row>')
    merged = "".join(
        f'<mergeCell ref="{letters[a % 10]}{top}:{letters[min(a % 10 + n, 9)]}{top}"/>'
        for a, n in merges
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<dimension ref="A1:XFD1048576"/>'
        f"<sheetData>{''.join(rows)}</sheetData>"
        + (f'<mergeCells count="{len(merges)}">{merged}</mergeCells>' if merges else "")
        + "</worksheet>"
    )


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("xlsx") / "base.xlsx"
    SURVEY.to_excel(path, index=False)
    return path


def _replace_sheet(base: Path, target: Path, xml: bytes) -> None:
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(target, "w") as out:
        for info in src.infolist():
            data = xml if info.filename == "xl/worksheets/sheet1.xml" else src.read(info)
            out.writestr(info, data)


@settings(parent=CASES, max_examples=150)
@given(
    headers=st.lists(HEADERS, min_size=1, max_size=8),
    offset=st.integers(0, 3),
    merges=st.lists(st.tuples(st.integers(0, 9), st.integers(1, 3)), max_size=2),
    kinds=st.lists(
        st.sampled_from(["number", "inline", "bool", "error", "date"]), min_size=1, max_size=4
    ),
    edits=st.one_of(st.none(), EDITS),
)
def test_xlsx_sheet_xml(workbook, headers, offset, merges, kinds, edits):
    xml = _sheet_xml(headers, offset, merges, kinds).encode()
    with _tmp(".xlsx") as path:
        _replace_sheet(workbook, path, _mutate_bytes(xml, edits) if edits else xml)
        _load(path)
        _load(path, "pois")


def test_the_xml_fuzz_reads_repeated_headers(workbook, tmp_path):
    """The generator makes sheets the loader reads: repeated headers, an offset and merges."""
    from spatial.io.load import check_file

    xml = _sheet_xml(["小区名称", "户数", "户数", "", "经度", "纬度"], 2, [(1, 1)], ["number"])
    path = tmp_path / "x.xlsx"
    _replace_sheet(workbook, path, xml.encode())
    loaded = check_file(path, "compounds")
    assert loaded.frame is not None and len(loaded.frame) == 3, loaded.problems
    assert any("repeated in columns B and C" in p.message for p in loaded.problems)


@pytest.fixture(scope="module")
def pbf(tmp_path_factory) -> bytes:
    import osmium

    folder = tmp_path_factory.mktemp("pbf")
    src = SHARED / "data" / "osm"
    path = folder / "cau.osm.pbf"
    with osmium.SimpleWriter(str(path)) as writer:
        for obj in osmium.FileProcessor(str(src / "beijing_bupt_haidian.osm")):
            writer.add(obj)
    return path.read_bytes()


@pytest.mark.shared_data
@settings(parent=CASES, max_examples=60)
@given(edits=EDITS)
def test_pbf(pbf, edits):
    with _tmp(".osm.pbf") as path:
        path.write_bytes(_mutate_bytes(pbf, edits))
        _load(path)


def _shapefile(folder: Path, names: list[str]) -> Path:
    ring = shapely.box(116.35, 40.0, 116.352, 40.002)
    frame = gpd.GeoDataFrame(
        {"XQMC": names, "HS": [300, 240, 80][: len(names)]},
        geometry=[shapely.affinity.translate(ring, 0.003 * i) for i in range(len(names))],
        crs=4326,
    )
    path = folder / "小区.shp"
    frame.to_file(path, engine="pyogrio", encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)  # as old CAD/GIS exports come
    return path


@settings(parent=CASES, max_examples=80)
@given(
    names=st.lists(
        st.sampled_from(["甲小区", "乙 小区", "", "北京市海淀区某某街道某某社区小区"]),
        min_size=1,
        max_size=3,
    ),
    part=st.sampled_from([".dbf", ".shp", ".shx", ".prj"]),
    edits=EDITS,
)
def test_shapefile_with_gbk_names(names, part, edits):
    with _tmp(".shp") as path:
        shp = _shapefile(path.parent, names)
        target = shp.with_suffix(part)
        target.write_bytes(_mutate_bytes(target.read_bytes(), edits))
        _load(shp)


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("gpkg") / "c.gpkg"
    frame = gpd.GeoDataFrame(
        {"小区名称": ["甲", "乙"], "户数": [300, 240]},
        geometry=[
            shapely.box(116.35, 40.0, 116.352, 40.002),
            shapely.box(116.36, 40, 116.362, 40.002),
        ],
        crs=4326,
    )
    frame.to_file(path, layer="compounds", engine="pyogrio")
    return path.read_bytes()


@settings(parent=CASES, max_examples=100)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 200_000), st.integers(0, 8), st.binary(max_size=6)),
        min_size=1,
        max_size=4,
    )
)
def test_geopackage(gpkg, edits):
    with _tmp(".gpkg") as path:
        path.write_bytes(_mutate_bytes(gpkg, edits))
        _load(path)


def test_the_gpkg_fuzz_reaches_the_tables(gpkg):
    """Edits land all over the file, not only in its 100-byte SQLite header."""
    assert len(gpkg) > 50_000 and re.search(rb"compounds", gpkg)
