"""The four financing modes of one bundling run, as projects with cash flows.

:func:`finance_report` takes the units and the :class:`~spatial.bundling.BundleResult`
of :func:`~spatial.bundling.find_bundles` and gives every old compound its operating
facilities (小区内自求平衡) and funding lines (政府引导的多元化投入), then builds three
kinds of project — each compound alone, each bundle (大片区统筹平衡) and each deficit
bundle with the money moved to it (跨片区组合平衡) — and their cash flows, financing and
bond test (:mod:`spatial.finance.cashflow`), and the sensitivity of the bundles
(:mod:`spatial.finance.sensitivity`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from spatial.bundling import BundleResult, FinanceDefaults, parcel_finance
from spatial.bundling.joins import joined_by
from spatial.finance.cashflow import COMPONENTS, CashFlows, cash_flows
from spatial.finance.operating import operating_facilities, within_compound
from spatial.finance.sensitivity import sensitivity
from spatial.finance.sources import SOURCE_COLUMNS, funding_sources

__all__ = ["FinanceReport", "bundle_finance_columns", "finance_report"]

_OTHER_SOURCES = [c for c in SOURCE_COLUMNS if c != "subsidy_yuan"]


@dataclass
class FinanceReport:
    """Money of a bundling run in the four modes.

    Attributes
    ----------
    facilities
        Operating facilities, one row per compound and facility.
    within
        Per old compound: facility totals and payback years, ``compound_id`` first.
    sources
        Per old compound: cost, funding lines and city budget.
    projects
        One row per project (``project_id``, ``kind``: ``compound``, ``bundle``,
        ``combination``; ``name``; the components; the cash-flow summary).
    flows
        Cash flows of the projects, in the order of ``projects``.
    sensitivity
        Bundles' NPV under ±10 % and ±20 % of land value, cost and uptake.
    finance
        The figures used.
    """

    facilities: pd.DataFrame
    within: pd.DataFrame
    sources: pd.DataFrame
    projects: pd.DataFrame
    flows: CashFlows
    sensitivity: pd.DataFrame
    finance: FinanceDefaults


def _compound_projects(
    comp: pd.DataFrame, money: pd.DataFrame, within: pd.DataFrame, sources: pd.DataFrame
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "project_id": comp["id"].astype(str).to_numpy(),
            "kind": "compound",
            "name": comp["name"].to_numpy() if "name" in comp else None,
            "cost_yuan": money["cost_yuan"].to_numpy(),
            "facility_build_yuan": within["facility_build_yuan"].to_numpy(),
            "grants_yuan": sources["subsidy_yuan"].to_numpy(),
            "sources_yuan": sources[_OTHER_SOURCES].sum(axis=1).to_numpy(),
            "land_yuan": 0.0,
            "transfer_yuan": 0.0,
            "facility_capacity_income_yuan_per_year": within[
                "facility_capacity_income_yuan_per_year"
            ].to_numpy(),
            "facility_cost_yuan_per_year": within["facility_cost_yuan_per_year"].to_numpy(),
        }
    )


def finance_report(
    units: pd.DataFrame,
    result: BundleResult,
    *,
    finance: FinanceDefaults,
    default_far: bool = False,
) -> FinanceReport:
    """The four financing modes of a bundling run (see the module text).

    Parameters
    ----------
    units
        The units given to :func:`~spatial.bundling.find_bundles` (metric CRS).
    result
        Its result.
    finance
        The figures used for the bundles.
    default_far
        As given to :func:`~spatial.bundling.find_bundles`.

    Returns
    -------
    FinanceReport
        Tables of every mode, the projects' cash flows and the bundles' sensitivity.
    """
    money = (
        result.unit_money
        if result.unit_money is not None
        else parcel_finance(units, defaults=finance, default_far=default_far)
    )
    is_comp = (units["kind"] == "old_compound").to_numpy()
    comp = units[is_comp]
    facilities = operating_facilities(comp, finance=finance)
    within = within_compound(comp, finance=finance, facilities=facilities)
    sources = funding_sources(comp, money[is_comp], finance=finance)
    parts = [_compound_projects(comp, money[is_comp], within, sources)]
    per_unit = pd.DataFrame(0.0, index=units.index, columns=list(COMPONENTS))
    per_unit["cost_yuan"] = money["cost_yuan"]
    per_unit["grants_yuan"] = money["subsidy_yuan"]
    per_unit["land_yuan"] = money["revenue_yuan"]
    per_unit.loc[is_comp, "sources_yuan"] = sources[_OTHER_SOURCES].sum(axis=1).to_numpy()
    for col in (
        "facility_build_yuan",
        "facility_capacity_income_yuan_per_year",
        "facility_cost_yuan_per_year",
    ):
        per_unit.loc[is_comp, col] = within[col].to_numpy()
    bundle_of = result.unit_bundle if result.unit_bundle is not None else pd.Series(None)
    in_bundle = bundle_of.notna().to_numpy()
    sums = per_unit[in_bundle].groupby(bundle_of[in_bundle].to_numpy()).sum()
    bundles = sums.reset_index(names="project_id").assign(kind="bundle")
    bundles["name"] = bundles["project_id"]
    parts.append(bundles)
    pairs = result.pairs
    if len(pairs):
        moved = pairs.groupby("deficit_bundle")["amount_yuan"].sum()
        combos = sums.loc[moved.index].reset_index(names="bundle_id")
        combos["transfer_yuan"] = moved.to_numpy()
        givers = pd.Series(
            joined_by(pairs["deficit_bundle"], pairs["surplus_id"].astype(str), sep="+")
        )
        combos["project_id"] = "C-" + combos["bundle_id"]
        combos["name"] = combos["bundle_id"] + " ← " + givers.reindex(combos["bundle_id"]).values
        parts.append(combos.drop(columns="bundle_id").assign(kind="combination"))
    projects = pd.concat(parts, ignore_index=True)
    flows = cash_flows(projects, finance=finance)
    projects = pd.concat([projects, flows.summary], axis=1)
    is_bundle = (projects["kind"] == "bundle").to_numpy()
    sens = sensitivity(projects[is_bundle].reset_index(drop=True), finance=finance)
    within_out = within.copy()
    within_out.insert(0, "compound_id", comp["id"].astype(str).to_numpy())
    within_out.insert(1, "name", comp["name"].to_numpy() if "name" in comp else None)
    src = sources.copy()
    src.insert(0, "compound_id", comp["id"].astype(str).to_numpy())
    src.insert(1, "name", comp["name"].to_numpy() if "name" in comp else None)
    households = comp["households"] if "households" in comp else pd.Series(np.nan, index=comp.index)
    src.insert(2, "households", pd.to_numeric(households, errors="coerce").to_numpy())
    return FinanceReport(
        facilities=facilities,
        within=within_out.reset_index(drop=True),
        sources=src.reset_index(drop=True),
        projects=projects,
        flows=flows,
        sensitivity=sens,
        finance=finance,
    )


def bundle_finance_columns(report: FinanceReport) -> pd.DataFrame:
    """The finance figures of each bundle, for the bundle tables and map.

    Parameters
    ----------
    report
        From :func:`finance_report`.

    Returns
    -------
    DataFrame
        Indexed by bundle id: ``npv_yuan``, ``irr``, ``bond_coverage``, ``bond_eligible``,
        ``financing``, ``payback_year``, ``flips_in_sensitivity``.
    """
    b = report.projects[report.projects["kind"] == "bundle"].set_index("project_id")
    flips = (
        report.sensitivity.groupby("bundle_id")["flips"].any() if len(report.sensitivity) else None
    )
    out = b[["npv_yuan", "irr", "bond_coverage", "bond_eligible", "financing", "payback_year"]]
    out = out.assign(
        flips_in_sensitivity=flips.reindex(out.index).fillna(False) if flips is not None else False
    )
    return out.astype({"bond_eligible": bool}).replace({np.inf: np.nan})
