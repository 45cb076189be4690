"""The 完整居住社区 check: per community, which items of the Ministry's standard the
compounds reach (``spatial/standards/complete_community.toml``).

Communities come from the compounds' 社区 column (with 街道 when given); where there is
none, planning units of 5,000–12,000 residents are proposed from adjacent compounds, never
joined across a main road, a railway or water of the run's context (marked proposed).
An item is 达标 (met) when every compound of the unit with households reaches one of its
categories within the category's radius, 不达标 (not met) otherwise, 无数据 (no data) when
none of its categories had any facility in the run or it has no category.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import tomllib

__all__ = [
    "ITEMS_FILE",
    "MET",
    "NOT_MET",
    "NO_DATA",
    "CommunityItem",
    "community_check",
    "load_items",
    "places_short",
    "planning_units",
]

ITEMS_FILE = Path(__file__).resolve().parents[1] / "standards" / "complete_community.toml"
#: Compounds closer than this (metres) are neighbours when units are proposed.
_NEIGHBOUR_M = 80.0
MET, NOT_MET, NO_DATA = "达标 met", "不达标 not met", "无数据 no data"


@dataclass(frozen=True)
class CommunityItem:
    """One item of the standard.

    Attributes
    ----------
    id, zh, en, group
        Identifier, Chinese and English names, the standard's group.
    categories
        Categories of the run that answer it (any of them); none: data cannot.
    scale
        The scale the standard asks (text), or what would answer it.
    """

    id: str
    zh: str
    en: str
    group: str
    categories: tuple[str, ...]
    scale: str


def load_items(path: str | Path | None = None) -> tuple[list[CommunityItem], dict[str, Any]]:
    """The items and the unit size of the standard.

    Parameters
    ----------
    path
        A file like ``spatial/standards/complete_community.toml``.

    Returns
    -------
    items, meta
        The items, and ``standard``, ``residents_min``, ``residents_max`` (values).
    """
    data = tomllib.loads(Path(path or ITEMS_FILE).read_text(encoding="utf-8"))
    meta = data.get("meta", {})
    items = [
        CommunityItem(
            id=str(it["id"]),
            zh=str(it["zh"]),
            en=str(it["en"]),
            group=str(it.get("group", "")),
            categories=tuple(it.get("categories", ())),
            scale=str(it.get("scale", "")),
        )
        for it in data.get("item", [])
    ]
    info = {
        "standard": str(meta.get("standard", "")),
        "residents_min": float(meta["residents_min"]["value"]),
        "residents_max": float(meta["residents_max"]["value"]),
    }
    return items, info


def planning_units(
    compounds: gpd.GeoDataFrame,
    *,
    residents: np.ndarray,
    residents_min: float,
    residents_max: float,
    barriers: gpd.GeoSeries | None = None,
) -> tuple[pd.Series, bool]:
    """Each compound's community, or a proposed planning unit when the data have none.

    Parameters
    ----------
    compounds
        With ``community`` (社区) and ``subdistrict`` (街道) when known; any CRS.
    residents
        Residents of each compound.
    residents_min, residents_max
        The size of a unit (people).
    barriers
        Main roads, railways and water (lines or areas, same CRS as ``compounds``) no
        proposed unit crosses.

    Returns
    -------
    units, proposed
        The unit of each compound (indexed like ``compounds``) and whether they were
        proposed.
    """
    if "community" in compounds and compounds["community"].notna().any():
        name = compounds["community"].astype("string").fillna("未注明 unspecified")
        if "subdistrict" in compounds:
            name = compounds["subdistrict"].astype("string").fillna("") + " " + name
        return name.str.strip().astype(object), False
    metric = (
        compounds.to_crs(compounds.estimate_utm_crs()) if compounds.crs.is_geographic else compounds
    )
    pts = metric.geometry.representative_point().values
    tree = shapely.STRtree(metric.geometry.values)
    left, right = tree.query(metric.geometry.values, predicate="dwithin", distance=_NEIGHBOUR_M)
    keep = left != right
    left, right = left[keep], right[keep]
    if barriers is not None and len(barriers) and len(left):
        wall = shapely.union_all(barriers.to_crs(metric.crs).values)
        links = shapely.linestrings(
            np.stack(
                [shapely.get_coordinates(pts[left]), shapely.get_coordinates(pts[right])], axis=1
            )
        )
        open_ = ~shapely.intersects(links, wall)
        left, right = left[open_], right[open_]
    neighbours: list[list[int]] = [[] for _ in range(len(metric))]
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        neighbours[a].append(b)
    xy = shapely.get_coordinates(pts)
    unit = np.full(len(metric), -1, dtype=np.int64)
    people = np.nan_to_num(np.asarray(residents, dtype=float))
    for seed in np.lexsort((xy[:, 1], xy[:, 0])):  # west to east
        if unit[seed] >= 0:
            continue
        label, total = seed, people[seed]
        unit[seed] = label
        queue = deque(sorted(neighbours[seed], key=lambda j: np.hypot(*(xy[j] - xy[seed]))))
        while queue and total < residents_min:
            j = queue.popleft()
            if unit[j] >= 0 or total + people[j] > residents_max:
                continue
            unit[j] = label
            total += people[j]
            queue.extend(k for k in neighbours[j] if unit[k] < 0)
    unit = _merge_small(unit, people, left, right, residents_min, residents_max)
    order = {u: k for k, u in enumerate(dict.fromkeys(unit.tolist()), start=1)}
    labels = [f"规划单元 proposed unit {order[u]:03d}" for u in unit.tolist()]
    return pd.Series(labels, index=compounds.index, dtype=object), True


def _merge_small(
    unit: np.ndarray,
    people: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    low: float,
    high: float,
) -> np.ndarray:
    """Units left below ``low`` join their smallest neighbouring unit that stays ≤ ``high``."""
    unit = unit.copy()
    while True:
        size = pd.Series(people).groupby(unit).sum()
        small = size[size < low].sort_values()
        merged = False
        for u in small.index:
            touch = unit[right[unit[left] == u]]
            others = sorted({int(v) for v in touch if v != u}, key=lambda v: size[v])
            fit = [v for v in others if size[v] + size[u] <= high]
            if fit:
                unit[unit == u] = fit[0]
                merged = True
                break
        if not merged:
            return unit


def community_check(
    gaps: pd.DataFrame,
    compounds: pd.DataFrame,
    units: pd.Series,
    items: list[CommunityItem],
    *,
    residents: np.ndarray,
    capacity: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each unit × item: met, not met or no data, with what is missing.

    Parameters
    ----------
    gaps
        The gap run's long table (``compound_id``, ``category``, ``status``).
    compounds
        Compounds (``id``, ``households``) in the order of ``units``.
    units
        The unit of each compound (:func:`planning_units`).
    items
        The standard's items.
    residents
        Residents of each compound.
    capacity
        ``capacity.csv`` of the run (``compound_id``, ``category``, ``shortfall_places``,
        ``unit``), when computed: places short are summed per unit and item.

    Returns
    -------
    DataFrame
        ``unit, residents, compounds, item, item_zh, item_en, group, verdict,
        compounds_out_of_reach, households_out_of_reach, missing, shortfall_places,
        scale``.
    """
    ids = compounds["id"].astype(str).to_numpy()
    given = (
        compounds["households"]
        if "households" in compounds
        else pd.Series(0, index=compounds.index)
    )
    hh = pd.to_numeric(given, errors="coerce").fillna(0).to_numpy(float)
    status = gaps.assign(compound_id=gaps["compound_id"].astype(str)).pivot_table(
        index="compound_id", columns="category", values="status", aggfunc="first"
    )
    status = status.reindex(ids)
    short = None
    if capacity is not None and len(capacity):
        short = (
            capacity.assign(compound_id=capacity["compound_id"].astype(str))
            .pivot_table(
                index="compound_id", columns="category", values="shortfall_places", aggfunc="sum"
            )
            .reindex(ids)
        )
    # each unit's rows found once (not one mask over the city per unit and item)
    codes, names = pd.factorize(units.to_numpy(), use_na_sentinel=False)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    counted_all = hh > 0
    per_item = []
    for item in items:
        cats = [c for c in item.categories if c in status.columns]
        have = [c for c in cats if short is not None and c in short.columns]
        per_item.append(
            (
                item,
                cats,
                status.loc[:, cats].to_numpy() if cats else None,
                short.loc[:, have].to_numpy() if short is not None and have else None,
            )
        )
    rows = []
    for k, name in enumerate(names):
        at = order[bounds[k] : bounds[k + 1]]
        counted = counted_all[at]
        for item, cats, st_all, short_all in per_item:
            base = {
                "unit": name,
                "residents": float(np.nansum(residents[at])),
                "compounds": len(at),
                "item": item.id,
                "item_zh": item.zh,
                "item_en": item.en,
                "group": item.group,
                "scale": item.scale,
            }
            st = st_all[at] if st_all is not None else np.empty((0, 0))
            if not cats or (st == "no_data").all():
                rows.append(
                    base
                    | {"verdict": NO_DATA, "missing": item.scale or "不在数据中 not in the data"}
                )
                continue
            reached = (st == "covered").any(axis=1)
            out = counted & ~reached
            detail = (
                f"{int(out.sum())} of {int(counted.sum())} compounds ({hh[at][out].sum():,.0f} "
                f"households) reach no {item.zh} {item.en} within its radius"
                if out.any()
                else ""
            )
            places = float(np.nansum(short_all[at])) if short_all is not None else np.nan
            rows.append(
                base
                | {
                    "verdict": NOT_MET if out.any() else MET,
                    "compounds_out_of_reach": int(out.sum()),
                    "households_out_of_reach": float(hh[at][out].sum()),
                    "missing": detail,
                    "shortfall_places": places,
                }
            )
    columns = [
        "unit",
        "residents",
        "compounds",
        "item",
        "item_zh",
        "item_en",
        "group",
        "verdict",
        "compounds_out_of_reach",
        "households_out_of_reach",
        "missing",
        "shortfall_places",
        "scale",
    ]
    table: pd.DataFrame = pd.DataFrame(rows).reindex(columns=columns)
    return table


def places_short(
    capacity: pd.DataFrame, ids: pd.Series, *, names: dict[str, str] | None = None
) -> pd.Series:
    """Per compound, the places it is short of by category, as text for the plan.

    Parameters
    ----------
    capacity
        ``capacity.csv`` of ``spatial gaps --capacity``.
    ids
        Compound ids, in the plan's order.
    names
        Category id → Chinese name (default: the id).

    Returns
    -------
    Series
        Indexed like ``ids``: e.g. ``幼儿园 缺 40 学位；养老院 缺 12 床位`` ("" when none).
    """
    names = names or {}
    short = capacity[pd.to_numeric(capacity["shortfall_places"], errors="coerce") >= 0.5]
    text = [
        f"{names.get(c, c)} 缺 {v:,.0f} {str(u).split()[0]}"
        for c, v, u in zip(short["category"], short["shortfall_places"], short["unit"], strict=True)
    ]
    joined = (
        pd.Series(text, index=short.index).groupby(short["compound_id"].astype(str)).agg("；".join)
    )
    out: pd.Series = pd.Series(
        joined.reindex(ids.astype(str).to_numpy()).fillna("").to_numpy(), index=ids.index
    )
    return out
