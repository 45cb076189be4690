"""Maps officials open: offline HTML checked in headless Chromium, static PNGs with Chinese."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from conftest import open_offline
from matplotlib.ft2font import FT2Font
from PIL import Image

from spatial.io.results import load_bundle_tables, load_gap_tables
from spatial.pipeline import run_demo
from spatial.render import bundle_map, gap_map, save_map
from spatial.render.static import cjk_font_path
from spatial.standards import load_categories

_FIND_COMPOUND = """() => {
  const m = window[Object.keys(window).find(k => k.startsWith('map_'))];
  let hit = null;
  m.eachLayer(l => { if (!hit && l.feature && l.feature.properties.n_missing !== undefined)
                       hit = l; });
  hit.openPopup();
  return hit.feature.properties.name;
}"""


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, demo_city):
    root = tmp_path_factory.mktemp("maps")
    data = demo_city.gpkg.parent
    return run_demo(data_dir=data, out_dir=root / "results", maps_dir=root / "maps")


def test_gap_map_opens_offline_with_layers_and_chinese_popup(browser, demo_run, tmp_path):
    path = demo_run.outputs["gap_map"]
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", html)  # nothing fetched
    page, errors = open_offline(browser, path)
    assert errors == []
    assert page.evaluate("() => typeof L !== 'undefined' && L.version") == "1.9.4"
    labels = page.locator(".leaflet-control-layers-overlays label").all_text_contents()
    cats = load_categories()
    assert len(labels) == len(cats) + 3  # + compounds, eligibility and facility sites
    assert all(any(c.zh in label for label in labels) for c in cats)
    for name in ("小区 Compounds", "改造对象认定 Eligibility", "设施选址 Facility sites"):
        assert any(name in label for label in labels)
    name = page.evaluate(_FIND_COMPOUND)
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert name in popup and re.search(r"[\u4e00-\u9fff]{2,}", name)
    assert "缺少 Missing" in popup and "建成年份 Built" in popup
    assert page.locator(".leaflet-control-scale").count() == 1
    assert "缺口" in page.locator(".spatial-legend").inner_text()
    shot = tmp_path / "gap_map.png"
    page.screenshot(path=str(shot))
    with Image.open(shot) as im:
        img = np.asarray(im.convert("RGB"))
    assert img.shape[:2] == (900, 1280) and img.std() > 20  # a drawn map, not a blank page


def test_bundle_map_opens_offline(browser, demo_run):
    page, errors = open_offline(browser, demo_run.outputs["bundle_map"])
    assert errors == []
    labels = " ".join(page.locator(".leaflet-control-layers-overlays label").all_text_contents())
    for name in ("片区 Bundles", "组成地块 Members by kind", "跨片区组合 Cross-area pairs"):
        assert name in labels
    n_lines = page.evaluate("""() => { const m = window[Object.keys(window).find(
        k => k.startsWith('map_'))]; let n = 0; m.eachLayer(l => { if (l instanceof L.Polyline
        && !(l instanceof L.Polygon)) n++; }); return n; }""")
    assert n_lines == len(demo_run.bundles.pairs)
    bundle_id = page.evaluate("""() => {
        const m = window[Object.keys(window).find(k => k.startsWith('map_'))];
        let hit = null;
        m.eachLayer(l => { if (!hit && l.feature && l.feature.properties.status_label) hit = l; });
        hit.fire('click', {latlng: hit.getBounds().getCenter()}, true);
        return hit.feature.properties.bundle_id; }""")
    page.wait_for_timeout(300)
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "平衡 Balance" in popup and "万元" in popup
    # the money as the finance stage measured it: NPV, bond coverage, financing, lines
    row = demo_run.bundles.bundles.set_index("bundle_id").loc[bundle_id]
    assert f"{row['npv_yuan'] / 1e4:,.0f} 万元" in popup and "净现值 NPV" in popup
    assert f"{row['bond_coverage']:.2f}" in popup and "本息覆盖倍数" in popup
    assert "财政 city budget" in popup or row["city_budget_yuan"] == 0
    assert "补助 subsidy" in popup and "资金来源 Funding lines" in popup
    page.evaluate("""() => {
        const m = window[Object.keys(window).find(k => k.startsWith('map_'))];
        let hit = null;
        m.eachLayer(l => { if (!hit && l.feature && l.feature.properties.kind_label
                                && l.feature.properties.kind_label.includes('old compound'))
                             hit = l; });
        m.closePopup();
        hit.fire('click', {latlng: hit.getBounds().getCenter()}, true); }""")
    page.wait_for_timeout(300)
    member = page.locator(".leaflet-popup-content").inner_text()
    assert "居民 residents" in member and "专营单位 utilities" in member


def test_amap_basemap_shifts_data_to_gcj02(demo_run):
    from spatial.io.chinese_crs import wgs84_to_gcj02

    tables = load_gap_tables(demo_run.outputs["gaps"].parent)
    plain = gap_map(tables).get_root().render()
    amap = gap_map(tables, basemap="amap").get_root().render()
    first = re.compile(r'"coordinates": \[\[\[([\d.]+), ([\d.]+)\]')
    x0, y0 = map(float, first.search(plain).groups())
    x1, y1 = map(float, first.search(amap).groups())
    gx, gy = wgs84_to_gcj02(x0, y0)
    assert (x1, y1) == pytest.approx((float(gx), float(gy)), abs=2e-6)
    assert "autonavi" in amap and "autonavi" not in plain
    with pytest.raises(ValueError, match="key"):
        gap_map(tables, basemap="tianditu")


def test_static_maps_have_chinese_glyphs(demo_run):
    font = FT2Font(str(cjk_font_path()))
    for key in ("gap_png", "bundle_png"):
        path = demo_run.outputs[key]
        with Image.open(path) as img:
            assert img.size[0] > 800 and img.size[1] > 800 and path.stat().st_size > 50_000
    labels = (
        "15分钟生活圈设施缺口片区统筹平衡无缺口缺类以上自平衡资金缺口老旧小区棚户区城中村旧厂区北"
    )
    assert all(font.get_char_index(ord(ch)) != 0 for ch in labels)  # no missing-glyph boxes


def test_map_command_writes_html_and_png(demo_run, tmp_path):
    from typer.testing import CliRunner

    from spatial.cli import app

    out = tmp_path / "城区.html"
    res = CliRunner().invoke(
        app,
        [
            "map",
            "--gaps",
            str(demo_run.outputs["gaps"].parent),
            "--bundles",
            str(demo_run.outputs["bundles"].parent),
            "--out",
            str(out),
            "--png",
        ],
    )
    assert res.exit_code == 0, res.output
    for name in ("城区.html", "城区.png", "城区_bundles.html", "城区_bundles.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_bundle_tables(demo_run.outputs["bundles"].parent).bundles.crs.to_epsg() == 4326
    assert save_map(
        bundle_map(load_bundle_tables(demo_run.outputs["bundles"].parent)), tmp_path / "b.html"
    ).exists()


def test_dilated_cells_equal_the_row_unique_of_every_neighbour():
    from spatial.render.gapmap import _dilated_cells

    rng = np.random.default_rng(3)
    steps = np.array([(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)])
    for ij in (rng.integers(-40, 40, (500, 2)), np.array([[5, -7]]), rng.integers(0, 3, (9, 2))):
        expected = np.unique((np.unique(ij, axis=0)[:, None] + steps[None]).reshape(-1, 2), axis=0)
        assert np.array_equal(_dilated_cells(ij), expected)
    assert _dilated_cells(np.zeros((0, 2), dtype=np.int64)).shape == (0, 2)
