"""Write the gap engine's results to the files of the contract (ARCHITECTURE.md).

``gaps.csv`` (one row per compound × category), ``compounds.gpkg`` (layers
``compounds``: inputs plus ``n_missing``, ``missing``, ``gap_score``; and ``pois`` with
their categories), ``summary.csv`` (coverage per category), ``service_areas.gpkg``
(reachable street parts per category, buffered) and ``problems.csv``. Every file is
written atomically; geometry is exported in WGS84.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from spatial.bundling import BundleResult
from spatial.io.write import atomic_path, write_csv, write_gpkg
from spatial.lifecircle import GapResult
from spatial.projection import to_wgs84

__all__ = [
    "GAPS_COLUMNS",
    "HEADERS_ZH",
    "pairs_lonlat",
    "write_bundle_outputs",
    "write_gap_outputs",
    "write_xlsx",
]

#: Column order of ``gaps.csv`` (the file contract).
GAPS_COLUMNS = (
    "compound_id",
    "compound_name",
    "category",
    "level",
    "radius_m",
    "distance_m",
    "walk_min",
    "covered",
)


def write_gap_outputs(
    result: GapResult, out_dir: str | Path, *, service_area_buffer_m: float = 15.0
) -> dict[str, Path]:
    """Write all gap outputs into ``out_dir``; returns ``{name: path}``.

    Parameters
    ----------
    result
        From :func:`spatial.lifecircle.compute_gaps`.
    out_dir
        Folder (created if missing).
    service_area_buffer_m
        Half-width in metres of the buffer drawn around reachable street parts.
    """
    out = Path(out_dir)
    extra = [c for c in ("reachable_count",) if c in result.gaps]
    paths = {
        "gaps": write_csv(result.gaps.loc[:, [*GAPS_COLUMNS, *extra]], out / "gaps.csv"),
        "summary": write_csv(result.summary, out / "summary.csv"),
    }
    comp = to_wgs84(result.compounds)
    pois = to_wgs84(result.pois)
    paths["compounds"] = write_gpkg({"compounds": comp, "pois": pois}, out / "compounds.gpkg")
    if result.service_areas is not None and len(result.service_areas):
        areas = result.service_areas.copy()
        areas["geometry"] = areas.geometry.buffer(service_area_buffer_m, quad_segs=2)
        paths["service_areas"] = write_gpkg(
            {"service_areas": to_wgs84(areas)}, out / "service_areas.gpkg"
        )
    problems = pd.DataFrame(
        [vars(p) for p in result.problems],
        columns=["severity", "file", "row", "column", "message", "hint"],
    )
    paths["problems"] = write_csv(problems, out / "problems.csv")
    return paths


def write_bundle_outputs(result: BundleResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``bundles.gpkg`` (layers ``bundles``, ``members``), ``bundles.csv``,
    ``pairs.csv`` (cross-area combinations), ``packages.csv`` (per subdistrict and
    community) and ``excluded.csv`` into ``out_dir``; returns ``{name: path}``."""
    out = Path(out_dir)
    bundles = to_wgs84(result.bundles)
    members = to_wgs84(result.members)
    return {
        "bundles": write_gpkg({"bundles": bundles, "members": members}, out / "bundles.gpkg"),
        "bundles_csv": write_csv(
            pd.DataFrame(bundles.drop(columns="geometry")), out / "bundles.csv"
        ),
        "pairs": write_csv(pairs_lonlat(result), out / "pairs.csv"),
        "packages": write_csv(result.packages, out / "packages.csv"),
        "excluded": write_csv(result.excluded, out / "excluded.csv"),
    }


def pairs_lonlat(result: BundleResult) -> pd.DataFrame:
    """Pairs with both ends in WGS84 lon/lat (``*_lon``, ``*_lat``) instead of metres."""
    pairs = result.pairs.copy()
    for end in ("deficit", "surplus"):
        pts = gpd.GeoSeries(
            gpd.points_from_xy(pairs[f"{end}_x"], pairs[f"{end}_y"]), crs=result.bundles.crs
        ).to_crs(4326)
        pairs[f"{end}_lon"], pairs[f"{end}_lat"] = pts.x.round(6), pts.y.round(6)
        pairs = pairs.drop(columns=[f"{end}_x", f"{end}_y"])
    return pairs


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
    "cost_yuan": "估算投资（元） Cost (yuan)",
    "subsidy_yuan": "补助（元） Subsidy (yuan)",
    "net_cost_yuan": "净投资（元） Net cost (yuan)",
    "elevators": "加装电梯 Elevators",
    "basis": "测算依据 Basis",
    "score": "得分 Score",
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
    "households_uncovered": "未覆盖户数 Households uncovered",
    "optimality_gap": "最优性差距 Optimality gap",
}


def write_xlsx(sheets: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """Write several tables to one Excel workbook (Chinese headers), atomically."""
    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        for name, frame in sheets.items():
            frame.rename(columns=HEADERS_ZH).to_excel(xl, sheet_name=name, index=False)
    return Path(path)
