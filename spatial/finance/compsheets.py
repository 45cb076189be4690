"""Compound sheets of ``finance.xlsx``: operating facilities (自求平衡, one row per compound)
and the funding lines (多元投入), as formulas over the named figures of 假设 with the
values Python computed, in 万元."""

from __future__ import annotations

from typing import Any

import pandas as pd

from spatial.finance._xlsx import WAN, Book, Formula, column, figure_name
from spatial.finance.operating import FACILITIES
from spatial.finance.sources import SOURCE_LABELS

__all__ = ["SOURCES", "WITHIN", "WITHIN_COLUMNS", "sources_sheet", "within_sheet"]

WITHIN = "自求平衡 within-compound"
SOURCES = "多元投入 sources"
#: Columns of the within-compound sheet that the compound projects link to.
WITHIN_COLUMNS = {
    "build": column(3 + len(FACILITIES)),
    "capacity_income": column(4 + len(FACILITIES)),
    "cost": column(6 + len(FACILITIES)),
}


def _wan(label: str) -> str:
    """A funding line's label with its unit."""
    return label.replace("_yuan", "") + " (万元)"


def within_sheet(book: Book, within: pd.DataFrame, facilities: pd.DataFrame) -> dict[str, int]:
    """Write each compound's operating facilities (units of each, by :data:`FACILITIES`)
    and their build cost, income, running cost and payback as formulas over the named
    per-unit figures.

    Parameters
    ----------
    book
        The workbook (with the named figures).
    within
        :attr:`FinanceReport.within`.
    facilities
        :attr:`FinanceReport.facilities` (one row per compound and facility).

    Returns
    -------
    dict
        Compound id → its row; the columns are :data:`WITHIN_COLUMNS`.
    """
    keys = list(FACILITIES)
    units = facilities.pivot_table(
        index="compound_id", columns="facility", values="units", aggfunc="sum", fill_value=0
    ).reindex(index=within["compound_id"].astype(str), columns=keys, fill_value=0)
    basis = facilities.groupby("compound_id")["basis"].first().str.split("; ", n=1).str[-1]
    heads = ["小区 compound_id", "名称 name"]
    heads += [f"{zh} {en} ({unit})" for zh, en, unit in FACILITIES.values()]
    heads += [
        "建设投入 facility build (万元)",
        "满负荷收入 capacity income (万元/年 per year)",
        "收入 income (万元/年 per year)",
        "运营成本 running cost (万元/年 per year)",
        "净收入 net income (万元/年 per year)",
        "回收年限 payback (years 年)",
        "依据 basis",
    ]
    s = book.sheet(
        WITHIN,
        heads,
        kinds=["text", "text", *["count"] * len(keys), *["money"] * 5, "ratio", "text"],
        widths={len(heads) - 1: 60},
    )
    first = 3  # column of the first facility's units
    cells = [column(first + k) for k in range(len(keys))]

    def per_unit(figure: str, n: int) -> str:
        terms = "+".join(
            f"{c}{n}*{figure_name(k + '.' + figure)}" for c, k in zip(cells, keys, strict=True)
        )
        return f"=({terms})/{WAN:.0f}"

    cols = [
        "facility_build_yuan",
        "facility_capacity_income_yuan_per_year",
        "facility_income_yuan_per_year",
        "facility_cost_yuan_per_year",
        "facility_net_yuan_per_year",
    ]
    money = within[cols].to_numpy(float) / WAN
    paybacks = within["payback_years"].to_numpy(float)
    b, cap, inc, cost, net = (column(first + len(keys) + k) for k in range(5))
    at = {}
    for r, u, m, payback in zip(
        within.itertuples(index=False), units.to_numpy(), money, paybacks, strict=True
    ):
        n = s.row + 1
        at[str(r.compound_id)] = s.put(
            [
                str(r.compound_id),
                r.name if isinstance(r.name, str) else None,
                *u.tolist(),
                Formula(per_unit("build_yuan_per_unit", n), m[0]),
                Formula(per_unit("income_yuan_per_unit_year", n), m[1]),
                Formula(f"={cap}{n}*f_operating_uptake", m[2]),
                Formula(per_unit("cost_yuan_per_unit_year", n), m[3]),
                Formula(f"={inc}{n}-{cost}{n}", m[4]),
                Formula(f'=IF({net}{n}>0,{b}{n}/{net}{n},"")', payback),
                basis.get(str(r.compound_id), ""),
            ]
        )
    return at


def sources_sheet(book: Book, sources: pd.DataFrame) -> dict[str, int]:
    """Write each compound's funding lines (政府引导的多元化投入) as formulas.

    Parameters
    ----------
    book
        The workbook (with the named figures).
    sources
        :attr:`FinanceReport.sources`.

    Returns
    -------
    dict
        Compound id → its row.
    """
    lines = [
        "subsidy_yuan",
        "utility_yuan",
        "original_owner_yuan",
        "residents_yuan",
        "maintenance_fund_yuan",
        "city_budget_yuan",
    ]
    s = book.sheet(
        SOURCES,
        [
            "小区 compound_id",
            "名称 name",
            "户数 households",
            "建筑面积 floor area (m²)",
            "出资比例 contribution share",
            "原产权单位 owner unit",
            "改造成本 cost (万元)",
            *[_wan(SOURCE_LABELS[k]) for k in lines],
            "以奖代补 utility award, in city budget (万元)",
            "依据 basis",
        ],
        kinds=["text", "text", "count", "count", "share", "text", *["money"] * 8, "text"],
        widths={14: 60},
    )
    money = sources[["cost_yuan", *lines, "utility_award_yuan"]].to_numpy(float) / WAN
    at = {}
    w = f"{WAN:.0f}"
    for r, m in zip(sources.itertuples(index=False), money, strict=True):
        n = s.row + 1
        share: Any = (
            r.contribution_share
            if r.contribution_surveyed
            else Formula("=f_sources_default_contribution_share", r.contribution_share)
        )
        net = f"D{n}*f_renovation_basic_yuan_per_m2/{w}*f_sources_utility_network_share_of_basic"
        nonowned = f"{net}*(1-f_sources_utility_owned_share)*f_sources_utility_nonowned_share"
        award = f"{nonowned}*f_sources_utility_award_share"
        at[str(r.compound_id)] = s.put(
            [
                str(r.compound_id),
                r.name if isinstance(r.name, str) else None,
                r.households,
                r.floor_area_m2,
                share,
                r.owner_unit if isinstance(r.owner_unit, str) else None,
                m[0],
                m[1],
                Formula(
                    f"=MAX(0,MIN({net}*f_sources_utility_owned_share+{nonowned}-{award},G{n}-H{n}))",
                    m[2],
                ),
                Formula(
                    f"=MAX(0,MIN(IF(LEN(F{n})>0,G{n}*f_sources_original_owner_share,0),G{n}-H{n}-I{n}))",
                    m[3],
                ),
                Formula(
                    f"=MAX(0,MIN(C{n}*E{n}*f_sources_resident_yuan_per_household/{w},G{n}-H{n}-I{n}-J{n}))",
                    m[4],
                ),
                Formula(
                    f"=MAX(0,MIN(C{n}*f_sources_maintenance_fund_yuan_per_household/{w},G{n}-SUM(H{n}:K{n})))",
                    m[5],
                ),
                Formula(f"=G{n}-SUM(H{n}:L{n})", m[6]),
                Formula(f"=MIN({award},M{n})", m[7]),
                r.basis,
            ]
        )
    return at
