"""The province roll-up (逐级汇总): tables by unit and level, ``province.xlsx`` and an
overview map of the units coloured by coverage, linking to each unit's maps.

Figures of a unit with units below it are the sums over the units with inputs in its
subtree (itself included); shares are recomputed from the sums (households covered over
households), never averaged. Failed units are counted and named, not summed.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from .spec import LEVELS, Province, Unit

__all__ = ["HEADERS_ZH", "mean_coverage", "rollup_tables", "write_rollup"]

#: Chinese (and English) headers of ``province.xlsx``.
HEADERS_ZH: dict[str, str] = {
    "unit": "单元 Unit",
    "level": "层级 Level",
    "parent": "上级 Parent",
    "row": "行类型 Row",
    "status": "状态 Status",
    "units": "单元数 Units",
    "units_failed": "失败单元 Failed units",
    "compounds": "小区数 Compounds",
    "households": "户数 Households",
    "compounds_missing_any": "有缺项小区 Compounds missing a facility",
    "households_missing_any": "有缺项户数 Households missing a facility",
    "share_households_complete": "配套齐全户数比例 Share of households fully served",
    "mean_coverage": "平均设施覆盖率 Mean share of households covered, over categories",
    "network_nodes": "路网节点 Network nodes",
    "bundles": "片区数 Bundles",
    "bundles_self_balancing": "自平衡片区 Self-balancing bundles",
    "cost_yuan": "估算投资（元） Cost (yuan)",
    "subsidy_yuan": "补助（元） Subsidy (yuan)",
    "revenue_yuan": "收益（元） Revenue (yuan)",
    "balance_yuan": "资金平衡（元） Balance (yuan)",
    "compounds_funded": "资金落实小区 Compounds funded",
    "compounds_partly_funded": "部分落实小区 Compounds partly funded",
    "compounds_unfunded": "未落实小区 Compounds unfunded",
    "households_funded": "资金落实户数 Households funded",
    "compounds_eligible": "符合条件小区 Eligible compounds",
    "compounds_to_verify": "待核实小区（如建成年份未知） Compounds to verify (no build year …)",
    "compounds_planned": "纳入计划小区 Compounds planned",
    "households_planned": "纳入计划户数 Households planned",
    "cost_planned_yuan": "计划投资（元） Planned cost (yuan)",
    "year": "改造年度 Year",
    "wall_s": "用时（秒） Time (s)",
    "error": "错误 Error",
    "folder": "结果目录 Folder",
}
#: Columns of the 汇总 and 片区资金 sheets, each summed over a group's units.
_TOTALS = (
    "compounds",
    "households",
    "compounds_missing_any",
    "households_missing_any",
    "compounds_eligible",
    "compounds_to_verify",
    "compounds_planned",
    "households_planned",
    "cost_planned_yuan",
    "network_nodes",
)
_MONEY = (
    "bundles",
    "bundles_self_balancing",
    "cost_yuan",
    "subsidy_yuan",
    "revenue_yuan",
    "balance_yuan",
    "compounds_funded",
    "compounds_partly_funded",
    "compounds_unfunded",
    "households_funded",
)
_SUMMED = (*_TOTALS, *_MONEY)
_OK = ("done", "skipped")
_ROW_UNIT, _ROW_SUM, _ROW_LEVEL, _ROW_ALL = (
    "单元 unit",
    "汇总 subtree",
    "按层级 by level",
    "全省 all",
)


def _tree(province: Province) -> list[tuple[Unit, int]]:
    """Units depth-first in file order, with their depth."""
    out: list[tuple[Unit, int]] = []

    def walk(parent: str | None, depth: int) -> None:
        for unit in province.children(parent):
            out.append((unit, depth))
            walk(unit.name, depth + 1)

    walk(None, 0)
    return out


def _subtree(province: Province, unit: Unit) -> list[Unit]:
    below = [unit]
    for child in province.children(unit.name):
        below += _subtree(province, child)
    return below


def _sum_rows(
    groups: list[tuple[dict[str, Any], list[Unit]]], records: dict[str, dict[str, Any]]
) -> pd.DataFrame:
    """One row per group: the heading columns, the totals summed over its units' records."""
    rows = []
    for head, members in groups:
        data = [u for u in members if u.has_data]
        ok = [records[u.name] for u in data if records.get(u.name, {}).get("status") in _OK]
        row = {**head, "units": len(data), "units_failed": len(data) - len(ok)}
        for key in _SUMMED:
            row[key] = sum(float(r.get("totals", {}).get(key, 0) or 0) for r in ok)
        hh = row["households"]
        row["share_households_complete"] = (
            round((hh - row["households_missing_any"]) / hh, 4) if hh > 0 else None
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _groups(province: Province) -> list[tuple[dict[str, Any], list[Unit]]]:
    """Every unit (its subtree), then every level, then the whole province."""
    groups = []
    for unit, depth in _tree(province):
        below = _subtree(province, unit)
        groups.append(
            (
                {
                    "unit": "　" * depth + unit.name,
                    "level": f"{LEVELS[unit.level]} {unit.level}",
                    "parent": unit.parent or province.name,
                    "row": _ROW_SUM if len(below) > 1 else _ROW_UNIT,
                },
                below,
            )
        )
    for level, zh in LEVELS.items():
        members = [u for u in province.units if u.level == level and u.has_data]
        if members and len(members) < len([u for u in province.units if u.has_data]):
            head = {
                "unit": f"全部{zh}级单元",
                "level": f"{zh} {level}",
                "parent": "",
                "row": _ROW_LEVEL,
            }
            groups.append((head, members))
    head = {"unit": province.name, "level": "", "parent": "", "row": _ROW_ALL}
    groups.append((head, list(province.units)))
    return groups


def _coverage(
    groups: list[tuple[dict[str, Any], list[Unit]]], records: dict[str, dict[str, Any]]
) -> pd.DataFrame:
    """Share of households within reach, per category, per group (from summed counts)."""
    labels: dict[str, str] = {}
    rows = []
    for head, members in groups:
        covered: dict[str, float] = {}
        total: dict[str, float] = {}
        for unit in members:
            record = records.get(unit.name, {})
            if not unit.has_data or record.get("status") not in _OK:
                continue
            for c in record.get("coverage", []):
                labels.setdefault(c["category"], f"{c['zh']} {c['en']}")
                covered[c["category"]] = covered.get(c["category"], 0.0) + c["households_covered"]
                total[c["category"]] = total.get(c["category"], 0.0) + c["households"]
        rows.append(
            {**head, **{k: round(covered[k] / total[k], 4) if total[k] else None for k in total}}
        )
    frame = pd.DataFrame(rows)
    cats = [c for c in labels if c in frame]
    return frame[[*head.keys(), *cats]].rename(columns=labels)


def _plan_years(
    groups: list[tuple[dict[str, Any], list[Unit]]], records: dict[str, dict[str, Any]]
) -> pd.DataFrame:
    rows = []
    for head, members in groups:
        years: dict[int, dict[str, float]] = {}
        for unit in members:
            record = records.get(unit.name, {})
            if unit.has_data and record.get("status") in _OK:
                for y in record.get("plan_years", []):
                    acc = years.setdefault(
                        int(y["year"]),
                        {
                            "compounds_planned": 0.0,
                            "households_planned": 0.0,
                            "cost_planned_yuan": 0.0,
                        },
                    )
                    acc["compounds_planned"] += y["compounds"]
                    acc["households_planned"] += y["households"]
                    acc["cost_planned_yuan"] += y["cost_yuan"]
        rows += [{**head, "year": year, **acc} for year, acc in sorted(years.items())]
    return pd.DataFrame(
        rows,
        columns=[
            *_groups_head(),
            "year",
            "compounds_planned",
            "households_planned",
            "cost_planned_yuan",
        ],
    )


def _groups_head() -> list[str]:
    return ["unit", "level", "parent", "row"]


def _runs(province: Province, records: dict[str, dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for unit in province.units:
        if not unit.has_data:
            continue
        r = records.get(unit.name, {})
        rows.append(
            {
                "unit": unit.name,
                "level": f"{LEVELS[unit.level]} {unit.level}",
                "parent": unit.parent or province.name,
                "status": {"done": "完成 done", "skipped": "未变跳过 unchanged, skipped"}.get(
                    r.get("status", ""), "失败 failed"
                ),
                "wall_s": r.get("wall_s"),
                "compounds": r.get("totals", {}).get("compounds"),
                "households": r.get("totals", {}).get("households"),
                "error": r.get("error", ""),
                "folder": str(Path("units") / unit.slug),
            }
        )
    return pd.DataFrame(rows)


def rollup_tables(
    province: Province, records: dict[str, dict[str, Any]]
) -> dict[str, pd.DataFrame]:
    """The province tables, one per sheet of ``province.xlsx``.

    Parameters
    ----------
    province
        The units and their hierarchy.
    records
        Unit name → its record (``unit.json``), for the units with inputs.

    Returns
    -------
    dict of DataFrame
        ``汇总 rollup`` (totals per unit subtree, per level, for all), ``设施覆盖 coverage``
        (share of households within reach per category), ``片区资金 money``, ``年度计划
        annual plan`` (per year), ``单元运行 runs`` (status, time, error of each unit).
        Money in yuan.
    """
    groups = _groups(province)
    sums = _sum_rows(groups, records)
    coverage = _coverage(groups, records)
    head = _groups_head()
    sums["mean_coverage"] = coverage.drop(columns=head).mean(axis=1, skipna=True).round(4)
    return {
        "汇总 rollup": sums[
            [
                *head,
                "units",
                "units_failed",
                *_TOTALS[:2],
                "mean_coverage",
                *_TOTALS[2:4],
                "share_households_complete",
                *_TOTALS[4:],
            ]
        ],
        "设施覆盖 coverage": coverage,
        "片区资金 money": sums[[*head, *_MONEY]],
        "年度计划 annual plan": _plan_years(groups, records),
        "单元运行 runs": _runs(province, records),
    }


def mean_coverage(record: dict[str, Any]) -> float | None:
    """Mean over categories of the share of a unit's households within reach.

    Parameters
    ----------
    record
        A unit's record (``unit.json``).

    Returns
    -------
    float or None
        0–1; None when the unit has no coverage (failed, or no households known).
    """
    shares = [
        c["households_covered"] / c["households"]
        for c in record.get("coverage", [])
        if c.get("households")
    ]
    return sum(shares) / len(shares) if shares else None


def _colour(share: float | None) -> str:
    if share is None:
        return "#9e9e9e"
    steps = ((0.2, "#b2182b"), (0.4, "#ef8a62"), (0.6, "#fddbc7"), (0.8, "#a6d96a"))
    return next((c for limit, c in steps if share < limit), "#1a9641")


def _overview(province: Province, records: dict[str, dict[str, Any]], path: Path) -> Path:
    """An offline HTML map: unit outlines coloured by the share of households fully
    served, popups and a side list linking to each unit's maps."""
    import folium
    import shapely
    from branca.element import Element

    from spatial.render.offline import add_legend, figure, offline_map, save_map

    shapes, rows = [], []
    for unit in province.units:
        record = records.get(unit.name)
        if not unit.has_data or record is None:
            continue
        t = record.get("totals", {})
        hh = float(t.get("households", 0) or 0)
        share = mean_coverage(record)
        ok = record.get("status") in _OK
        links = (
            "".join(
                f"<a href='units/{quote(unit.slug)}/{quote(rel)}' target='_blank'>{label}</a> "
                for key, rel in record.get("maps", {}).items()
                for label in [
                    {"gap_map": "缺口图 gaps", "bundle_map": "片区图 bundles"}.get(key, key)
                ]
            )
            if ok
            else ""
        )
        text = f"<b>{escape(unit.name)}</b> ({LEVELS[unit.level]})<br>" + (
            f"平均设施覆盖率 mean coverage: {share:.0%}<br>小区 {int(t.get('compounds', 0))} · "
            f"户 {hh:,.0f}<br>资金平衡 {float(t.get('balance_yuan', 0)) / 1e8:,.2f} 亿元<br>{links}"
            if ok and share is not None
            else f"失败 failed: {escape(str(record.get('error', ''))[:300])}"
            if not ok
            else links
        )
        rows.append(f"<div><i style='background:{_colour(share if ok else None)}'></i>{text}</div>")
        if ok and record.get("outline_wkt"):
            shapes.append((shapely.from_wkt(record["outline_wkt"]), share, text))
    bounds = (
        shapely.GeometryCollection([s for s, _, _ in shapes]).bounds
        if shapes
        else (114.0, 30.0, 120.0, 40.0)
    )
    m = offline_map(bounds, attribution="Map data © OpenStreetMap contributors (ODbL) where used")
    if shapes:
        layer = folium.GeoJson(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": shapely.geometry.mapping(geom),
                        "properties": {"colour": _colour(share), "popup_html": text},
                    }
                    for geom, share, text in shapes
                ]
                + [  # a dot at each unit's centre: seen at any zoom, also for small units
                    {
                        "type": "Feature",
                        "geometry": shapely.geometry.mapping(geom.centroid),
                        "properties": {"colour": _colour(share), "popup_html": text},
                    }
                    for geom, share, text in shapes
                ],
            },
            marker=folium.CircleMarker(radius=8, fill=True, weight=1),
            style_function=lambda f: {
                "fillColor": f["properties"]["colour"],
                "color": "#333",
                "weight": 1,
                "fillOpacity": 0.6,
            },
        ).add_to(m)
        # popups from the prebuilt (escaped) HTML; folium's Popup would need jQuery
        bind = (
            "<script>document.addEventListener('DOMContentLoaded',function(){"
            f"{layer.get_name()}.eachLayer(function(l){{"
            "l.bindPopup(l.feature.properties.popup_html, {maxWidth: 320});});});</script>"
        )
        figure(m).html.add_child(Element(bind), name="spatial_unit_popups")
    add_legend(
        m,
        "平均设施覆盖率 mean share of households covered",
        [
            ("#b2182b", "< 20%"),
            ("#ef8a62", "20–40%"),
            ("#fddbc7", "40–60%"),
            ("#a6d96a", "60–80%"),
            ("#1a9641", "≥ 80%"),
            ("#9e9e9e", "失败 failed"),
        ],
    )
    panel = (
        "<div class='spatial-units' style='position:absolute;z-index:1000;top:10px;right:10px;"
        "max-height:60%;overflow:auto;background:#fff;padding:6px 9px;font:12px sans-serif;"
        "border-radius:4px;box-shadow:0 0 4px #888;max-width:300px'>"
        f"<b>{escape(province.name)}</b>{''.join(rows)}</div>"
        "<style>.spatial-units i{display:inline-block;width:12px;height:12px;"
        "margin-right:5px}</style>"
    )
    figure(m).html.add_child(Element(panel), name="spatial_units")
    return save_map(m, path)


def write_rollup(
    province: Province, records: dict[str, dict[str, Any]], out: Path
) -> dict[str, Path]:
    """Write ``province.xlsx`` and ``overview.html`` into the batch folder (atomically).

    Parameters
    ----------
    province
        The units and their hierarchy.
    records
        Unit name → its record.
    out
        The batch folder.

    Returns
    -------
    dict of Path
        ``province_xlsx`` and ``overview``.
    """
    from spatial.io.outputs.write import write_xlsx

    tables = rollup_tables(province, records)
    return {
        "province_xlsx": write_xlsx(tables, out / "province.xlsx", headers=HEADERS_ZH),
        "overview": _overview(province, records, out / "overview.html"),
    }
