"""finance.xlsx: formulas that recalculate like Python, values cached for any reader,
amounts in 万元, a long cash-flow table, full sheets only for the largest projects."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import REPO
from shapely.geometry import box

from spatial.bundling import bundle_units, find_bundles, load_finance
from spatial.finance import finance_report, write_finance_workbook
from spatial.io.load import LoadSpec, load_layers

F = load_finance()
WAN = 10_000.0
BUNDLES, COMPOUNDS = "大片区 bundles", "小区项目 compound projects"
#: LibreOffice trusts the values a file stores unless told to recalculate on load.
_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def _soffice() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        pytest.fail("LibreOffice is needed to recalculate finance.xlsx: run scripts/test-deps.sh")
    return exe


def _recalculate(path: Path, out: Path) -> openpyxl.Workbook:
    """Open ``path`` in LibreOffice headless, recalculate every formula, read the values."""
    profile = out / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_ALWAYS)
    subprocess.run(
        [
            _soffice(),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--calc",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return openpyxl.load_workbook(out / path.name, data_only=True)


@pytest.fixture(scope="module")
def demo_report():
    gpkg = REPO / "data" / "demo" / "demo_city.gpkg"
    layers = load_layers([LoadSpec(gpkg, "compounds"), LoadSpec(gpkg, "parcels")])
    units = bundle_units(layers["compounds"], layers["parcels"])
    return units, finance_report(units, find_bundles(units, finance=F, seed=1), finance=F)


@pytest.fixture(scope="module")
def written(demo_report, tmp_path_factory):
    """The demo's workbook and LibreOffice's recalculation of it."""
    _, report = demo_report
    out = tmp_path_factory.mktemp("wb")
    path = write_finance_workbook(report, out / "finance.xlsx")
    return path, _recalculate(path, out / "lo")


def _compare(book: openpyxl.Workbook, report) -> int:
    """Checked rows; fails on the first workbook figure (万元) that differs from Python's."""
    projects = report.projects.set_index("project_id")
    checked = 0
    for sheet in (BUNDLES, "跨片区 combinations", COMPOUNDS):
        for row in list(book[sheet].iter_rows(values_only=True))[1:]:
            p = projects.loc[row[0]]
            assert row[10] == pytest.approx(p["debt_yuan"] / WAN, abs=1e-6), row[0]
            assert row[15] == pytest.approx(p["npv_yuan"] / WAN, abs=1e-4), row[0]
            assert (row[13] or np.nan) == pytest.approx(p["bond_coverage"], rel=1e-9, nan_ok=True)
            assert row[14] == p["financing"], row[0]
            assert (row[17] or np.nan) == pytest.approx(p["payback_year"], nan_ok=True), row[0]
            if np.isfinite(p["irr"]):
                assert row[16] == pytest.approx(p["irr"], abs=1e-7), row[0]
            else:
                assert row[16] in (None, ""), row[0]
            checked += 1
    lines = report.sources.set_index("compound_id")
    names = ["subsidy_yuan", "utility_yuan", "original_owner_yuan", "residents_yuan"]
    names += ["maintenance_fund_yuan", "city_budget_yuan", "utility_award_yuan"]
    for row in list(book["多元投入 sources"].iter_rows(values_only=True))[1:]:
        assert [float(v) for v in row[7:14]] == pytest.approx(
            (lines.loc[row[0], names].to_numpy(float) / WAN).tolist(), abs=1e-4
        )
        checked += 1
    within = report.within.set_index("compound_id")
    for row in list(book["自求平衡 within-compound"].iter_rows(values_only=True))[1:]:
        w = within.loc[row[0]]
        assert row[9] == pytest.approx(w["facility_build_yuan"] / WAN)
        assert row[13] == pytest.approx(w["facility_net_yuan_per_year"] / WAN)
        assert (row[14] or np.inf) == pytest.approx(w["payback_years"])
        checked += 1
    return checked


def _formula_cells(path: Path):
    raw = openpyxl.load_workbook(path)
    for ws in raw.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    yield ws.title, c.coordinate, c.value


def test_recalculated_by_libreoffice_the_workbook_matches_python(demo_report, written):
    _, report = demo_report
    assert (report.projects["kind"] == "combination").any()  # all three kinds of project
    assert report.projects["financing"].isin(["bond"]).any()
    path, book = written
    raw = openpyxl.load_workbook(path)
    assert str(raw["CF B0001"]["C25"].value).startswith("=SUM(")  # live formulas
    assert "f_bond_rate" in str(raw["CF B0001"]["B12"].value)
    n_projects = len(report.projects) + 2 * (report.projects["kind"] == "compound").sum()
    assert _compare(book, report) == n_projects


def test_every_formula_stores_the_value_libreoffice_computes(written):
    """Cached values are what a reader without a calculation engine sees (pandas, mail and
    phone previews): each equals LibreOffice's own recalculation of the formula."""
    path, book = written
    mine = openpyxl.load_workbook(path, data_only=True)
    n = 0
    for sheet, at, formula in _formula_cells(path):
        a, b = mine[sheet][at].value, book[sheet][at].value
        assert a is not None or b in (None, ""), (sheet, at, formula)
        if isinstance(b, float | int) and not isinstance(b, bool):
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6), (sheet, at, formula, a, b)
        else:
            assert (a or "") == (b or ""), (sheet, at, formula, a, b)
        n += 1
    assert n > 10_000


def test_editing_a_figure_in_the_workbook_recalculates_like_python(demo_report, tmp_path):
    units, report = demo_report
    path = write_finance_workbook(report, tmp_path / "finance.xlsx")
    wb = openpyxl.load_workbook(path)
    sheet = wb["假设 assumptions"]
    edits = {"cashflow.discount_rate": 0.03, "bond.min_coverage": 0.9, "operating.uptake": 0.9}
    for row in sheet.iter_rows(min_row=2):
        if row[1].value in edits:
            row[2].value = edits[row[1].value]
    wb.save(path)
    book = _recalculate(path, tmp_path / "lo")
    f = F.with_overrides(**{k.replace(".", "__"): v for k, v in edits.items()})
    again = finance_report(units, find_bundles(units, finance=f, seed=1), finance=f)
    assert again.projects["financing"].tolist() != report.projects["financing"].tolist()
    _compare(book, again)


def test_pandas_reads_money_in_wan_as_numbers_with_formats(demo_report, written):
    _, report = demo_report
    path, _ = written
    table = pd.read_excel(path, sheet_name=BUNDLES)
    money = [c for c in table.columns if "(万元" in c]
    assert len(money) > 20 and all(pd.api.types.is_numeric_dtype(table[c]) for c in money)
    b = report.projects[report.projects["kind"] == "bundle"]
    assert table["改造与安置成本 cost (万元)"].sum() == pytest.approx(b["cost_yuan"].sum() / WAN)
    assert table["净现值 NPV (万元)"].tolist() == pytest.approx((b["npv_yuan"] / WAN).tolist())
    ws = openpyxl.load_workbook(path)[BUNDLES]
    assert ws["C2"].number_format == "#,##0.00" and ws["Q2"].number_format == "0.00%"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"


def test_the_long_cash_flow_table_sums_to_each_projects_flows(demo_report, written):
    _, report = demo_report
    path, _ = written
    long = pd.read_excel(path, sheet_name="现金流 cash flows")
    assert list(long.columns) == ["项目 project_id", "年份 year", "科目 line", "金额 amount (万元)"]
    assert (long["金额 amount (万元)"] != 0).all()
    net = long[long["科目 line"] == "净现金流 net flow"]
    by_year = net.pivot(index="项目 project_id", columns="年份 year", values="金额 amount (万元)")
    pos = report.projects.reset_index(drop=True)
    for pid in ("B0001", pos.loc[pos["kind"] == "combination", "project_id"].iloc[0]):
        i = int(pos.index[pos["project_id"] == pid][0])
        python = pd.Series(report.flows.lines["net"][i] / WAN, index=report.flows.years)
        assert by_year.loc[pid].reindex(python.index).fillna(0).tolist() == pytest.approx(
            python.tolist()
        )
    kinds = report.projects.set_index("project_id").loc[long["项目 project_id"].unique(), "kind"]
    assert set(kinds) == {"bundle", "combination"}


def test_a_large_city_workbook_keeps_the_largest_projects_and_says_so(demo_report, tmp_path):
    _, report = demo_report
    path = write_finance_workbook(
        report, tmp_path / "finance.xlsx", max_compounds=10, max_projects=5, cash_flow_sheets=2
    )
    wb = openpyxl.load_workbook(path)
    readme = " ".join(str(c.value) for c in wb["说明 README"]["A"])
    assert "10 of 131 old compounds" in readme and "5 of 97 bundles and combinations" in readme
    shown = {r[0].value for r in wb[BUNDLES].iter_rows(min_row=2)}
    shown |= {r[0].value for r in wb["跨片区 combinations"].iter_rows(min_row=2)}
    assert len(shown) == 5
    assert {r[0].value for r in wb["敏感性 sensitivity"].iter_rows(min_row=2)} <= shown
    sheets = [name for name in wb.sheetnames if name.startswith("CF ")]
    others = report.projects[report.projects["kind"] != "compound"]
    assert sorted(s.removeprefix("CF ") for s in sheets) == sorted(
        others.nlargest(2, "cost_yuan")["project_id"]
    )
    links = {r[18].value for r in wb[BUNDLES].iter_rows(min_row=2)} - {None}
    assert links <= set(sheets)
    kept = [r[0].value for r in wb["多元投入 sources"].iter_rows(min_row=2)]
    costs = report.sources.set_index("compound_id")["cost_yuan"]
    assert sorted(kept) == sorted(costs.nlargest(10).index)
    assert wb[COMPOUNDS].max_row == 1 + 10


def test_names_from_data_stay_text_in_the_workbook(tmp_path):
    comp = gpd.GeoDataFrame(
        {
            "id": ["C1"],
            "name": ['=HYPERLINK("http://x","y")'],
            "households": [100],
            "floor_area_m2": [5000.0],
            "owner_unit": ["@SUM(1)"],
        },
        geometry=[box(0, 0, 100, 100)],
        crs="EPSG:32650",
    )
    units = bundle_units(comp, None)
    report = finance_report(units, find_bundles(units, finance=F, seed=1), finance=F)
    path = write_finance_workbook(report, tmp_path / "finance.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["多元投入 sources"]
    assert ws["B2"].value == '=HYPERLINK("http://x","y")' and ws["B2"].data_type == "s"
    assert ws["F2"].data_type == "s"


def test_every_sheet_has_chinese_and_english_headers_and_no_helper_rows(written):
    path, _ = written
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets[1:]:  # after the README
        if ws.title.startswith(("CF ", "辅助")):
            labels = [c.value for c in ws["A"] if c.value]
        else:
            labels = [c.value for c in ws[1]]
        for label in labels:
            text = str(label)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text), (ws.title, text)
            assert any("a" <= ch.lower() <= "z" for ch in text), (ws.title, text)
    assert wb[COMPOUNDS]["A2"].value.startswith("C")  # a compound, no helper row
    assert wb["CF B0001"]["A16"].value == "年份 year" and wb["CF B0001"]["C16"].value


def test_a_large_runs_workbook_written_by_a_second_process_is_the_same(
    demo_report, tmp_path, monkeypatch, caplog
):
    """From ``workbook_process_units`` to ``workbook_process_max_units`` compounds and
    parcels, ``finance.xlsx`` is written by a spawned process while the run writes its
    tables: the same cells and cached values as written in the run's own process (below
    and above those sizes), what it logged said by the run, and written here when the
    process breaks."""
    import logging
    import os
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool
    from dataclasses import replace

    import spatial.pipeline.runs as runs
    from spatial.bundling.params import BundleParams
    from spatial.pipeline.workbook import WorkbookProcess
    from spatial.settings import DEFAULTS, no_progress

    units, _ = demo_report
    books = {}
    sizes = {"here": (10**9, 10**9), "side": (0, 10**9), "above": (0, 1)}
    for name, (low, high) in sizes.items():
        bounds = {"workbook_process_units": low, "workbook_process_max_units": high}
        monkeypatch.setattr(runs, "DEFAULTS", replace(DEFAULTS, **bounds))
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="spatial"):
            run = runs.bundle_stage(
                units,
                out_dir=tmp_path / name,
                barriers=None,
                params=BundleParams(),
                say=no_progress,
            )
        assert run.outputs["finance"] == tmp_path / name / "finance.xlsx"
        pids = [r.process for r in caplog.records if "written by process" in r.getMessage()]
        assert (pids != [] and pids[0] != os.getpid()) == (name == "side")
        books[name] = _cells(run.outputs["finance"])
    assert books["here"] == books["side"] == books["above"] and len(books["here"]) > 10

    side = WorkbookProcess.start()
    assert side is not None
    (tmp_path / "again").mkdir()
    path = tmp_path / "again" / "finance.xlsx"
    assert side.submit(run.finance, path, 10)
    side.pool.shutdown(wait=True, cancel_futures=True)  # as if the process were killed
    side.future = Future()
    side.future.set_exception(BrokenProcessPool("killed"))
    assert side.result(run.finance, path, 10) == path
    assert _cells(path) == books["here"]
    side.close()
    assert [p.name for p in (tmp_path / "again").iterdir()] == ["finance.xlsx"]  # no pickle


def _cells(path: Path) -> dict:
    """Every sheet's formulas and cached values."""

    def value(v):
        return (v.ref, v.text) if hasattr(v, "text") and hasattr(v, "ref") else v

    out = {}
    for data_only in (False, True):
        wb = openpyxl.load_workbook(path, data_only=data_only)
        for ws in wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            out[ws.title, data_only] = [tuple(value(v) for v in r) for r in rows]
    return out


def test_the_share_a_second_process_gets_makes_the_same_workbook(demo_report, tmp_path):
    """A city's workbook is written from its share of the report (its flows cut to the
    projects shown): the same cells, cached values and notes as from the whole report."""
    from spatial.finance.workbook import workbook_share

    _, report = demo_report
    limits = {"max_compounds": 10, "max_projects": 5}
    whole = write_finance_workbook(report, tmp_path / "a.xlsx", cash_flow_sheets=2, **limits)
    share, left_out = workbook_share(report, **limits)
    assert len(share.projects) == 15 and len(left_out) == 2
    assert {v.shape[0] for v in share.flows.lines.values()} == {15}
    part = write_finance_workbook(
        share, tmp_path / "b.xlsx", cash_flow_sheets=2, left_out=left_out, **limits
    )
    assert _cells(part) == _cells(whole)
