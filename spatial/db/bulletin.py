"""The monthly progress bulletin (月通报) from the database's statuses, history and targets.

Statuses are taken as they stood at the end of the month: the current statuses with every
change recorded after the month's end undone (history rows carry the date the statuses
describe, ``spatial db import --kind status --surveyed-on``). A status a plan run set
has no history row and counts from before the month. Per unit of each level (社区, 街道,
区县 … and all): compounds and households started (开工: 在建 or 完工) and completed (完工)
in the month's year against the year's targets, the estimated money of the started ones,
projects behind schedule, the change since the end of the previous month, and the rank
within the level. A unit without a target, or without any status for the year, is listed
as such and not ranked — never counted as zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from spatial._errors import input_error
from spatial.db.connect import Database
from spatial.db.frames import latest_plan_results, read_compounds, read_table
from spatial.db.schema import bulletin_settings, levels, statuses

__all__ = ["Bulletin", "bulletin", "month_end"]

_STARTED = ("underway", "completed")


@dataclass
class Bulletin:
    """One month's bulletin.

    Attributes
    ----------
    month
        ``YYYY-MM``.
    year
        The plan year reported (the month's year).
    units
        One row per unit of each level and ``total``: targets, started, completed,
        shares, money, behind, changes since last month, ``rank`` (NA: not ranked) and
        ``note`` (why not).
    behind
        The compounds behind schedule: planned for the year, not started after
        ``behind_months`` months.
    compounds
        Every compound's status for the year at the month's end and at the previous
        month's end.
    settings
        Name → (value, source) of the settings used.
    """

    month: str
    year: int
    units: pd.DataFrame
    behind: pd.DataFrame
    compounds: pd.DataFrame
    settings: dict[str, tuple[object, str]]


def month_end(month: str, *, tz: str) -> pd.Timestamp:
    """The first instant after a month, in ``tz``.

    Parameters
    ----------
    month
        ``YYYY-MM``.
    tz
        Time zone name (e.g. ``Asia/Shanghai``).

    Returns
    -------
    Timestamp
        Time-zone aware.

    Raises
    ------
    InputError
        When ``month`` is not ``YYYY-MM``.
    """
    start = pd.to_datetime(f"{month}-01", format="%Y-%m-%d", errors="coerce")
    if pd.isna(start) or len(month) != 7:
        raise input_error("--month", f"{month!r} is not a month", hint="give it as 2026-11")
    return cast("pd.Timestamp", (start + pd.offsets.MonthBegin(1)).tz_localize(tz))


def _status_at(
    current: pd.DataFrame, history: pd.DataFrame, when: pd.Timestamp
) -> tuple[pd.Series, pd.Series]:
    """Status per (compound, year) at ``when``, and when each became 计划 (NaT: unknown)."""
    state = {
        (str(c), int(y)): s
        for c, y, s in zip(current["compound_id"], current["year"], current["status"], strict=True)
    }
    planned_at: dict[tuple[str, int], pd.Timestamp] = {}
    h = history[history["field"].astype(str).str.startswith("status.")].copy()
    if len(h):
        h["at"] = pd.to_datetime(h["changed_at"], utc=True, format="ISO8601")
        h["year"] = h["field"].astype(str).str.slice(7).astype(int)
        later = h[h["at"] >= when].sort_values("at", ascending=False)
        for c, y, old in zip(later["compound_id"], later["year"], later["old_value"], strict=True):
            key = (str(c), int(y))
            if old is None or (isinstance(old, float) and np.isnan(old)):
                state.pop(key, None)
            else:
                state[key] = old
        known = h[(h["at"] < when) & (h["new_value"] == "planned")].sort_values("at")
        for c, y, at in zip(known["compound_id"], known["year"], known["at"], strict=True):
            planned_at.setdefault((str(c), int(y)), at)
    index = pd.MultiIndex.from_tuples(list(state), names=["compound_id", "year"])
    status = pd.Series(list(state.values()), index=index, dtype=object)
    since = pd.Series(planned_at, dtype="datetime64[ns, UTC]")
    return status, since


def bulletin(db: Database, *, month: str, behind_months: int | None = None) -> Bulletin:
    """The month's bulletin.

    Parameters
    ----------
    db
        The database (GeoPackage or PostGIS).
    month
        ``YYYY-MM``.
    behind_months
        Months after which a planned compound not started is behind schedule (default
        ``[bulletin] behind_months`` of ``database.toml``).

    Returns
    -------
    Bulletin
    """
    settings: dict[str, tuple[object, str]] = dict(bulletin_settings())
    if behind_months is not None:
        settings["behind_months"] = (behind_months, "--behind-months")
    tz = str(settings["timezone"][0])
    end = month_end(month, tz=tz)
    prev_end = end - pd.offsets.MonthBegin(1)
    year = int(month[:4])
    rank = {s.code: s.rank for s in statuses()}
    with db.reading() as conn:
        comp = read_compounds(conn, db)
        current = read_table(conn, db, "renovation_status")
        history = read_table(conn, db, "compound_history")
        targets = read_table(conn, db, "targets")
        _, plan = latest_plan_results(conn, db)
    now, since = _status_at(current, history, end.tz_convert("UTC"))
    before, _ = _status_at(current, history, prev_end.tz_convert("UTC"))
    ids = comp["id"].astype(str)

    def of_year(status: pd.Series) -> pd.Series:
        if not len(status):
            return pd.Series(index=ids, dtype=object)
        mine = status.xs(year, level="year") if year in status.index.get_level_values(1) else None
        return (mine if mine is not None else pd.Series(dtype=object)).reindex(ids)

    st, st_before = of_year(now), of_year(before)
    cost = pd.Series(
        pd.to_numeric(plan["cost_yuan"], errors="coerce").to_numpy(),
        index=plan["compound_id"].astype(str).to_numpy(),
    )
    frame = pd.DataFrame(
        {
            "compound_id": ids.to_numpy(),
            "name": comp["name"].to_numpy() if "name" in comp else None,
            "households": pd.to_numeric(comp.get("households"), errors="coerce").to_numpy(),
            "status": st.to_numpy(),
            "status_before": st_before.to_numpy(),
            "cost_yuan": ids.map(cost).to_numpy(),
        }
    )
    r = frame["status"].map(rank)
    frame["in_programme"] = r >= rank["planned"]
    frame["started"] = frame["status"].isin(_STARTED)
    frame["completed"] = frame["status"] == "completed"
    frame["started_before"] = frame["status_before"].isin(_STARTED)
    frame["completed_before"] = frame["status_before"] == "completed"
    jan1 = pd.Timestamp(f"{year}-01-01", tz=tz).tz_convert("UTC")
    planned_since = pd.Series(
        [since.get((c, year), pd.NaT) for c in frame["compound_id"]], dtype="datetime64[ns, UTC]"
    ).fillna(jan1)
    months = (end.tz_convert("UTC") - planned_since).dt.days / 30.44
    n_behind = int(str(settings["behind_months"][0]))
    frame["behind"] = (frame["status"] == "planned") & (months >= n_behind)
    frame["months_planned"] = np.where(frame["status"] == "planned", np.round(months, 1), np.nan)
    units = _units(frame, comp, targets[targets["year"] == year])
    for lv in units["level"].unique():
        _rank_level(units, units["level"] == lv)
    keys = [lv.column for lv in levels() if lv.column in comp]
    behind = frame[frame["behind"]].drop(columns=["in_programme", "started_before"])
    for k in keys:
        behind.insert(2, k, comp[k].to_numpy()[behind.index.to_numpy()])
    return Bulletin(month, year, units, behind.reset_index(drop=True), frame, settings)


def _units(frame: pd.DataFrame, comp: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    out = []
    present = [lv for lv in levels() if lv.column in comp and comp[lv.column].notna().any()]
    for lv in [*present, None]:
        key = (
            comp[lv.column].fillna("未填 unknown").astype(str).to_numpy()
            if lv
            else np.full(len(comp), "全部 all", dtype=object)
        )
        for unit in pd.unique(key):
            g = frame[key == unit]
            started, done = g[g["started"]], g[g["completed"]]
            out.append(
                {
                    "level": lv.column if lv else "total",
                    "level_zh": lv.zh if lv else "全部",
                    "unit": unit,
                    "with_status": int(g["status"].notna().sum()),
                    "in_programme": int(g["in_programme"].sum()),
                    "started": len(started),
                    "households_started": float(started["households"].sum()),
                    "completed": len(done),
                    "households_completed": float(done["households"].sum()),
                    "money_started_wan": round(float(started["cost_yuan"].sum()) / 1e4, 2),
                    "behind": int(g["behind"].sum()),
                    "started_this_month": int((g["started"] & ~g["started_before"]).sum()),
                    "completed_this_month": int((g["completed"] & ~g["completed_before"]).sum()),
                }
            )
    units = pd.DataFrame(out)
    t = targets.assign(unit=targets["unit"].where(targets["level"] != "total", "全部 all"))
    t = t.rename(
        columns={
            "compounds": "target_compounds",
            "households": "target_households",
            "money_yuan": "target_money_wan",
        }
    )
    t["target_money_wan"] = pd.to_numeric(t["target_money_wan"], errors="coerce") / 1e4
    units = units.merge(
        t[["level", "unit", "target_compounds", "target_households", "target_money_wan"]],
        on=["level", "unit"],
        how="left",
    )
    for what, target in (("started", "target_compounds"), ("completed", "target_compounds")):
        tc = pd.to_numeric(units[target], errors="coerce")
        units[f"share_{what}"] = (units[what] / tc).where(tc > 0).round(4)
    th = pd.to_numeric(units["target_households"], errors="coerce")
    units["share_households_completed"] = (units["households_completed"] / th).where(th > 0)
    units["share_households_completed"] = units["share_households_completed"].round(4)
    return cast("pd.DataFrame", units)


def _rank_level(units: pd.DataFrame, mask: pd.Series) -> None:
    """Rank the units of one level by the share of their compound target completed, then
    started; say why a unit is not ranked."""
    g = units[mask]
    no_target = g["share_completed"].isna()
    no_status = g["with_status"] == 0
    units.loc[g.index, "note"] = np.select(
        [no_status, no_target], ["无本年状态 no status for the year", "未下达目标 no target"], ""
    )
    ranked = g[~no_target & ~no_status]
    order = ranked.sort_values(
        ["share_completed", "share_started", "unit"], ascending=[False, False, True]
    )
    units.loc[g.index, "rank"] = pd.NA
    units.loc[order.index, "rank"] = np.arange(1, len(order) + 1)
    units["rank"] = units["rank"].astype("Int64")
