"""Life-circle gaps of every compound for every category (:func:`compute_gaps`).

Covered = distance ≤ the category's radius. Every compound × category gets a ``status``
(:data:`~spatial.lifecircle.statuses.STATUSES`) that says why a distance is there or not;
a missing distance is empty, never a sentinel number. Distances come from
:mod:`spatial.lifecircle.engine`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial._errors import Problem
from spatial.lifecircle.capacity import capacity_rows, load_capacity
from spatial.lifecircle.parallel import (
    Outlines,
    category_distances,
    searches_and_outlines,
    searches_shared,
)
from spatial.lifecircle.params import GapParams
from spatial.lifecircle.pois import classify_pois, poi_problems
from spatial.lifecircle.reach import entered_by, meetings_that_matter
from spatial.lifecircle.result import GapResult, PendingGaps
from spatial.lifecircle.statuses import STATUSES
from spatial.lifecircle.within import reach_matrix
from spatial.network import Attachment, WalkNetwork
from spatial.network.attach import AccessPoints, compound_access_points
from spatial.network.meeting import facility_ways_in
from spatial.settings import DEFAULTS
from spatial.standards import Category

__all__ = ["begin_gaps", "compute_gaps"]


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
    compounds, pois, network, params, **changes
        See :func:`begin_gaps`.

    Returns
    -------
    GapResult
        The long table, compounds, summary, POIs, service areas, problems, categories.
    """
    return begin_gaps(compounds, pois, network, params=params, **changes).result()


def begin_gaps(
    compounds: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    network: WalkNetwork,
    *,
    params: GapParams | None = None,
    **changes: Any,
) -> PendingGaps:
    """Compute life-circle gaps of every compound for every category, the service areas
    left to :meth:`PendingGaps.result`.

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
    PendingGaps
        The tables (long table, compounds, summary, POIs, problems, categories), and
        the service areas being traced.
    """
    p = (params or GapParams()).replace(**changes)
    cats = p.taxonomy()
    begun: list[tuple[Outlines | None, pd.DataFrame, list[np.ndarray], list[bool]]] = []
    options: dict[str, Any] = {
        "half_width_m": p.service_area_buffer_m,
        "cell_m": p.service_area_cell_m,
        "max_cells": p.service_area_max_cells,
        "streets": p.service_area_streets,
    }

    def begin(src_pois: gpd.GeoDataFrame, ways: AccessPoints, attached: np.ndarray) -> None:
        # as soon as the facilities' ways are known, while the compounds' are found
        member = _membership(src_pois["categories"])
        in_data_of = [
            member[c.id].to_numpy() if c.id in member else np.zeros(len(src_pois), dtype=bool)
            for c in cats
        ]
        drawn = [p.service_areas and bool((d & attached).any()) for d in in_data_of]
        if searches_shared(network, sum(drawn), DEFAULTS.engine_process_nodes):
            # each category's search draws its service area too (one search, not two)
            begun.append((None, member, in_data_of, drawn))
            return
        outlines = Outlines(  # a second process traces them meanwhile (a large network)
            network,
            [
                (ways.take(in_data[ways.owner]), cat)
                for cat, in_data, draw in zip(cats, in_data_of, drawn, strict=True)
                if draw
            ],
            **options,
        )
        begun.append((outlines, member, in_data_of, drawn))

    try:
        entered = _enter(compounds, pois, network, p, cats, facilities_found=begin)
    except BaseException:
        for begun_here, *_ in begun:
            if begun_here is not None:
                begun_here.close()
        raise
    started, member, in_data_of, drawn = begun[0]
    comp, src_pois, ways, access = entered.comp, entered.pois, entered.ways, entered.access
    problems = list(entered.problems)
    households = (
        pd.to_numeric(comp.get("households", pd.Series(np.nan, index=comp.index)), errors="coerce")
        .astype(float)
        .to_numpy()
    )
    sources_of = [ways.take(in_data[ways.owner]) for in_data in in_data_of]
    limits_m = [max(p.search_limit_m, cat.radius_m) for cat in cats]
    try:
        outlines: Outlines | list[dict[str, Any]]
        if started is None:
            distances, areas = searches_and_outlines(
                network,
                sources_of,
                access,
                len(comp),
                limits_m=limits_m,
                outlines=[c if d else None for c, d in zip(cats, drawn, strict=True)],
                outline_options=options,
            )
            outlines = [a for a in areas if a is not None]
        else:
            distances = category_distances(
                network, sources_of, access, len(comp), limits_m=limits_m
            )
            outlines = started
        met = _Meetings.of(
            meetings_that_matter(
                network,
                comp.geometry.values,
                access,
                entered.pts,
                ways,
                in_data_of,
                distances,
                limits_m,
                [c.radius_m for c in cats] if p.count_reachable else None,
                leg_factor=p.access_leg_factor,
            )
        )
        pieces = _owner_pieces(network, access)
        standard = load_capacity(p.capacity_file) if p.capacity else None
        capacity: list[pd.DataFrame] = []
        pairs: list[pd.DataFrame] = []
        rows: list[pd.DataFrame] = []
        no_data: list[str] = []
        each = zip(cats, in_data_of, sources_of, distances, limits_m, strict=True)
        for cat, in_data, sources, dist, limit_m in each:
            if not in_data.any():
                no_data.append(cat.id)
                problems.append(_no_data_warning(cat, count_no_data=p.count_no_data))
            met.shorten(dist, in_data, limit_m=limit_m)
            frame = _category_rows(
                cat,
                entered,
                dist,
                _status(cat, network, entered, sources, dist, pieces, in_data),
                p,
            )
            capacity_here = standard is not None and cat.id in standard.rules and in_data.any()
            reach = None
            if p.count_reachable or capacity_here:  # one search of the pairs serves both
                reach = reach_matrix(
                    network,
                    sources,
                    access,
                    len(comp),
                    radius_m=cat.radius_m,
                    source_owner=sources.owner,
                    walks=met.walks(in_data),
                )
            if p.count_reachable and reach is not None:
                frame["reachable_count"] = reach.counts()
            rows.append(frame)
            if capacity_here and reach is not None and standard is not None:
                found = capacity_rows(
                    reach,
                    category=cat.id,
                    radius_m=cat.radius_m,
                    compounds=comp,
                    pois=src_pois,
                    status=frame["status"].to_numpy(),
                    standard=standard,
                )
                capacity.append(found[0])
                pairs.append(found[1])
                problems.extend(found[2])
        gaps = pd.concat(rows, ignore_index=True)
        covered_cols = [f["covered"].to_numpy() for f in rows]
        status_cols = [f["status"].to_numpy() for f in rows]
        out = _per_compound(
            comp, covered_cols, cats, no_data, households, count_no_data=p.count_no_data
        )
        out["access"] = entered.comp_access
        facilities = member[entered.attached].sum() if len(member) else pd.Series(dtype=int)
        summary = _summary(covered_cols, status_cols, households, cats, facilities)
    except BaseException:  # the second process stops with the run
        if started is not None:
            started.close()
        raise
    cap = (
        (pd.concat(capacity, ignore_index=True), pd.concat(pairs, ignore_index=True))
        if capacity
        else (None, None)
    )
    tables = GapResult(gaps, out, summary, src_pois, None, problems, cats, *cap)
    return PendingGaps(tables, outlines, p, network.crs)


@dataclass
class _Entered:
    """Compounds and POIs in the network's CRS, and where each enters the network."""

    comp: gpd.GeoDataFrame
    pois: gpd.GeoDataFrame
    pts: np.ndarray
    ways: AccessPoints
    access: AccessPoints
    comp_access: np.ndarray
    attached: np.ndarray
    problems: list[Problem]


def _enter(
    compounds: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    network: WalkNetwork,
    p: GapParams,
    cats: Sequence[Category],
    *,
    facilities_found: Callable[[gpd.GeoDataFrame, AccessPoints, np.ndarray], None],
) -> _Entered:
    """Classify the POIs and find the ways facilities and compounds enter the network;
    ``facilities_found(pois, ways, attached)`` is called as soon as the facilities' are
    known (what needs only them begins while the compounds' are found)."""
    comp = compounds.to_crs(network.crs).reset_index(drop=True)
    src_pois = pois.to_crs(network.crs).reset_index(drop=True)
    src_pois["categories"] = classify_pois(
        src_pois, categories=cats, school_unknown=p.school_unknown
    )
    pts = shapely.get_coordinates(src_pois.geometry.representative_point().values)
    ways = facility_ways_in(
        network,
        pts,
        snap_limit_m=p.snap_limit_m,
        band_m=p.perimeter_band_m,
        leg_factor=p.access_leg_factor,
        keep=(src_pois["categories"] != "").to_numpy(),  # a POI of no category is no source
    )
    attached = np.isin(np.arange(len(src_pois)), ways.owner)
    facilities_found(src_pois, ways, attached)
    access = compound_access_points(
        network,
        comp.geometry,
        snap_limit_m=p.snap_limit_m,
        gate_tolerance_m=p.gate_tolerance_m,
        crossing_depth_m=p.crossing_depth_m,
        perimeter_band_m=p.perimeter_band_m,
        leg_factor=p.access_leg_factor,
    )
    comp_access, problems = entered_by(network, comp, access, snap_limit_m=p.snap_limit_m)
    src_pois["attached"] = attached
    problems = list(problems) + poi_problems(
        src_pois, school_unknown=p.school_unknown, snap_limit_m=p.snap_limit_m
    )
    return _Entered(comp, src_pois, pts, ways, access, comp_access.to_numpy(), attached, problems)


@dataclass
class _Meetings:
    """Compound–facility walks along one shared edge, grouped by compound."""

    comp: np.ndarray
    poi: np.ndarray
    cost_m: np.ndarray
    starts: np.ndarray

    @classmethod
    def of(cls, met: pd.DataFrame) -> _Meetings:
        comp, poi, cost = (met[c].to_numpy() for c in ("comp", "poi", "cost_m"))
        starts = np.flatnonzero(np.r_[True, comp[1:] != comp[:-1]]) if len(met) else comp
        return cls(comp, poi, cost, starts)

    def shorten(self, dist: np.ndarray, in_data: np.ndarray, *, limit_m: float) -> None:
        """Lower ``dist`` where a compound meets a facility of the category on an edge."""
        if len(self.comp) == 0:
            return
        mine = np.where(in_data[self.poi], self.cost_m, np.inf)
        best = np.minimum.reduceat(mine, self.starts)
        at = self.comp[self.starts]
        better = (best <= limit_m) & ~(dist[at] <= best)
        dist[at[better]] = best[better]

    def walks(self, in_data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The walks to facilities of the category: (poi, compound, metres)."""
        mine = in_data[self.poi]
        return self.poi[mine], self.comp[mine], self.cost_m[mine]


def _owner_pieces(network: WalkNetwork, access: AccessPoints) -> np.ndarray:
    """(compound, network piece) pairs, once each (a compound entered from 60 points is on one)."""
    n_pieces = int(network.component.max(initial=0)) + 1
    key = np.unique(access.owner * n_pieces + network.component[network.u[access.edge]])
    return np.column_stack([key // n_pieces, key % n_pieces])


def _status(
    cat: Category,
    network: WalkNetwork,
    entered: _Entered,
    sources: Attachment,
    dist: np.ndarray,
    pieces: np.ndarray,
    in_data: np.ndarray,
) -> np.ndarray:
    """Each compound's :data:`STATUSES` id for the category."""
    n = len(entered.comp)
    src_pieces = np.unique(network.component[network.u[sources.edge[sources.on_network]]])
    same_piece = np.zeros(n, dtype=bool)
    same_piece[pieces[np.isin(pieces[:, 1], src_pieces), 0]] = True
    return np.select(
        [
            np.full(n, not in_data.any()),
            entered.comp_access == "off-network",
            dist <= cat.radius_m,
            np.isfinite(dist),
            same_piece,
        ],
        ["no_data", "off_network", "covered", "too_far", "beyond_limit"],
        "unreachable",
    )


def _category_rows(
    cat: Category, entered: _Entered, dist: np.ndarray, status: np.ndarray, p: GapParams
) -> pd.DataFrame:
    """The long table's rows of one category, one per compound."""
    return pd.DataFrame(
        {
            "compound_id": entered.comp["id"].array,
            "compound_name": entered.comp["name"].array,
            "category": cat.id,
            "level": cat.level,
            "radius_m": cat.radius_m,
            "distance_m": np.round(dist, 2),
            "walk_min": np.round(dist / p.walk_speed_m_per_min, 1),
            "covered": dist <= cat.radius_m,
            "status": status,
            "access": entered.comp_access,
        }
    )


def _no_data_warning(cat: Category, *, count_no_data: bool) -> Problem:
    return Problem.warning(
        "pois",
        "no POI of the category in the inputs",
        column=f"{cat.id} {cat.zh}",
        hint="status no_data; add a POI file that has them"
        + ("" if count_no_data else " (left out of n_missing)"),
    )


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


def _membership(categories: pd.Series) -> pd.DataFrame:
    """One boolean column per category id a POI has (``;``-joined ids), like
    ``str.get_dummies``: each distinct combination is split once (a city has ~10⁵ POIs
    and a few hundred combinations)."""
    codes, uniques = pd.factorize(categories.fillna(""), sort=False)
    ids = sorted({c for u in uniques for c in str(u).split(";") if c})
    table = np.array([[c in str(u).split(";") for c in ids] for u in uniques], dtype=bool)
    rows = table[codes] if len(uniques) else np.zeros((len(categories), len(ids)), dtype=bool)
    return pd.DataFrame(rows, index=categories.index, columns=ids)
