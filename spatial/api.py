"""The library face: GeoDataFrames in, GeoDataFrames out, indexed like the input.

``spatial.gaps``, ``spatial.bundles`` and ``spatial.plan`` are the three questions of the
toolkit, for notebooks and scripts. Each takes validated layers (see
:func:`spatial.io.load_layers`) and returns a new frame with one row per input row, the
input's index and columns kept, and the answers added; nothing is written and the
arguments are not changed. :mod:`spatial.pipeline` and the CLI run the same stages and
also write the output folders.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from spatial._errors import InputError, InputWarning, Problem, format_problems, raise_for_errors
from spatial.bundling import (
    BundleResult,
    FinanceDefaults,
    bundle_units,
    find_bundles,
    load_finance,
)
from spatial.bundling.params import BundleParams
from spatial.io.crs.projection import local_metric_crs
from spatial.io.load import PREPARED_ATTR, check_frame
from spatial.io.survey.schema import LAYERS
from spatial.lifecircle.params import GapParams
from spatial.policy import (
    PolicyProfile,
    annual_plan,
    eligibility,
    load_profile,
    needs,
    profile_finance,
    rank,
)
from spatial.policy.params import PlanParams
from spatial.standards import Category, load_categories

if TYPE_CHECKING:
    from spatial.lifecircle.result import GapResult
    from spatial.network import WalkNetwork

__all__ = ["bundle_result", "bundles", "gap_result", "gaps", "plan", "prepare"]


def _taxonomy(categories: Sequence[Category] | str | Path | None) -> tuple[Category, ...]:
    if categories is None or isinstance(categories, (str, Path)):
        return load_categories(categories)
    return tuple(categories)


def prepare(
    frame: gpd.GeoDataFrame,
    kind: str,
    *,
    coords: str = "wgs84",
    to_crs: Any = None,
    argument: str | None = None,
) -> gpd.GeoDataFrame:
    """Do for a GeoDataFrame of one's own what loading a file does: canonical columns from
    Chinese or English headers (小区名称 → ``name``, 户数 → ``households`` …), checked
    values and geometries, coordinates converted to WGS84, then metres.

    Parameters
    ----------
    frame
        Compounds, POIs or parcels, with a CRS (e.g. from ``gpd.read_file``).
    kind
        ``"compounds"``, ``"pois"`` or ``"parcels"``.
    coords
        The system lon/lat are in: ``"wgs84"``, ``"gcj02"`` (Amap), ``"bd09"`` (Baidu),
        ``"bd09mc"`` (Baidu Mercator metres).
    to_crs
        The metric CRS to project to (default: the local UTM zone).
    argument
        What messages call the frame (default ``kind``).

    Returns
    -------
    GeoDataFrame
        Canonical columns plus ``source_file``/``source_row``, indexed like ``frame``,
        in metres.

    Raises
    ------
    InputError
        Every problem at once (a missing CRS, coordinates that are not degrees, a
        missing ``id`` …), each naming the argument and the fix.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import spatial
    >>> pois = gpd.read_file("data/demo/demo_city.gpkg", layer="pois")
    >>> prepared = spatial.prepare(pois, "pois")
    >>> prepared.crs.to_epsg(), prepared.index.equals(pois.index)
    (32650, True)
    """
    name = argument or kind
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(
            [
                Problem.error(
                    name,
                    f"{name} is a {type(frame).__name__}, not a GeoDataFrame",
                    hint="read it with gpd.read_file(…), or make points with "
                    "gpd.points_from_xy(lon, lat, crs='EPSG:4326')",
                )
            ]
        )
    if kind not in LAYERS:
        raise ValueError(f"unknown kind {kind!r}; use one of {LAYERS}")
    checked = check_frame(frame, kind, source=name, coords=coords)
    raise_for_errors(checked.problems)
    warned = [p for p in checked.problems if p.severity == "warning"]
    if warned:
        warnings.warn(InputWarning(format_problems(warned), warned), stacklevel=2)
    assert checked.frame is not None
    out = checked.frame
    out = out.to_crs(to_crs if to_crs is not None else local_metric_crs(out))
    out.index = frame.index
    out.attrs[PREPARED_ATTR] = kind
    return out


def _layer(frame: gpd.GeoDataFrame, kind: str, argument: str) -> gpd.GeoDataFrame:
    """The frame as the stages take it: prepared unless it is already (a loader's)."""
    if isinstance(frame, gpd.GeoDataFrame) and frame.attrs.get(PREPARED_ATTR) == kind:
        return frame
    return prepare(frame, kind, argument=argument)


def _network(
    network: WalkNetwork | str | Path | gpd.GeoDataFrame, crs: Any, p: GapParams
) -> WalkNetwork:
    from spatial.network import WalkNetwork, load_network  # not imported for bundles
    from spatial.network.lines import walk_network_from_lines

    if isinstance(network, WalkNetwork):
        return network
    if isinstance(network, gpd.GeoDataFrame):  # a road line layer of one's own
        if network.crs is None:
            raise InputError(
                [
                    Problem.error(
                        "network",
                        "the road lines have no CRS",
                        hint="set it: roads.set_crs('EPSG:4326') or the CRS they are in",
                    )
                ]
            )
        lines = network.to_crs(crs)
        return walk_network_from_lines(
            lines, crs=crs, line_snap_m=p.line_snap_m, source="network (argument)"
        )
    return load_network(network=network, crs=crs, layer=p.network_layer, line_snap_m=p.line_snap_m)


def gap_result(
    compounds: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    network: WalkNetwork | str | Path | gpd.GeoDataFrame,
    *,
    params: GapParams | None = None,
    **changes: Any,
) -> GapResult:
    """Run the gap engine and keep every table it makes (what the output folder holds).

    Parameters
    ----------
    compounds, pois, network
        See :func:`gaps`.
    params, **changes
        See :func:`gaps`; here ``service_areas`` (the reachable street parts per
        category) are computed unless turned off.

    Returns
    -------
    GapResult
        The long table, compounds, summary, POIs, service areas, problems, categories.
    """
    p = (params or GapParams()).replace(**changes)
    comp = _layer(compounds, "compounds", "compounds")
    facilities = _layer(pois, "pois", "pois")
    from spatial.lifecircle.gaps import compute_gaps  # the engine: not loaded for bundles

    return compute_gaps(comp, facilities, _network(network, comp.crs, p), params=p)


def gaps(
    compounds: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    network: WalkNetwork | str | Path | gpd.GeoDataFrame,
    *,
    params: GapParams | None = None,
    **changes: Any,
) -> gpd.GeoDataFrame:
    """Life-circle gaps: which categories each compound lacks within walking distance.

    Parameters
    ----------
    compounds
        Compounds with a CRS, polygons or points: as loaded (:func:`spatial.io.load_layers`)
        or any GeoDataFrame, prepared as :func:`prepare` does (``id``/小区编号,
        ``name``/小区名称, optional ``households``/户数 …).
    pois
        Facilities with a ``category`` column, OSM tags, Amap codes or names to classify
        (any GeoDataFrame, prepared likewise).
    network
        The walk network (:class:`~spatial.network.WalkNetwork`), a file to build it
        from (OSM XML/PBF, GraphML, a road line layer), or road lines as a GeoDataFrame.
    params
        The gap stage's settings (default
        :class:`~spatial.lifecircle.params.GapParams`: the shipped GB 50180-2018
        taxonomy, a 3,000 m search limit …).
    **changes
        Settings to change by name, e.g. ``search_limit_m=2000``,
        ``categories="my.toml"``, ``count_reachable=True`` (see
        :class:`~spatial.lifecircle.params.GapParams`).

    Returns
    -------
    GeoDataFrame
        ``compounds`` (same index, CRS and columns) plus ``n_missing``, ``missing``
        (category ids joined by ``;``), ``gap_score`` (households × share of categories
        missing), ``access`` (how its access points were found) and, per category id,
        ``<id>_m`` (walk distance in metres to the nearest facility; empty = see
        ``<id>_status``), ``<id>_status`` (covered, too_far, beyond_limit, unreachable,
        off_network, no_data) and, with ``count_reachable``, ``<id>_count``.

    Examples
    --------
    The demo city's compounds and facilities as ``gpd.read_file`` gives them:

    >>> import geopandas as gpd
    >>> import spatial
    >>> city = "data/demo/demo_city.gpkg"
    >>> compounds = gpd.read_file(city, layer="compounds")
    >>> pois = gpd.read_file(city, layer="pois")
    >>> per = spatial.gaps(
    ...     compounds, pois, "data/demo/demo_city.osm", only_categories=("kindergarten",)
    ... )
    >>> per["kindergarten_status"].value_counts().to_dict()
    {'covered': 80, 'too_far': 51}
    """
    p = (params or GapParams()).replace(**changes)
    # the face returns no service areas: not computing them saves their time
    result = gap_result(compounds, pois, network, params=p.replace(service_areas=False))
    out = compounds.copy()
    for col in ("n_missing", "missing", "gap_score", "access"):
        out[col] = result.compounds[col].to_numpy()
    ids = result.compounds["id"].to_numpy()
    wide = result.gaps.pivot(index="compound_id", columns="category", values="distance_m")
    status = result.gaps.pivot(index="compound_id", columns="category", values="status")
    for cat in result.categories:
        out[f"{cat.id}_m"] = wide[cat.id].reindex(ids).to_numpy()
        out[f"{cat.id}_status"] = status[cat.id].reindex(ids).to_numpy()
    if p.count_reachable:
        counts = result.gaps.pivot(
            index="compound_id", columns="category", values="reachable_count"
        )
        for cat in result.categories:
            out[f"{cat.id}_count"] = counts[cat.id].reindex(ids).to_numpy()
    return out


def bundle_result(
    units: gpd.GeoDataFrame,
    *,
    barriers: gpd.GeoSeries | None = None,
    params: BundleParams | None = None,
    **changes: Any,
) -> tuple[BundleResult, FinanceDefaults]:
    """Run the bundle stage on units and keep every table it makes, with the figures used.

    Parameters
    ----------
    units
        Old compounds and other parcels in one frame, in metres
        (:func:`spatial.bundling.bundle_units`).
    barriers, params, **changes
        See :func:`bundles`.

    Returns
    -------
    BundleResult, FinanceDefaults
        Bundles, members, pairs, packages, exclusions; the finance figures (the profile's
        subsidies applied).
    """
    p = (params or BundleParams()).replace(**changes)
    figures = p.finance if isinstance(p.finance, FinanceDefaults) else load_finance(p.finance)
    if p.profile is not None:
        figures = profile_finance(figures, load_profile(p.profile))
    return find_bundles(units, barriers=barriers, finance=figures, params=p), figures


def bundles(
    compounds: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame | None = None,
    *,
    barriers: gpd.GeoSeries | None = None,
    params: BundleParams | None = None,
    **changes: Any,
) -> gpd.GeoDataFrame:
    """Candidate area bundles (大片区统筹平衡): which bundle each parcel joins, with its money.

    Parameters
    ----------
    compounds
        Old compounds (as loaded, or any GeoDataFrame: prepared as :func:`prepare`
        does); or old compounds and other parcels already in one frame with a ``kind``
        column (:func:`spatial.bundling.bundle_units`).
    parcels
        Shantytowns, old factories, urban villages … with their kind (地块类型), or None;
        as ``spatial bundles --parcels``.
    barriers
        Lines or areas (arterial roads, railways, rivers) bundles do not cross.
    params
        The bundle stage's settings (default
        :class:`~spatial.bundling.params.BundleParams`: the shipped finance figures,
        whose unit costs and land values are assumptions; ``bundling.toml``'s limits).
    **changes
        Settings to change by name, e.g. ``seed=0``, ``islands="exclude"``,
        ``finance="my_finance.toml"``, ``profile="taian"``.

    Returns
    -------
    GeoDataFrame
        The input rows (same columns; with ``parcels``, the compounds then the parcels
        under an outer index level ``compounds``/``parcels`` and their own index) plus
        ``bundle_id`` (empty when in no bundle), ``bundle_status`` (``self-balancing`` or
        ``deficit``) and the money: ``cost_yuan``, ``subsidy_yuan``, ``revenue_yuan``,
        ``net_cost_yuan``, ``balance_yuan``, ``elevators`` and its ``basis``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import spatial
    >>> city = "data/demo/demo_city.gpkg"
    >>> compounds = gpd.read_file(city, layer="compounds")
    >>> parcels = gpd.read_file(city, layer="parcels")
    >>> per = spatial.bundles(compounds, parcels, seed=0)
    >>> per.loc["compounds", "bundle_id"].nunique(), len(per.loc["parcels"])
    (75, 32)
    """
    together = (
        parcels is None and "kind" in compounds and compounds.attrs.get(PREPARED_ATTR) is None
    )
    if together:
        units, given = compounds, compounds
    else:
        comp = _layer(compounds, "compounds", "compounds")
        parc = _layer(parcels, "parcels", "parcels") if parcels is not None else None
        units = bundle_units(comp, parc)
        given = compounds
        if parcels is not None:
            given = pd.concat({"compounds": compounds, "parcels": parcels.to_crs(compounds.crs)})
    result, _ = bundle_result(units, barriers=barriers, params=params, **changes)
    assert result.unit_bundle is not None and result.unit_money is not None
    status = result.bundles.set_index("bundle_id")["status"]
    out = given.copy()
    out["bundle_id"] = result.unit_bundle.to_numpy()
    out["bundle_status"] = result.unit_bundle.map(status).to_numpy()
    for col in result.unit_money.columns:
        out[col] = result.unit_money[col].to_numpy()
    return out


def plan(
    compounds: gpd.GeoDataFrame | pd.DataFrame,
    *,
    params: PlanParams | None = None,
    categories: Sequence[Category] | str | Path | None = None,
    **changes: Any,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Eligibility, renovation needs, ranking and the year of renovation of each compound.

    Parameters
    ----------
    compounds
        Compounds with survey columns (``build_year``, ``households`` …) and, from
        :func:`gaps`, ``missing``; any CRS or none.
    params
        The plan stage's settings (:class:`~spatial.policy.params.PlanParams`); without
        it, ``profile`` and ``budget_yuan`` are given by name.
    categories
        The taxonomy the ``missing`` ids refer to (default the shipped one).
    **changes
        Settings by name: ``profile`` (a policy profile, a shipped profile's name —
        ``shandong``, ``taian``, ``liaocheng``, ``qinghai``, ``xining`` — or a TOML
        file), ``budget_yuan`` (yearly budget of total investment, yuan),
        ``households_per_year`` (a yearly cap), ``finance``, ``start_year`` (None: the
        profile's own plan years).

    Returns
    -------
    GeoDataFrame or DataFrame
        ``compounds`` (same index and columns) plus ``status`` (priority / eligible /
        excluded / unknown), ``reason_zh``, ``reason_en``, the needs
        (:data:`spatial.policy.NEEDS_COLUMNS`: items, ``cost_yuan``, ``subsidy_yuan`` …),
        the ranking factors ``f_*``, ``score``, ``rank`` and ``year`` (empty: not within
        the profile's plan years and budget).

    Examples
    --------
    >>> import geopandas as gpd
    >>> import spatial
    >>> compounds = gpd.read_file("data/demo/demo_city.gpkg", layer="compounds")
    >>> planned = spatial.plan(compounds, profile="taian", budget_yuan=5e8)
    >>> sorted(planned["status"].unique())  # the demo has no build years
    ['unknown']
    """
    p = params.replace(**changes) if params is not None else PlanParams(**changes)
    prof = p.profile if isinstance(p.profile, PolicyProfile) else load_profile(p.profile)
    if p.start_year is not None:  # the profile's span of years, from the start year given
        span = prof.plan_end_year - prof.plan_start_year
        prof = replace(prof, plan_start_year=p.start_year, plan_end_year=p.start_year + span)
    cats = _taxonomy(categories)
    money = p.finance if isinstance(p.finance, FinanceDefaults) else load_finance(p.finance)
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
        budget_yuan=p.budget_yuan,
        households_per_year=p.households_per_year,
        priority=elig["status"].eq("priority"),
    )
    return compounds.join(elig).join(need).join(ranks).assign(year=year)
