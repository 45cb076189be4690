"""千人指标 per unit: facility floor area and land per 1,000 residents against the minimum
of GB 50180-2018 表5.0.2 for each life-circle level (``spatial/standards/floorspace.toml``).

A 社区 (community, or a proposed planning unit) is checked at the 5-minute and block levels,
a 街道 (subdistrict; the whole run where the compounds name none) at the 10- and
15-minute levels. A facility counts for the unit of the nearest compound within
``assign_within_m``; a category counts at its own level only (the levels of 表5.0.2 do
not contain each other).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.io.crs.projection import to_metric
from spatial.lifecircle.floorspace import FloorspaceStandard, LevelMinimum
from spatial.policy.community import MET, NO_DATA, NOT_MET
from spatial.standards.lifecircle import Category

__all__ = [
    "OUTSIDE",
    "WHOLE_RUN",
    "PerThousand",
    "floorspace_short",
    "per_thousand",
    "units_within",
]

#: The subdistrict of compounds that name none.
WHOLE_RUN = "研究范围 whole run"
#: The unit of compounds outside every boundary.
OUTSIDE = "边界外 outside the boundaries"
_SCALE_LABEL = {"community": "社区 community", "subdistrict": "街道 subdistrict"}


@dataclass(frozen=True)
class PerThousand:
    """The 千人指标 of a run.

    Attributes
    ----------
    levels
        One row per unit and level: ``unit, scale_of_unit, level, level_zh, residents,
        facilities, facilities_default_scale, floor_m2, land_m2, floor_per_1000,
        land_per_1000, floor_min_per_1000, land_min_per_1000, floor_short_m2,
        land_short_m2, verdict, counted`` (the categories that count).
    categories
        One row per unit and category with facilities: ``unit, scale_of_unit, level,
        category, facilities, facilities_default_scale, floor_m2, land_m2, floor_per_1000,
        land_per_1000``.
    facilities
        Facilities with a scale (POI × category).
    unassigned
        Of them, those farther than ``assign_within_m`` from every compound: counted in
        no unit of the scale without boundaries.
    outside
        Of them, those outside every boundary given: counted in no unit of the
        boundaries' scale (0 without boundaries).
    """

    levels: pd.DataFrame
    categories: pd.DataFrame
    facilities: int
    unassigned: int
    outside: int = 0


def _metric(frame: gpd.GeoDataFrame, crs: object) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise ValueError("per_thousand needs a CRS on the compounds and POIs")
    return frame.to_crs(crs)


#: Facilities this close to a compound are matched to it from all pairs at once; only
#: the others are searched one by one (GEOS' nearest search is ~13 µs a point).
_NEAR_M = 60.0


def _nearest(polygons: np.ndarray, points: np.ndarray, *, within_m: float) -> np.ndarray:
    """Row of the polygon nearest each point within ``within_m`` (the lowest row among
    equally near ones), -1 where none is."""
    nearest = np.full(len(points), -1, dtype=np.int64)
    if not len(points) or not len(polygons):
        return nearest
    tree = shapely.STRtree(polygons)
    a, b = tree.query(points, predicate="dwithin", distance=min(_NEAR_M, within_m))
    order = np.lexsort((b, shapely.distance(points[a], polygons[b]), a))
    first = np.r_[True, a[order][1:] != a[order][:-1]] if len(a) else np.zeros(0, bool)
    nearest[a[order][first]] = b[order][first]
    rest = np.flatnonzero(nearest < 0)
    if len(rest) and within_m > _NEAR_M:
        left, right = tree.query_nearest(points[rest], max_distance=within_m, all_matches=False)
        nearest[rest[left]] = right
    return nearest


def _level_rows(
    size: pd.Series,
    got: pd.DataFrame,
    mins: LevelMinimum,
    scale: str,
    level: str,
    counted: list[str],
    zh: dict[str, str],
) -> pd.DataFrame:
    """One row per unit (``size``: its residents) of one level, from the sums ``got``."""
    have = got.reindex(size.index).fillna(0.0)
    people = size.to_numpy(dtype=float)
    floor, land = have["floor_m2"].to_numpy(float), have["land_m2"].to_numpy(float)
    need_floor = mins.floor_per_1000[0] * people / 1000.0
    need_land = mins.land_per_1000[0] * people / 1000.0
    some = people > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        floor_per = np.where(some, np.round(1000.0 * floor / people, 1), np.nan)
        land_per = np.where(some, np.round(1000.0 * land / people, 1), np.nan)
    met = (floor >= need_floor) & (land >= need_land)
    rows: pd.DataFrame = pd.DataFrame(
        {
            "unit": size.index.to_numpy(dtype=object),
            "scale_of_unit": _SCALE_LABEL[scale],
            "level": level,
            "level_zh": mins.zh,
            "residents": np.round(people).astype(np.int64),
            "facilities": have["facilities"].to_numpy().astype(np.int64),
            "facilities_default_scale": have["facilities_default_scale"]
            .to_numpy()
            .astype(np.int64),
            "floor_m2": np.round(floor, 1),
            "land_m2": np.round(land, 1),
            "floor_per_1000": floor_per,
            "land_per_1000": land_per,
            "floor_min_per_1000": mins.floor_per_1000[0],
            "land_min_per_1000": mins.land_per_1000[0],
            "floor_short_m2": np.round(np.maximum(need_floor - floor, 0.0), 1),
            "land_short_m2": np.round(np.maximum(need_land - land, 0.0), 1),
            "verdict": np.where(~some, NO_DATA, np.where(met, MET, NOT_MET)),
            "counted": "、".join(zh.get(c, c) for c in counted),
        }
    )
    return rows


def _inside(points: np.ndarray, boundaries: gpd.GeoDataFrame) -> np.ndarray:
    """Row of the boundary holding each point (the first), -1 outside all."""
    where = np.full(len(points), -1, dtype=np.int64)
    pts, polys = shapely.STRtree(boundaries.geometry.values).query(points, predicate="within")
    first = np.unique(pts, return_index=True)[1]
    where[pts[first]] = polys[first]
    return where


def units_within(compounds: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame) -> pd.Series:
    """The unit whose boundary holds each compound (its representative point).

    Parameters
    ----------
    compounds
        Compounds, any CRS.
    boundaries
        :func:`~spatial.io.boundaries.read_boundaries`: ``unit`` and polygons, any CRS.

    Returns
    -------
    pandas.Series
        Unit names indexed like ``compounds``; :data:`OUTSIDE` for those in none.
    """
    pts = compounds.geometry.representative_point().to_crs(boundaries.crs).values
    where = _inside(pts, boundaries)
    names = boundaries["unit"].to_numpy(dtype=object)
    out: pd.Series = pd.Series(
        np.where(where >= 0, names[np.maximum(where, 0)], OUTSIDE),
        index=compounds.index,
        dtype=object,
    )
    return out


def per_thousand(
    compounds: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    areas: pd.DataFrame,
    *,
    units: pd.Series,
    residents: np.ndarray,
    standard: FloorspaceStandard,
    categories: Sequence[Category],
    boundaries: gpd.GeoDataFrame | None = None,
    boundary_scale: str = "subdistrict",
) -> PerThousand:
    """Floor area and land per 1,000 residents per unit and level, with the shortfall.

    Parameters
    ----------
    compounds
        Compounds (any CRS), with ``subdistrict`` (街道) when known.
    pois
        The POIs ``areas`` points into (``poi`` = row position), any CRS.
    areas
        :func:`~spatial.lifecircle.floorspace.facility_areas` of ``pois``.
    units
        Each compound's community or proposed unit (indexed like ``compounds``).
    residents
        Residents of each compound (NaN: unknown, counted as none).
    standard
        The minima per level and the assignment distance.
    categories
        The run's taxonomy (labels of the categories counted).
    boundaries
        Units of ``boundary_scale`` as polygons (``unit``; any CRS): compounds and
        facilities belong to the one holding them (facilities outside all count nowhere),
        replacing ``units`` or the compounds' 街道 column.
    boundary_scale
        ``community`` or ``subdistrict``: what ``boundaries`` are.

    Returns
    -------
    PerThousand
        Shortfalls in m² (minimum × residents / 1,000 − what is there, never below 0).
    """
    comp = to_metric(compounds) if compounds.crs.is_geographic else compounds
    pts = _metric(pois, comp.crs).geometry.values[areas["poi"].to_numpy(dtype=np.int64)]
    nearest = _nearest(comp.geometry.values, pts, within_m=standard.assign_within_m)
    people = pd.Series(np.nan_to_num(np.asarray(residents, dtype=float)), index=comp.index)
    sub = (
        comp["subdistrict"].astype("string").fillna(WHOLE_RUN).str.strip().replace("", WHOLE_RUN)
        if "subdistrict" in comp
        else pd.Series(WHOLE_RUN, index=comp.index, dtype="string")
    ).astype(object)
    of_scale = {"community": units.astype(object), "subdistrict": sub}
    held = np.full(len(areas), -1, dtype=np.int64)
    if boundaries is not None:
        of_scale[boundary_scale] = units_within(comp, boundaries)
        at = _metric(pois, boundaries.crs).geometry.values[areas["poi"].to_numpy()]
        held = _inside(at, boundaries)
    zh = {c.id: c.label for c in categories}
    level_rows: list[pd.DataFrame] = []
    cat_rows: list[pd.DataFrame] = []
    for scale, unit_of in of_scale.items():
        size = people.groupby(unit_of.to_numpy(), sort=False).sum()
        if boundaries is not None and scale == boundary_scale:
            ok = held >= 0
            of_fac = boundaries["unit"].to_numpy(dtype=object)[held[ok]]
        else:
            ok = nearest >= 0
            of_fac = unit_of.to_numpy()[nearest[ok]]
        here = areas[ok].assign(unit=of_fac)
        for level, mins in standard.levels.items():
            if mins.scale != scale:
                continue
            cats = here[here["level"] == level]
            counted = sorted(set(cats["category"]) | {c.id for c in categories if c.level == level})
            counted = [c for c in counted if c in standard.rules]
            got = cats.groupby("unit", sort=False).agg(
                facilities=("poi", "size"),
                facilities_default_scale=("floor_default", "sum"),
                floor_m2=("floor_m2", "sum"),
                land_m2=("land_m2", "sum"),
            )
            level_rows.append(_level_rows(size, got, mins, scale, level, counted, zh))
            by_cat = (
                cats.groupby(["unit", "category"], sort=False)
                .agg(
                    facilities=("poi", "size"),
                    facilities_default_scale=("floor_default", "sum"),
                    floor_m2=("floor_m2", "sum"),
                    land_m2=("land_m2", "sum"),
                )
                .reset_index()
            )
            n = by_cat["unit"].map(size).to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                by_cat["floor_per_1000"] = np.where(n > 0, 1000.0 * by_cat["floor_m2"] / n, np.nan)
                by_cat["land_per_1000"] = np.where(n > 0, 1000.0 * by_cat["land_m2"] / n, np.nan)
            by_cat.insert(1, "scale_of_unit", _SCALE_LABEL[scale])
            by_cat.insert(2, "level", level)
            by_cat["category"] = by_cat["category"].map(lambda c: zh.get(c, c))
            cat_rows.append(by_cat.round({"floor_per_1000": 1, "land_per_1000": 1}))
    columns = ["unit", "scale_of_unit", "level", "category", "facilities"]
    columns += ["facilities_default_scale"]
    columns += ["floor_m2", "land_m2", "floor_per_1000", "land_per_1000"]
    by_category = (
        pd.concat(cat_rows, ignore_index=True) if cat_rows else pd.DataFrame(columns=columns)
    )
    return PerThousand(
        pd.concat(level_rows, ignore_index=True) if level_rows else pd.DataFrame(),
        by_category.loc[:, columns],
        len(areas),
        int((nearest < 0).sum()),
        int((held < 0).sum()) if boundaries is not None else 0,
    )


def floorspace_short(
    units: pd.DataFrame,
    thousand: pd.DataFrame,
    compound_ids: pd.Series,
    *,
    level: str = "5min",
) -> pd.Series:
    """The m² each compound's unit is short of at ``level``, as a line of a plan's needs.

    Parameters
    ----------
    units
        ``units.csv`` of ``spatial assess`` (``compound_id``, ``unit``).
    thousand
        ``per_thousand.csv`` (:attr:`PerThousand.levels`).
    compound_ids
        The compounds of the plan.
    level
        The level (the community's own: ``5min``).

    Returns
    -------
    pandas.Series
        Indexed like ``compound_ids``: ``"<unit>: 建筑 floor … m², 用地 land … m² 缺 short"``,
        None where the unit is short of nothing or unknown.
    """
    unit_of = units.assign(compound_id=units["compound_id"].astype(str)).drop_duplicates(
        "compound_id"
    )
    rows = thousand[(thousand["level"] == level) & (thousand["residents"] > 0)]
    text = {
        str(r.unit): f"{r.unit}: 建筑 floor {r.floor_short_m2:,.0f} m², "
        f"用地 land {r.land_short_m2:,.0f} m² 缺 short"
        for r in rows.itertuples()
        if r.floor_short_m2 >= 0.5 or r.land_short_m2 >= 0.5
    }
    unit = compound_ids.astype(str).map(unit_of.set_index("compound_id")["unit"].astype(str))
    said = unit.map(text).astype(object)
    out: pd.Series = said.where(said.notna(), None)
    return out
