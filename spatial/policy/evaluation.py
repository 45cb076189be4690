"""What a plan achieves, year by year: the gap engine rerun where the plan adds facilities.

A plan (``spatial plan``) schedules compounds for renovation and chooses sites for new
facilities. :func:`planned_facilities` turns it into facilities with the year they open:
each chosen site for its categories, and inside each renovated compound the categories
its renovation builds (``spatial/standards/evaluation.toml``) that the compound lacks.
:func:`evaluate_plan` then reruns the gap engine year by year, but only where something
changes: the facilities opening that year, and the compounds within the largest radius
of them in a straight line (a walk is never shorter), on the whole walk network. The
nearest walk after a year is the shorter of the one before and the one to a new
facility, so coverage and distances equal a full rerun with the facilities added
(``tests/test_evaluation.py`` checks every compound against one). Places (2SFCA) add
likewise: a new facility's catchment holds only compounds the rerun sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial._errors import Problem, input_error
from spatial.lifecircle.gaps import compute_gaps
from spatial.lifecircle.params import GapParams
from spatial.lifecircle.statuses import gap_matrix
from spatial.network import WalkNetwork
from spatial.standards import Category
from spatial.standards.files import read_toml

__all__ = [
    "Additions",
    "Evaluation",
    "evaluate_plan",
    "households_of",
    "load_additions",
    "planned_facilities",
]


@dataclass(frozen=True)
class Additions:
    """What a renovation builds and when sites open (``evaluation.toml``).

    Parameters
    ----------
    improvement, upgrade
        Category ids a renovated compound gains inside it when it lacks them.
    sources
        Where each figure comes from, by key.
    """

    improvement: tuple[str, ...]
    upgrade: tuple[str, ...]
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def built_in_compound(self) -> tuple[str, ...]:
        """Every category a renovation builds (improvement, then upgrade)."""
        return (*self.improvement, *self.upgrade)


def households_of(compounds: pd.DataFrame) -> pd.Series:
    """Households per compound as numbers, NaN where not known.

    Parameters
    ----------
    compounds
        Compounds with or without a ``households`` column.

    Returns
    -------
    Series of float
        Indexed like ``compounds``.
    """
    if "households" not in compounds:
        return cast("pd.Series", pd.Series(np.nan, index=compounds.index, dtype=float))
    return pd.to_numeric(compounds["households"], errors="coerce").astype(float)


def load_additions(path: str | Path | None = None) -> Additions:
    """Read ``evaluation.toml`` (the shipped one, or a city's copy).

    Parameters
    ----------
    path
        A city's file, or None for the shipped one.

    Returns
    -------
    Additions
    """
    data, where = read_toml(path, default="evaluation.toml")
    reno = data.get("renovation", {})
    sources = {}
    values: dict[str, tuple[str, ...]] = {}
    for key in ("improvement", "upgrade"):
        entry = reno.get(key)
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), list):
            raise input_error(
                where,
                f"[renovation] {key} must be {{ value = [category ids], source = … }}",
                hint="see the shipped spatial/standards/evaluation.toml",
            )
        values[key] = tuple(str(v) for v in entry["value"])
        sources[key] = str(entry.get("source", ""))
    for table, key in (("renovation", "position"), ("sites", "opens")):
        sources[key] = str(data.get(table, {}).get(key, {}).get("source", ""))
    return Additions(values["improvement"], values["upgrade"], sources)


def planned_facilities(
    compounds: gpd.GeoDataFrame,
    plan: pd.DataFrame,
    *,
    missing: pd.DataFrame,
    additions: Additions,
    sites: gpd.GeoDataFrame | None = None,
    sites_year: int | None = None,
) -> gpd.GeoDataFrame:
    """The facilities a plan adds, each with its category and the year it opens.

    Parameters
    ----------
    compounds
        The gap run's compounds (``id``), in metres.
    plan
        One row per compound: ``compound_id`` and ``year`` (renovation year; NA: not
        in the plan).
    missing
        Boolean compound × category table (index compound ids as text): lacking before.
    additions
        What a renovation builds inside the compound.
    sites
        Chosen sites (``id``, ``categories`` joined by ``;``), any CRS.
    sites_year
        The year the sites open (None: the plan's first year).

    Returns
    -------
    GeoDataFrame
        ``facility`` (an id), ``category``, ``year``, ``kind`` (``renovation`` or
        ``site``), ``compound_id`` (renovation) or ``site`` (site), points in the
        compounds' CRS.
    """
    crs = compounds.crs
    years = pd.to_numeric(plan["year"], errors="coerce")
    when = pd.Series(years.to_numpy(), index=plan["compound_id"].astype(str))
    when = when[when.notna()]
    ids = compounds["id"].astype(str)
    points = pd.Series(compounds.geometry.representative_point().values, index=ids)
    rows: list[dict[str, Any]] = []
    built = [c for c in additions.built_in_compound if c in missing.columns]
    for cid, year in when.items():
        if cid not in missing.index or cid not in points.index:
            continue
        lacks = missing.loc[cid]
        for cat in built:
            if bool(lacks[cat]):
                rows.append(
                    {
                        "facility": f"R:{cid}:{cat}",
                        "category": cat,
                        "year": int(year),
                        "kind": "renovation",
                        "compound_id": cid,
                        "site": None,
                        "geometry": points[cid],
                    }
                )
    if sites is not None and len(sites):
        first = sites_year if sites_year is not None else (int(when.min()) if len(when) else None)
        if first is not None:
            at = sites.to_crs(crs)
            for sid, cats, geom in zip(
                at["id"].astype(str), at["categories"].fillna(""), at.geometry, strict=True
            ):
                for cat in (c for c in str(cats).split(";") if c):
                    rows.append(
                        {
                            "facility": f"S:{sid}:{cat}",
                            "category": cat,
                            "year": int(first),
                            "kind": "site",
                            "compound_id": None,
                            "site": sid,
                            "geometry": geom.representative_point(),
                        }
                    )
    columns = ["facility", "category", "year", "kind", "compound_id", "site", "geometry"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry="geometry", crs=crs)


@dataclass
class Evaluation:
    """A plan's effect, year by year.

    Attributes
    ----------
    years
        The years evaluated, in order.
    gained
        One row per compound and category it gains: ``compound_id``, ``category``,
        ``year``, ``households``, ``distance_m`` (walk after, metres), ``by`` (the
        facility that covers it).
    missing
        ``n_missing`` per compound (index compound ids) before (column ``before``) and
        after each year (columns of the years), over the categories with data before.
    capacity
        Per compound and category: ``shortfall_places`` before and after each year
        (columns ``before`` and the years), or None without ``capacity.csv``.
    facilities
        The facilities added (:func:`planned_facilities`).
    counted
        The categories the gap list counts (those with data before).
    covered_households_before
        Households covered before the plan, per counted category.
    problems
        What was left out and why.
    """

    years: list[int]
    gained: pd.DataFrame
    missing: pd.DataFrame
    capacity: pd.DataFrame | None
    facilities: gpd.GeoDataFrame
    counted: list[str]
    covered_households_before: dict[str, float]
    problems: list[Problem]


def _near(compounds: gpd.GeoDataFrame, points: gpd.GeoSeries, radius_m: float) -> np.ndarray:
    """Positions of compounds within ``radius_m`` (straight line) of any of ``points``."""
    if not len(points):
        return np.zeros(0, dtype=np.int64)
    _, hit = compounds.sindex.query(points.values, predicate="dwithin", distance=radius_m)
    return np.unique(hit)


def evaluate_plan(
    compounds: gpd.GeoDataFrame,
    gaps: pd.DataFrame,
    facilities: gpd.GeoDataFrame,
    network: WalkNetwork,
    *,
    categories: Sequence[Category],
    years: Sequence[int],
    capacity: pd.DataFrame | None = None,
    params: GapParams | None = None,
) -> Evaluation:
    """Rerun the gap engine for what each year adds, where it can change anything.

    Parameters
    ----------
    compounds
        The gap run's compounds (``id``, ``households``), any CRS (projected to the
        network's metres).
    gaps
        The gap run's long table (``gaps.csv``).
    facilities
        The facilities added, with the year they open (:func:`planned_facilities`).
    network
        The walk network the gap run used (metric CRS).
    categories
        The gap run's taxonomy.
    years
        The plan's years (a year adding nothing is still listed).
    capacity
        ``capacity.csv`` of the gap run, for places short after each year.
    params
        How compounds and facilities enter the network (default the gap stage's
        defaults); its taxonomy, service areas and search limit are set here.

    Returns
    -------
    Evaluation
    """
    comp = compounds.to_crs(network.crs).reset_index(drop=True)
    ids = comp["id"].astype(str).to_numpy()
    cat_ids = [c.id for c in categories]
    radius = {c.id: c.radius_m for c in categories}
    status = gap_matrix(gaps, "status", compound_ids=ids, categories=cat_ids, fill="no_data")
    covered = status.isin(["covered", "covered_over_capacity"]).to_numpy()
    counted = [c for c in cat_ids if (status[c] != "no_data").any()]
    in_count = np.array([c in counted for c in cat_ids])
    dist = gap_matrix(gaps, "distance_m", compound_ids=ids, categories=cat_ids).to_numpy(float)
    hh = households_of(comp).to_numpy(float)
    problems: list[Problem] = []
    skipped = sorted(set(facilities["category"]) - set(counted)) if len(facilities) else []
    if skipped:
        problems.append(
            Problem.warning(
                "plan",
                "facilities of categories without data before the plan are added but their "
                f"coverage is not counted as gained (nothing to compare): {', '.join(skipped)}",
                hint="give POIs of these categories to spatial gaps and run it again",
            )
        )
    fac = facilities.to_crs(network.crs) if len(facilities) else facilities
    fac = fac[fac["category"].isin(counted)] if len(fac) else fac
    pos = {c: k for k, c in enumerate(cat_ids)}
    row_of = {cid: k for k, cid in enumerate(ids)}
    short: dict[str | int, pd.Series] | None = None
    accessible = need = None  # places: with the gap run's capacity.csv
    if capacity is not None and len(capacity):
        cap = capacity.assign(compound_id=capacity["compound_id"].astype(str))
        need = cap.pivot_table(index="compound_id", columns="category", values="need_places")
        accessible = cap.pivot_table(
            index="compound_id", columns="category", values="accessible_places"
        )
        short = {"before": (need - accessible).clip(lower=0).stack()}
    n_before = (~covered & in_count).sum(axis=1)
    hh0 = np.nan_to_num(hh)
    covered_hh = {c: float(hh0[covered[:, pos[c]]].sum()) for c in counted}
    states: dict[str | int, np.ndarray] = {"before": n_before}
    gained: list[pd.DataFrame] = []
    base = params or GapParams()
    for year in years:
        now = fac[fac["year"] == year] if len(fac) else fac
        if len(now):
            cats_now = sorted(set(now["category"]))
            reach_m = max(radius[c] for c in cats_now)
            near = _near(comp, now.geometry, reach_m)
            p = base.replace(
                categories=tuple(categories),
                only_categories=tuple(cats_now),
                service_areas=False,
                count_reachable=False,
                capacity=accessible is not None,
                search_limit_m=reach_m,
            )
            pois = gpd.GeoDataFrame(
                {
                    "id": now["facility"].to_numpy(),
                    "name": now["facility"].to_numpy(),
                    "category": now["category"].to_numpy(),
                },
                geometry=now.geometry.values,
                crs=network.crs,
            )
            res = compute_gaps(comp.iloc[near], pois, network, params=p) if len(near) else None
            new_cov = np.zeros_like(covered)
            new_dist = np.full(dist.shape, np.inf)
            by = np.full(covered.shape, None, dtype=object)
            if res is not None:
                g = res.gaps
                r = np.array([row_of[str(v)] for v in g["compound_id"]], dtype=np.int64)
                c = np.array([pos[v] for v in g["category"]], dtype=np.int64)
                d = g["distance_m"].to_numpy(float)
                ok = g["covered"].to_numpy(bool)
                new_cov[r[ok], c[ok]] = True
                new_dist[r, c] = np.where(np.isfinite(d), d, np.inf)
                by[r[ok], c[ok]] = "新设施步行可达 a new facility within walk"
            own = now[now["kind"] == "renovation"]
            each = zip(own["compound_id"], own["category"], own["facility"], strict=True)
            for cid, cat, f in each:
                k, j = row_of[str(cid)], pos[cat]
                new_cov[k, j], new_dist[k, j], by[k, j] = True, 0.0, f
            fresh = new_cov & ~covered
            rows_k, cols_j = np.nonzero(fresh)
            gained.append(
                pd.DataFrame(
                    {
                        "compound_id": ids[rows_k],
                        "category": np.array(cat_ids, dtype=object)[cols_j],
                        "year": year,
                        "households": hh[rows_k],
                        "distance_m": np.round(new_dist[rows_k, cols_j], 2),
                        "by": by[rows_k, cols_j],
                    }
                )
            )
            covered |= new_cov
            dist = np.fmin(dist, np.where(np.isfinite(new_dist), new_dist, np.nan))
            if res is not None and res.capacity is not None and accessible is not None:
                add = res.capacity.pivot_table(
                    index="compound_id", columns="category", values="accessible_places"
                )
                accessible = accessible.add(add, fill_value=0.0).reindex_like(accessible)
        states[year] = (~covered & in_count).sum(axis=1)
        if short is not None and need is not None and accessible is not None:
            short[year] = (need - accessible).clip(lower=0).stack()
    missing = pd.DataFrame({k: np.asarray(v) for k, v in states.items()}, index=ids)
    columns = ["compound_id", "category", "year", "households", "distance_m", "by"]
    gained_all = pd.concat(gained, ignore_index=True) if gained else pd.DataFrame(columns=columns)
    shortfall = pd.DataFrame(short) if short is not None else None
    return Evaluation(
        list(years), gained_all, missing, shortfall, facilities, counted, covered_hh, problems
    )
