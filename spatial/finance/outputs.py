"""The finance outputs of a bundles folder, and the finance columns of its tables.

``finance.xlsx`` (live formulas, :mod:`spatial.finance.workbook`), ``sensitivity.html``
(every bundle's tornado chart, offline), ``finance_projects.csv`` (one row per compound,
bundle and combination: components, NPV, IRR, coverage, financing, payback),
``funding_lines.csv``, ``facilities.csv`` (one row per old compound: units of each
facility, totals, payback) and ``sensitivity.csv`` (one row per bundle: NPV in each
scenario, what flips it). The bundles and members tables (and so the bundle map's popups)
get NPV, bond coverage, financing and the funding lines.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from spatial.bundling import BundleResult
from spatial.finance.operating import FACILITIES
from spatial.finance.projects import FinanceReport, bundle_finance_columns
from spatial.finance.sensitivity import sensitivity_table, tornado_html
from spatial.finance.sources import SOURCE_COLUMNS
from spatial.finance.workbook import write_finance_workbook
from spatial.io.outputs.write import write_csv, write_text
from spatial.settings import DEFAULTS

__all__ = [
    "FUNDING_LINES",
    "facilities_table",
    "sensitivity_table",
    "with_finance_columns",
    "write_finance_outputs",
]

#: Funding lines carried by members and summed by bundles (besides ``subsidy_yuan``).
FUNDING_LINES = (*[c for c in SOURCE_COLUMNS if c != "subsidy_yuan"], "city_budget_yuan")


def with_finance_columns(result: BundleResult, report: FinanceReport) -> BundleResult:
    """A copy of ``result`` whose bundles and members carry the finance figures.

    Parameters
    ----------
    result
        A bundling result.
    report
        :func:`spatial.finance.finance_report` of it.

    Returns
    -------
    BundleResult
        Members (old compounds) get the :data:`FUNDING_LINES`, ``facility_net_yuan_per_year``
        and ``payback_years``; bundles get their sums and ``npv_yuan``, ``irr``,
        ``bond_coverage``, ``bond_eligible``, ``financing``, ``payback_year``,
        ``flips_in_sensitivity``. Yuan.
    """
    lines = report.sources.set_index("compound_id")[list(FUNDING_LINES)]
    within = report.within.set_index("compound_id")[["facility_net_yuan_per_year", "payback_years"]]
    per = lines.join(within)
    per = per[~per.index.duplicated()]
    members = result.members.copy()
    is_comp = (members["kind"] == "old_compound").to_numpy()
    got = per.reindex(members["id"].astype(str).to_numpy())
    for col in per.columns:
        members[col] = np.where(is_comp, got[col].to_numpy(float), 0.0)
    members["payback_years"] = members["payback_years"].replace(np.inf, np.nan)
    sums = members.groupby("bundle_id")[list(FUNDING_LINES)].sum()
    bundles = result.bundles.copy()
    keys = bundles["bundle_id"].to_numpy()
    for col in FUNDING_LINES:
        bundles[col] = sums[col].reindex(keys).fillna(0.0).to_numpy()
    extra = bundle_finance_columns(report).reindex(keys)
    for col in extra.columns:
        bundles[col] = extra[col].to_numpy()
    return replace(result, bundles=bundles, members=members)


def facilities_table(report: FinanceReport) -> pd.DataFrame:
    """One row per old compound: units of each facility, their totals and payback.

    Parameters
    ----------
    report
        From :func:`spatial.finance.finance_report`.

    Returns
    -------
    DataFrame
        ``compound_id``, ``name``, ``<facility>_units`` for each of
        :data:`spatial.finance.FACILITIES`, the totals and ``payback_years`` of
        :func:`spatial.finance.within_compound`, and ``basis`` (land, footprint, free
        land and buildings used). Yuan.
    """
    rows = report.facilities
    units = rows.pivot_table(
        index="compound_id", columns="facility", values="units", aggfunc="sum", fill_value=0
    )
    units = units.reindex(columns=list(FACILITIES), fill_value=0).add_suffix("_units")
    basis = rows.groupby("compound_id")["basis"].first().str.split("; ", n=1).str[-1]
    out = report.within.copy()
    ids = out["compound_id"].astype(str)
    for col in units.columns:
        out.insert(
            out.columns.get_loc("facility_build_yuan"),
            col,
            units[col].reindex(ids).fillna(0).to_numpy(),
        )
    out["basis"] = basis.reindex(ids).fillna("").to_numpy()
    return out.replace({np.inf: np.nan})


def write_finance_outputs(
    report: FinanceReport,
    out_dir: str | Path,
    *,
    workbook: bool = True,
    cash_flow_sheets: int = DEFAULTS.cash_flow_sheets,
) -> dict[str, Path]:
    """Write the finance files of a bundles folder (see the module text), each atomically.

    Parameters
    ----------
    report
        From :func:`spatial.finance.finance_report`.
    out_dir
        The bundles output folder.
    workbook
        Also write ``finance.xlsx``.
    cash_flow_sheets
        Its full cash-flow sheets: for this many bundles and combinations of largest cost.

    Returns
    -------
    dict
        ``{name: path}`` of the files written.
    """
    out = Path(out_dir)
    projects = report.projects.replace({np.inf: np.nan})
    written = {}
    if workbook:
        path = write_finance_workbook(
            report, out / "finance.xlsx", cash_flow_sheets=cash_flow_sheets
        )
        written["finance"] = path
    return written | {
        "sensitivity_html": write_text(tornado_html(report.sensitivity), out / "sensitivity.html"),
        "finance_projects": write_csv(pd.DataFrame(projects), out / "finance_projects.csv"),
        "funding_lines": write_csv(report.sources, out / "funding_lines.csv"),
        "facilities": write_csv(facilities_table(report), out / "facilities.csv"),
        "sensitivity": write_csv(sensitivity_table(report.sensitivity), out / "sensitivity.csv"),
    }
