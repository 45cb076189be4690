"""The plan workbook (plan.xlsx): its sheets and their Chinese/English headers."""

from __future__ import annotations

import pandas as pd

from spatial.policy.annual import rollup
from spatial.policy.profiles import NEEDS_COLUMNS

__all__ = ["HEADERS_ZH", "plan_sheets"]

#: Chinese (and English) headers for the planners' spreadsheets.
HEADERS_ZH = {
    "id": "编号 ID",
    "name": "小区名称 Name",
    "district": "区县 District",
    "subdistrict": "街道 Subdistrict",
    "community": "社区 Community",
    "build_year": "建成年份 Built",
    "households": "户数 Households",
    "floors": "层数 Floors",
    "status": "认定结果 Status",
    "reason_zh": "原因",
    "reason_en": "Reason",
    "basic_items": "基础类 Basic",
    "improvement_items": "完善类 Improvement",
    "upgrade_items": "提升类 Upgrade",
    "n_upgrade": "提升项数 Upgrade items",
    "places_short": "学位/床位缺口 Places short (capacity.csv)",
    "floorspace_short": "所在社区千人指标缺口 Unit's m² short (GB 50180 表5.0.2, 5 min)",
    "cost_yuan": "估算投资（元） Cost (yuan)",
    "subsidy_yuan": "补助（元） Subsidy (yuan)",
    "net_cost_yuan": "净投资（元） Net cost (yuan)",
    "cost_wan": "估算投资（万元） Cost (10k yuan)",
    "subsidy_wan": "补助（万元） Subsidy (10k yuan)",
    "net_cost_wan": "净投资（万元） Net cost (10k yuan)",
    "elevators": "加装电梯 Elevators",
    "basis": "测算依据 Basis",
    "score": "得分 Score",
    "assumed": "按默认值0.5计 Assumed (0.5)",
    "rank": "排序 Rank",
    "year": "改造年度 Year",
    "level": "层级 Level",
    "compounds": "小区数 Compounds",
    "f_age": "房龄 Age",
    "f_facility_deficit": "配套欠账 Facility deficit",
    "f_willingness": "居民意愿 Willingness",
    "f_contribution": "出资比例 Contribution",
    "f_condition": "房屋状况 Condition",
    "f_procedures": "手续完备 Procedures",
    "category": "设施类别 Category",
    "zh": "设施 Facility",
    "en": "Facility (en)",
    "site_id": "地块编号 Site",
    "site_name": "地块名称 Site name",
    "kind": "类型 Kind",
    "households_alone": "单独覆盖户数 Households covered alone",
    "k": "选址数 k",
    "chosen_sites": "选定地块 Chosen sites",
    "households_newly_covered": "新增覆盖户数 Households newly covered",
    "places_given": "新设施提供学位/床位 Places the new sites give",
    "households_uncovered": "未覆盖户数 Households uncovered",
    "optimality_gap": "最优性差距 Optimality gap",
}


def plan_sheets(
    plan: pd.DataFrame,
    *,
    keys: list[str],
    sites: pd.DataFrame | None = None,
    choice: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The sheets of plan.xlsx, by Chinese/English sheet name.

    Parameters
    ----------
    plan
        One row per compound, from :func:`spatial.plan`: eligibility (``status``,
        ``reason_zh``, ``reason_en``), needs (:data:`~spatial.policy.NEEDS_COLUMNS`),
        ranking (``f_*``, ``score``, ``rank``) and ``year``.
    keys
        The identifying columns (id, name, places, build year, households) present.
    sites, choice
        :func:`spatial.policy.site_facilities` results, or None without siting.

    Returns
    -------
    dict
        Sheet name → table, in workbook order.
    """
    rank_cols = [c for c in plan.columns if c.startswith("f_")] + ["assumed", "score", "rank"]
    short = plan[
        [*keys, "status", "reason_zh", "reason_en", "cost_yuan", "subsidy_yuan", "score", "rank"]
    ].assign(year=plan["year"])
    sheets = {
        "资格认定 eligibility": plan[[*keys, "status", "reason_zh", "reason_en"]],
        "改造内容 needs": plan[
            [
                *keys,
                *NEEDS_COLUMNS,
                *(c for c in ("places_short", "floorspace_short") if c in plan),
            ]
        ],
        "排序 ranking": plan[[*keys, "status", *rank_cols]].sort_values("rank"),
        "年度计划 annual plan": short[short["year"].notna()].sort_values(["year", "rank"]),
        "逐级汇总 rollup": rollup(short),
    }
    if sites is not None and choice is not None:
        sheets["设施选址 sites"] = sites
        sheets["选址方案 site choice"] = choice
    return sheets
