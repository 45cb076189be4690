"""Annual renovation plans within budget and household targets, and roll-ups (逐级汇总)."""

from __future__ import annotations

import sys
from collections import deque

import numpy as np
import pandas as pd

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover
    pass


__all__ = ["annual_plan", "rollup"]


def annual_plan(
    costs: pd.Series,
    ranks: pd.Series,
    households: pd.Series,
    *,
    years: range,
    budget_yuan: float,
    households_per_year: float | None = None,
    priority: pd.Series | None = None,
) -> pd.Series:
    """Year of renovation of each ranked compound.

    Years are filled in rank order, first fit: a compound goes into the first year whose
    remaining budget (yuan of total cost) and household target it fits; a later compound
    may fill a gap an earlier one could not. While ``priority`` compounds remain that can
    still fit some year, no other compound is scheduled. The budget is never exceeded.

    Parameters
    ----------
    costs
        Total cost per compound, yuan.
    ranks
        Rank per compound (NaN: not ranked, never scheduled).
    households
        Households per compound (NaN counts 0 against the target).
    years
        The plan's years, e.g. ``range(2025, 2028)``.
    budget_yuan
        Budget per year, yuan.
    households_per_year
        Household target per year (None: no target).
    priority
        Boolean flags of compounds to schedule first.

    Returns
    -------
    Series of Int64
        Year per compound, indexed like ``ranks``; ``<NA>``: not in the horizon.
    """
    rank_arr = pd.to_numeric(ranks, errors="coerce").to_numpy(dtype=float)
    order = [int(k) for k in np.argsort(rank_arr, kind="stable") if np.isfinite(rank_arr[k])]
    cost = costs.to_numpy(dtype=float)
    hh = households.to_numpy(dtype=float)
    prio = (
        priority.to_numpy(dtype=bool) if priority is not None else np.zeros(len(ranks), dtype=bool)
    )
    left = {y: float(budget_yuan) for y in years}
    hh_left = {y: float(households_per_year or np.inf) for y in years}
    year = np.full(len(ranks), -1)

    def fits(k: int, y: int) -> bool:
        return bool(cost[k] <= left[y] + 1e-6 and hh[k] <= hh_left[y] + 1e-9)

    def place(k: int) -> None:
        for y in years:
            if fits(k, y):
                year[k] = y
                left[y] -= cost[k]
                hh_left[y] -= hh[k]
                return

    # priority compounds not yet placed that may still fit: budgets only shrink, so one
    # that fits no year now never will, and is dropped for good (linear, not quadratic)
    pending = deque(j for j in order if prio[j])

    def waiting() -> bool:
        while pending:
            j = pending[0]
            if year[j] < 0 and any(fits(j, y) for y in years):
                return True
            pending.popleft()
        return False

    for k in order:
        if prio[k] or not waiting():
            place(k)
    for k in order:  # compounds held back behind priority ones get a second pass
        if year[k] < 0 and not prio[k]:
            place(k)
    return pd.Series(year, index=ranks.index).where(year >= 0).astype("Int64")


def rollup(plan: pd.DataFrame) -> pd.DataFrame:
    """Totals per year by community → subdistrict → district (逐级汇总).

    Parameters
    ----------
    plan
        One row per compound with ``id``, ``year``, ``cost_yuan``, optional
        ``households`` and ``district``/``subdistrict``/``community``.

    Returns
    -------
    DataFrame
        ``level`` (``community`` … ``total``), ``year``, the area keys,
        ``compounds``, ``households`` and ``cost_yuan``.
    """
    keys = [k for k in ("district", "subdistrict", "community") if k in plan]
    frame = plan[plan["year"].notna()].copy()
    if "households" not in frame:  # no survey households (e.g. compounds from OSM)
        frame["households"] = np.nan
    out = []
    for level in range(len(keys), -1, -1):
        by = ["year", *keys[:level]]
        g = frame.fillna({k: "(未知 unknown)" for k in keys}).groupby(by)
        t = g.agg(
            compounds=("id", "size"),
            households=("households", "sum"),
            cost_yuan=("cost_yuan", "sum"),
        ).reset_index()
        t.insert(0, "level", keys[level - 1] if level else "total")
        out.append(t)
    return pd.concat(out, ignore_index=True)
