# ruff: noqa: E501  (spreadsheet formulas read best on one line)
"""Sheets of ``finance.xlsx`` for bundles and combinations: one cash-flow sheet per project
(inputs, yearly lines, debt schedule, NPV, IRR, coverage, payback, all formulas) and the
list of projects linking to them."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pandas as pd

from spatial.finance._xlsx import Sheet, column
from spatial.finance.cashflow import FLOW_LINES, PAYBACK_TOLERANCE_YUAN

__all__ = ["cash_flow_sheet", "projects_sheet"]


_CF_ROWS = {
    "construction": "=IF({c}$17<f_cashflow_construction_years,-$B$3/f_cashflow_construction_years,0)",
    "facility_build": "=IF({c}$17<f_cashflow_construction_years,-$B$4/f_cashflow_construction_years,0)",
    "grants": "=IF({c}$17<f_cashflow_construction_years,$B$5/f_cashflow_construction_years,0)",
    "sources": "=IF({c}$17<f_cashflow_construction_years,$B$6/f_cashflow_construction_years,0)",
    "land": "=IF({c}$17=f_cashflow_land_sale_year,$B$7,0)",
    "transfer": "=IF({c}$17=f_cashflow_land_sale_year,$B$8,0)",
    "facility_income": "=IF({c}$17>=f_operating_opens_after_years,$B$9*f_operating_uptake,0)",
    "facility_cost": "=IF({c}$17>=f_operating_opens_after_years,-$B$10,0)",
}


def cash_flow_sheet(wb: Any, r: Any, years: int) -> str:
    """Write one project's cash-flow sheet (``CF <project_id>``).

    Parameters
    ----------
    wb
        The openpyxl workbook (with the named figures).
    r
        The project (a row of :attr:`FinanceReport.projects`).
    years
        Years of flow.

    Returns
    -------
    str
        The sheet's name. Inputs are B3:B10; debt, bond service, income in the bond
        term, coverage and financing B11:B15; NPV, IRR and payback B36:B38.
    """
    title = f"CF {r.project_id}"[:31]
    s = Sheet(wb, title, widths={"A": 46, "B": 16})
    s.put([f"现金流 Cash flow — {r.project_id}", r.name])
    inputs = [
        ("改造与安置成本 cost_yuan", r.cost_yuan),
        ("经营设施建设 facility_build_yuan", r.facility_build_yuan),
        ("上级补助 grants_yuan", r.grants_yuan),
        ("多元出资 sources_yuan", r.sources_yuan),
        ("土地收益 land_yuan", r.land_yuan),
        ("跨片区调入 transfer_yuan", r.transfer_yuan),
        (
            "满负荷设施收入 facility_capacity_income_yuan_per_year",
            r.facility_capacity_income_yuan_per_year,
        ),
        ("设施运营成本 facility_cost_yuan_per_year", r.facility_cost_yuan_per_year),
    ]
    s.put(["输入 inputs (yuan; edit them)", ""])
    for label, value in inputs:
        s.put([label, value])  # rows 3..10
    last = column(2 + years)
    yrs = f"C17:{last}17"
    service_bond = (
        "IF(B11>0,B11*f_bond_rate*f_bond_grace_years+(f_bond_term_years-f_bond_grace_years)"
        "*PMT(f_bond_rate,f_bond_term_years-f_bond_grace_years,-B11),0)"
    )

    def figure(label: str, formula: str) -> None:  # column B: one formula
        s.put([label, formula], formulas=(1,))

    def by_year(label: str, cells: list[Any]) -> None:  # columns C…: one cell per year
        s.put([label, "", *cells], formulas=tuple(range(2, 2 + len(cells))))

    cols = [column(3 + t) for t in range(years)]
    tol = PAYBACK_TOLERANCE_YUAN
    rate = 'IF($B$15="bond",f_bond_rate,f_loan_rate)'
    term = 'IF($B$15="bond",f_bond_term_years,f_loan_term_years)'
    grace = 'IF($B$15="bond",f_bond_grace_years,f_loan_grace_years)'
    in_term = f"AND({{c}}$17>=1,{{c}}$17<={term})"
    figure("债务 debt_yuan", "=MAX(0,B3+B4-B5-B6)")  # 11
    figure("专项债本息 bond_service_yuan", f"={service_bond}")  # 12
    figure(
        "债券期内收益 income_in_bond_term_yuan",
        f"=SUMPRODUCT(({yrs}<=f_bond_term_years)*(C28:{last}28))",
    )  # 13
    figure("本息覆盖倍数 bond_coverage", '=IF(B12>0,B13/B12,"")')  # 14
    figure("融资 financing", '=IF(B11<=0,"none",IF(B14>=f_bond_min_coverage,"bond","loan"))')
    by_year("年份 year", [f"=f_cashflow_start_year+{t}" for t in range(years)])  # 16
    s.put(["t", "", *range(years)])  # 17
    for key, template in _CF_ROWS.items():  # 18..25
        by_year(FLOW_LINES[key], [template.format(c=c) for c in cols])
    by_year("净现金流 net flow", [f"=SUM({c}18:{c}25)" for c in cols])  # 26
    by_year("累计 cumulative", [f"=SUM($C26:{c}26)" for c in cols])  # 27
    by_year("项目收益 project income", [f"={c}22+{c}23+{c}24+{c}25" for c in cols])  # 28
    by_year("期初债务 opening debt", ["=$B$11", *[f"={c}34" for c in cols[:-1]]])  # 29
    by_year("利息 interest", [f"=IF({in_term.format(c=c)},{c}29*{rate},0)" for c in cols])  # 30
    by_year(
        "还本付息 debt service",
        [
            f"=IF({in_term.format(c=c)},IF({c}$17<={grace},{c}30,"
            f"PMT({rate},{term}-{grace},-$B$11)),0)"
            for c in cols
        ],
    )  # 31
    by_year("本金 principal", [f"={c}31-{c}30" for c in cols])  # 32
    by_year(
        "已回收 paid back",
        [f"=IF({cols[0]}27>=-{tol},1,0)"]
        + [f"=IF(OR({p}33=1,{c}27>=-{tol}),1,0)" for p, c in pairwise(cols)],
    )  # 33
    by_year("期末债务 closing debt", [f"={c}29-{c}32" for c in cols])  # 34
    s.put([""])  # 35
    figure("净现值 npv_yuan", f"=C26+NPV(f_cashflow_discount_rate,D26:{last}26)")  # 36
    figure("内部收益率 irr", f'=IF(SUM(C26:{last}26)>=0,IFERROR(IRR(C26:{last}26),""),"")')
    figure(
        "回收年份 payback_year",
        f'=IF(MAX(C33:{last}33)=0,"",f_cashflow_start_year+COUNTIF(C33:{last}33,0))',
    )  # 38
    return title


def projects_sheet(wb: Any, title: str, rows: pd.DataFrame, sheets: list[str]) -> None:
    """Write the list of bundles or combinations, each row linked to its cash-flow sheet.

    Parameters
    ----------
    wb
        The openpyxl workbook.
    title
        Sheet title.
    rows
        The projects.
    sheets
        Their cash-flow sheets' names, in the same order.
    """
    s = Sheet(wb, title)
    s.put(
        [
            "项目 project_id",
            "名称 name",
            "改造与安置成本 cost_yuan",
            "上级补助 grants_yuan",
            "多元出资 sources_yuan",
            "土地收益 land_yuan",
            "跨片区调入 transfer_yuan",
            "静态平衡 static balance_yuan",
            "净现值 npv_yuan",
            "内部收益率 irr",
            "本息覆盖倍数 bond_coverage",
            "融资 financing",
            "回收年份 payback_year",
            "现金流表 sheet",
        ]
    )
    for r, sheet in zip(rows.itertuples(index=False), sheets, strict=True):
        q = f"'{sheet}'!"
        n = s.row + 1
        s.put(
            [
                r.project_id,
                r.name,
                f"={q}B3",
                f"={q}B5",
                f"={q}B6",
                f"={q}B7",
                f"={q}B8",
                f"=F{n}+G{n}-(C{n}-D{n})",
                f"={q}B36",
                f"={q}B37",
                f"={q}B14",
                f"={q}B15",
                f"={q}B38",
                sheet,
            ],
            formulas=tuple(range(2, 13)),
        )
