"""Text from data stays text: escaped in the HTML maps, never a formula in CSV/XLSX,
and no XML entity expansion in the readers."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from conftest import metric, open_offline
from openpyxl import load_workbook
from shapely.geometry import LineString
from shapely.geometry import box as rect

from spatial._errors import InputError
from spatial.bundling import bundle_units, find_bundles
from spatial.io.load import load_layer
from spatial.io.outputs.results import (
    load_bundle_tables,
    load_gap_tables,
    write_bundle_outputs,
    write_gap_outputs,
)
from spatial.io.outputs.write import neutralise_formulas, read_own_csv, write_csv, write_xlsx
from spatial.lifecircle import compute_gaps
from spatial.network import walk_network_from_lines
from spatial.render import bundle_map, gap_map, save_map
from spatial.standards import load_categories

UTM = "EPSG:32650"
IMG = '<img src=x onerror="window.__xss_img=1">'
SCRIPT = "</script><script>window.__xss_script=1</script>"
FORMULA = '=HYPERLINK("http://evil.example","点我")'


#: Open every feature's popup of a layer (the map runtime's own builder); their texts.
_POPUPS = """(id) => { const l = SpatialMap.layers[id].build(), out = [];
  for (let i = 0; i < l.nRows; i++) { SpatialMap.show(id, i);
    out.push(SpatialMap.popup.getElement().innerText); }
  return out; }"""


def _bad_names_run(tmp_path):
    """A street, two compounds and a kindergarten, every name hostile."""
    net = walk_network_from_lines(
        gpd.GeoDataFrame(geometry=[LineString([(440000, 4428000), (441000, 4428000)])], crs=UTM)
    )
    x0, y0 = metric(100, 10).x, metric(100, 10).y
    comp = gpd.GeoDataFrame(
        {
            "id": ["C1", FORMULA],
            "name": [IMG, SCRIPT],
            "households": [120, 80],
            "subdistrict": [SCRIPT, "<b>街道</b>"],
        },
        geometry=[rect(x0, y0, x0 + 80, y0 + 80), rect(x0 + 300, y0, x0 + 380, y0 + 80)],
        crs=UTM,
    )
    pois = gpd.GeoDataFrame(
        {"name": [IMG + "幼儿园"], "category": ["kindergarten"]},
        geometry=[metric(500, 0)],
        crs=UTM,
    )
    cats = tuple(c for c in load_categories() if c.id in ("kindergarten", "bus_stop"))
    result = compute_gaps(comp, pois, net, categories=cats, service_areas=True)
    write_gap_outputs(result, tmp_path / "gaps")
    return comp, result


def test_gap_map_shows_hostile_names_as_text_and_runs_nothing(browser, tmp_path):
    _bad_names_run(tmp_path)
    tables = load_gap_tables(tmp_path / "gaps")
    path = save_map(gap_map(tables, osm_data=False), tmp_path / "gap_map.html")
    page, errors = open_offline(browser, path)
    assert errors == []
    page.wait_for_function("() => window.SPATIAL_READY === true")
    texts = page.evaluate(_POPUPS, "compounds")
    joined = "\n".join(texts)
    assert IMG in joined and SCRIPT in joined  # the names shown as they are written
    assert "<b>街道</b>" in joined
    assert "最近 nearest" in joined  # bus stop has no data: said apart, not as a gap
    assert "无数据 no data" in joined
    page.locator(".sp-search input").click()  # the search list shows names as text too
    page.keyboard.type("<img")
    page.wait_for_timeout(400)
    assert IMG in page.locator(".sp-search li").first.inner_text()
    assert page.locator(".sp-search img").count() == 0
    page.wait_for_timeout(300)
    assert page.evaluate("() => [window.__xss_img, window.__xss_script]") == [None, None]
    assert page.locator(".leaflet-popup-content img").count() == 0


def test_bundle_map_shows_hostile_names_as_text(browser, tmp_path):
    comp, result = _bad_names_run(tmp_path)
    units = bundle_units(comp.assign(missing=result.compounds["missing"]), None)
    bundles = find_bundles(units)
    write_bundle_outputs(bundles, tmp_path / "bundles")
    tables = load_bundle_tables(tmp_path / "bundles")
    path = save_map(bundle_map(tables, osm_data=False), tmp_path / "bundle_map.html")
    page, errors = open_offline(browser, path)
    assert errors == []
    page.wait_for_function("() => window.SPATIAL_READY === true")
    tips = " | ".join(page.evaluate(_POPUPS, "members"))
    assert page.locator(".leaflet-popup-content img, .leaflet-popup-content script").count() == 0
    assert IMG in tips and "<b>" not in tips.replace(IMG, "")
    assert " 1" not in tips  # no img or script element made from a name
    assert page.evaluate("() => [window.__xss_img, window.__xss_script]") == [None, None]


def test_csv_and_xlsx_cells_are_never_formulas(tmp_path):
    frame = pd.DataFrame(
        {
            "name": [FORMULA, "+1+2", "-3+4", "@SUM(A1)", "\tx", "\rx", "正常", None],
            "value": [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        }
    )
    safe = neutralise_formulas(frame)
    assert safe["name"].tolist()[:6] == ["'" + v for v in frame["name"][:6]]
    assert safe["name"][6] == "正常" and safe["value"][0] == -5.0  # numbers untouched
    assert frame["name"][0] == FORMULA  # the argument is not changed
    back = pd.read_csv(write_csv(frame, tmp_path / "t.csv"), encoding="utf-8-sig")
    assert back["name"][0] == "'" + FORMULA and back["value"][0] == -5.0
    book = load_workbook(write_xlsx({"表": frame}, tmp_path / "t.xlsx"))
    cell = book["表"]["A2"]
    assert cell.data_type == "s" and cell.value == FORMULA  # text, shown as written
    # a control character in a name (found by the fuzzer) is dropped, not a crash
    odd = pd.DataFrame({"name": ["甲\x08小区"]})
    assert load_workbook(write_xlsx({"s": odd}, tmp_path / "o.xlsx"))["s"]["A2"].value == "甲小区"


def test_gap_outputs_neutralise_names_from_data(tmp_path):
    _bad_names_run(tmp_path)
    gaps = pd.read_csv(tmp_path / "gaps" / "gaps.csv", encoding="utf-8-sig", dtype=str)
    assert "'" + FORMULA in set(gaps["compound_id"])
    assert not gaps.map(lambda v: isinstance(v, str) and v.startswith("=")).any().any()


def test_billion_laughs_is_refused_quickly(tmp_path):
    body = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    path = tmp_path / "lol.osm"
    path.write_text(
        f'<?xml version="1.0"?><!DOCTYPE osm [<!ENTITY lol0 "lol">{body}]>'
        '<osm version="0.6"><node id="1" lat="39.9" lon="116.3">'
        '<tag k="amenity" v="kindergarten"/><tag k="name" v="&lol9;"/></node></osm>',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        load_layer(path, "pois")
    assert "entities" in str(err.value)


def test_template_syntax_in_data_stays_text(tmp_path):
    """Names and titles never pass through Jinja: ``{{ 7*7 }}`` is not computed."""
    from dataclasses import replace

    _bad_names_run(tmp_path)
    tables = load_gap_tables(tmp_path / "gaps")
    tables = replace(
        tables, compounds=tables.compounds.assign(name="{{ 7*7 }}{% if 1 %}x{% endif %}")
    )
    html = gap_map(tables, osm_data=False, title="{{ 6*7 }}街道").html()
    assert "{{ 7*7 }}{% if 1 %}x{% endif %}" in html and "{{ 6*7 }}街道" in html
    assert "42街道" not in html


def test_csv_guard_reads_back_exactly(tmp_path):
    """A formula-like name is written with ' before it and read back as it was."""
    frame = pd.DataFrame({"name": ["=1+1", "'=q", "-3 号院", "plain", None], "n": [1, 2, 3, 4, 5]})
    path = write_csv(frame, tmp_path / "t.csv")
    raw = path.read_text(encoding="utf-8-sig")
    assert "'=1+1" in raw and "''=q" in raw and "'-3 号院" in raw
    back = read_own_csv(path)
    assert back["name"].tolist()[:4] == ["=1+1", "'=q", "-3 号院", "plain"]
    assert pd.isna(back["name"].iloc[4])
