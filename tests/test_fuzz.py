"""Fuzzing the loaders: mutated CSV, Excel, GeoJSON and OSM XML; only InputError may escape.

Each kind gets a few hundred cases (``derandomize=True``: the same cases every run, so a
failure is reproducible). Two mutation families per kind: structured (cells, tags and
coordinates replaced by hostile values) and raw bytes (flipped, cut, inserted).
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from spatial import InputError
from spatial._errors import InputWarning
from spatial.io import load_layer
from spatial.network import load_network

CASES = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HOSTILE = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "1e309",
            "=cmd|' /C calc'!A0",
            "九十年代",
            "1990年代",
            "不详",
            "19900",
            "-1",
            "0",
            "<img src=x onerror=alert(1)>",
            "116.3,39.9",
            "POLYGON((0 0,1 0,1 1,0 0))",
            "POINT EMPTY",
            "\x00",
            "١٢٣",
            "１２３",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
)

SURVEY = pd.DataFrame(
    {
        "小区编号": ["XQ1", "XQ2", "XQ3"],
        "小区名称": ["甲小区", "乙小区", "丙小区"],
        "建成年代": ["1990年代", "1985", "2001年"],
        "户数": [300, 240, 80],
        "经度": [116.35, 116.36, 116.37],
        "纬度": [40.0, 40.001, 40.002],
    }
)


@contextlib.contextmanager
def _tmp(suffix: str) -> Iterator[Path]:
    """A fresh input path for one example, removed with its folder afterwards."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        yield Path(folder) / f"input{suffix}"


def _load(path: Path, kind: str = "compounds") -> None:
    try:
        with warnings.catch_warnings():  # repaired geometries etc. are reported, not raised
            warnings.simplefilter("ignore", InputWarning)
            frame = load_layer(path, kind)
    except InputError as exc:
        assert exc.problems, "an InputError must carry its problems"
        assert all(p.message for p in exc.problems)
        return
    assert frame.crs is not None and frame.crs.is_projected


def _mutate_bytes(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for pos, cut, insert in edits:
        at = pos % (len(out) + 1)
        out[at : at + cut] = insert
    return bytes(out)


EDITS = st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(0, 8), st.binary(max_size=6)),
    min_size=1,
    max_size=4,
)
CELLS = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(list(SURVEY.columns)), HOSTILE),
    min_size=1,
    max_size=6,
)


def _with_cells(cells, *, excel: bool = False) -> pd.DataFrame:
    frame = SURVEY.astype(object).copy()
    for row, col, value in cells:
        if excel and isinstance(value, str):  # a worksheet cannot hold control characters
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        frame.at[row, col] = value
    return frame


@CASES
@given(cells=CELLS, edits=st.one_of(st.none(), EDITS), encoding=st.sampled_from(["utf-8", "gbk"]))
def test_csv(cells, edits, encoding):
    with _tmp(".csv") as path:
        text = _with_cells(cells).to_csv(index=False)
        data = text.encode(encoding, errors="replace")
        path.write_bytes(_mutate_bytes(data, edits) if edits else data)
        _load(path)
        _load(path, "pois")


@CASES
@given(cells=CELLS, header=st.one_of(st.none(), HOSTILE), sheet_junk=st.booleans())
def test_excel(cells, header, sheet_junk):
    with _tmp(".xlsx") as path:
        frame = _with_cells(cells, excel=True)
        if header is not None:
            frame = frame.rename(columns={"户数": ILLEGAL_CHARACTERS_RE.sub("", str(header))})
        with pd.ExcelWriter(path, engine="openpyxl") as xl:
            if sheet_junk:  # a title row above the header, as survey sheets often have
                pd.DataFrame([["某区老旧小区台账"]]).to_excel(xl, index=False, header=False)
                frame.to_excel(xl, index=False, startrow=2)
            else:
                frame.to_excel(xl, index=False)
        _load(path)


@settings(parent=CASES, max_examples=50)
@given(edits=EDITS)
def test_excel_bytes(edits):
    with _tmp(".xlsx") as path:
        SURVEY.to_excel(path, index=False)
        path.write_bytes(_mutate_bytes(path.read_bytes(), edits))
        _load(path)


def _geojson(values, coords) -> dict:
    ring = [[116.35, 40.0], [116.352, 40.0], [116.352, 40.002], [116.35, 40.0]]
    if coords is not None:
        ring = [[coords[0], coords[1]], *ring[1:-1], [coords[0], coords[1]]]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"小区名称": "甲", "户数": values[0], "建成年代": values[1]},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            },
            {
                "type": "Feature",
                "properties": {"小区名称": values[2], "户数": 10},
                "geometry": values[3],
            },
        ],
    }


GEOMS = st.one_of(
    st.none(),
    st.just({"type": "Point", "coordinates": [116.35, 40.0]}),
    st.just({"type": "Polygon", "coordinates": []}),
    st.just({"type": "LineString", "coordinates": [[0, 0]]}),
    st.just({"type": "Nonsense", "coordinates": 3}),
    st.just({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),
)
COORDS = st.one_of(
    st.none(),
    st.tuples(
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(allow_nan=True, allow_infinity=True),
    ),
)


@CASES
@given(
    values=st.tuples(HOSTILE, HOSTILE, HOSTILE, GEOMS),
    coords=COORDS,
    edits=st.one_of(st.none(), EDITS),
)
def test_geojson(values, coords, edits):
    with _tmp(".geojson") as path:
        data = json.dumps(_geojson(values, coords), ensure_ascii=False, default=str).encode()
        path.write_bytes(_mutate_bytes(data, edits) if edits else data)
        _load(path)


def _osm_xml(tags: list[tuple[str, str]], lonlat, ref: int) -> str:
    from xml.sax.saxutils import quoteattr

    lon, lat = lonlat
    nodes = [(1, 116.35, 40.0), (2, 116.352, 40.0), (3, 116.352, 40.002), (4, lon, lat)]
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="fuzz">']
    for nid, x, y in nodes:
        out.append(f'<node id="{nid}" lat={quoteattr(str(y))} lon={quoteattr(str(x))}>')
        if nid == 4:
            out += [f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags]
        out.append("</node>")
    out.append('<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>')
    out.append('<tag k="landuse" v="residential"/><tag k="name" v="甲小区"/></way>')
    out.append(f'<way id="11"><nd ref="1"/><nd ref="{ref}"/><nd ref="4"/>')
    out += [f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in [("highway", "footway"), *tags]]
    out.append("</way></osm>")
    return "\n".join(out)


XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=10
)  # what XML can carry
TAGS = st.lists(
    st.tuples(
        st.sampled_from(
            ["amenity", "highway", "name", "building:levels", "entrance", "landuse", "foot"]
        ),
        st.one_of(XML_TEXT, st.sampled_from(["kindergarten", "gate", "no", "-3", "1e9", "nan"])),
    ),
    max_size=4,
)
LONLAT = st.one_of(
    st.tuples(st.floats(-200, 200), st.floats(-100, 100)),
    st.just((116.351, 40.001)),
    st.tuples(st.sampled_from([float("nan"), float("inf")]), st.just(40.0)),
)


@CASES
@given(
    tags=TAGS,
    lonlat=LONLAT,
    ref=st.sampled_from([2, 3, 99]),
    edits=st.one_of(st.none(), EDITS),
)
def test_osm_xml(tags, lonlat, ref, edits):
    with _tmp(".osm") as path:
        data = _osm_xml(tags, lonlat, ref).encode()
        path.write_bytes(_mutate_bytes(data, edits) if edits else data)
        _load(path)
        _load(path, "pois")
        try:
            load_network(osm=path)
        except InputError as exc:
            assert exc.problems


def test_the_check_lets_any_other_error_through(monkeypatch, tmp_path):
    """Only InputError is tolerated: any other exception from a loader fails the fuzz tests."""

    def broken(*args, **kwargs):
        raise KeyError("geometry")

    monkeypatch.setattr(sys.modules[__name__], "load_layer", broken)
    with pytest.raises(KeyError):
        _load(tmp_path / "x.csv")
