"""``spatial assess``: the standard's other half from a gaps run — supply and demand
(``capacity.csv`` of ``spatial gaps --capacity``) and the 完整居住社区 check per community —
into ``assessment.xlsx`` and ``community_check.csv``."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from spatial._errors import InputError, InputWarning, Problem, format_problems, raise_for_errors
from spatial.io.boundaries import read_boundaries
from spatial.io.outputs.results import load_gap_tables
from spatial.io.outputs.runfolder import run_folder
from spatial.io.outputs.write import read_own_csv, write_csv, write_xlsx
from spatial.lifecircle.capacity import CapacityStandard, load_capacity
from spatial.lifecircle.floorspace import FloorspaceStandard, facility_areas, load_floorspace
from spatial.policy.community import MET, NO_DATA, community_check, load_items, planning_units
from spatial.policy.per_thousand import PerThousand, per_thousand, units_within

__all__ = ["ASSESS_HEADERS", "run_assess"]

_T = TypeVar("_T")

#: Chinese and English headers of assessment.xlsx.
ASSESS_HEADERS = {
    "unit": "社区/规划单元 unit",
    "proposed": "拟议单元 proposed unit",
    "residents": "常住人口(估) residents",
    "compounds": "小区数 compounds",
    "size": "人口规模 size check",
    "items_met": "达标项 items met",
    "items_answered": "可判定项 items answerable",
    "item": "项目 item",
    "item_zh": "项目名称 item (中文)",
    "item_en": "项目名称 item (English)",
    "group": "类别 group",
    "verdict": "结论 verdict",
    "compounds_out_of_reach": "未覆盖小区 compounds out of reach",
    "households_out_of_reach": "未覆盖户数 households out of reach",
    "missing": "缺什么 what is missing",
    "shortfall_places": "缺口学位/床位 places short",
    "scale": "标准规模 scale asked",
    "compound_id": "小区编号 compound_id",
    "category": "设施类别 category",
    "unit_of_places": "单位 unit",
    "serves": "服务年龄 age group",
    "people": "服务人口 people of the group",
    "need_places": "需求 places needed",
    "places_per_person": "人均可达 places per person",
    "accessible_places": "可达 places in reach",
    "status": "状态 status",
    "demand_basis": "需求依据 demand basis",
    "method": "方法 method",
    "facilities": "设施数 facilities",
    "facilities_default_scale": "按默认规模 at the default scale",
    "compounds_over_capacity": "覆盖但超负荷小区 covered over capacity",
    "scale_of_unit": "单元层级 unit scale",
    "level": "生活圈层级 level",
    "level_zh": "层级名称 level (中文)",
    "floor_m2": "建筑面积 floor area m²",
    "land_m2": "用地面积 land m²",
    "floor_per_1000": "千人建筑面积 floor m² per 1,000",
    "land_per_1000": "千人用地面积 land m² per 1,000",
    "floor_min_per_1000": "标准下限(建筑) floor minimum per 1,000",
    "land_min_per_1000": "标准下限(用地) land minimum per 1,000",
    "floor_short_m2": "建筑面积缺口 floor area short m²",
    "land_short_m2": "用地缺口 land short m²",
    "counted": "计入类别 categories counted",
    "what": "内容 what",
    "value": "数值 value",
    "source": "来源 source",
}


def _floorspace_rows(
    fs: FloorspaceStandard,
    thousand: PerThousand | None,
    areas: pd.DataFrame | None,
    info: dict[str, Any],
) -> list[tuple[str, object, str]]:
    """The 千人指标's figures: the minima per level, the default scales used and how often."""
    rows: list[tuple[str, object, str]] = [
        ("千人指标 standard", fs.standard, fs.path),
        ("千人指标 note", fs.note, fs.path),
    ]
    if thousand is None:
        return [*rows, ("千人指标 per 1,000", "not computed", "the gaps run has no POIs")]
    for level, mins in fs.levels.items():
        rows.append(
            (
                f"{mins.zh} {level}: 用地 land m²/千人",
                f"{mins.land_per_1000[0]:g}–{mins.land_per_1000[1]:g}",
                mins.sources["land_per_1000"],
            )
        )
        rows.append(
            (
                f"{mins.zh} {level}: 建筑 floor m²/千人",
                f"{mins.floor_per_1000[0]:g}–{mins.floor_per_1000[1]:g}",
                mins.sources["floor_per_1000"],
            )
        )
    rows.append(
        (
            "设施归属 facility to unit",
            f"nearest compound within {fs.assign_within_m:g} m",
            fs.sources["assign_within_m"],
        )
    )
    rows.append(
        (
            "未归属设施 facilities far from every compound",
            f"{thousand.unassigned} of {thousand.facilities}",
            "farther than the distance above from every compound: counted in no unit "
            "of the scale the boundaries do not give",
        )
    )
    rows.append(
        (
            "无人口小区 compounds without residents",
            info["no_residents"],
            "no households in the data nor estimated: a unit of only these is 无数据 no data",
        )
    )
    if "boundaries" in info:
        rows.append(
            (
                "边界外设施 facilities outside the boundaries",
                f"{thousand.outside} of {thousand.facilities}",
                "counted in no unit of the boundaries' scale",
            )
        )
        rows.append(
            (
                "无小区的单元 units without compounds",
                info["empty_units"],
                "no residents known: not assessed",
            )
        )
    if areas is not None:
        for cat, rule in fs.rules.items():
            mine = areas[areas["category"] == cat]
            if not len(mine):
                continue
            n = len(mine)
            rows.append(
                (
                    f"{cat}: 默认建筑面积 default floor area",
                    f"{rule.floor_m2:g} m² × {int(mine['floor_default'].sum())} of {n}",
                    rule.sources["floor_m2"],
                )
            )
            rows.append(
                (
                    f"{cat}: 默认用地 default land",
                    f"{rule.land_m2:g} m² × {int(mine['land_default'].sum())} of {n}",
                    rule.sources["land_m2"],
                )
            )
    return rows


def _cover(
    std: CapacityStandard,
    capacity: pd.DataFrame | None,
    pairs: pd.DataFrame | None,
    info: dict[str, Any],
    fs: FloorspaceStandard,
    thousand: PerThousand | None,
    areas: pd.DataFrame | None,
) -> pd.DataFrame:
    """What the figures rest on: the defaults used and how many rows used them."""
    rows = [
        ("标准 standard", info["standard"], "spatial/standards/complete_community.toml"),
        *(
            [("单元边界 unit boundaries", info["boundaries"], "spatial assess --boundaries")]
            if "boundaries" in info
            else []
        ),
        (
            "单元人口 unit size",
            f"{info['residents_min']:,.0f}–{info['residents_max']:,.0f}",
            "完整居住社区建设标准（试行）",
        ),
        (
            "户均人口 persons per household",
            std.persons_per_household,
            std.sources["persons_per_household"],
        ),
    ]
    rows += [
        (f"年龄构成 age share {k}", v, std.sources[f"age_share.{k}"])
        for k, v in std.age_share.items()
    ]
    if capacity is not None:
        basis = capacity.drop_duplicates("compound_id")["demand_basis"].value_counts()
        for key, n in basis.items():
            rows.append(
                (
                    f"需求依据 demand basis: {key}",
                    int(n),
                    "compounds (estimated: households from floor area)",
                )
            )
        for cat, rule in std.rules.items():
            used = pairs[pairs["category"] == cat] if pairs is not None else pd.DataFrame()
            n_def = int(used.drop_duplicates("poi")["places_default"].sum()) if len(used) else 0
            rows.append(
                (
                    f"{cat}: 默认规模 default scale",
                    f"{rule.capacity:g} {rule.unit} × {n_def} facilities",
                    rule.sources["capacity"],
                )
            )
            rows.append((f"{cat}: 需求 need per person", rule.need, rule.sources["need"]))
    else:
        rows.append(
            (
                "供需 supply–demand",
                "not computed",
                "run spatial gaps --capacity for places and shortfalls",
            )
        )
    rows += _floorspace_rows(fs, thousand, areas, info)
    cover: pd.DataFrame = pd.DataFrame(rows, columns=["what", "value", "source"])
    cover["value"] = cover["value"].astype(str)
    return cover


def run_assess(
    *,
    gaps_dir: str | Path,
    out_dir: str | Path,
    capacity_file: str | Path | None = None,
    items_file: str | Path | None = None,
    floorspace_file: str | Path | None = None,
    boundaries: str | Path | None = None,
    boundaries_layer: str | None = None,
    boundary_name: str | None = None,
    boundary_scale: str = "subdistrict",
) -> dict[str, Path]:
    """Assess a gaps run against the 完整居住社区 standard, with capacity when computed.

    Parameters
    ----------
    gaps_dir
        A ``spatial gaps`` output folder (``capacity.csv`` when run with ``--capacity``).
    out_dir
        Output folder: ``assessment.xlsx``, ``community_check.csv`` and ``units.csv`` (the
        unit of each compound; ``spatial map --assess`` draws them).
    capacity_file
        Demand figures (persons per household, age shares) and capacity rules.
    items_file
        The standard's items (default ``spatial/standards/complete_community.toml``).
    floorspace_file
        The 千人指标: minima per level and facilities' default scales (default
        ``spatial/standards/floorspace.toml``).
    boundaries, boundaries_layer, boundary_name
        A polygon layer of units, its layer and name column
        (:func:`~spatial.io.boundaries.read_boundaries`): compounds and facilities belong
        to the unit holding them.
    boundary_scale
        What the boundaries are: ``community`` (社区: they replace the 社区 column and the
        proposed units) or ``subdistrict`` (街道: the 10- and 15-minute 千人指标).

    Returns
    -------
    dict
        ``{name: path}`` of the files written.
    """
    folder = Path(gaps_dir)
    if boundary_scale not in ("community", "subdistrict"):
        raise ValueError(f"boundary_scale {boundary_scale!r}: community or subdistrict")
    found: list[Problem] = []  # every input is checked before any is used

    def _read(read: Callable[[], _T]) -> _T | None:
        try:
            return read()
        except InputError as exc:
            found.extend(exc.problems)
            return None

    tables = _read(lambda: load_gap_tables(folder, service_areas=False))
    std = _read(lambda: load_capacity(capacity_file))
    fs = _read(lambda: load_floorspace(floorspace_file))
    bounds = (
        _read(
            lambda: read_boundaries(boundaries, layer=boundaries_layer, name_column=boundary_name)
        )
        if boundaries is not None
        else None
    )
    raise_for_errors(found)
    assert tables is not None and std is not None and fs is not None
    comp = tables.compounds
    items, info = load_items(items_file)
    given = comp["households"] if "households" in comp else pd.Series(np.nan, index=comp.index)
    hh = pd.to_numeric(given, errors="coerce").to_numpy(float)
    residents = hh * std.persons_per_household
    info["no_residents"] = f"{int(np.isnan(residents).sum())} of {len(residents)}"
    if len(residents) and np.isnan(residents).all():
        said = [
            Problem.warning(
                str(folder / "compounds.gpkg"),
                "no compound has households (户数) or a floor area to estimate them from: "
                "every unit's 千人指标 and size check is 无数据 no data",
                column="households",
                hint="add 户数 (or 建筑面积) to the survey and run gaps again",
            )
        ]
        warnings.warn(InputWarning(format_problems(said), said), stacklevel=2)
    barriers = None
    ctx = tables.context
    if ctx is not None and len(ctx):
        major = (ctx["layer"] == "street") & (ctx["cls"].astype(str) == "major")
        barriers = ctx[major | ctx["layer"].isin(["rail", "water"])].geometry
    units, proposed = planning_units(
        comp,
        residents=residents,
        residents_min=info["residents_min"],
        residents_max=info["residents_max"],
        barriers=barriers,
    )
    inside = units_within(comp, bounds) if bounds is not None else None
    if inside is not None and boundary_scale == "community":
        units, proposed = inside, False
    cap_path, pairs_path = folder / "capacity.csv", folder / "capacity_pairs.csv"
    capacity = read_own_csv(cap_path) if cap_path.exists() else None
    pairs = read_own_csv(pairs_path) if pairs_path.exists() else None
    thousand, areas = None, None
    pois = tables.pois
    if pois is not None and len(pois) and "categories" in pois:
        cats = tables.categories or ()
        areas = facility_areas(pois, categories=cats, standard=fs)
        thousand = per_thousand(
            comp,
            pois,
            areas,
            units=units,
            residents=residents,
            standard=fs,
            categories=cats,
            boundaries=bounds,
            boundary_scale=boundary_scale,
        )
    check = community_check(tables.gaps, comp, units, items, residents=residents, capacity=capacity)
    summary = (
        check.assign(met=check["verdict"] == MET, answered=check["verdict"] != NO_DATA)
        .groupby("unit", sort=False)
        .agg(
            residents=("residents", "first"),
            compounds=("compounds", "first"),
            items_met=("met", "sum"),
            items_answered=("answered", "sum"),
        )
        .reset_index()
    )
    summary.insert(1, "proposed", proposed)
    summary["size"] = np.select(
        [
            summary["residents"] < info["residents_min"],
            summary["residents"] > info["residents_max"],
        ],
        ["小于 below 5,000", "大于 above 12,000"],
        "符合 within",
    )
    if bounds is not None:
        info["boundaries"] = f"{boundaries} ({boundary_scale}: {len(bounds)} units)"
        held = set(inside) if inside is not None else set()
        empty = [u for u in bounds["unit"] if u not in held]
        info["empty_units"] = f"{len(empty)}: " + "、".join(map(str, empty[:20])) if empty else "0"
    sheets = {
        "说明 cover": _cover(std, capacity, pairs, info, fs, thousand, areas),
        "社区 units": summary,
        "完整社区 check": check,
    }
    if thousand is not None:
        sheets["千人指标 per 1,000"] = thousand.levels
        sheets["千人指标 categories"] = thousand.categories
    if capacity is not None:
        by_cat = (
            capacity.groupby("category", sort=False)
            .agg(
                people=("people", "sum"),
                need_places=("need_places", "sum"),
                accessible_places=("accessible_places", "sum"),
                shortfall_places=("shortfall_places", "sum"),
                compounds_over_capacity=(
                    "status",
                    lambda s: int((s == "covered_over_capacity").sum()),
                ),
            )
            .reset_index()
        )
        if pairs is not None and len(pairs):
            fac = pairs.drop_duplicates(["category", "poi"]).groupby("category")
            by_cat["facilities"] = by_cat["category"].map(fac.size()).fillna(0).astype(int)
            by_cat["facilities_default_scale"] = (
                by_cat["category"].map(fac["places_default"].sum()).fillna(0).astype(int)
            )
        sheets["类别 categories"] = by_cat
        sheets["小区供需 compounds"] = capacity.rename(columns={"unit": "unit_of_places"})
    with run_folder(out_dir, command="assess") as stage:
        written = {
            "assessment": write_xlsx(
                sheets, stage / "assessment.xlsx", headers=ASSESS_HEADERS, styled=True
            ),
            "community_check": write_csv(check, stage / "community_check.csv"),
            **(
                {"per_thousand": write_csv(thousand.levels, stage / "per_thousand.csv")}
                if thousand is not None
                else {}
            ),
            "units": write_csv(
                pd.DataFrame(
                    {
                        "compound_id": comp["id"].astype(str).to_numpy(),
                        "unit": units.to_numpy(),
                        "proposed": proposed,
                    }
                ),
                stage / "units.csv",
            ),
        }
    out = Path(out_dir)
    return {k: out / v.name for k, v in written.items()}
