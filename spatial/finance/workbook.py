# ruff: noqa: E501  (spreadsheet formulas read best on one line)
"""``finance.xlsx``: the four financing modes with live formulas an analyst can edit.

Every figure of ``finance.toml`` is a named cell on the sheet 假设 assumptions (names
``f_<table>_<key>``); the funding lines, facility sums, yearly flows, NPV, IRR, bond
coverage, financing and payback are Excel formulas over those names and over the inputs
of each row, so changing a rate, a land-sale year or a cost recalculates the workbook.
Projects: one row per compound on 小区项目; one cash-flow sheet per bundle (``CF B0001``)
and per cross-area combination (``CF C-B0001``). The flows cover the years written
(``cashflow.horizon_years`` or the longest debt term); text from the data is stored as
text, never as a formula.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pandas as pd

from spatial.finance._xlsx import Sheet, column, figure_name
from spatial.finance.cashflow import PAYBACK_TOLERANCE_YUAN, timing
from spatial.finance.cfsheets import cash_flow_sheet, projects_sheet
from spatial.finance.projects import FinanceReport
from spatial.finance.sources import SOURCE_LABELS
from spatial.io.outputs.write import save_workbook

__all__ = ["write_finance_workbook"]

log = logging.getLogger(__name__)

_ASSUMPTIONS = "假设 assumptions"


#: Chinese and English headers of the 敏感性 sheet.
_SENSITIVITY_HEADERS = {
    "bundle_id": "片区 bundle_id",
    "factor": "因素 factor",
    "factor_zh": "因素名称 factor (zh)",
    "change": "变动 change",
    "npv_yuan": "情景净现值 npv_yuan",
    "base_npv_yuan": "基准净现值 base_npv_yuan",
    "delta_yuan": "变化 delta_yuan",
    "balancing": "是否平衡 balancing",
    "flips": "是否翻转 flips",
}


def _assumptions(wb: Any, report: FinanceReport) -> None:
    from openpyxl.workbook.defined_name import DefinedName

    s = Sheet(wb, _ASSUMPTIONS, widths={"A": 44, "B": 44})
    s.put(["名称 name", "键 key", "数值 value", "来源 source (policy / assumption)"])
    f = report.finance
    for key in f.values:
        row = s.put([figure_name(key), key, f[key], f.sources[key]])
        ref = f"'{_ASSUMPTIONS}'!$C${row}"
        wb.defined_names[figure_name(key)] = DefinedName(figure_name(key), attr_text=ref)


def _readme(wb: Any, years: int, notes: list[str]) -> None:
    s = Sheet(wb, "说明 README", widths={"A": 120})
    lines = [
        "资金测算 Finance of the renovation projects (四种模式 four modes)",
        "大片区 bundles: 大片区统筹平衡 large-area balance, one row per bundle, its cash flow on CF <id>.",
        "跨片区 combinations: 跨片区组合平衡, a deficit bundle with the surplus moved to it, CF C-<id>.",
        "自求平衡 within-compound: 小区内自求平衡, operating facilities per compound; payback years.",
        "多元投入 sources: 政府引导的多元化投入, funding lines per compound; the rest is the city budget.",
        "小区项目 compound projects: each compound alone, its yearly net flow, NPV, IRR, bond test.",
        "敏感性 sensitivity: bundles' NPV with land value, cost and uptake at ±10 % and ±20 % (values).",
        "Cells are formulas over the named figures on 假设 assumptions: edit a figure there and "
        "the workbook recalculates (LibreOffice: Data ▸ Calculate ▸ Recalculate Hard).",
        f"Flows cover {years} years from f_cashflow_start_year; a longer debt term needs a new "
        "run (spatial bundles --finance your.toml).",
        "Figures marked assumption in 假设 are not policy: set your city's before any decision.",
        f"NPV: year 0 undiscounted; payback: first year whose cumulative net flow ≥ "
        f"−{PAYBACK_TOLERANCE_YUAN} yuan.",
    ]
    for line in [*lines, *notes]:
        s.put([line])


def _within(wb: Any, report: FinanceReport) -> dict[str, int]:
    """Per-compound sums (sheet 自求平衡) over the facility rows with their formulas (sheet
    自求平衡明细); returns the row of each compound's sums."""
    rows = report.facilities
    span: dict[str, list[int]] = {}
    for i, cid in enumerate(rows["compound_id"].astype(str), start=2):
        span.setdefault(cid, [i, i])[1] = i
    t = Sheet(wb, "自求平衡 within-compound")
    t.put(
        [
            "小区 compound_id",
            "名称 name",
            "建设投入 facility_build_yuan",
            "满负荷收入 facility_capacity_income_yuan_per_year",
            "收入 facility_income_yuan_per_year",
            "运营成本 facility_cost_yuan_per_year",
            "净收入 facility_net_yuan_per_year",
            "回收年限 payback_years",
        ]
    )
    at = {}
    src = "'自求平衡明细 facilities'!"
    for r in report.within.itertuples(index=False):
        n = t.row + 1
        a, b = span.get(str(r.compound_id), [0, 0])
        sums = [f"=SUM({src}{c}{a}:{c}{b})" if a else 0 for c in "FGHIJ"]
        at[str(r.compound_id)] = t.put(
            [r.compound_id, r.name, *sums, f'=IF(G{n}>0,C{n}/G{n},"")'],
            formulas=(2, 3, 4, 5, 6, 7),
        )
    return at


def _facilities(wb: Any, report: FinanceReport) -> None:
    s = Sheet(wb, "自求平衡明细 facilities")
    s.put(
        [
            "小区 compound_id",
            "设施 facility",
            "设施 facility_zh",
            "数量 units",
            "单位 unit",
            "建设投入 build_yuan",
            "满负荷收入 capacity_income_yuan_per_year",
            "收入 income_yuan_per_year",
            "运营成本 cost_yuan_per_year",
            "净收入 net_yuan_per_year",
            "依据 basis",
        ]
    )
    for r in report.facilities.itertuples(index=False):
        n = s.row + 1
        k = str(r.facility)
        s.put(
            [
                r.compound_id,
                k,
                r.facility_zh,
                r.units,
                r.unit,
                f"=D{n}*{figure_name(k + '.build_yuan_per_unit')}",
                f"=D{n}*{figure_name(k + '.income_yuan_per_unit_year')}",
                f"=G{n}*f_operating_uptake",
                f"=D{n}*{figure_name(k + '.cost_yuan_per_unit_year')}",
                f"=H{n}-I{n}",
                r.basis,
            ],
            formulas=(5, 6, 7, 8, 9),
        )


def _sources(wb: Any, report: FinanceReport) -> dict[str, int]:
    s = Sheet(wb, "多元投入 sources")
    s.put(
        [
            "小区 compound_id",
            "名称 name",
            "户数 households",
            "建筑面积 floor_area_m2",
            "出资比例 contribution_share",
            "原产权单位 owner_unit",
            "改造成本 cost_yuan",
            SOURCE_LABELS["subsidy_yuan"],
            SOURCE_LABELS["utility_yuan"],
            SOURCE_LABELS["original_owner_yuan"],
            SOURCE_LABELS["residents_yuan"],
            SOURCE_LABELS["maintenance_fund_yuan"],
            SOURCE_LABELS["city_budget_yuan"],
            "以奖代补 utility award (in city budget)",
            "依据 basis",
        ]
    )
    at = {}
    for r in report.sources.itertuples(index=False):
        n = s.row + 1
        share = (
            r.contribution_share
            if r.contribution_surveyed
            else "=f_sources_default_contribution_share"
        )
        net = f"D{n}*f_renovation_basic_yuan_per_m2*f_sources_utility_network_share_of_basic"
        nonowned = f"{net}*(1-f_sources_utility_owned_share)*f_sources_utility_nonowned_share"
        award = f"{nonowned}*f_sources_utility_award_share"
        at[str(r.compound_id)] = s.put(
            [
                r.compound_id,
                r.name,
                r.households,
                r.floor_area_m2,
                share,
                r.owner_unit,
                r.cost_yuan,
                r.subsidy_yuan,
                f"=MAX(0,MIN({net}*f_sources_utility_owned_share+{nonowned}-{award},G{n}-H{n}))",
                f"=MAX(0,MIN(IF(LEN(F{n})>0,G{n}*f_sources_original_owner_share,0),G{n}-H{n}-I{n}))",
                f"=MAX(0,MIN(C{n}*E{n}*f_sources_resident_yuan_per_household,G{n}-H{n}-I{n}-J{n}))",
                f"=MAX(0,MIN(C{n}*f_sources_maintenance_fund_yuan_per_household,G{n}-SUM(H{n}:K{n})))",
                f"=G{n}-SUM(H{n}:L{n})",
                f"=MIN({award},M{n})",
                r.basis,
            ],
            formulas=(4, 8, 9, 10, 11, 12, 13)
            if not r.contribution_surveyed
            else (8, 9, 10, 11, 12, 13),
        )
    return at


def _compound_projects(
    wb: Any, report: FinanceReport, years: int, within_at: dict[str, int], src_at: dict[str, int]
) -> None:
    s = Sheet(wb, "小区项目 compound projects")
    fixed = [
        "小区 compound_id",
        "名称 name",
        "改造成本 cost_yuan",
        "设施建设 facility_build_yuan",
        "上级补助 grants_yuan",
        "多元出资 sources_yuan",
        "满负荷设施收入 facility_capacity_income_yuan_per_year",
        "设施运营成本 facility_cost_yuan_per_year",
        "债务 debt_yuan",
        "专项债本息 bond_service_yuan",
        "债券期内收益 income_in_bond_term_yuan",
        "本息覆盖倍数 bond_coverage",
        "融资 financing",
        "净现值 npv_yuan",
        "内部收益率 irr",
        "回收年份 payback_year",
    ]
    k = len(fixed)
    first, last = column(k + 1), column(k + years)
    flag1, flagn = column(k + years + 1), column(k + 2 * years)
    s.put(
        [
            *fixed,
            *[f"=f_cashflow_start_year+{t}" for t in range(years)],
            *[f"回收 {t}" for t in range(years)],
        ],
        formulas=tuple(range(k, k + years)),
    )
    index = "年序 year index t (公式用 used by the formulas)"
    s.put([index, *[""] * (k - 1), *range(years), *range(years)])
    comp = report.projects[report.projects["kind"] == "compound"]
    wsrc, ssrc = "'自求平衡 within-compound'!", "'多元投入 sources'!"
    for r in comp.itertuples(index=False):
        n = s.row + 1
        w, q = within_at[str(r.project_id)], src_at[str(r.project_id)]
        debt = f"I{n}"
        service = (
            f"IF({debt}>0,{debt}*f_bond_rate*f_bond_grace_years+(f_bond_term_years-f_bond_grace_years)"
            f"*PMT(f_bond_rate,f_bond_term_years-f_bond_grace_years,-{debt}),0)"
        )
        flows = []
        for t in range(years):
            c = column(k + 1 + t)
            flows.append(
                f"=IF({c}$2<f_cashflow_construction_years,-(C{n}+D{n}-E{n}-F{n})/f_cashflow_construction_years,0)"
                f"+IF({c}$2>=f_operating_opens_after_years,G{n}*f_operating_uptake-H{n},0)"
            )
        flags = [
            f"=IF(SUM(${first}{n}:{column(k + 1 + t)}{n})>=-{PAYBACK_TOLERANCE_YUAN},1,0)"
            if t == 0
            else f"=IF(OR({column(k + years + t)}{n}=1,SUM(${first}{n}:{column(k + 1 + t)}{n})>=-{PAYBACK_TOLERANCE_YUAN}),1,0)"
            for t in range(years)
        ]
        s.put(
            [
                r.project_id,
                r.name,
                f"={ssrc}G{q}",
                f"={wsrc}C{w}",
                f"={ssrc}H{q}",
                f"=SUM({ssrc}I{q}:L{q})",
                f"={wsrc}D{w}",
                f"={wsrc}F{w}",
                f"=MAX(0,C{n}+D{n}-E{n}-F{n})",
                f"={service}",
                f"=(G{n}*f_operating_uptake-H{n})*MAX(0,f_bond_term_years-f_operating_opens_after_years+1)",
                f'=IF(J{n}>0,K{n}/J{n},"")',
                f'=IF(I{n}<=0,"none",IF(L{n}>=f_bond_min_coverage,"bond","loan"))',
                f"={first}{n}+NPV(f_cashflow_discount_rate,{column(k + 2)}{n}:{last}{n})",
                f'=IF(SUM({first}{n}:{last}{n})>=0,IFERROR(IRR({first}{n}:{last}{n}),""),"")',
                f'=IF(MAX({flag1}{n}:{flagn}{n})=0,"",f_cashflow_start_year+COUNTIF({flag1}{n}:{flagn}{n},0))',
                *flows,
                *flags,
            ],
            formulas=tuple(range(2, k + 2 * years)),
        )


def _largest(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` rows of largest ``cost_yuan``, in their order."""
    if len(frame) <= n:
        return frame
    return cast("pd.DataFrame", frame.loc[frame["cost_yuan"].nlargest(n).index.sort_values()])


def _within_limits(
    report: FinanceReport, max_compounds: int, max_cash_flow_sheets: int
) -> tuple[FinanceReport, list[str]]:
    """The report cut to what a workbook can hold, and what was left out."""
    proj = report.projects
    comp = proj[proj["kind"] == "compound"]
    keep_comp = _largest(comp, max_compounds)
    others = _largest(proj[proj["kind"] != "compound"], max_cash_flow_sheets)
    notes = []
    if len(keep_comp) < len(comp):
        notes.append(
            f"Compound sheets hold the {len(keep_comp):,} of {len(comp):,} old compounds with the "
            "largest cost; all are in finance_projects.csv, funding_lines.csv, facilities.csv."
        )
    if len(others) < (proj["kind"] != "compound").sum():
        notes.append(
            f"Cash-flow sheets for the {len(others):,} of {(proj['kind'] != 'compound').sum():,} "
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


def write_finance_workbook(
    report: FinanceReport,
    path: str | Path,
    *,
    max_compounds: int = 2000,
    max_cash_flow_sheets: int = 200,
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
    max_cash_flow_sheets
        Most cash-flow sheets (bundles and combinations of largest cost).

    Returns
    -------
    Path
        ``path``.
    """
    from openpyxl import Workbook

    report, notes = _within_limits(report, max_compounds, max_cash_flow_sheets)
    for note in notes:
        log.warning("finance.xlsx: %s", note)
    years = timing(report.finance).years
    wb = Workbook(write_only=True)
    proj = report.projects
    bundles = proj[proj["kind"] == "bundle"]
    combos = proj[proj["kind"] == "combination"]
    b_sheets = [f"CF {i}"[:31] for i in bundles["project_id"]]
    c_sheets = [f"CF {i}"[:31] for i in combos["project_id"]]
    _readme(wb, years, notes)
    projects_sheet(wb, "大片区 bundles", bundles, b_sheets)
    projects_sheet(wb, "跨片区 combinations", combos, c_sheets)
    within_at = _within(wb, report)
    src_at = _sources(wb, report)
    _compound_projects(wb, report, years, within_at, src_at)
    sens = Sheet(wb, "敏感性 sensitivity")
    sens.put([_SENSITIVITY_HEADERS.get(c, c) for c in report.sensitivity.columns])
    for r in report.sensitivity.itertuples(index=False):
        sens.put(list(r))
    _assumptions(wb, report)
    _facilities(wb, report)
    for r in pd.concat([bundles, combos]).itertuples(index=False):
        cash_flow_sheet(wb, r, years)
    return save_workbook(wb, path)
