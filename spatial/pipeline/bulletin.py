"""``spatial db bulletin``: the monthly bulletin as ``bulletin.xlsx`` and an A4
``bulletin.pdf``, from a GeoPackage or PostGIS database."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from spatial.db.bulletin import Bulletin, bulletin
from spatial.db.connect import Database
from spatial.db.frames import read_compounds
from spatial.db.schema import levels
from spatial.io.outputs.runfolder import run_folder
from spatial.io.outputs.write import write_xlsx

__all__ = ["BULLETIN_HEADERS", "run_bulletin"]

#: Chinese and English headers of bulletin.xlsx.
BULLETIN_HEADERS = {
    "level": "层级 level",
    "level_zh": "层级名称 level (中文)",
    "unit": "单位 unit",
    "rank": "排名 rank",
    "note": "说明 note",
    "target_compounds": "目标小区数 target compounds",
    "target_households": "目标户数 target households",
    "target_money_wan": "目标投资（万元） target money (10k yuan)",
    "with_status": "有本年状态小区 compounds with a status",
    "in_programme": "纳入年度计划 in the year's programme",
    "started": "开工小区 started",
    "households_started": "开工户数 households started",
    "completed": "完工小区 completed",
    "households_completed": "完工户数 households completed",
    "share_started": "开工率 share of target started",
    "share_completed": "完工率 share of target completed",
    "share_households_completed": "户数完工率 households completed / target",
    "money_started_wan": "开工项目估算投资（万元） money of started (estimate)",
    "behind": "滞后项目 behind schedule",
    "started_this_month": "本月新开工 started this month",
    "completed_this_month": "本月新完工 completed this month",
    "compound_id": "小区编号 compound id",
    "name": "小区名称 name",
    "district": "区县 district",
    "subdistrict": "街道 subdistrict",
    "community": "社区 community",
    "households": "户数 households",
    "status": "月末状态 status at month end",
    "status_before": "上月末状态 status a month before",
    "cost_yuan": "估算投资（元） cost (yuan, estimate)",
    "months_planned": "计划后月数 months since planned",
    "what": "内容 what",
    "value": "数值 value",
    "source": "来源 source",
}


def _level_drawn(b: Bulletin) -> str:
    """The largest level with two units or more (the counties, where a city has them)."""
    present = [lv.column for lv in levels() if lv.column in set(b.units["level"])]
    for col in reversed(present):
        if (b.units["level"] == col).sum() >= 2:
            return col
    return present[0] if present else "total"


def run_bulletin(
    db: Database, *, month: str, out_dir: str | Path, behind_months: int | None = None
) -> tuple[Bulletin, dict[str, Path]]:
    """Write the month's bulletin.

    Parameters
    ----------
    db
        The database.
    month
        ``YYYY-MM``.
    out_dir
        Output folder: ``bulletin.xlsx`` and ``bulletin.pdf``.
    behind_months
        Months after which a planned compound not started is behind (default from
        ``database.toml``).

    Returns
    -------
    bulletin, written
        The bulletin's tables and ``{name: path}`` of the files written.
    """
    b = bulletin(db, month=month, behind_months=behind_months)
    level = _level_drawn(b)
    names = {"behind_months": "滞后月数 months before behind", "timezone": "时区 time zone"}
    cover = pd.DataFrame(
        [
            ("月份 month", b.month, ""),
            ("年度 plan year", str(b.year), "the month's year"),
            ("数据 database", db.label, ""),
            ("排名层级 ranked level", level, "the largest level with two units or more"),
            (
                "开工 started",
                "在建或完工 under way or completed",
                "spatial/standards/database.toml",
            ),
            (
                "投资 money",
                "最近一次计划运行的估算投资 the latest plan run's estimate",
                "plan_results",
            ),
            *((names.get(k, k), str(v), src) for k, (v, src) in b.settings.items()),
            (
                "未排名 not ranked",
                "未下达目标或无本年状态的单位只列出，不按零计 units without a target or without "
                "any status for the year are listed, not counted as zero",
                "",
            ),
        ],
        columns=["what", "value", "source"],
    )
    ranked = b.units.sort_values(["level", "rank", "unit"], na_position="last")
    with db.reading() as conn:
        comp = read_compounds(conn, db)
    title = f"{b.month[:4]}年{int(b.month[5:])}月 老旧小区改造进度通报"
    no_target = b.units[(b.units["level"] == level) & b.units["rank"].isna()]["unit"]
    notes = [
        f"开工: 在建或完工; 滞后: 计划后 {b.settings['behind_months'][0]} 个月未开工; "
        f"数据 {db.label}",
        "未排名 (未下达目标或无本年状态): " + ("、".join(map(str, no_target)) or "无"),
    ]
    from spatial.render.bulletin_sheet import bulletin_page

    with run_folder(out_dir, command="bulletin") as stage:
        written = {
            "bulletin": write_xlsx(
                {
                    "封面 cover": cover,
                    "通报 ranking": ranked,
                    "滞后 behind": b.behind,
                    "小区 compounds": b.compounds.drop(
                        columns=["in_programme", "started_before", "completed_before"]
                    ),
                },
                stage / "bulletin.xlsx",
                headers=BULLETIN_HEADERS,
                styled=True,
            ),
            "bulletin_pdf": bulletin_page(
                b.units, comp, stage / "bulletin.pdf", level=level, title=title, notes=notes
            ),
        }
    out = Path(out_dir)
    return b, {k: out / v.name for k, v in written.items()}
