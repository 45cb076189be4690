# ruff: noqa: E501  (spreadsheet formulas read best on one line)
"""Project sheets of ``finance.xlsx``: a table of projects with their yearly net flows in
the row (compounds, bundles, combinations), full cash-flow sheets (lines, debt schedule)
for the largest bundles and combinations, and every project's flows as one long table.

Amounts are 万元; each formula carries the value Python computes by the same rule
(:mod:`spatial.finance.cashflow`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spatial.finance._xlsx import WAN, Book, Formula, Link, column
from spatial.finance.cashflow import (
    COMPONENTS,
    DEBT_LINES,
    FLOW_LINES,
    PAYBACK_TOLERANCE_YUAN,
    CashFlows,
    Timing,
    annuity,
)

__all__ = ["UPPER", "Money", "cash_flow_sheet", "flows_sheet", "project_table", "running_sum_sheet"]

_TOL = PAYBACK_TOLERANCE_YUAN / WAN
_FIXED = [
    ("项目 project_id", "text"),
    ("名称 name", "text"),
    ("改造与安置成本 cost (万元)", "money"),
    ("经营设施建设 facility build (万元)", "money"),
    ("上级补助 grants (万元)", "money"),
    ("多元出资 other sources (万元)", "money"),
    ("土地收益 land revenue (万元)", "money"),
    ("跨片区调入 transfer in (万元)", "money"),
    ("满负荷设施收入 facility capacity income (万元/年 per year)", "money"),
    ("设施运营成本 facility running cost (万元/年 per year)", "money"),
    ("债务 debt (万元)", "money"),
    ("专项债本息 bond service (万元)", "money"),
    ("债券期内收益 income in bond term (万元)", "money"),
    ("本息覆盖倍数 bond coverage", "ratio"),
    ("融资 financing", "text"),
    ("净现值 NPV (万元)", "money"),
    ("内部收益率 IRR", "rate"),
    ("回收年份 payback year", "year"),
    ("现金流表 cash-flow sheet", "text"),
]
_FIRST = len(_FIXED) + 1  # column of year 0's net flow
#: Name of the upper-triangular matrix of ones: a row of flows times it is their running sum.
UPPER = "f_running_sum"
_BOND_SERVICE = (
    "IF({d}>0,{d}*f_bond_rate*f_bond_grace_years+(f_bond_term_years-f_bond_grace_years)"
    "*PMT(f_bond_rate,f_bond_term_years-f_bond_grace_years,-{d}),0)"
)


@dataclass(frozen=True)
class Money:
    """The values of the project formulas, in 万元, by the rules of the cash-flow model.

    Attributes
    ----------
    timing
        Years and terms.
    inputs
        Projects × :data:`~spatial.finance.cashflow.COMPONENTS`.
    summary
        Debt, bond service, income in the bond term, coverage, financing, NPV, IRR,
        payback year by project.
    lines
        Line → ``(n, years)``: the cash-flow lines, ``net``, ``cumulative``,
        ``paid_back`` and the debt lines.
    """

    timing: Timing
    inputs: pd.DataFrame
    summary: pd.DataFrame
    lines: dict[str, np.ndarray]

    @classmethod
    def of(cls, projects: pd.DataFrame, flows: CashFlows, timing: Timing) -> Money:
        """The values of ``projects`` (rows of the report, index = position in ``flows``).

        Parameters
        ----------
        projects
            Rows of :attr:`FinanceReport.projects` (their index is their position).
        flows
            The report's cash flows.
        timing
            The report's timing.

        Returns
        -------
        Money
            Indexed like ``projects``.
        """
        at = projects.index.to_numpy()
        lines = {k: v[at] / WAN for k, v in flows.lines.items()}
        net = lines["net"]
        lines["cumulative"] = np.cumsum(net, axis=1)
        lines["paid_back"] = np.maximum.accumulate(lines["cumulative"] >= -_TOL, axis=1).astype(int)
        lines["opening"] = lines["debt_balance"] + lines["principal"]
        inputs = projects[list(COMPONENTS)].apply(pd.to_numeric, errors="coerce").fillna(0.0) / WAN
        bond = timing.bond
        debt = projects["debt_yuan"].to_numpy(float) / WAN
        pay = annuity(debt, rate=bond.rate, years=bond.term_years - bond.grace_years)
        service = np.where(
            debt > 0,
            debt * bond.rate * bond.grace_years + (bond.term_years - bond.grace_years) * pay,
            0.0,
        )
        earning = sum(lines[k] for k in ("land", "transfer", "facility_income", "facility_cost"))
        summary = pd.DataFrame(
            {
                "debt": debt,
                "service": service,
                "earning": earning[:, : bond.term_years + 1].sum(axis=1),
                "coverage": projects["bond_coverage"].to_numpy(float),
                "financing": projects["financing"].to_numpy(),
                "npv": projects["npv_yuan"].to_numpy(float) / WAN,
                "irr": projects["irr"].to_numpy(float),
                "payback": projects["payback_year"].to_numpy(float),
            },
            index=projects.index,
        )
        return cls(timing, inputs, summary, lines)


def _flow_formula(t: int, n: int) -> str:
    return (
        f"=IF({t}<f_cashflow_construction_years,-(C{n}+D{n}-E{n}-F{n})/f_cashflow_construction_years,0)"
        f"+IF({t}=f_cashflow_land_sale_year,G{n}+H{n},0)"
        f"+IF({t}>=f_operating_opens_after_years,I{n}*f_operating_uptake-J{n},0)"
    )


def project_table(
    book: Book,
    title: str,
    projects: pd.DataFrame,
    money: Money,
    *,
    sheets: dict[str, str],
    inputs: Callable[[Any, int, list[float]], Sequence[Formula]] | None = None,
) -> dict[str, int]:
    """Write a table of projects, one row each with its yearly net flows to the right of the
    summary (payback: the first year whose running sum, flows × :data:`UPPER`, is ≥ 0).

    Parameters
    ----------
    book
        The workbook (with the named figures).
    title
        Sheet title.
    projects
        Rows of :attr:`FinanceReport.projects`.
    money
        Their values (:meth:`Money.of`).
    sheets
        Project id → its cash-flow sheet, for those that have one.
    inputs
        For a row, its spreadsheet row number and the inputs' values, formulas of the
        eight inputs (compounds: links to their funding lines and facilities); None
        writes the values.

    Returns
    -------
    dict
        Project id → its row number.
    """
    years = money.timing.years
    heads = [h for h, _ in _FIXED]
    heads += [f"净现金流 net flow 第{t}年 y{t} (万元)" for t in range(years)]
    kinds = [k for _, k in _FIXED] + ["money"] * years
    s = book.sheet(title, heads, kinds=kinds, widths={1: 18})
    first, last = column(_FIRST), column(_FIRST + years - 1)
    at: dict[str, int] = {}
    # each row's figures looked up once for the whole table, not one pandas lookup a row
    rows_at = money.inputs.index.get_indexer(projects.index)
    summary = money.summary.loc[projects.index].to_dict("records")
    inp = money.inputs.loc[projects.index].to_numpy().tolist()
    nets = money.lines["net"]
    each = zip(rows_at, summary, inp, projects.itertuples(index=False), strict=True)
    for i, v, values, r in each:
        n = s.row + 1
        ins: Sequence[Any] = inputs(r, n, values) if inputs else values
        net = nets[i]
        sheet = sheets.get(str(r.project_id))
        flows = [Formula(_flow_formula(t, n), net[t]) for t in range(years)]
        at[str(r.project_id)] = s.put(
            [
                str(r.project_id),
                r.name if isinstance(r.name, str) else None,
                *ins,
                Formula(f"=MAX(0,C{n}+D{n}-E{n}-F{n})", v["debt"]),
                Formula("=" + _BOND_SERVICE.format(d=f"K{n}"), v["service"]),
                Formula(
                    f"=IF(f_cashflow_land_sale_year<=f_bond_term_years,G{n}+H{n},0)"
                    f"+(I{n}*f_operating_uptake-J{n})*MAX(0,f_bond_term_years-f_operating_opens_after_years+1)",
                    v["earning"],
                ),
                Formula(f'=IF(L{n}>0,M{n}/L{n},"")', v["coverage"]),
                Formula(
                    f'=IF(K{n}<=0,"none",IF(N{n}>=f_bond_min_coverage,"bond","loan"))',
                    v["financing"],
                ),
                Formula(
                    f"={first}{n}+NPV(f_cashflow_discount_rate,{column(_FIRST + 1)}{n}:{last}{n})",
                    v["npv"],
                ),
                Formula(
                    f'=IF(SUM({first}{n}:{last}{n})>=0,IFERROR(IRR({first}{n}:{last}{n}),""),"")',
                    v["irr"],
                ),
                Formula(
                    f'{{=IFERROR(f_cashflow_start_year+MATCH(TRUE,MMULT({first}{n}:{last}{n},{UPPER})>=-{_TOL},0)-1,"")}}',
                    v["payback"],
                ),
                Link(sheet, sheet) if sheet else None,
                *flows,
            ]
        )
    return at


def pos_of(money: Money, pos: Any) -> int:
    """Row of a project in the arrays of ``money``.

    Parameters
    ----------
    money
        Values.
    pos
        The project's index label.

    Returns
    -------
    int
        Its position.
    """
    return int(money.inputs.index.get_indexer(pd.Index([pos]))[0])


def cash_flow_sheet(book: Book, project: pd.Series, money: Money, *, table: str, row: int) -> str:
    """Write one project's cash-flow sheet (``CF <project_id>``): its inputs linked to its
    row of the project table, the yearly lines, the debt schedule, NPV, IRR and payback.

    Parameters
    ----------
    book
        The workbook (with the named figures).
    project
        The project (a row of :attr:`FinanceReport.projects`; its name is its position).
    money
        Values of the projects (:meth:`Money.of`).
    table
        The project table's sheet.
    row
        The project's row there.

    Returns
    -------
    str
        The sheet's name.
    """
    years = money.timing.years
    i = pos_of(money, project.name)
    lines, v = money.lines, money.summary.iloc[i]
    title = f"CF {project['project_id']}"[:31]
    s = book.sheet(title, [], kinds=["text"] + ["money"] * (years + 1), widths={0: 46, 1: 16})
    for j in range(2, 2 + years):
        s.ws.set_column(j, j, 12)
    name = project["name"]
    s.put([f"现金流 Cash flow — {project['project_id']}", name if isinstance(name, str) else None])
    s.put([f"输入 inputs (万元; 在 edit on '{table}' 第 row {row} 行)"])
    src = f"'{table}'!"
    labels = [h for h, _ in _FIXED[2:10]]
    for label, letter, value in zip(labels, "CDEFGHIJ", money.inputs.iloc[i], strict=True):
        s.put([label, Formula(f"={src}{letter}{row}", value)])  # rows 3..10
    cols = [column(3 + t) for t in range(years)]
    last = cols[-1]
    rate = 'IF($B$15="bond",f_bond_rate,f_loan_rate)'
    term = 'IF($B$15="bond",f_bond_term_years,f_loan_term_years)'
    grace = 'IF($B$15="bond",f_bond_grace_years,f_loan_grace_years)'

    def figure(label: str, formula: str, value: Any) -> None:
        s.put([label, Formula(formula, value)])

    def by_year(label: str, cells: list[str], values: Any, kind: str = "money") -> None:
        s.put(
            [label, None, *(Formula(c, x) for c, x in zip(cells, values, strict=True))], kind=kind
        )

    figure("债务 debt (万元)", "=MAX(0,B3+B4-B5-B6)", v["debt"])  # 11
    figure("专项债本息 bond service (万元)", "=" + _BOND_SERVICE.format(d="B11"), v["service"])
    figure(
        "债券期内收益 income in bond term (万元)",
        f"=SUMPRODUCT((C16:{last}16-f_cashflow_start_year<=f_bond_term_years)*(C27:{last}27))",
        v["earning"],
    )  # 13
    s.put(
        ["本息覆盖倍数 bond coverage", Formula('=IF(B12>0,B13/B12,"")', v["coverage"])],
        kind="ratio",
    )
    figure(
        "融资 financing",
        '=IF(B11<=0,"none",IF(B14>=f_bond_min_coverage,"bond","loan"))',
        v["financing"],
    )  # 15
    start = money.timing.start_year
    by_year(
        "年份 year",
        [f"=f_cashflow_start_year+{t}" for t in range(years)],
        range(start, start + years),
        "year",
    )  # 16
    when = {
        "construction": (
            "IF({t}<f_cashflow_construction_years,-$B$3/f_cashflow_construction_years,0)"
        ),
        "facility_build": "IF({t}<f_cashflow_construction_years,-$B$4/f_cashflow_construction_years,0)",
        "grants": "IF({t}<f_cashflow_construction_years,$B$5/f_cashflow_construction_years,0)",
        "sources": "IF({t}<f_cashflow_construction_years,$B$6/f_cashflow_construction_years,0)",
        "land": "IF({t}=f_cashflow_land_sale_year,$B$7,0)",
        "transfer": "IF({t}=f_cashflow_land_sale_year,$B$8,0)",
        "facility_income": "IF({t}>=f_operating_opens_after_years,$B$9*f_operating_uptake,0)",
        "facility_cost": "IF({t}>=f_operating_opens_after_years,-$B$10,0)",
    }
    for key, rule in when.items():  # 17..24
        by_year(
            f"{FLOW_LINES[key]} (万元)",
            ["=" + rule.format(t=t) for t in range(years)],
            lines[key][i],
        )
    by_year("净现金流 net flow (万元)", [f"=SUM({c}17:{c}24)" for c in cols], lines["net"][i])
    by_year("累计 cumulative (万元)", [f"=SUM($C25:{c}25)" for c in cols], lines["cumulative"][i])
    earning = sum(lines[k][i] for k in ("land", "transfer", "facility_income", "facility_cost"))
    by_year("项目收益 project income (万元)", [f"={c}21+{c}22+{c}23+{c}24" for c in cols], earning)
    by_year(
        "期初债务 opening debt (万元)",
        ["=$B$11", *[f"={c}33" for c in cols[:-1]]],
        lines["opening"][i],
    )  # 28
    in_term = "AND({t}>=1,{t}<=" + term + ")"
    by_year(
        f"{DEBT_LINES['interest']} (万元)",
        [f"=IF({in_term.format(t=t)},{c}28*{rate},0)" for t, c in enumerate(cols)],
        lines["interest"][i],
    )  # 29
    by_year(
        f"{DEBT_LINES['debt_service']} (万元)",
        [
            f"=IF({in_term.format(t=t)},IF({t}<={grace},{c}29,PMT({rate},{term}-{grace},-$B$11)),0)"
            for t, c in enumerate(cols)
        ],
        lines["debt_service"][i],
    )  # 30
    by_year(
        f"{DEBT_LINES['principal']} (万元)", [f"={c}30-{c}29" for c in cols], lines["principal"][i]
    )  # 31
    paid = [f"=IF({cols[0]}26>=-{_TOL},1,0)"]
    paid += [f"=IF(OR({p}32=1,{c}26>=-{_TOL}),1,0)" for p, c in itertools.pairwise(cols)]
    by_year("已回收 paid back (1 = yes)", paid, lines["paid_back"][i], "count")  # 32
    by_year(
        f"{DEBT_LINES['debt_balance']} (万元)",
        [f"={c}28-{c}31" for c in cols],
        lines["debt_balance"][i],
    )  # 33
    figure("净现值 NPV (万元)", f"=C25+NPV(f_cashflow_discount_rate,D25:{last}25)", v["npv"])  # 34
    irr = f'=IF(SUM(C25:{last}25)>=0,IFERROR(IRR(C25:{last}25),""),"")'
    s.put(["内部收益率 IRR", Formula(irr, v["irr"])], kind="rate")
    payback = f'=IF(MAX(C32:{last}32)=0,"",f_cashflow_start_year+COUNTIF(C32:{last}32,0))'
    s.put(["回收年份 payback year", Formula(payback, v["payback"])], kind="year")  # 36
    return title


_LONG_LINES = {**FLOW_LINES, "net": "净现金流 net flow"}


def flows_sheet(book: Book, projects: pd.DataFrame, money: Money, *, max_rows: int) -> int:
    """Write the projects' yearly lines (:data:`~spatial.finance.cashflow.FLOW_LINES` and
    the net flow) as one long table (project, year, line, amount in 万元; zero
    amounts left out), for filters and pivot tables.

    Parameters
    ----------
    book
        The workbook.
    projects
        Rows of :attr:`FinanceReport.projects`.
    money
        Their values.
    max_rows
        Most rows written: whole projects, those of largest cost first.

    Returns
    -------
    int
        Projects left out.
    """
    years = money.timing.years
    year_of = money.timing.start_year + np.arange(years)
    at = np.array([pos_of(money, p) for p in projects.index], dtype=int)
    order = np.argsort(-money.inputs["cost_yuan"].to_numpy()[at], kind="stable")
    s = book.sheet(
        "现金流 cash flows",
        ["项目 project_id", "年份 year", "科目 line", "金额 amount (万元)"],
        kinds=["text", "year", "text", "money"],
        widths={2: 30, 3: 16},
    )
    ids = projects["project_id"].astype(str).to_numpy()
    written = left = 0
    for i in order:
        rows = [(key, t) for key in _LONG_LINES for t in np.flatnonzero(money.lines[key][at[i]])]
        if written + len(rows) > max_rows:
            left += 1
            continue
        for key, t in rows:
            s.put([ids[i], int(year_of[t]), _LONG_LINES[key], money.lines[key][at[i], t]])
        written += len(rows)
    return left


def running_sum_sheet(book: Book, years: int) -> None:
    """Write the matrix :data:`UPPER` (ones on and above the diagonal) the payback formulas
    use, with a line saying what it is.

    Parameters
    ----------
    book
        The workbook.
    years
        Years of flow.
    """
    s = book.sheet("辅助 helper", [], widths={0: 4}, table=False)
    s.put(
        [
            "累计矩阵 running-sum matrix: 一行年度现金流 × 此矩阵 = 累计现金流 (used by 回收年份 payback year)"
        ]
    )
    for i in range(years):
        s.put([None, *(int(i <= j) for j in range(years))])
    book.wb.define_name(UPPER, f"='辅助 helper'!$B$2:${column(1 + years)}${1 + years}")
