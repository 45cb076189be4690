"""The plan workbook as officials read it: Chinese values, 万元, a cover sheet.

:func:`official_sheets` turns the plan tables into what goes on paper — statuses and
levels in Chinese with the English beside them, ranking factors rounded, money in 万元
(10,000 yuan) — and :func:`cover_sheet` says what the plan is: profile and its source,
budget, years, date, data and the assumptions behind the money. ``write_xlsx(…,
styled=True)`` then freezes the headers, adds filters, fits the widths and sets number
formats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import cast

import pandas as pd

from spatial.policy.profiles import PolicyProfile

__all__ = ["LEVELS_ZH", "STATUS_ZH", "cover_sheet", "official_sheets"]

STATUS_ZH = {
    "priority": "优先改造 priority",
    "eligible": "符合条件 eligible",
    "excluded": "不纳入 excluded",
    "unknown": "待核实 unknown",
}
LEVELS_ZH = {
    "total": "合计 total",
    "province": "省 province",
    "city": "市 city",
    "district": "区县 district",
    "subdistrict": "街道 subdistrict",
    "community": "社区 community",
}
_MONEY = ("cost_yuan", "subsidy_yuan", "net_cost_yuan")


def official_sheets(sheets: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The plan's sheets with Chinese values, rounded factors and money in 万元.

    Parameters
    ----------
    sheets
        From :func:`spatial.policy.plan_sheets`.

    Returns
    -------
    dict
        New tables (the inputs are not changed): ``status`` and ``level`` as
        ``中文 English``, ``f_*`` and ``score`` to 3 decimals, ``*_yuan`` money columns as
        ``*_wan`` in 万元 to 0.1.
    """
    out = {}
    for name, frame in sheets.items():
        t = frame.copy()
        if "status" in t:
            t["status"] = t["status"].map(lambda v: STATUS_ZH.get(v, v))
        if "level" in t:
            t["level"] = t["level"].map(lambda v: LEVELS_ZH.get(v, v))
        for col in t.columns:
            if str(col).startswith("f_") or col == "score":
                t[col] = pd.to_numeric(t[col], errors="coerce").round(3)
        money = [c for c in _MONEY if c in t]
        for col in money:
            t[col] = (pd.to_numeric(t[col], errors="coerce") / 1e4).round(1)
        out[name] = t.rename(columns={c: c.replace("_yuan", "_wan") for c in money})
    return out


def cover_sheet(
    profile: PolicyProfile,
    *,
    budget_yuan: float,
    households_per_year: float | None,
    compounds: int,
    planned: int,
    data: str,
    finance: str | None,
    attention: Sequence[str] = (),
) -> pd.DataFrame:
    """The cover: what the plan is, for whom, from what, on which assumptions.

    Parameters
    ----------
    profile
        The policy profile, with the plan years already set.
    budget_yuan, households_per_year
        The yearly limits.
    compounds, planned
        Compounds assessed and compounds given a plan year.
    data
        Where the compounds came from (a gaps folder or the database).
    finance
        The user's finance file, or None (the shipped default unit costs).
    attention
        What the plan leaves out and why (an empty annual plan, no siting), one row each.

    Returns
    -------
    DataFrame
        Two columns, 项目 Item and 内容 Content.
    """
    rows = [
        ("标题 Title", f"{profile.zh}老旧小区改造计划 Old-compound renovation plan ({profile.en})"),
        ("政策口径 Policy profile", f"{profile.zh} {profile.en} ({profile.id})"),
        ("政策依据 Source", profile.source),
        ("计划年度 Plan years", f"{profile.plan_start_year}—{profile.plan_end_year}"),
        ("年度投资上限 Yearly budget", f"{budget_yuan / 1e4:,.0f} 万元 (10k yuan)"),
        (
            "年度户数上限 Yearly households",
            "不设 none" if households_per_year is None else f"{households_per_year:,.0f} 户",
        ),
        ("评估小区 Compounds assessed", f"{compounds:,}"),
        ("列入计划 Compounds planned", f"{planned:,}"),
        ("数据 Data", data),
        ("生成日期 Made", date.today().isoformat()),
        (
            "假设 Assumptions",
            "投资按 finance.toml 默认单价估算（假设值）"
            if finance is None
            else f"投资按用户单价文件 {finance} 估算",
        ),
        (
            "说明 Notes",
            "金额单位万元；认定结果与原因见“资格认定”，排序因子 0–1，权重见政策口径。"
            "Money in 万元; factors scaled 0–1, weighted by the profile.",
        ),
    ]
    rows += [("注意 Attention", text) for text in attention]
    return cast("pd.DataFrame", pd.DataFrame(rows, columns=["项目 Item", "内容 Content"]))
