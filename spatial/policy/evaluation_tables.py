"""The tables of an evaluation (:mod:`spatial.policy.evaluation`): per year, per unit
(district, subdistrict, community), per category and per compound, and plans side by
side. Money is in 万元 (``*_wan``); households of compounds without a survey figure are
counted as estimates or listed as missing, never as zero."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import numpy as np
import pandas as pd

from spatial.policy.evaluation import Evaluation, households_of
from spatial.standards import Category

__all__ = [
    "EVALUATION_HEADERS",
    "MEASURES",
    "compare_plans",
    "evaluation_by_category",
    "evaluation_by_compound",
    "evaluation_by_unit",
    "evaluation_by_year",
    "gained_text",
    "households_basis",
]

#: Chinese and English headers of evaluation.xlsx.
EVALUATION_HEADERS = {
    "plan": "方案 plan",
    "year": "年度 year",
    "level": "层级 level",
    "unit": "单位 unit",
    "compounds_renovated": "改造小区数 compounds renovated",
    "households_renovated": "改造户数 households renovated",
    "money_wan": "投资（万元） money (10k yuan)",
    "money_to_date_wan": "累计投资（万元） money to date (10k yuan)",
    "facilities_sites": "新建设施(选址) new facilities on sites",
    "facilities_in_compounds": "小区内新增设施 facilities built in compounds",
    "gaps_closed": "补齐缺项(小区·类) gaps closed (compound × category)",
    "households_newly_covered": "新覆盖户数 households newly covered",
    "household_categories": "新覆盖户·类 household × categories gained",
    "compounds_off_gap_list": "退出缺口名单小区 compounds leaving the gap list",
    "compounds_on_gap_list": "年末缺口小区 compounds still lacking",
    "places_closed": "补齐学位/床位 shortfall places closed",
    "money_per_household_wan": "每新覆盖户投资（万元） money per household newly covered",
    "households_basis": "户数来源 households from",
    "category": "设施类别 category",
    "category_zh": "类别名称 category (中文)",
    "compounds_newly_covered": "新覆盖小区 compounds newly covered",
    "households_covered_after": "年末覆盖户数 households covered after",
    "share_covered_after": "年末户覆盖率 share of households covered after",
    "compound_id": "小区编号 compound id",
    "name": "小区名称 name",
    "district": "区县 district",
    "subdistrict": "街道 subdistrict",
    "community": "社区 community",
    "households": "户数 households",
    "renovation_year": "改造年度 renovation year",
    "cost_wan": "估算投资（万元） cost (10k yuan)",
    "n_missing_before": "改造前缺项 lacking before",
    "n_missing_after": "期末缺项 lacking after",
    "gained": "补齐类别(年度) categories gained (year)",
    "facility": "设施编号 facility",
    "kind": "来源 from (site / renovation)",
    "site": "地块 site",
    "lon": "经度 lon (WGS84)",
    "lat": "纬度 lat (WGS84)",
    "measure": "指标 measure",
    "what": "内容 what",
    "value": "数值 value",
    "source": "来源 source",
}

#: The measures compared between plans, in order.
MEASURES = (
    "money_wan",
    "compounds_renovated",
    "households_renovated",
    "gaps_closed",
    "households_newly_covered",
    "household_categories",
    "compounds_off_gap_list",
    "places_closed",
    "money_per_household_wan",
)


def households_basis(compounds: pd.DataFrame) -> pd.Series:
    """Where each compound's households come from: 调查 survey, 估算 estimate or 缺失 missing.

    Parameters
    ----------
    compounds
        The gap run's compounds (``households``, optional ``estimated``).

    Returns
    -------
    Series of str
        Indexed like ``compounds``.
    """
    hh = households_of(compounds)
    est = (
        compounds["estimated"].fillna("").astype(str).str.contains("households")
        if "estimated" in compounds
        else pd.Series(False, index=compounds.index)
    )
    labels = np.select([hh.isna(), est], ["缺失 missing", "估算 estimate"], "调查 survey")
    return cast("pd.Series", pd.Series(labels, index=compounds.index, dtype=object))


_SUMMED = (
    "compounds_renovated",
    "households_renovated",
    "money_wan",
    "facilities_in_compounds",
    "gaps_closed",
    "households_newly_covered",
    "household_categories",
    "compounds_off_gap_list",
    "compounds_on_gap_list",
)


def _compound_years(ev: Evaluation, plan: pd.DataFrame, compounds: pd.DataFrame) -> pd.DataFrame:
    """The measures per compound and year (one row each; households unknown count 0)."""
    ids = compounds["id"].astype(str).to_numpy()
    n, years = len(ids), list(ev.years)
    if not years:
        return cast("pd.DataFrame", pd.DataFrame(columns=["row", "year", *_SUMMED]))
    pos = pd.Index(ids)
    hh = np.nan_to_num(households_of(compounds).to_numpy(float))
    by_id = plan.assign(compound_id=plan["compound_id"].astype(str)).drop_duplicates("compound_id")
    at = pos.get_indexer(by_id["compound_id"])
    ok = at >= 0
    year_of = np.full(n, -1)
    year_of[at[ok]] = pd.to_numeric(by_id["year"], errors="coerce").fillna(-1).to_numpy()[ok]
    cost = np.zeros(n)
    cost[at[ok]] = np.nan_to_num(pd.to_numeric(by_id["cost_yuan"], errors="coerce").to_numpy())[ok]

    def per(frame: pd.DataFrame, id_col: str, weight: np.ndarray | None = None) -> np.ndarray:
        """Rows of ``frame`` counted (or weighted) per compound × year."""
        out = np.zeros((n, len(years)))
        if not len(frame):
            return out
        k = pos.get_indexer(frame[id_col].astype(str))
        j = pd.Index(years).get_indexer(pd.Index(frame["year"]))
        good = (k >= 0) & (j >= 0)
        np.add.at(out, (k[good], j[good]), 1.0 if weight is None else weight[good])
        return out

    fac = ev.facilities
    own = fac[fac["kind"] == "renovation"] if len(fac) else fac
    gained = per(ev.gained, "compound_id")
    states = ev.missing.reindex(ids)
    cols: dict[str, np.ndarray] = {}
    renovated = np.stack([year_of == y for y in years], axis=1).astype(float)
    cols["compounds_renovated"] = renovated
    cols["households_renovated"] = renovated * hh[:, None]
    cols["money_wan"] = renovated * cost[:, None] / 1e4
    cols["facilities_in_compounds"] = per(own, "compound_id")
    cols["gaps_closed"] = gained
    cols["households_newly_covered"] = (gained > 0) * hh[:, None]
    cols["household_categories"] = gained * hh[:, None]
    prev = ["before", *years[:-1]]
    lacking = np.stack([states[y].to_numpy() > 0 for y in years], axis=1)
    lacked = np.stack([states[y].to_numpy() > 0 for y in prev], axis=1)
    cols["compounds_off_gap_list"] = (lacked & ~lacking).astype(float)
    cols["compounds_on_gap_list"] = lacking.astype(float)
    if ev.capacity is not None:
        cap = ev.capacity.groupby(level=0).sum()
        each = zip(prev, years, strict=True)
        closed = np.stack(
            [(cap[b] - cap[y]).reindex(ids).fillna(0.0).to_numpy() for b, y in each], axis=1
        )
        cols["places_closed"] = closed
    long = pd.DataFrame({k: v.ravel() for k, v in cols.items()})
    long.insert(0, "year", np.tile(np.asarray(years, dtype=int), n))
    long.insert(0, "row", np.repeat(np.arange(n), len(years)))
    return cast("pd.DataFrame", long)


def _finish(t: pd.DataFrame) -> pd.DataFrame:
    """Counts as integers, money rounded, money to date and per household newly covered."""
    for c in ("compounds_renovated", "facilities_in_compounds", "gaps_closed"):
        t[c] = t[c].astype(int)
    for c in ("compounds_off_gap_list", "compounds_on_gap_list"):
        t[c] = t[c].astype(int)
    t["money_wan"] = t["money_wan"].round(2)
    hh = t["households_newly_covered"]
    t["money_per_household_wan"] = (t["money_wan"] / hh).where(hh > 0).round(4)
    if "places_closed" in t:
        t["places_closed"] = t["places_closed"].round(2)
    return t


def evaluation_by_year(ev: Evaluation, plan: pd.DataFrame, compounds: pd.DataFrame) -> pd.DataFrame:
    """The plan's measures per year (money in 万元).

    Parameters
    ----------
    ev
        The evaluation.
    plan
        ``compound_id``, ``year`` and ``cost_yuan`` per compound.
    compounds
        The gap run's compounds (``id``, ``households``).

    Returns
    -------
    DataFrame
        One row per year: compounds, households and money renovated; facilities added;
        gaps closed; households newly covered (compounds gaining at least one category);
        compounds leaving the gap list; places closed (with capacity); money per
        household newly covered.
    """
    long = _compound_years(ev, plan, compounds)
    t = long.drop(columns="row").groupby("year", sort=True).sum().reset_index()
    t = t.set_index("year").reindex(ev.years, fill_value=0).rename_axis("year").reset_index()
    fac = ev.facilities
    sites = fac[fac["kind"] == "site"].groupby("year").size() if len(fac) else pd.Series()
    t.insert(4, "money_to_date_wan", t["money_wan"].cumsum().round(2))
    t.insert(5, "facilities_sites", t["year"].map(sites).fillna(0).astype(int))
    return _finish(t)


def evaluation_by_unit(ev: Evaluation, plan: pd.DataFrame, compounds: pd.DataFrame) -> pd.DataFrame:
    """The measures per year for each district, subdistrict and community present.

    Parameters
    ----------
    ev, plan, compounds
        As :func:`evaluation_by_year`.

    Returns
    -------
    DataFrame
        ``level``, ``unit``, then the columns of :func:`evaluation_by_year`; a compound
        without the level's name is in ``未填 unknown``.
    """
    long = _compound_years(ev, plan, compounds)
    out = []
    for level in ("district", "subdistrict", "community"):
        if level not in compounds or not compounds[level].notna().any():
            continue
        names = compounds[level].fillna("未填 unknown").astype(str).to_numpy()
        t = (
            long.assign(unit=names[long["row"].to_numpy()])
            .drop(columns="row")
            .groupby(["unit", "year"], sort=False)
            .sum()
            .reset_index()
        )
        t.insert(0, "level", level)
        out.append(_finish(t))
    if not out:
        return cast("pd.DataFrame", pd.DataFrame(columns=["level", "unit"]))
    table: pd.DataFrame = pd.concat(out, ignore_index=True)
    return table


def evaluation_by_category(
    ev: Evaluation, compounds: pd.DataFrame, categories: Sequence[Category]
) -> pd.DataFrame:
    """Per category and year: compounds and households newly covered, and the share of
    households covered at the year's end.

    Parameters
    ----------
    ev
        The evaluation.
    compounds
        The gap run's compounds.
    categories
        The taxonomy (Chinese names).

    Returns
    -------
    DataFrame
    """
    zh = {c.id: c.zh for c in categories}
    hh = households_of(compounds).to_numpy(float)
    total = float(np.nansum(hh))
    rows = []
    for cat in ev.counted:
        covered_hh = float(ev.covered_households_before.get(cat, 0.0))
        for year in ev.years:
            g = ev.gained[(ev.gained["category"] == cat) & (ev.gained["year"] == year)]
            covered_hh += float(pd.to_numeric(g["households"]).sum())
            rows.append(
                {
                    "category": cat,
                    "category_zh": zh.get(cat, cat),
                    "year": year,
                    "compounds_newly_covered": len(g),
                    "households_newly_covered": float(pd.to_numeric(g["households"]).sum()),
                    "households_covered_after": covered_hh,
                    "share_covered_after": round(covered_hh / total, 4) if total > 0 else None,
                }
            )
    return cast("pd.DataFrame", pd.DataFrame(rows))


def evaluation_by_compound(
    ev: Evaluation,
    plan: pd.DataFrame,
    compounds: pd.DataFrame,
    categories: Sequence[Category],
) -> pd.DataFrame:
    """One row per compound: its renovation year and cost, lacking before and after, and
    each category it gains with the year.

    Parameters
    ----------
    ev, plan, compounds
        As :func:`evaluation_by_year`.
    categories
        The taxonomy (Chinese names).

    Returns
    -------
    DataFrame
    """
    zh = {c.id: c.zh for c in categories}
    ids = compounds["id"].astype(str)
    keys = [k for k in ("name", "district", "subdistrict", "community") if k in compounds]
    out = pd.DataFrame({"compound_id": ids.to_numpy()})
    for k in keys:
        out[k] = compounds[k].to_numpy()
    out["households"] = households_of(compounds).to_numpy()
    out["households_basis"] = households_basis(compounds).to_numpy()
    by_id = plan.assign(compound_id=plan["compound_id"].astype(str)).set_index("compound_id")
    out["renovation_year"] = ids.map(by_id["year"]).to_numpy()
    out["cost_wan"] = (
        (pd.to_numeric(ids.map(by_id["cost_yuan"]), errors="coerce") / 1e4).round(2).to_numpy()
    )
    out["n_missing_before"] = ev.missing["before"].reindex(ids).to_numpy()
    last = ev.years[-1] if ev.years else "before"
    out["n_missing_after"] = ev.missing[last].reindex(ids).to_numpy()
    text = gained_text(ev.gained, zh)
    out["gained"] = ids.map(text).to_numpy()
    return cast("pd.DataFrame", out)


def gained_text(gained: pd.DataFrame, zh: Mapping[str, str]) -> pd.Series:
    """Each compound's gains as text: ``养老服务站(2027)、幼儿园(2028)``.

    Parameters
    ----------
    gained
        :attr:`Evaluation.gained`.
    zh
        Category id → Chinese name.

    Returns
    -------
    Series of str
        Indexed by compound id (text); compounds gaining nothing are absent.
    """
    if not len(gained):
        return pd.Series(dtype=object)
    g = gained.sort_values(["year", "category"])
    parts = [f"{zh.get(c, c)}({y})" for c, y in zip(g["category"], g["year"], strict=True)]
    return (
        pd.Series(parts, index=g["compound_id"].astype(str).to_numpy())
        .groupby(level=0, sort=False)
        .agg("、".join)
    )


def compare_plans(by_year: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Plans side by side: each measure over the whole plan, one column per plan.

    Parameters
    ----------
    by_year
        Plan name → its :func:`evaluation_by_year` table.

    Returns
    -------
    DataFrame
        ``measure`` (Chinese and English) and one column per plan; money per household
        is the plan's total money over its households newly covered.
    """
    rows = []
    for measure in MEASURES:
        row: dict[str, object] = {"measure": EVALUATION_HEADERS[measure]}
        for name, t in by_year.items():
            if measure == "money_per_household_wan":
                hh = float(t["households_newly_covered"].sum())
                row[name] = round(float(t["money_wan"].sum()) / hh, 4) if hh > 0 else None
            elif measure in t:
                row[name] = float(pd.to_numeric(t[measure], errors="coerce").sum())
            else:
                row[name] = None
        rows.append(row)
    return cast("pd.DataFrame", pd.DataFrame(rows))
