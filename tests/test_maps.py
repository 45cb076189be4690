"""Maps officials open: offline HTML checked in headless Chromium, the map book, the atlas
PDF, static PNGs with Chinese."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED, open_offline
from matplotlib.colors import to_rgb
from matplotlib.ft2font import FT2Font
from PIL import Image

from spatial.io.context.read import read_context
from spatial.io.outputs.results import load_bundle_tables, load_gap_tables
from spatial.pipeline import run_demo
from spatial.render import bundle_map, gap_map, save_map
from spatial.render.bundlemap import (
    KIND_COLOURS,
    LINK_COLOUR,
    LINKS_ALL_FROM,
    SOURCE_COLOUR,
    STATUS_COLOURS,
)
from spatial.render.static import cjk_font_path
from spatial.standards import load_categories

_READY = "() => window.SPATIAL_READY === true"
_POPUP_TEXT = "() => SpatialMap.popup.getElement().innerText"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, demo_city):
    root = tmp_path_factory.mktemp("maps")
    data = demo_city.gpkg.parent
    return run_demo(data_dir=data, out_dir=root / "results", maps_dir=root / "maps")


def _ready(page):
    page.wait_for_function(_READY, timeout=60_000)
    return page


def _drawn_pixels(page, pane: str) -> int:
    """Pixels with any opacity on the canvas tiles of one pane."""
    return page.evaluate(
        """(pane) => { let n = 0;
        document.querySelectorAll('.leaflet-spatial-' + pane + '-pane canvas').forEach(c => {
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          for (let k = 3; k < d.length; k += 4) if (d[k] > 0) n++; });
        return n; }""",
        pane,
    )


def test_gap_map_opens_offline_with_context_grouped_layers_and_ready_flag(
    browser, demo_run, tmp_path
):
    path = demo_run.outputs["gap_map"]
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", html)  # nothing fetched
    assert "OpenStreetMap" not in html  # the demo city is synthetic: no OSM credit
    page, errors = open_offline(browser, path)
    _ready(page)
    assert errors == []
    assert page.evaluate("() => typeof L !== 'undefined' && L.version") == "1.9.4"
    # the context is drawn under the data, named 道路 / 水系 in the layer list
    labels = " ".join(page.locator(".sp-panel .sp-row").all_text_contents())
    assert "道路 Streets" in labels and "水系 Water" in labels
    assert _drawn_pixels(page, "context") > 1000
    assert _drawn_pixels(page, "data") > 1000
    # grouped by life-circle level; only categories with data are on
    groups = page.locator(".sp-group > summary").all_text_contents()
    assert {"5分钟生活圈 5-minute", "15分钟生活圈 15-minute", "底图 Context"} <= set(groups)
    cats = load_categories()
    shown = page.evaluate(
        "() => Object.keys(SpatialMap.layers)"
        ".filter(k => SpatialMap.map.hasLayer(SpatialMap.layers[k]))"
    )
    assert "compounds" in shown and "context_street" in shown
    empty = set(page.evaluate("() => SpatialMap.cfg.layers.filter(l => l.empty).map(l => l.id)"))
    assert not (empty & set(shown))
    assert all(any(c.zh in label for label in labels.split("\n")) for c in cats if c.zh in labels)
    assert "缺少设施类别" in page.locator(".spatial-legend").inner_text()
    title = page.locator(".sp-titlebox").inner_text()
    assert "15分钟生活圈" in title and re.search(r"\d{4}-\d{2}-\d{2}", title)
    assert "底图 Context: 水系 Water" in title and "道路 Streets" in title  # what the run kept
    assert page.locator(".leaflet-control-scale").count() == 1
    shot = tmp_path / "gap_map.png"
    page.screenshot(path=str(shot))
    with Image.open(shot) as im:
        img = np.asarray(im.convert("RGB"))
    assert img.shape[:2] == (900, 1280) and img.std() > 20  # a drawn map, not a blank page


def test_search_finds_a_compound_by_chinese_name_and_its_popup_fits(browser, demo_run):
    comp = demo_run.gaps.compounds
    name = str(comp["name"].iloc[5])
    page, errors = open_offline(browser, demo_run.outputs["gap_map"])
    _ready(page)
    page.locator(".sp-search input").click()
    page.keyboard.type(name)
    page.wait_for_timeout(400)
    first = page.locator(".sp-search li").first
    assert name in first.inner_text()
    first.click()
    page.wait_for_timeout(400)
    popup = page.locator(".leaflet-popup-content")
    text = popup.inner_text()
    assert name in text and "缺少 Missing" in text and "建成年份 Built" in text
    box = page.locator(".leaflet-popup-content-wrapper").bounding_box()
    assert box["width"] <= 400 and box["height"] <= 400  # max 340 × 320, + padding, scrollbar
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= 1280
    overflow = page.evaluate(
        "() => { const e = document.querySelector('.spatial-popup');"
        " return e.scrollWidth - e.clientWidth; }"
    )
    assert overflow <= 1  # long text wraps inside the box
    assert errors == []


def test_filter_hides_compounds_without_the_missing_category(browser, demo_run):
    gaps = demo_run.gaps.gaps
    cats = [c.id for c in demo_run.gaps.categories]
    page, errors = open_offline(browser, demo_run.outputs["gap_map"])
    _ready(page)
    page.locator(".sp-filter summary").click()
    options = page.locator("select[data-filter=missing] option").evaluate_all(
        "os => os.map(o => o.value)"
    )
    k = int(options[1])
    page.select_option("select[data-filter=missing]", str(k))
    page.wait_for_timeout(300)
    rows = gaps[gaps["category"] == cats[k]]
    expected = int((~rows["status"].isin(["covered", "no_data"])).sum())
    assert page.evaluate("() => window.SPATIAL_SHOWN") == expected
    assert f"{expected:,}" in page.locator(".sp-fcount").inner_text()
    # a compound that has the category nearby is not drawn or clickable any more
    covered_id = rows.loc[rows["status"] == "covered", "compound_id"].iloc[0]
    hidden = page.evaluate(
        """(id) => { const l = SpatialMap.layers.compounds; const i = l.cols.id.indexOf(id);
        return l.filterFn(i); }""",
        str(covered_id),
    )
    assert hidden is False
    page.fill("input[data-filter=year_max]", "1990")
    page.dispatch_event("input[data-filter=year_max]", "change")
    page.wait_for_timeout(300)
    comp = demo_run.gaps.compounds.set_index("id")
    missing_ids = rows.loc[~rows["status"].isin(["covered", "no_data"]), "compound_id"]
    old = comp.loc[missing_ids.astype(str), "build_year"] <= 1990
    assert page.evaluate("() => window.SPATIAL_SHOWN") == int(old.sum())
    assert errors == []


def test_bundle_map_draws_every_linked_parcel_and_explains_money(browser, demo_run):
    tables = load_bundle_tables(demo_run.outputs["bundles"].parent)
    pairs = tables.pairs
    assert len(pairs) and tables.sources is not None
    parcel_ends = set(pairs.loc[pairs["surplus_kind"] == "parcel", "surplus_id"].astype(str))
    bundle_ends = set(pairs.loc[pairs["surplus_kind"] == "bundle", "surplus_id"].astype(str))
    assert parcel_ends <= set(tables.sources["id"].astype(str))
    assert bundle_ends <= set(tables.bundles["bundle_id"].astype(str))
    page, errors = open_offline(browser, demo_run.outputs["bundle_map"])
    _ready(page)
    assert errors == []
    drawn = page.evaluate("() => SpatialMap.layers.sources.build().cols.id")
    assert parcel_ends <= set(drawn)
    assert page.evaluate("() => SpatialMap.layers.links.build().nRows") == len(pairs)
    # a deficit bundle's popup: members in Chinese, money in 万元, the assumption note
    page.evaluate(
        """() => { const l = SpatialMap.layers.bundles;
        SpatialMap.show('bundles', l.cols.status.indexOf('资金缺口 deficit')); }"""
    )
    page.wait_for_timeout(300)
    popup = page.evaluate(_POPUP_TEXT)
    assert "万元" in popup and "老旧小区 old compound ×" in popup and "资金缺口 deficit" in popup
    assert "old_compound:" not in popup and "假设" in popup and "资金来源 Funding lines" in popup
    row = tables.bundles[tables.bundles["status"] == "deficit"].iloc[0]
    assert f"{row['npv_yuan'] / 1e4:,.1f} 万元" in popup
    page.evaluate("() => SpatialMap.show('members', 0)")
    page.wait_for_timeout(300)
    assert "测算依据 Basis" in page.evaluate(_POPUP_TEXT)
    assert "假设" in page.locator(".spatial-legend").inner_text()


def test_bundle_map_hides_money_links_at_city_zoom_and_shows_a_selected_bundles(browser, demo_run):
    tables = load_bundle_tables(demo_run.outputs["bundles"].parent)
    pairs = tables.pairs
    page, errors = open_offline(browser, demo_run.outputs["bundle_map"])
    _ready(page)
    zoom = page.evaluate("() => SpatialMap.map.getZoom()")
    assert page.evaluate("() => SpatialMap.cfg.links.showFrom") == max(LINKS_ALL_FROM, zoom + 2)
    assert page.evaluate("() => window.SPATIAL_LINKS") == 0  # no web over the city
    assert "点击片区" in page.locator(".sp-links").inner_text()
    # the deficit bundle with most links: its links only, each with its amount
    target = pairs["deficit_bundle"].value_counts().index[0]
    mine = pairs[(pairs["deficit_bundle"] == target) | (pairs["surplus_id"] == target)]
    page.evaluate(
        f"""() => {{ const l = SpatialMap.layers.bundles;
        SpatialMap.show('bundles', l.cols.bundle_id.indexOf({target!r})); }}"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.SPATIAL_LINKS") == len(mine) > 1
    labels = page.evaluate(
        """() => { const l = SpatialMap.layers.links, out = [];
        for (let i = 0; i < l.nRows; i++) if (l.filterFn(i)) out.push(l.cols.amount_label[i]);
        return out; }"""
    )
    assert sorted(labels) == sorted(f"{v / 1e4:,.0f} 万元" for v in mine["amount_yuan"])
    # closed, zoomed in (17): every link; the slider keeps the largest
    page.evaluate("() => SpatialMap.map.closePopup()")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.SPATIAL_LINKS") == len(pairs)
    steps = page.evaluate("() => SpatialMap.cfg.links.steps")
    slider = page.locator("input[data-filter=link_amount]")
    slider.fill(str(len(steps) - 1))
    page.wait_for_timeout(200)
    wan = np.round(pairs["amount_yuan"].to_numpy(float) / 1e4, 1)
    assert page.evaluate("() => window.SPATIAL_LINKS") == int((wan >= steps[-1]).sum()) > 0
    assert f"≥ {steps[-1]:,.0f}" in page.locator(".sp-links").inner_text()
    # balance by pattern as well as colour: deficit outlines dashed, labels signed
    assert page.evaluate("() => SpatialMap.layers.bundles.spec.classes.deficit.dash.length") == 2
    marks = page.evaluate("() => SpatialMap.layers.bundles.cols.label")
    status = page.evaluate("() => SpatialMap.layers.bundles.cols.pattern")
    for mark, st in zip(marks, status, strict=True):
        assert ("−" in mark or "-" in mark) == (st == "deficit"), (mark, st)
    assert errors == []


def test_bundle_map_colours_mean_one_thing_each():
    colours = [*STATUS_COLOURS.values(), *KIND_COLOURS.values(), SOURCE_COLOUR, LINK_COLOUR]
    rgb = np.array([to_rgb(c) for c in colours])
    dist = np.sqrt(((rgb[:, None] - rgb[None]) ** 2).sum(-1))
    np.fill_diagonal(dist, 9)
    assert dist.min() > 0.15, "two meanings share a colour"
    red = np.array(to_rgb(STATUS_COLOURS["deficit"]))
    assert min(np.abs(np.array(to_rgb(c)) - red).sum() for c in KIND_COLOURS.values()) > 0.5


def test_amap_basemap_shifts_data_to_gcj02(demo_run):
    import json

    from spatial.io.crs.chinese import wgs84_to_gcj02
    from spatial.render.page import MapPage

    tables = load_gap_tables(demo_run.outputs["gaps"].parent)
    plain, amap = gap_map(tables), gap_map(tables, basemap="amap")
    assert isinstance(plain, MapPage)

    def first_vertex(page: MapPage) -> tuple[float, float]:
        html = page.html()
        element = next(spec["data"] for spec in page.layers if spec["id"] == "compounds")
        text = re.search(f'id="{element}">(.*?)</script>', html, re.S).group(1)
        part = json.loads(text)["parts"][0]
        return part["c"][0] / part["s"], part["c"][1] / part["s"]

    (x0, y0), (x1, y1) = first_vertex(plain), first_vertex(amap)
    gx, gy = wgs84_to_gcj02(x0, y0)
    assert (x1, y1) == pytest.approx((float(gx), float(gy)), abs=2e-6)
    html = amap.html()
    assert "autonavi" in html and "autonavi" not in plain.html()
    with pytest.raises(ValueError, match="key"):
        gap_map(tables, basemap="tianditu")


def test_context_of_a_real_extract_and_the_osm_credit(tmp_path):
    ctx = read_context([SHARED / "data" / "osm" / "beijing_cau_haidian.osm"])
    assert ctx.attrs["sources"] == ["osm"]
    streets = ctx[ctx["layer"] == "street"]
    assert {"major", "minor"} <= set(streets["cls"]) and streets["name"].notna().any()
    assert (ctx["layer"] == "water").any()


def test_map_book_index_links_open_each_unit(browser, demo_run, tmp_path):
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
            "--by",
            "subdistrict",
            "--png",
        ],
    )
    assert res.exit_code == 0, res.output
    book = tmp_path / "城区"
    units = sorted(demo_run.gaps.compounds["subdistrict"].unique())
    assert {p.stem for p in book.glob("*.html")} >= {"index", *units}
    page, errors = open_offline(browser, book / "index.html")
    _ready(page)
    links = page.locator(".sp-index a")
    assert sorted(links.all_text_contents()) == units
    links.nth(1).click()
    page.wait_for_load_state()
    _ready(page)
    unit = units[1]
    assert page.locator(".sp-titlebox").inner_text().startswith(unit)
    n = page.evaluate("() => SpatialMap.layers.compounds.nRows")
    assert n == int((demo_run.gaps.compounds["subdistrict"] == unit).sum())
    assert errors == []
    for name in ("城区.png", "城区_bundles.html", "城区_bundles.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_a_book_page_has_the_units_rows_and_the_whole_outline_cut_to_its_box(demo_run):
    """A page's share of the run, taken through the book's indexes and the outlines'
    tiles, equals the whole run filtered and the whole outline cut to the page's box."""
    from functools import reduce

    import geopandas as gpd
    import shapely

    from spatial.io.crs.projection import to_metric
    from spatial.render.book import _Slicer, unit_names
    from spatial.render.outlines import OutlineTiles, iter_service_areas, read_service_areas

    folder = demo_run.outputs["gaps"].parent
    tables = load_gap_tables(folder, service_areas=False)
    whole = read_service_areas(folder / "service_areas.gpkg")
    outline = dict(zip(whole["category"], whole.geometry.values, strict=True))
    tiles = OutlineTiles(iter_service_areas(folder / "service_areas.gpkg"), max_vertices=256)
    assert len(tiles) > len(whole)
    slicer = _Slicer(tables, tiles)
    units = unit_names(tables.compounds, "subdistrict").to_numpy()
    for unit in sorted(set(units))[:3]:
        sub = slicer.unit(np.flatnonzero(units == unit), 1000.0)
        ids = set(tables.compounds.loc[units == unit, "id"].astype(str))
        assert set(sub.compounds["id"].astype(str)) == ids
        expected = tables.gaps[tables.gaps["compound_id"].astype(str).isin(ids)]
        pd.testing.assert_frame_equal(
            sub.gaps.reset_index(drop=True), expected.reset_index(drop=True)
        )
        metric = to_metric(sub.compounds)
        reach = shapely.box(*metric.total_bounds).buffer(1000.0)
        bounds = gpd.GeoSeries([reach], crs=metric.crs).to_crs(4326).total_bounds
        page = shapely.box(*bounds)
        assert set(sub.service_areas["category"]) == {
            c for c, g in outline.items() if shapely.intersects(g, page)
        }
        areas = sub.service_areas
        for cat, shape in zip(areas["category"], areas.geometry.values, strict=True):
            drawn = reduce(shapely.symmetric_difference, shapely.get_parts(shape))
            ref = shapely.intersection(outline[cat], page)
            assert shapely.area(shapely.symmetric_difference(drawn, ref)) <= 1e-6 * ref.area


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils: scripts/test-deps.sh")
def test_atlas_pdf_pages_and_glyphs(demo_run, tmp_path):
    from spatial.render.atlas import write_atlas

    tables = load_gap_tables(demo_run.outputs["gaps"].parent)
    path, pages = write_atlas(tables, tmp_path / "图集.pdf", source="示范区 demo")
    units = tables.compounds["subdistrict"].nunique()
    assert pages == units + 1
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "p")], check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) == pages
    for png in pngs:
        with Image.open(png) as im:
            img = np.asarray(im.convert("L"))
        assert img.shape[1] > img.shape[0]  # landscape
        assert img.std() > 10  # drawn
    font = FT2Font(str(cjk_font_path()))
    text = "".join(tables.compounds["subdistrict"].unique()) + (
        "15分钟生活圈设施缺口图集图例比例尺北数据来源日期制图全域个单元小区有缺口第页街道无缺类以上"
    )
    assert all(font.get_char_index(ord(ch)) != 0 for ch in text if not ch.isascii())


def test_each_atlas_page_lists_which_categories_its_compounds_miss(demo_run, tmp_path):
    """The compounds missing most, numbered on the map, each with the categories it lacks."""
    from spatial.render.atlas import write_atlas

    tables = load_gap_tables(demo_run.outputs["gaps"].parent)
    path, pages = write_atlas(tables, tmp_path / "atlas.pdf", source="示范区 demo")
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout.split("\f")
    names = {c.id: c.zh for c in tables.categories}
    comp = tables.compounds.assign(n=pd.to_numeric(tables.compounds["n_missing"]))
    worst = comp.sort_values("n", ascending=False, kind="stable").iloc[0]
    first = next(names[c] for c in str(worst["missing"]).split(";") if c)
    assert "缺口最多的小区" in text[0]
    line = next(li for li in text[0].splitlines() if f"1. {str(worst['name'])[:14]}" in li)
    assert first in line
    assert sum("缺口最多的小区" in page for page in text) == pages


def test_static_maps_have_chinese_glyphs(demo_run):
    font = FT2Font(str(cjk_font_path()))
    for key in ("gap_png", "bundle_png"):
        path = demo_run.outputs[key]
        with Image.open(path) as img:
            assert img.size[0] > 800 and img.size[1] > 800 and path.stat().st_size > 50_000
    labels = (
        "15分钟生活圈设施缺口片区统筹平衡无缺口缺类以上自平衡资金缺口老旧小区棚户区城中村旧厂区北"
        "图例比例尺数据日期制图单位成本与地价为默认假设值"
    )
    assert all(font.get_char_index(ord(ch)) != 0 for ch in labels)  # no missing-glyph boxes


def test_saved_bundle_map_reads_back(demo_run, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tables = load_bundle_tables(demo_run.outputs["bundles"].parent)
    assert tables.bundles.crs.to_epsg() == 4326
    assert save_map(bundle_map(tables), tmp_path / "b.html").stat().st_size > 10_000


def test_plan_workbook_for_officials(demo_run, tmp_path):
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from spatial.cli import app

    out = tmp_path / "plan"
    res = CliRunner().invoke(
        app,
        [
            "plan",
            "--profile",
            "taian",
            "--gaps",
            str(demo_run.outputs["gaps"].parent),
            "--budget-yuan",
            "5e8",
            "--start-year",
            "2030",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    sheets = pd.read_excel(out / "plan.xlsx", sheet_name=None)
    assert next(iter(sheets)) == "封面 cover"
    cover = sheets["封面 cover"].set_index("项目 Item")["内容 Content"]
    assert (
        cover["计划年度 Plan years"] == "2030—2034"
        and "万元" in cover["年度投资上限 Yearly budget"]
    )
    assert "泰政办字" in cover["政策依据 Source"] and "假设" in cover["假设 Assumptions"]
    own = pd.read_excel(demo_run.outputs["plan"], sheet_name="封面 cover")
    # the demo's own plan names its results folder, not the staging folder it was written in
    data = own.set_index("项目 Item").at["数据 Data", "内容 Content"]
    assert data == str(demo_run.outputs["gaps"].parent)
    plan = sheets["年度计划 annual plan"]
    assert plan["改造年度 Year"].min() == 2030
    assert set(plan["认定结果 Status"]) <= {"优先改造 priority", "符合条件 eligible"}
    per_year = plan.groupby("改造年度 Year")["估算投资（万元） Cost (10k yuan)"].sum()
    assert (per_year <= 5e4 + 1e-6).all()  # the yearly budget, in 万元
    ranking = sheets["排序 ranking"]
    assert (ranking["得分 Score"].round(3) == ranking["得分 Score"]).all()
    levels = set(sheets["逐级汇总 rollup"]["层级 Level"])
    assert "合计 total" in levels and "街道 subdistrict" in levels
    book = load_workbook(out / "plan.xlsx")
    ws = book["年度计划 annual plan"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    header = [c.value for c in ws[1]]
    money = header.index("估算投资（万元） Cost (10k yuan)") + 1
    assert ws.cell(2, money).number_format == "#,##0.0"
    widths = {ws.column_dimensions[chr(64 + k)].width for k in range(1, 8)}
    assert len(widths) > 2  # fitted to the content, not one width for all


def test_walk_ways_and_context_read_by_a_second_process_equal_those_read_here(
    demo_city, tmp_path, monkeypatch
):
    """A large network file has its walk ways and context read by a spawned process while
    the inputs are checked; the gaps and the context are those of reading them here."""
    from spatial.io import LoadSpec
    from spatial.io.context.store import load_context
    from spatial.lifecircle import GapParams
    from spatial.pipeline import run_gaps

    specs = {
        "compounds": [LoadSpec(demo_city.gpkg, "compounds", source_layer="compounds")],
        "pois": [LoadSpec(demo_city.gpkg, "pois", source_layer="pois")],
    }
    frames, gaps = [], []
    for name, mb in (("here", 1e9), ("side", 0.0)):
        if name == "side":  # the walk ways can only come from the second process now
            import spatial.network.build as build

            def _not_here(path):
                raise AssertionError(f"{path} was read in this process")

            monkeypatch.setattr(build, "read_osm_walk", _not_here)
        run = run_gaps(
            out_dir=tmp_path / name,
            osm=demo_city.osm,
            params=GapParams(service_areas=False, context_process_mb=mb),
            **specs,
        )
        frames.append(load_context(run.outputs["context"]))
        gaps.append(pd.read_csv(run.outputs["gaps"]))
    pd.testing.assert_frame_equal(gaps[0], gaps[1])
    assert gaps[0]["distance_m"].notna().sum() > 100
    here, side = frames
    assert len(here) > 100 and here.attrs["sources"] == side.attrs["sources"] == ["synthetic"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(here.drop(columns="geometry")), pd.DataFrame(side.drop(columns="geometry"))
    )
    assert here.geometry.geom_equals_exact(side.geometry, tolerance=0).all()


def test_bundle_map_drawn_by_a_second_process_equals_the_one_drawn_here(
    demo_run, tmp_path, monkeypatch
):
    """``spatial map --gaps --bundles`` on a city draws the bundle map in a second process."""
    from dataclasses import replace

    from typer.testing import CliRunner

    import spatial.settings
    from spatial.cli import app

    folder = str(demo_run.outputs["gaps"].parent)
    data = []
    for name, mb in (("here", 1e9), ("side", 0.0)):
        monkeypatch.setattr(
            spatial.settings,
            "DEFAULTS",
            replace(spatial.settings.DEFAULTS, bundle_map_process_mb=mb),
        )
        out = tmp_path / name / "m.html"
        res = CliRunner().invoke(
            app, ["map", "--gaps", folder, "--bundles", folder, "--out", str(out)]
        )
        assert res.exit_code == 0, res.output
        html = (tmp_path / name / "m_bundles.html").read_text(encoding="utf-8")
        data.append(re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', html))
    assert len(data[0]) > 3 and data[0] == data[1]


def test_gap_map_reading_outlines_a_category_at_a_time_equals_the_one_from_memory(
    demo_run, tmp_path
):
    """The page drawn from ``service_areas.gpkg`` one category at a time (a city) has the
    data of the page drawn from the outlines in memory, and the page saved piece by
    piece is its HTML."""
    folder = demo_run.outputs["gaps"].parent
    whole = load_gap_tables(folder)
    lazy = replace(whole, service_areas=None)
    pages = [
        gap_map(whole, data_date="2026-01-01"),
        gap_map(lazy, data_date="2026-01-01", service_areas=folder / "service_areas.gpkg"),
    ]
    data = [
        re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', p.html())
        for p in pages
    ]
    areas = [[a["count"] for a in p.layers if str(a["id"]).startswith("area_")] for p in pages]
    assert sum(areas[0]) >= 10 and areas[0] == areas[1]
    assert len(data[0]) > 20 and data[0] == data[1]
    saved = save_map(pages[1], tmp_path / "m.html").read_text(encoding="utf-8")
    assert saved == "".join(pages[1].html_parts()) and len(pages[1].html_parts()) > 20


def test_outline_layers_by_a_process_a_thread_or_here_equal_the_old_text(demo_run):
    """The gap map's service-area layers made by a second process, by a thread, and here
    after the process broke, are the text the page made before (plain and on Amap), and
    their temporary folder is removed."""
    from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from test_outlines import old_layer_text

    from spatial.io.outputs.write import read_gpkg
    from spatial.render.outlines import OutlineLayers

    path = demo_run.outputs["gaps"].parent / "service_areas.gpkg"
    whole = read_gpkg(path)
    cats = list(dict.fromkeys(whole["category"].astype(str)))
    assert len(cats) >= 10
    for basemap in ("none", "amap"):
        old = {c: old_layer_text(whole[whole["category"] == c], basemap) for c in cats}
        by_process = OutlineLayers(path, basemap=basemap, process_mb=0)
        by_thread = OutlineLayers(path, basemap=basemap, process_mb=1e9)
        assert isinstance(by_process.pool, ProcessPoolExecutor)
        assert isinstance(by_thread.pool, ThreadPoolExecutor)
        for fut in by_process.futures.values():
            fut.result()
        broken: Future[int] = Future()
        broken.set_exception(BrokenProcessPool("killed"))
        by_process.futures[by_process.order.index(cats[0])] = broken  # as if it had died
        for layers in (by_process, by_thread):
            assert {c: layers.count(c) for c in cats} == dict.fromkeys(cats, 1)
            assert layers.count("no_such_category") == 0
            made = {c: layers.text(c)() for c in cats}
            assert made == old
            assert not layers.folder.exists()  # gone with the last text
    unread = OutlineLayers(path, process_mb=0)
    assert unread.folder.exists()
    unread.cancel()
    assert not unread.folder.exists()


_STALE_CACHE = """
import json, os, sys
import matplotlib
from matplotlib import font_manager as fm
# the cache as a first run writes it before the CJK fonts were installed
fm.fontManager.ttflist = [f for f in fm.fontManager.ttflist if "CJK" not in f.name]
path = os.path.join(matplotlib.get_cachedir(), f"fontlist-v{fm.FontManager.__version__}.json")
fm.json_dump(fm.fontManager, path)
"""


def test_fonts_installed_after_matplotlib_cached_its_list_are_found(demo_run, tmp_path):
    """`spatial demo` before the fonts, then the fonts: the PNG map is drawn (the
    system's fonts are looked at when the cached list has no CJK family)."""
    import os
    import sys

    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path / "mpl")}
    subprocess.run([sys.executable, "-c", _STALE_CACHE], env=env, check=True)
    stale = subprocess.run(
        [
            sys.executable,
            "-c",
            "from matplotlib import font_manager as fm;"
            "print(sum('CJK' in f.name for f in fm.fontManager.ttflist))",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert stale.stdout.strip() == "0"  # the cache read back has no CJK family
    out = tmp_path / "缺口.html"
    run = subprocess.run(
        [str(Path(sys.executable).parent / "spatial"), "-q", "map", "--gaps",
         str(demo_run.outputs["gaps"].parent), "--out", str(out), "--png"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    with Image.open(out.with_suffix(".png")) as im:
        assert im.size[0] > 500


def test_a_missing_font_is_an_input_error_before_any_map_is_written(
    demo_run, tmp_path, monkeypatch
):
    """No CJK font anywhere: exit 1 with the advice, and the HTML map is not written."""
    from typer.testing import CliRunner

    import spatial.render.static as static
    from spatial.cli import app

    monkeypatch.setattr(static, "_installed_cjk", lambda: None)
    monkeypatch.setattr(static, "_system_cjk_files", lambda: [])
    monkeypatch.setitem(sys.modules, "mplfonts", None)  # the [fonts] extra not installed
    static._cjk_font.cache_clear()
    out = tmp_path / "缺口.html"
    res = CliRunner().invoke(
        app, ["map", "--gaps", str(demo_run.outputs["gaps"].parent), "--out", str(out), "--png"]
    )
    static._cjk_font.cache_clear()
    assert res.exit_code == 1, res.output
    assert "fonts-noto-cjk" in res.output and "internal error" not in res.output
    assert not out.exists()


def test_a_map_without_context_says_so_on_its_face(demo_run, tmp_path):
    """No streets or water to draw: the legend says so (the compounds would otherwise
    float on a blank page without a word)."""
    from dataclasses import replace

    tables = load_gap_tables(demo_run.outputs["gaps"].parent)
    with_ctx = save_map(gap_map(tables), tmp_path / "with.html").read_text(encoding="utf-8")
    bare = replace(tables, context=None)
    without = save_map(gap_map(bare), tmp_path / "without.html").read_text(encoding="utf-8")
    assert "no streets or water under the data" in without
    assert "no streets or water under the data" not in with_ctx


def test_the_atlas_takes_the_title(demo_run, tmp_path):
    """`spatial map --atlas --title …`: the atlas carries the title (it kept its own)."""
    from typer.testing import CliRunner

    from spatial.cli import app

    out = tmp_path / "城区.html"
    args = ["map", "--gaps", str(demo_run.outputs["gaps"].parent), "--out", str(out)]
    res = CliRunner().invoke(
        app, [*args, "--by", "subdistrict", "--atlas", "--title", "Haidian gap atlas 2026"]
    )
    assert res.exit_code == 0, res.output
    assert b"Haidian gap atlas 2026" in (tmp_path / "城区_atlas.pdf").read_bytes()


def test_a_killed_map_book_run_leaves_one_set(demo_run, tmp_path):
    """Kills during `spatial map --by`: the gap map, bundle map, PNGs and every book page
    are of one run (each page carries its run id), the earlier one or the new one."""
    import signal
    import subprocess
    import sys
    import time

    from spatial.io.outputs.fileset import run_stamp_of

    maps = tmp_path / "maps"
    args = [sys.executable, "-c", "from spatial.cli import main; main()", "-q", "map"]
    args += ["--gaps", str(demo_run.outputs["gaps"].parent)]
    args += ["--bundles", str(demo_run.outputs["bundles"].parent)]
    args += ["--out", str(maps / "城区.html"), "--by", "subdistrict"]

    def stamps() -> set[str | None]:
        pages = [p for p in maps.rglob("*.html") if not any(s.startswith(".") for s in p.parts)]
        assert len(pages) >= 4  # gap map, bundle map, index and unit pages
        return {run_stamp_of(p) for p in pages}

    subprocess.run(args, check=True)
    (first,) = stamps()
    seen = set()
    for delay in (1.5, 3.5):
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = stamps()
        assert len(now) == 1 and None not in now, (delay, now)
        seen.add("old" if now == {first} else "new")
    assert "old" in seen


def test_a_run_with_two_categories_of_data_reads_right(browser, demo_city, tmp_path):
    """Bus stops and kindergartens only: the fill counts out of the 2 categories with data
    (no green for "missing"), the legend says so, and the 24 without data are one closed
    line of the layer list."""
    import geopandas as gpd
    from typer.testing import CliRunner

    from spatial.cli import app
    from spatial.render.classes import SHARE_CLASSES

    pois = gpd.read_file(demo_city.gpkg, layer="pois")
    two = pois[pois["设施类别"].isin(["bus_stop", "kindergarten"])]
    two.to_file(tmp_path / "two.gpkg", layer="pois")
    runner = CliRunner()
    gaps = tmp_path / "gaps"
    inputs = ["--compounds", str(demo_city.gpkg), "--pois", str(tmp_path / "two.gpkg")]
    done = runner.invoke(
        app, ["gaps", *inputs, "--network", str(demo_city.osm), "--out", str(gaps)]
    )
    assert done.exit_code == 0, done.output
    out = tmp_path / "two.html"
    assert runner.invoke(app, ["map", "--gaps", str(gaps), "--out", str(out)]).exit_code == 0
    page, errors = open_offline(browser, out)
    _ready(page)
    assert errors == []
    legend = page.locator(".spatial-legend").first.inner_text()
    assert "of 2 with data" in legend
    assert "缺 1 类 missing 1 of 2" in legend and "缺 2 类 missing 2 of 2" in legend
    assert "24 类无数据" in legend
    # the fill: share of the two categories missing, from the neutral grey up
    html = out.read_text(encoding="utf-8")
    element = page.evaluate("() => SpatialMap.cfg.layers.find(l => l.id === 'compounds').data")
    data = json.loads(re.search(f'id="{element}">(.*?)</script>', html, re.S).group(1))
    n_missing = data["cols"]["n_missing"]
    expected = {0: SHARE_CLASSES[0][1], 1: SHARE_CLASSES[2][1], 2: SHARE_CLASSES[4][1]}
    assert data["cols"]["fill"] == [expected[n] for n in n_missing]
    assert set(n_missing) == {0, 1, 2}  # the demo has all three cases
    # the categories without data: one closed group at the end of the list
    summary = page.locator(".sp-group > summary[data-group='no_data']")
    assert summary.inner_text() == "无数据 24 类 no data (click to list)"
    group = page.locator(".sp-group:has(> summary[data-group='no_data'])")
    assert group.evaluate("d => d.open") is False
    assert group.locator(".sp-row").count() == 24
    others = page.locator(".sp-group:not(:has(> summary[data-group='no_data'])) .sp-row")
    assert not [t for t in others.all_text_contents() if "无数据" in t and "(≤" in t]
    # one click to one category: compounds by their status for it, counted in the legend
    from spatial.render.gapmap import VIEW_COLOURS

    tables = load_gap_tables(gaps)
    kg = tables.gaps[tables.gaps["category"] == "kindergarten"].set_index("compound_id")
    status = kg["status"].reindex(tables.compounds["id"].astype(str)).to_numpy()
    code = {"covered": "c", "too_far": "f", "beyond_limit": "b", "unreachable": "u"}
    code |= {"off_network": "o", "no_data": "n"}
    select = page.locator("select[data-view=category]")
    value = select.locator("option", has_text="幼儿园").get_attribute("value")
    select.select_option(value)
    page.wait_for_timeout(300)
    counts = page.evaluate("() => window.SPATIAL_VIEW")
    assert counts == {code[k]: int(v) for k, v in pd.Series(status).value_counts().items()}
    assert len(counts) >= 2  # covered and too far at least
    fills = page.evaluate("() => SpatialMap.layers.compounds.cols.view_fill")
    assert fills == [VIEW_COLOURS[code[s]] for s in status]
    assert page.evaluate("() => SpatialMap.layers.compounds.spec.fillCol") == "view_fill"
    assert page.evaluate("() => SpatialMap.map.hasLayer(SpatialMap.layers.cat_kindergarten)")
    view = page.locator(".sp-view-legend").inner_text()
    assert "覆盖 within the radius" in view and "超出半径 nearest beyond the radius" in view
    assert not page.locator(".spatial-legend").first.is_visible()
    select.select_option("")
    page.wait_for_timeout(200)
    assert page.evaluate("() => SpatialMap.layers.compounds.spec.fillCol") == "fill"
    assert page.locator(".spatial-legend").first.is_visible()
    assert errors == []
