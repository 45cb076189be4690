"""Progress of a year against its targets, rolled up community → subdistrict → district
→ city → province (逐级汇总): what ``spatial db status`` prints."""

from __future__ import annotations

from typing import cast

import pandas as pd

from spatial.db.connect import Database
from spatial.db.frames import latest_plan_results, read_compounds, read_table
from spatial.db.schema import levels, statuses

__all__ = ["progress"]


def progress(db: Database, *, year: int) -> pd.DataFrame:
    """Progress of a year against its targets, rolled up community → … → province → all.

    Parameters
    ----------
    db
        The database.
    year
        The plan year.

    Returns
    -------
    DataFrame
        One row per unit of each level the compounds carry, then ``total``: compounds,
        households and money (yuan, from the latest plan run) in the year's programme
        (status 计划 or later in that year), how many started (在建/完工) and completed,
        completed to date, and the targets with the shares reached.
    """
    rank = {s.code: s.rank for s in statuses()}
    with db.reading() as conn:
        comp = read_compounds(conn, db)
        st = read_table(conn, db, "renovation_status")
        targets = read_table(conn, db, "targets")
        _, plan = latest_plan_results(conn, db)
    frame = pd.DataFrame(
        {
            "id": comp["id"].astype(str),
            "households": pd.to_numeric(comp.get("households"), errors="coerce"),
        }
    )
    this = st[st["year"] == year].set_index("compound_id")["status"]
    frame["code"] = frame["id"].map(this)
    frame["r"] = frame["code"].map(rank)
    done = st[(st["year"] <= year) & (st["status"] == "completed")]["compound_id"].astype(str)
    frame["in_programme"] = frame["r"] >= rank["planned"]
    frame["started"] = frame["r"] >= rank["underway"]
    frame["completed"] = frame["code"] == "completed"
    frame["completed_to_date"] = frame["id"].isin(set(done))
    cost = (
        plan.set_index(plan["compound_id"].astype(str))["cost_yuan"]
        if len(plan)
        else pd.Series(dtype=float)
    )
    frame["money_yuan"] = frame["id"].map(cost)
    out = []
    present = [lv for lv in levels() if lv.column in comp and comp[lv.column].notna().any()]
    for lv in [*present, None]:
        key = (
            comp[lv.column].fillna("未填 unknown").astype(str)
            if lv
            else pd.Series("全部 all", index=comp.index)
        )
        for unit, idx in frame.groupby(key.to_numpy()).groups.items():
            g = frame.loc[idx]
            p = g[g["in_programme"]]
            out.append(
                {
                    "level": lv.column if lv else "total",
                    "level_zh": lv.zh if lv else "全部",
                    "unit": unit,
                    "compounds": int(p.shape[0]),
                    "households": float(p["households"].sum()),
                    "money_yuan": float(p["money_yuan"].sum()),
                    "started": int(g["started"].sum()),
                    "completed": int(g["completed"].sum()),
                    "completed_to_date": int(g["completed_to_date"].sum()),
                }
            )
    result = pd.DataFrame(out)
    t = targets[targets["year"] == year].rename(
        columns={
            "compounds": "target_compounds",
            "households": "target_households",
            "money_yuan": "target_money_yuan",
        }
    )
    t = t.assign(unit=t["unit"].where(t["level"] != "total", "全部 all"))
    result = result.merge(
        t[["level", "unit", "target_compounds", "target_households", "target_money_yuan"]],
        on=["level", "unit"],
        how="left",
    )
    for what in ("compounds", "households", "money_yuan"):
        target = pd.to_numeric(result[f"target_{what}"], errors="coerce")
        result[f"share_{what}"] = (result[what] / target).where(target > 0)
    return cast("pd.DataFrame", result)
