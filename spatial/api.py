"""The library face: GeoDataFrames in, GeoDataFrames out, indexed like the input.

``spatial.gaps``, ``spatial.bundles`` and ``spatial.plan`` are the three questions of the
toolkit, for notebooks and scripts. Each takes validated layers (see
:func:`spatial.io.load_layers`) and returns a new frame with one row per input row, the
input's index and columns kept, and the answers added; nothing is written and the
arguments are not changed. :mod:`spatial.pipeline` and the CLI run the same stages and
also write the output folders.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd

from spatial.bundling import BundleLimits, FinanceDefaults, find_bundles, load_finance, load_limits
from spatial.lifecircle import GapResult, compute_gaps
from spatial.network import WalkNetwork, load_network
from spatial.policy import (
    PolicyProfile,
    annual_plan,
    eligibility,
    load_profile,
    needs,
    rank,
)
from spatial.settings import DEFAULTS
from spatial.standards import Category, load_categories

__all__ = ["bundles", "gap_result", "gaps", "plan"]


def _taxonomy(categories: Sequence[Category] | str | Path | None) -> tuple[Category, ...]:
    if categories is None or isinstance(categories, (str, Path)):
        return load_categories(categories)
    return tuple(categories)


def gap_result(
    compounds: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    network: WalkNetwork | str | Path,
    *,
    categories: Sequence[Category] | str | Path | None = None,
    snap_limit_m: float = DEFAULTS.snap_limit_m,
    walk_speed_m_per_min: float = DEFAULTS.walk_speed_m_per_min,
    search_limit_m: float = DEFAULTS.search_limit_m,
    service_areas: bool = False,
    count_reachable: bool = False,
    count_no_data: bool = False,
    gate_tolerance_m: float = DEFAULTS.gate_tolerance_m,
    school_unknown: str = "none",
) -> GapResult:
    """Run the gap engine and keep every table it makes (what the output folder holds).

    Parameters are those of :func:`gaps`, plus ``service_areas`` (also compute the
    reachable street parts per category).

    Parameters
    ----------
    compounds, pois, network, categories, snap_limit_m, walk_speed_m_per_min
        See :func:`gaps`.
    search_limit_m, count_reachable
        See :func:`gaps`.
    service_areas
        Also compute the reachable parts of edges per category (metres CRS).
    count_no_data
        Count categories without any facility in the inputs as missing.
    gate_tolerance_m, school_unknown
        See :func:`~spatial.lifecircle.compute_gaps`.

    Returns
    -------
    GapResult
        The long table, compounds, summary, POIs, service areas, problems, categories.
    """
    net = (
        network
        if isinstance(network, WalkNetwork)
        else load_network(network=network, crs=compounds.crs)
    )
    return compute_gaps(
        compounds,
        pois,
        net,
        categories=_taxonomy(categories),
        snap_limit_m=snap_limit_m,
        walk_speed_m_per_min=walk_speed_m_per_min,
        search_limit_m=search_limit_m,
        service_areas=service_areas,
        count_reachable=count_reachable,
        count_no_data=count_no_data,
        gate_tolerance_m=gate_tolerance_m,
        school_unknown=school_unknown,
    )


def gaps(
    compounds: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    network: WalkNetwork | str | Path,
    *,
    categories: Sequence[Category] | str | Path | None = None,
    snap_limit_m: float = DEFAULTS.snap_limit_m,
    walk_speed_m_per_min: float = DEFAULTS.walk_speed_m_per_min,
    search_limit_m: float = DEFAULTS.search_limit_m,
    count_reachable: bool = False,
) -> gpd.GeoDataFrame:
    """Life-circle gaps: which categories each compound lacks within walking distance.

    Parameters
    ----------
    compounds
        Compounds (``id``, ``name``, optional ``households``) with a CRS; polygons or
        points.
    pois
        Facilities with a ``category`` column, OSM tags, Amap codes or names to classify.
    network
        The walk network (:class:`~spatial.network.WalkNetwork`), or a file to build it
        from (OSM XML/PBF, GraphML, a road line layer).
    categories
        The taxonomy: categories, or a TOML file like ``spatial/standards/lifecircle.toml``
        (default: the shipped GB 50180-2018 one).
    snap_limit_m
        POIs and compounds farther than this (metres) from the network are left out and
        reported.
    walk_speed_m_per_min
        Walking speed that turns metres into minutes.
    search_limit_m
        Distances are searched up to this many metres (at least each radius); the
        ``<id>_status`` column says why a distance is empty.
    count_reachable
        Also count the facilities each compound reaches within the radius (slower).

    Returns
    -------
    GeoDataFrame
        ``compounds`` (same index, CRS and columns) plus ``n_missing``, ``missing``
        (category ids joined by ``;``), ``gap_score`` (households × share of categories
        missing), ``access`` (how its access points were found) and, per category id,
        ``<id>_m`` (walk distance in metres to the nearest facility; empty = see
        ``<id>_status``), ``<id>_status`` (covered, too_far, beyond_limit, unreachable,
        off_network, no_data) and, with ``count_reachable``, ``<id>_count``.
    """
    result = gap_result(
        compounds,
        pois,
        network,
        categories=categories,
        snap_limit_m=snap_limit_m,
        walk_speed_m_per_min=walk_speed_m_per_min,
        search_limit_m=search_limit_m,
        count_reachable=count_reachable,
    )
    out = compounds.copy()
    for col in ("n_missing", "missing", "gap_score", "access"):
        out[col] = result.compounds[col].to_numpy()
    ids = result.compounds["id"].to_numpy()
    wide = result.gaps.pivot(index="compound_id", columns="category", values="distance_m")
    status = result.gaps.pivot(index="compound_id", columns="category", values="status")
    for cat in result.categories:
        out[f"{cat.id}_m"] = wide[cat.id].reindex(ids).to_numpy()
        out[f"{cat.id}_status"] = status[cat.id].reindex(ids).to_numpy()
    if count_reachable:
        counts = result.gaps.pivot(
            index="compound_id", columns="category", values="reachable_count"
        )
        for cat in result.categories:
            out[f"{cat.id}_count"] = counts[cat.id].reindex(ids).to_numpy()
    return out


def bundles(
    units: gpd.GeoDataFrame,
    *,
    barriers: gpd.GeoSeries | None = None,
    finance: FinanceDefaults | str | Path | None = None,
    limits: BundleLimits | None = None,
    cross_barriers: bool = False,
    islands: Literal["single", "exclude"] = "single",
    seed: int = DEFAULTS.bundle_seed,
) -> gpd.GeoDataFrame:
    """Candidate area bundles (大片区统筹平衡): which bundle each parcel joins, with its money.

    Parameters
    ----------
    units
        Old compounds (``kind == "old_compound"``) and other parcels (shantytowns, old
        factories …) in one frame with a metric CRS; see
        :func:`spatial.bundling.bundle_units`.
    barriers
        Lines or areas (arterial roads, railways, rivers) bundles do not cross.
    finance
        Finance figures, or a TOML file like ``spatial/standards/finance.toml``
        (default the shipped one, whose unit costs and land values are assumptions).
    limits
        Neighbour gap and size limits (default ``bundling.toml``).
    cross_barriers
        Let bundles cross barriers.
    islands
        A compound with no neighbour: ``single`` (a bundle of its own) or ``exclude``.
    seed
        Seed of the tie-breaking order (reproducible results).

    Returns
    -------
    GeoDataFrame
        ``units`` (same index, CRS and columns) plus ``bundle_id`` (empty when the unit
        is in no bundle), ``bundle_status`` (``self-balancing`` or ``deficit``) and the
        unit's money: ``cost_yuan``, ``subsidy_yuan``, ``revenue_yuan``,
        ``net_cost_yuan``, ``balance_yuan``, ``elevators`` and its ``basis``.
    """
    money = finance if isinstance(finance, FinanceDefaults) else load_finance(finance)
    result = find_bundles(
        units,
        barriers=barriers,
        limits=limits or load_limits(),
        finance=money,
        cross_barriers=cross_barriers,
        islands=islands,
        seed=seed,
    )
    assert result.unit_bundle is not None and result.unit_money is not None
    status = result.bundles.set_index("bundle_id")["status"]
    out = units.copy()
    out["bundle_id"] = result.unit_bundle
    out["bundle_status"] = result.unit_bundle.map(status)
    for col in result.unit_money.columns:
        out[col] = result.unit_money[col]
    return out


def plan(
    compounds: gpd.GeoDataFrame | pd.DataFrame,
    *,
    profile: PolicyProfile | str | Path,
    budget_yuan: float,
    households_per_year: float | None = None,
    categories: Sequence[Category] | str | Path | None = None,
    finance: FinanceDefaults | str | Path | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Eligibility, renovation needs, ranking and the year of renovation of each compound.

    Parameters
    ----------
    compounds
        Compounds with survey columns (``build_year``, ``households`` …) and, from
        :func:`gaps`, ``missing``; any CRS or none.
    profile
        A policy profile, a shipped profile's name (``shandong``, ``taian``,
        ``liaocheng``, ``qinghai``, ``xining``) or a TOML file.
    budget_yuan
        Yearly budget of total investment, yuan.
    households_per_year
        Yearly household target (a cap), or None.
    categories
        The taxonomy the ``missing`` ids refer to (default the shipped one).
    finance
        Finance figures or file (default the shipped ``finance.toml``).

    Returns
    -------
    GeoDataFrame or DataFrame
        ``compounds`` (same index and columns) plus ``status`` (priority / eligible /
        excluded / unknown), ``reason_zh``, ``reason_en``, the needs
        (:data:`spatial.policy.NEEDS_COLUMNS`: items, ``cost_yuan``, ``subsidy_yuan`` …),
        the ranking factors ``f_*``, ``score``, ``rank`` and ``year`` (empty: not within
        the profile's plan years and budget).
    """
    prof = profile if isinstance(profile, PolicyProfile) else load_profile(profile)
    cats = _taxonomy(categories)
    money = finance if isinstance(finance, FinanceDefaults) else load_finance(finance)
    elig = eligibility(compounds, prof)
    need = needs(compounds, prof, categories=cats, finance=money)
    ranks = rank(compounds, elig["status"], prof, n_categories=len(cats))
    households = pd.to_numeric(
        compounds.get("households", pd.Series(0, index=compounds.index)), errors="coerce"
    ).fillna(0)
    year = annual_plan(
        need["cost_yuan"],
        ranks["rank"],
        households,
        years=range(prof.plan_start_year, prof.plan_end_year + 1),
        budget_yuan=budget_yuan,
        households_per_year=households_per_year,
        priority=elig["status"].eq("priority"),
    )
    return compounds.join(elig).join(need).join(ranks).assign(year=year)
