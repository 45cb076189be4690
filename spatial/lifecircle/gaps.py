"""Life-circle gaps of every compound for every category (:func:`compute_gaps`).

Covered = distance ≤ the category's radius. Every compound × category gets a ``status``
(:data:`STATUSES`) that says why a distance is there or not; a missing distance is
empty, never a sentinel number. Distances come from :mod:`spatial.lifecircle.engine`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial._errors import Problem
from spatial.lifecircle.engine import node_distances, reachable_counts
from spatial.lifecircle.parallel import category_distances
from spatial.lifecircle.params import GapParams
from spatial.lifecircle.pois import classify_pois, unknown_level_schools
from spatial.lifecircle.reach import entered_by, meetings_that_matter
from spatial.network import Attachment, WalkNetwork
from spatial.network.attach import AccessPoints, compound_access_points
from spatial.network.meeting import facility_ways_in
from spatial.standards import Category

__all__ = ["STATUSES", "GapResult", "compute_gaps", "gap_matrix"]

#: Status of a compound × category: (id, Chinese, English).
STATUSES: tuple[tuple[str, str, str], ...] = (
    ("covered", "覆盖", "within the radius"),
    ("too_far", "超出半径", "nearest beyond the radius"),
    ("beyond_limit", "超出搜索范围", "none within the search limit"),
    ("unreachable", "不连通", "none on the compound's network piece"),
    ("off_network", "小区不在路网上", "compound off the walk network"),
    ("no_data", "无该类设施数据", "no facility of the category in the inputs"),
)


@dataclass
class GapResult:
    """Everything the engine computed; see :func:`compute_gaps`.

    Attributes
    ----------
    gaps
        One row per compound × category: ``compound_id, compound_name, category,
        level, radius_m, distance_m, walk_min, covered, status, access`` (+
        ``reachable_count`` when counted); ``status`` is one of :data:`STATUSES`;
        ``access`` says how the compound is entered (``gate``, ``crossing``,
        ``perimeter``, ``nearest`` or ``off-network``; see
        :data:`~spatial.network.attach.ACCESS_KINDS`).
    compounds
        The input compounds plus ``n_missing``, ``missing`` (category ids joined by
        ``;``; categories without data are left out unless asked), ``no_data``
        (categories without any facility in the inputs), ``gap_score`` and ``access``
        (how the access points were found).
    summary
        Per category: facilities, compounds and households covered and their shares,
        and the number of compounds per status.
    pois
        The POIs with ``categories`` and ``attached`` (False = off-network).
    service_areas
        Per category, the reachable parts of edges within the radius (lines), or None.
    problems
        Off-network POIs and compounds, compounds on pieces cut off from the main
        network, categories without any POI (warnings).
    categories
        The taxonomy the gaps were computed for (saved beside the gap outputs).
    """

    gaps: pd.DataFrame
    compounds: gpd.GeoDataFrame
    summary: pd.DataFrame
    pois: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame | None
    problems: list[Problem] = field(default_factory=list)
    categories: tuple[Category, ...] = ()


def _merge_intervals(
    edge: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of ``[start, end]`` intervals on each edge (overlaps merged)."""
    keep = end > start
    edge, start, end = edge[keep], start[keep], end[keep]
    if len(edge) == 0:
        return edge, start, end
    order = np.lexsort((start, edge))
    edge, start, end = edge[order], start[order], end[order]
    reach = pd.Series(end).groupby(edge).cummax().to_numpy()
    first = np.r_[True, edge[1:] != edge[:-1]]
    new = first | (start > np.r_[-np.inf, reach[:-1]])
    group = np.cumsum(new) - 1
    merged_end = pd.Series(end).groupby(group).max().to_numpy()
    return edge[new], start[new], merged_end


def _reachable_segments(
    network: WalkNetwork, dist_node: np.ndarray, sources: Attachment, radius_m: float
) -> np.ndarray:
    """``(k, 2, 2)`` segments of edges within ``radius_m`` of the sources."""
    u, v, length = network.u, network.v, network.length_m
    a = np.clip(radius_m - dist_node[u], 0, length)  # reach along the edge from u
    b = np.clip(radius_m - dist_node[v], 0, length)  # from v
    from_u, from_v = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
    edges = [from_u, from_v]
    starts = [np.zeros(len(from_u)), length[from_v] - b[from_v]]
    ends = [a[from_u], length[from_v]]
    ok = sources.on_network
    rho = radius_m - sources.leg_m[ok]
    keep = rho > 0
    se = sources.edge[ok][keep]
    edges.append(se)
    starts.append(np.maximum(sources.offset_m[ok][keep] - rho[keep], 0))
    ends.append(np.minimum(sources.offset_m[ok][keep] + rho[keep], length[se]))
    e, s, t = _merge_intervals(np.concatenate(edges), np.concatenate(starts), np.concatenate(ends))
    frac0 = np.divide(s, length[e], out=np.zeros_like(s), where=length[e] > 0)
    frac1 = np.divide(t, length[e], out=np.ones_like(t), where=length[e] > 0)
    p0, p1 = network.node_xy[u[e]], network.node_xy[v[e]]
    seg = np.stack([p0 + (p1 - p0) * frac0[:, None], p0 + (p1 - p0) * frac1[:, None]], axis=1)
    return seg[t > s]


_SCHOOL_AS = {
    "none": "neither primary nor junior school",
    "primary": "a primary school (--school-unknown primary)",
    "junior": "a junior school (--school-unknown junior)",
    "both": "both levels (--school-unknown both)",
}


def compute_gaps(
    compounds: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    network: WalkNetwork,
    *,
    params: GapParams | None = None,
    **changes: Any,
) -> GapResult:
    """Compute life-circle gaps of every compound for every category.

    Parameters
    ----------
    compounds
        Validated compounds (``id``, ``name``, optional ``households``), in the
        network's metric CRS or any CRS (reprojected).
    pois
        POIs with a ``category`` column or OSM tags / Amap codes / names to classify.
    network
        The walk network.
    params
        The stage's settings (default :class:`~spatial.lifecircle.params.GapParams`):
        the taxonomy, search limit, how compounds are entered, what else to compute.
    **changes
        Settings to change from ``params`` by name (``service_areas=False``,
        ``categories=…``); an unknown name is an :class:`~spatial.InputError`.

    Returns
    -------
    GapResult
        The long table, compounds, summary, POIs, service areas, problems, categories.
    """
    p = (params or GapParams()).replace(**changes)
    snap_limit_m, search_limit_m = p.snap_limit_m, p.search_limit_m
    count_reachable, count_no_data = p.count_reachable, p.count_no_data
    school_unknown, access_leg_factor = p.school_unknown, p.access_leg_factor
    cats = p.taxonomy()
    comp = compounds.to_crs(network.crs).reset_index(drop=True)
    src_pois = pois.to_crs(network.crs).reset_index(drop=True)
    problems: list[Problem] = []

    src_pois["categories"] = classify_pois(src_pois, categories=cats, school_unknown=school_unknown)
    pts = shapely.get_coordinates(src_pois.geometry.representative_point().values)
    ways = facility_ways_in(
        network,
        pts,
        snap_limit_m=snap_limit_m,
        band_m=p.perimeter_band_m,
        leg_factor=access_leg_factor,
        keep=(src_pois["categories"] != "").to_numpy(),  # a POI of no category is no source
    )
    access: AccessPoints = compound_access_points(
        network,
        comp.geometry,
        snap_limit_m=snap_limit_m,
        gate_tolerance_m=p.gate_tolerance_m,
        crossing_depth_m=p.crossing_depth_m,
        perimeter_band_m=p.perimeter_band_m,
        leg_factor=access_leg_factor,
    )
    attached = np.isin(np.arange(len(src_pois)), ways.owner)
    comp_access, reached = entered_by(network, comp, access, snap_limit_m=snap_limit_m)
    problems += reached

    src_pois["attached"] = attached
    problems += _poi_problems(src_pois, school_unknown=school_unknown, snap_limit_m=snap_limit_m)

    households = (
        pd.to_numeric(comp.get("households", pd.Series(np.nan, index=comp.index)), errors="coerce")
        .astype(float)
        .to_numpy()
    )
    member = _membership(src_pois["categories"])
    off = comp_access.to_numpy() == "off-network"
    # each compound's network pieces, once (a compound entered from 60 points is on one)
    n_pieces = int(network.component.max(initial=0)) + 1
    key = np.unique(access.owner * n_pieces + network.component[network.u[access.edge]])
    owner_piece = np.column_stack([key // n_pieces, key % n_pieces])
    rows: list[pd.DataFrame] = []
    covered_cols: list[np.ndarray] = []
    status_cols: list[np.ndarray] = []
    areas: list[dict] = []
    no_data: list[str] = []
    in_data_of = [
        member[cat.id].to_numpy() if cat.id in member else np.zeros(len(src_pois), dtype=bool)
        for cat in cats
    ]
    masks = [in_data & attached for in_data in in_data_of]
    sources_of = [ways.take(in_data[ways.owner]) for in_data in in_data_of]
    limits_m = [max(search_limit_m, cat.radius_m) for cat in cats]
    distances = category_distances(network, sources_of, access, len(comp), limits_m=limits_m)
    met = meetings_that_matter(
        network,
        comp.geometry.values,
        access,
        pts,
        ways,
        in_data_of,
        distances,
        limits_m,
        [c.radius_m for c in cats] if count_reachable else None,
        leg_factor=access_leg_factor,
    )
    met_comp, met_poi, met_m = (met[c].to_numpy() for c in ("comp", "poi", "cost_m"))
    met_starts = (
        np.flatnonzero(np.r_[True, met_comp[1:] != met_comp[:-1]]) if len(met) else met_comp
    )
    # the same arrays in every category's rows (text converted once, not per category)
    comp_ids, comp_names = comp["id"].array, comp["name"].array
    comp_access_arr = comp_access.to_numpy()
    each = zip(cats, in_data_of, masks, sources_of, distances, limits_m, strict=True)
    for cat, in_data, mask, sources, dist, limit_m in each:
        if not in_data.any():
            no_data.append(cat.id)
            problems.append(
                Problem.warning(
                    "pois",
                    "no POI of the category in the inputs",
                    column=f"{cat.id} {cat.zh}",
                    hint="status no_data; add a POI file that has them"
                    + ("" if count_no_data else " (left out of n_missing)"),
                )
            )
        if len(met):  # where a compound and a facility of the category meet on an edge
            mine = np.where(in_data[met_poi], met_m, np.inf)
            best = np.minimum.reduceat(mine, met_starts)
            at = met_comp[met_starts]
            better = (best <= limit_m) & ~(dist[at] <= best)
            dist[at[better]] = best[better]
        src_pieces = np.unique(network.component[network.u[sources.edge[sources.on_network]]])
        same_piece = np.zeros(len(comp), dtype=bool)
        same_piece[owner_piece[np.isin(owner_piece[:, 1], src_pieces), 0]] = True
        status = np.select(
            [
                np.full(len(comp), not in_data.any()),
                off,
                dist <= cat.radius_m,
                np.isfinite(dist),
                same_piece,
            ],
            ["no_data", "off_network", "covered", "too_far", "beyond_limit"],
            "unreachable",
        )
        frame = pd.DataFrame(
            {
                "compound_id": comp_ids,
                "compound_name": comp_names,
                "category": cat.id,
                "level": cat.level,
                "radius_m": cat.radius_m,
                "distance_m": np.round(dist, 2),
                "walk_min": np.round(dist / p.walk_speed_m_per_min, 1),
                "covered": dist <= cat.radius_m,
                "status": status,
                "access": comp_access_arr,
            }
        )
        covered_cols.append(frame["covered"].to_numpy())
        status_cols.append(status)
        if count_reachable:
            frame["reachable_count"] = reachable_counts(
                network,
                sources,
                access,
                len(comp),
                radius_m=cat.radius_m,
                source_owner=sources.owner,
                walks=(
                    met_poi[in_data[met_poi]],
                    met_comp[in_data[met_poi]],
                    met_m[in_data[met_poi]],
                ),
            )
        rows.append(frame)
        if p.service_areas and mask.any():
            dist_node = node_distances(network, sources, limit_m=cat.radius_m)
            seg = _reachable_segments(network, dist_node, sources, cat.radius_m)
            areas.append(
                {
                    "category": cat.id,
                    "zh": cat.zh,
                    "en": cat.en,
                    "radius_m": cat.radius_m,
                    "geometry": shapely.multilinestrings(shapely.linestrings(seg)),
                }
            )
    gaps = pd.concat(rows, ignore_index=True)
    out = _per_compound(comp, covered_cols, cats, no_data, households, count_no_data=count_no_data)
    out["access"] = comp_access.to_numpy()
    facilities = member[attached].sum() if len(member) else pd.Series(dtype=int)
    summary = _summary(covered_cols, status_cols, households, cats, facilities)
    sa = None
    if p.service_areas:  # a run where no category has a facility on the network has none
        columns = ["category", "zh", "en", "radius_m", "geometry"]
        sa = gpd.GeoDataFrame(pd.DataFrame(areas, columns=columns), crs=network.crs)
    return GapResult(gaps, out, summary, src_pois, sa, problems, cats)


def gap_matrix(
    gaps: pd.DataFrame,
    column: str,
    *,
    compound_ids: Sequence[object],
    categories: Sequence[str],
    fill: object = np.nan,
) -> pd.DataFrame:
    """One column of the long gap table as a compound × category table.

    The same as ``gaps.pivot(index="compound_id", columns="category", values=column)``
    reindexed to ``compound_ids`` and ``categories``, in one indexed assignment rather
    than pandas' reshaping (a city's table has millions of rows).

    Parameters
    ----------
    gaps
        The long table (``compound_id``, ``category`` and ``column``).
    column
        Which values, e.g. ``distance_m`` (metres) or ``status``.
    compound_ids
        Row order (ids may repeat; ids compare as text).
    categories
        Column order (category ids).
    fill
        Value where the table has no row for a compound and category.

    Returns
    -------
    DataFrame
        Indexed by ``compound_ids``, one column per category.
    """
    ids = pd.Index([str(v) for v in compound_ids], dtype=object)
    unique = ids.unique()
    # the long columns are factorised (hashing, fast on Arrow text), then their few
    # distinct values looked up
    codes, values_of = pd.factorize(gaps["compound_id"].astype(str))
    row = unique.get_indexer(pd.Index(np.asarray(values_of, dtype=object)))[codes]
    row[codes < 0] = -1
    cat_codes, cats_of = pd.factorize(gaps["category"].astype(str))
    col = pd.Index(list(categories)).get_indexer(pd.Index(np.asarray(cats_of, dtype=object)))
    col = col[cat_codes]
    col[cat_codes < 0] = -1
    ok = (row >= 0) & (col >= 0)
    values = gaps[column].to_numpy()
    numeric = values.dtype.kind in "biuf" and isinstance(fill, int | float)
    dtype = np.result_type(values.dtype, type(fill)) if numeric else object
    table = np.full((len(unique), len(categories)), fill, dtype=dtype)
    table[row[ok], col[ok]] = values[ok]
    return pd.DataFrame(table[unique.get_indexer(ids)], index=ids, columns=list(categories))


def _joined_ids(lacking: np.ndarray | None, ids: Sequence[str], n: int) -> list[str]:
    """``;``-joined ids of the True columns of each row; each distinct row joined once."""
    if lacking is None or lacking.shape[1] == 0:
        return [""] * n
    rows, inverse = np.unique(lacking, axis=0, return_inverse=True)
    joined = np.array(
        [";".join(c for c, m in zip(ids, row, strict=True) if m) for row in rows], dtype=object
    )
    return list(joined[np.ravel(inverse)])


def _summary(
    covered: Sequence[np.ndarray],
    status: Sequence[np.ndarray],
    households: np.ndarray,
    cats: Sequence[Category],
    facilities: pd.Series,
) -> pd.DataFrame:
    """One row per category from its covered and status columns (one value per compound)."""
    hh_total = float(np.nansum(households))
    rows = []
    for cat, cov, stat in zip(cats, covered, status, strict=True):
        hh_cov = float(np.nansum(households[cov]))
        rows.append(
            {
                "category": cat.id,
                "zh": cat.zh,
                "en": cat.en,
                "level": cat.level,
                "radius_m": cat.radius_m,
                "facilities": int(facilities.get(cat.id, 0)),
                "compounds": len(cov),
                "compounds_covered": int(cov.sum()),
                "share_compounds_covered": round(float(cov.mean()), 4) if len(cov) else np.nan,
                "households": hh_total,
                "households_covered": hh_cov,
                "share_households_covered": round(hh_cov / hh_total, 4) if hh_total > 0 else np.nan,
                **{f"status_{sid}": int((stat == sid).sum()) for sid, _, _ in STATUSES},
            }
        )
    return pd.DataFrame(rows)


def _per_compound(
    comp: gpd.GeoDataFrame,
    covered: Sequence[np.ndarray],
    cats: Sequence[Category],
    no_data: Sequence[str],
    households: np.ndarray,
    *,
    count_no_data: bool,
) -> gpd.GeoDataFrame:
    """The compounds with what they miss: ``n_missing``, ``missing``, ``no_data``,
    ``gap_score`` (categories without data counted only when asked)."""
    counted = [k for k, c in enumerate(cats) if count_no_data or c.id not in no_data]
    lacking = ~np.column_stack([covered[k] for k in counted]) if counted else None
    out = comp.copy()
    out["n_missing"] = lacking.sum(axis=1) if lacking is not None else 0
    out["missing"] = _joined_ids(lacking, [cats[k].id for k in counted], len(comp))
    out["no_data"] = ";".join(no_data)
    out["gap_score"] = households * out["n_missing"] / max(len(counted), 1)
    return out


def _poi_problems(pois: pd.DataFrame, *, school_unknown: str, snap_limit_m: float) -> list[Problem]:
    """What the POIs' classification and attachment leave out or assume."""
    found: list[Problem] = []
    for pos in np.flatnonzero(unknown_level_schools(pois).to_numpy()):
        found.append(
            Problem.warning(
                "pois",
                f"{str(pois.at[pos, 'name']) if 'name' in pois else 'a school'}: a school "
                "of unknown level (no isced:level/grades tag, no 小学/中学 … in its name): "
                f"counted as {_SCHOOL_AS[school_unknown]}",
                row=str(pois.at[pos, "id"]) if "id" in pois else str(pos),
                column="category",
                hint="tag isced:level (1 primary, 2 junior) or use --school-unknown",
            )
        )
    n_off = int((~pois["attached"] & (pois["categories"] != "")).sum())
    if n_off:
        found.append(
            Problem.warning(
                "pois",
                f"{n_off} POI(s) are more than {snap_limit_m:g} m from the walk "
                "network and were left out",
                hint="see pois.attached == False",
            )
        )
    n_unmatched = int((pois["categories"] == "").sum())
    if n_unmatched:
        found.append(
            Problem.warning(
                "pois",
                f"{n_unmatched} POI(s) match no life-circle category",
                hint="see the classification rules in spatial/standards",
            )
        )
    return found


def _membership(categories: pd.Series) -> pd.DataFrame:
    """One boolean column per category id a POI has (``;``-joined ids), like
    ``str.get_dummies``: each distinct combination is split once (a city has ~10⁵ POIs
    and a few hundred combinations)."""
    codes, uniques = pd.factorize(categories.fillna(""), sort=False)
    ids = sorted({c for u in uniques for c in str(u).split(";") if c})
    table = np.array([[c in str(u).split(";") for c in ids] for u in uniques], dtype=bool)
    rows = table[codes] if len(uniques) else np.zeros((len(categories), len(ids)), dtype=bool)
    return pd.DataFrame(rows, index=categories.index, columns=ids)
