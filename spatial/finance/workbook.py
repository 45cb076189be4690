# ruff: noqa: E501  (spreadsheet formulas read best on one line)
"""``finance.xlsx``: the four financing modes with live formulas an analyst can edit, each
formula carrying its computed value so that any reader (pandas, a phone preview) sees
numbers.

Every figure of ``finance.toml`` is a named cell on the sheet 假设 assumptions (names
``f_<table>_<key>``, in the figure's own unit, mostly yuan); the funding lines, facility
sums, yearly flows, NPV, IRR, bond coverage, financing and payback are Excel formulas over
those names and over the inputs of each row, so changing a rate, a land-sale year or a
cost recalculates the workbook. Amounts are 万元 with thousands separators. Projects:
one row per bundle (大片区), combination (跨片区) and compound (小区项目), with its yearly
net flows in the row; the yearly lines of every bundle and combination in one long table
(现金流, for filters and pivot tables); full cash-flow sheets with the debt schedule for
the largest ``cash_flow_sheets`` of them (``CF B0001``). Text from the data is stored as
text, never as a formula.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pandas as pd

from spatial.finance._xlsx import WAN, Book, Formula, Sheet, figure_name
from spatial.finance.cashflow import PAYBACK_TOLERANCE_YUAN, timing
from spatial.finance.cfsheets import (
    Money,
    cash_flow_sheet,
    flows_sheet,
    project_table,
    running_sum_sheet,
)
from spatial.finance.compsheets import SOURCES, WITHIN, WITHIN_COLUMNS, sources_sheet, within_sheet
from spatial.finance.projects import FinanceReport
from spatial.finance.sensitivity import sensitivity_table
from spatial.io.outputs.write import write_bytes

__all__ = ["workbook_share", "write_finance_workbook"]

log = logging.getLogger(__name__)

_ASSUMPTIONS = "假设 assumptions"
_BUNDLES = "大片区 bundles"
_COMBOS = "跨片区 combinations"
_COMPOUNDS = "小区项目 compound projects"
#: Rows of the long cash-flow table at most (a sheet holds 1,048,576; a row costs ~50 µs).
_MAX_FLOW_ROWS = 12_000


def _sensitivity_sheet(book: Book, sens: pd.DataFrame) -> None:
    """One row per bundle: base NPV and NPV in each scenario (万元), what flips it."""
    wide = sensitivity_table(sens)
    zh = dict(zip(sens["factor"], sens["factor_zh"], strict=True))
    heads = ["片区 bundle_id", "基准净现值 base NPV (万元)"]
    for col in wide.columns[2:-1]:
        factor, change = col.removeprefix("npv_").rsplit("_", 1)
        heads.append(f"{zh.get(factor, factor)} {change} 净现值 NPV (万元)")
    heads.append("翻转情景 scenarios that flip its balance")
    money = wide.columns[1:-1]
    wide = wide.assign(**{c: wide[c] / WAN for c in money})
    s = book.sheet(
        "敏感性 sensitivity",
        heads,
        kinds=["text", *["money"] * len(money), "text"],
        widths={len(heads) - 1: 40},
    )
    for r in wide.itertuples(index=False):
        s.put(list(r))


def _assumptions(book: Book, report: FinanceReport) -> None:
    s = book.sheet(
        _ASSUMPTIONS,
        [
            "名称 name",
            "键 key",
            "数值 value (单位见键名 unit in the key: yuan 元)",
            "来源 source (policy / assumption)",
        ],
        kinds=["text", "text", "number", "text"],
        widths={0: 44, 1: 44, 2: 18, 3: 60},
    )
    f = report.finance
    for key in f.values:
        row = s.put([figure_name(key), key, f[key], f.sources[key]])
        book.wb.define_name(figure_name(key), f"='{_ASSUMPTIONS}'!$C${row}")


def _readme(book: Book, years: int, n_sheets: int, notes: list[str]) -> Sheet:
    s = book.sheet("说明 README", [], widths={0: 130}, table=False)
    lines = [
        "资金测算 Finance of the renovation projects (四种模式 four modes)",
        "金额单位 万元 (10,000 yuan) unless a header says otherwise; 假设 keeps each figure in its own unit (yuan 元).",
        "大片区 bundles: 大片区统筹平衡 large-area balance, one row per bundle with its yearly net flow.",
        "跨片区 combinations: 跨片区组合平衡, a deficit bundle with the surplus moved to it.",
        "小区项目 compound projects: each compound alone, its yearly net flow, NPV, IRR, bond test.",
        "自求平衡 within-compound: 小区内自求平衡, operating facilities per compound (units of each), income, cost, payback years.",
        "多元投入 sources: 政府引导的多元化投入, funding lines per compound; the rest is the city budget.",
        "现金流 cash flows: every line of every bundle and combination by year, one row each (filter it, or pivot it).",
        f"CF <id>: the full cash flow and debt schedule of the {n_sheets} largest bundles and combinations (by cost).",
        "敏感性 sensitivity: bundles' NPV with land value, cost and uptake at ±10 % and ±20 % (values).",
        "Cells are formulas over the named figures on 假设 assumptions, stored with their values: "
        "edit a figure there and the workbook recalculates (LibreOffice: Data ▸ Calculate ▸ Recalculate Hard).",
        f"Flows cover {years} years from f_cashflow_start_year; a longer debt term needs a new "
        "run (spatial bundles --finance your.toml).",
        "Figures marked assumption in 假设 are not policy: set your city's before any decision.",
        f"NPV: year 0 undiscounted; payback: first year whose cumulative net flow ≥ "
        f"−{PAYBACK_TOLERANCE_YUAN} yuan.",
    ]
    for line in [*lines, *notes]:
        s.put([line])
    return s


def _compound_inputs(within_at: dict[str, int], src_at: dict[str, int]) -> Any:
    """The eight inputs of a compound's row: links to its funding lines and facilities."""
    w, q = f"'{WITHIN}'!", f"'{SOURCES}'!"

    def inputs(r: Any, n: int, values: list[float]) -> list[Formula]:
        a, b = within_at[str(r.project_id)], src_at[str(r.project_id)]
        c = WITHIN_COLUMNS
        refs = [f"={q}G{b}", f"={w}{c['build']}{a}", f"={q}H{b}", f"=SUM({q}I{b}:L{b})"]
        refs += ["=0", "=0", f"={w}{c['capacity_income']}{a}", f"={w}{c['cost']}{a}"]
        return [Formula(f, v) for f, v in zip(refs, values, strict=True)]

    return inputs


def _largest(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` rows of largest ``cost_yuan``, in their order."""
    if len(frame) <= n:
        return frame
    return cast("pd.DataFrame", frame.loc[frame["cost_yuan"].nlargest(n).index.sort_values()])


def _within_limits(
    report: FinanceReport, max_compounds: int, max_projects: int
) -> tuple[FinanceReport, list[str]]:
    """The report cut to what a workbook can hold, and what was left out."""
    proj = report.projects
    comp = proj[proj["kind"] == "compound"]
    keep_comp = _largest(comp, max_compounds)
    others = _largest(proj[proj["kind"] != "compound"], max_projects)
    notes = []
    if len(keep_comp) < len(comp):
        notes.append(
            f"Compound sheets hold the {len(keep_comp):,} of {len(comp):,} old compounds with the "
            "largest cost; all are in finance_projects.csv, funding_lines.csv, facilities.csv."
        )
    if len(others) < (proj["kind"] != "compound").sum():
        notes.append(
            f"Bundle sheets hold the {len(others):,} of {(proj['kind'] != 'compound').sum():,} "
            "bundles and combinations with the largest cost (and their sensitivity); all are in "
            "finance_projects.csv and sensitivity.csv."
        )
    if not notes:
        return report, notes
    ids = set(keep_comp["project_id"].astype(str))
    shown = set(others["project_id"].astype(str))
    cut = replace(
        report,
        sensitivity=report.sensitivity[report.sensitivity["bundle_id"].astype(str).isin(shown)],
        projects=pd.concat([keep_comp, others]).sort_index(),
        within=report.within[report.within["compound_id"].astype(str).isin(ids)],
        sources=report.sources[report.sources["compound_id"].astype(str).isin(ids)],
        facilities=report.facilities[report.facilities["compound_id"].astype(str).isin(ids)],
    )
    return cut, notes


def workbook_share(
    report: FinanceReport, *, max_compounds: int = 1000, max_projects: int = 1000
) -> tuple[FinanceReport, list[str]]:
    """What ``finance.xlsx`` holds of a report, with its cash flows cut to the projects
    kept (a city's flows are hundreds of MB: a second process writing the workbook gets
    this share, :mod:`spatial.pipeline.workbook`).

    Parameters
    ----------
    report
        From :func:`spatial.finance.finance_report`.
    max_compounds, max_projects
        As for :func:`write_finance_workbook`.

    Returns
    -------
    report, left_out
        The share (projects indexed by their position in its flows) and what was left
        out, to pass to :func:`write_finance_workbook` as ``left_out``.
    """
    cut, notes = _within_limits(report, max_compounds, max_projects)
    at = cut.projects.index.to_numpy()
    flows = cut.flows
    if len(at) < len(flows.summary):
        flows = replace(
            flows,
            lines={k: v[at] for k, v in flows.lines.items()},
            summary=flows.summary.iloc[at].reset_index(drop=True),
        )
        cut = replace(cut, projects=cut.projects.reset_index(drop=True), flows=flows)
    return cut, notes


def write_finance_workbook(
    report: FinanceReport,
    path: str | Path,
    *,
    max_compounds: int = 1000,
    max_projects: int = 1000,
    cash_flow_sheets: int = 10,
    left_out: Sequence[str] = (),
) -> Path:
    """Write ``finance.xlsx`` (see the module text), atomically.

    Parameters
    ----------
    report
        From :func:`spatial.finance.finance_report`.
    path
        Target file; replaced as a whole.
    max_compounds
        Most compounds on the compound sheets (those of largest cost; a city of tens of
        thousands would make a workbook no spreadsheet opens). The README sheet says
        what was left out; the CSV files hold everything.
    max_projects
        Most bundles and combinations (those of largest cost).
    cash_flow_sheets
        Full cash-flow sheets for this many bundles and combinations of largest cost.
    left_out
        What :func:`workbook_share` left out of a report cut before (said on the README
        sheet and logged as if cut here).

    Returns
    -------
    Path
        ``path``.
    """
    report, cut_here = _within_limits(report, max_compounds, max_projects)
    notes = [*left_out, *cut_here]
    for note in notes:
        log.warning("finance.xlsx: %s", note)
    tm = timing(report.finance)
    proj = report.projects
    money = Money.of(proj, report.flows, tm)
    bundles = proj[proj["kind"] == "bundle"]
    combos = proj[proj["kind"] == "combination"]
    others = pd.concat([bundles, combos])
    detailed = _largest(others, cash_flow_sheets)
    sheet_of = {str(i): f"CF {i}"[:31] for i in detailed["project_id"]}
    book = Book()
    if combos.empty:
        notes.append(
            "跨片区 combinations: none in this run (no deficit bundle took surplus from "
            "another, see pairs.csv and funding.csv); the sheet has its headers only."
        )
    readme = _readme(book, tm.years, len(detailed), notes)
    rows = {_BUNDLES: project_table(book, _BUNDLES, bundles, money, sheets=sheet_of)}
    rows[_COMBOS] = project_table(book, _COMBOS, combos, money, sheets=sheet_of)
    within_at = within_sheet(book, report.within, report.facilities)
    src_at = sources_sheet(book, report.sources)
    comp = proj[proj["kind"] == "compound"]
    inputs = _compound_inputs(within_at, src_at)
    project_table(book, _COMPOUNDS, comp, money, sheets={}, inputs=inputs)
    left = flows_sheet(book, others, money, max_rows=_MAX_FLOW_ROWS)
    if left:
        note = (
            f"现金流 cash flows holds the {len(others) - left:,} of {len(others):,} bundles and "
            "combinations of largest cost; the others' lines follow from their row on 大片区 / 跨片区."
        )
        log.warning("finance.xlsx: %s", note)
        readme.put([note])
    _sensitivity_sheet(book, report.sensitivity)
    _assumptions(book, report)
    running_sum_sheet(book, tm.years)
    for _, r in detailed.iterrows():
        table = _BUNDLES if r["kind"] == "bundle" else _COMBOS
        cash_flow_sheet(book, r, money, table=table, row=rows[table][str(r["project_id"])])
    return write_bytes(book.close(), path)
