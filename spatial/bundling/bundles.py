"""Candidate area bundles (大片区统筹平衡), cross-area funding and subdistrict packages.

**The model.** Each parcel has a balance: land revenue minus net cost (cost − subsidies),
in yuan (:mod:`spatial.bundling.finance`). The aim is to fund as many households'
renovation as possible from land revenue, preferring adjacent bundles (大片区) over
cross-area combinations (跨片区) and short distances over long, within the limits of
``bundling.toml`` (span, area, households per bundle; the cross-area distance).

1. **Large-area bundles** (heuristic, reproducible; ``seed`` breaks ties). Seeds are the
   parcels with a surplus, largest first. A bundle grows over the barrier-aware
   adjacency graph (:mod:`spatial.bundling.adjacency`): at each step the adjacent free
   parcel with households whose deficit the bundle can still pay — most households per
   yuan first, then the nearest to the seed — while the limits hold; a surplus neighbour
   joins only when its money lets a blocked household parcel in. Growth stops when no
   adjacent compound fits, so no bundle keeps idle surplus while an adjacent, unfunded
   compound it could legally absorb waits (the invariant the tests check). A bundle
   without an old compound is dissolved (its seed stays a surplus project).
2. Old compounds left over are single-compound bundles in deficit, except islands (no
   neighbour at all) with ``islands="exclude"``.
3. **Cross-area funding**: the surplus of free parcels and the spare surplus of bundles
   funds the deficits within ``pair_max_m`` in the same district
   (:mod:`spatial.bundling.funding`): who is funded in full is chosen greedily (most
   households per yuan first), and the money is moved by an exact min-cost flow (cost =
   distance) that keeps them funded and funds what else it can; money splits, one project
   may fund many compounds and a compound may take from several (unless
   ``split_funding`` is off in ``bundling.toml``).

Exact for comparison: :mod:`spatial.bundling.optimum` bounds the households any bundling
can fund (MILP, HiGHS) on small instances.
:func:`spatial.bundling.funding.funding_table` lists per compound what pays for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.bundling.adjacency import BundleLimits, adjacency, load_limits
from spatial.bundling.finance import MONEY_COLUMNS, FinanceDefaults, load_finance, parcel_finance
from spatial.bundling.funding import cross_area_flows, funding_table
from spatial.bundling.joins import joined_by
from spatial.bundling.params import BundleParams

__all__ = ["BundleResult", "find_bundles"]


@dataclass
class BundleResult:
    """Bundles, their members, cross-area pairs, subdistrict packages and the adjacency.

    Attributes
    ----------
    bundles
        One row per bundle with its outline, cost, revenue and balance (yuan).
    members
        One row per unit with its bundle id.
    pairs
        Deficit bundles paired with surplus bundles across areas.
    packages
        Bundles packaged by subdistrict.
    adjacency
        The neighbour pairs used (see :func:`spatial.bundling.adjacency.adjacency`).
    excluded
        Units left out of every bundle, with the reason.
    unit_bundle
        Bundle id of each input unit, indexed like the input (None before bundling).
    unit_money
        Cost, revenue and balance of each input unit in yuan, indexed like the input.
    funding
        One row per old compound: need, money from land revenue, mode, sources, status
        (:func:`spatial.bundling.funding.funding_table`).
    sources
        The free parcels whose surplus funds bundles across areas (the far ends of the
        pairs that are parcels), with ``given_yuan``.
    """

    bundles: gpd.GeoDataFrame
    members: gpd.GeoDataFrame
    pairs: pd.DataFrame
    packages: pd.DataFrame
    adjacency: pd.DataFrame
    excluded: pd.DataFrame
    unit_bundle: pd.Series | None = None
    unit_money: pd.DataFrame | None = None
    funding: pd.DataFrame | None = None
    sources: gpd.GeoDataFrame | None = None


def _corners(geoms: np.ndarray) -> list[np.ndarray]:
    return [shapely.get_coordinates(shapely.convex_hull(g)) for g in geoms]


_PLACES = ("district", "subdistrict", "community")


def _place_by_location(u: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give parcels without a subdistrict/community/district those of the nearest unit
    that has them (``place_source`` says which), so packages sum money where land is."""
    known = [c for c in _PLACES if c in u]
    if not known:
        return u
    has = u[known].notna().all(axis=1).to_numpy()
    if has.all() or not has.any():
        return u
    out = u.copy()
    from scipy.spatial import cKDTree

    xy = shapely.get_coordinates(u.geometry.centroid.values)
    _, nearest = cKDTree(xy[has]).query(xy[~has])
    donors = np.flatnonzero(has)[nearest]
    for col in known:
        values = out[col].to_numpy(dtype=object, copy=True)  # a read-only view otherwise
        values[~has] = u[col].to_numpy(dtype=object)[donors]
        out[col] = values
    source = np.full(len(u), "", dtype=object)
    source[~has] = ["nearest: " + str(i) for i in u["id"].to_numpy()[donors]]
    out["place_source"] = source
    return out


def _dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.hypot(*(a - b)))


def _span(points: np.ndarray) -> float:
    if len(points) < 2:
        return 0.0
    d = points[:, None, :] - points[None, :, :]
    return float(np.sqrt((d**2).sum(-1)).max())


#: The figures the money is figured from, kept with the members so that a bundles folder
#: read back as input gives the same money.
_FIGURES: tuple[str, ...] = ("build_year", "floors", "buildings", "elevator", "floor_area_m2")
_FIGURES += ("land_area_m2", "planned_far")


def find_bundles(
    units: gpd.GeoDataFrame,
    *,
    barriers: gpd.GeoSeries | None = None,
    limits: BundleLimits | None = None,
    finance: FinanceDefaults | None = None,
    finance_overrides: dict[str, float] | None = None,
    params: BundleParams | None = None,
    **changes: Any,
) -> BundleResult:
    """Find candidate bundles, pair deficits across areas and package by subdistrict.

    Parameters
    ----------
    units
        Old compounds (``kind == "old_compound"``) and other parcels with canonical
        columns (``id``, ``name``, ``kind``, ``households`` …, optional ``subdistrict``,
        ``community``, ``district``, and ``missing`` from the gap engine), in metres.
    barriers
        Lines/areas that separate neighbours (from :func:`spatial.io.read_osm`).
    limits
        Size limits (default :func:`load_limits` with ``params``' ``gap_m`` and
        ``pair_max_m``).
    finance
        Finance figures (default: ``params``' figures, else
        :func:`spatial.bundling.finance.load_finance`).
    finance_overrides
        Changes to the finance figures, keyed ``section__key`` or ``key``.
    params
        The stage's settings (default :class:`~spatial.bundling.params.BundleParams`):
        ``cross_barriers``, ``islands`` (``single``: a compound without any neighbour is
        a bundle of its own; ``exclude``: it is left out and listed in ``excluded``),
        ``seed`` of the tie-breaking order, ``default_far``.
    **changes
        Settings to change from ``params`` by name (``islands="exclude"``).

    Returns
    -------
    BundleResult
        Bundles, members, pairs, packages, adjacency and exclusions.
    """
    p = (params or BundleParams()).replace(**changes)
    if limits is None:
        changed = {"gap_m": p.gap_m, "pair_max_m": p.pair_max_m}
        limits = load_limits(**{k: v for k, v in changed.items() if v is not None})
    if finance is None and p.finance is not None:
        finance = p.finance if isinstance(p.finance, FinanceDefaults) else load_finance(p.finance)
    lim = limits or load_limits()
    u = _place_by_location(units.reset_index(drop=True))
    if "households" not in u:  # no survey (e.g. compounds from OSM): unknown, counted as 0
        u = u.assign(households=np.nan)
    money = parcel_finance(
        u, defaults=finance, overrides=finance_overrides, default_far=p.default_far
    )
    adj = adjacency(u, gap_m=lim.gap_m, barriers=barriers, cross_barriers=p.cross_barriers)
    n = len(u)
    nbrs: list[set[int]] = [set() for _ in range(n)]
    for a, b in zip(adj["i"].tolist(), adj["j"].tolist(), strict=True):
        nbrs[a].add(b)
        nbrs[b].add(a)
    is_comp = (u["kind"] == "old_compound").to_numpy()
    hh = pd.to_numeric(u["households"], errors="coerce").fillna(0).to_numpy(float)
    area = u.geometry.area.to_numpy()
    bal = money["balance_yuan"].to_numpy()
    corners = _corners(np.asarray(u.geometry.values))
    cxy = shapely.get_coordinates(u.geometry.centroid.values)
    rng = np.random.default_rng(p.seed)
    tiebreak = rng.permutation(n)
    owner = np.full(n, -1)
    groups: list[list[int]] = []

    def fits(members: list[int], c: int, a_sum: float, h_sum: float) -> bool:
        if a_sum + area[c] > lim.max_area_m2 or h_sum + hh[c] > lim.max_households:
            return False
        return _span(np.vstack([corners[m] for m in [*members, c]])) <= lim.max_span_m

    for s in sorted(np.flatnonzero(bal > 0), key=lambda k: (-bal[k], tiebreak[k])):
        if owner[s] >= 0:
            continue
        members, b_sum, a_sum, h_sum = [int(s)], bal[s], area[s], hh[s]
        while True:
            frontier = sorted(
                {c for m in members for c in nbrs[m] if owner[c] < 0 and c not in members},
                key=lambda k: tiebreak[k],
            )
            ok = [c for c in frontier if fits(members, c, a_sum, h_sum)]
            people = [c for c in ok if hh[c] > 0 and b_sum + bal[c] >= 0]
            if people:  # most households per yuan, then the nearest to the seed
                pick = min(
                    people,
                    key=lambda c: (
                        not is_comp[c],
                        -hh[c] / max(-bal[c], 1.0),
                        _dist(cxy[c], cxy[s]),
                        tiebreak[c],
                    ),
                )
            else:
                blocked = [c for c in ok if hh[c] > 0]
                money_in = [
                    c
                    for c in ok
                    if bal[c] > 0 and any(b_sum + bal[c] + bal[p] >= 0 for p in blocked)
                ]
                if not money_in:
                    break
                pick = max(money_in, key=lambda c: (bal[c], -tiebreak[c]))
            members.append(pick)
            b_sum, a_sum, h_sum = b_sum + bal[pick], a_sum + area[pick], h_sum + hh[pick]
        if is_comp[members].any():
            for m in members:
                owner[m] = len(groups)
            groups.append(members)
    excluded = []
    for c in np.flatnonzero(is_comp & (owner < 0)):
        if p.islands == "exclude" and not nbrs[c]:
            excluded.append(int(c))
            continue
        owner[c] = len(groups)
        groups.append([int(c)])

    members_gdf, bundles = _tables(u, money, groups, corners)
    pairs, reach = _pair_across(
        bundles, u, bal, owner, nbrs, groups, pair_max_m=lim.pair_max_m, split=lim.split_funding
    )
    funding = funding_table(
        u,
        bal,
        groups,
        list(bundles["bundle_id"]),
        pairs,
        reach=reach,
        excluded=excluded,
        pair_max_m=lim.pair_max_m,
    )
    bundles = _explain(bundles, funding, pairs)
    packages = _packages(u, money)
    excl = u.loc[excluded, ["id", "name"]].assign(
        reason=f"island: no neighbour within {lim.gap_m:g} m"
    )
    ids = np.array([f"B{k + 1:04d}" for k in range(len(groups))] + [None], dtype=object)
    unit_bundle = pd.Series(ids[owner], index=units.index, name="bundle_id")
    unit_money = money.set_axis(units.index)
    return BundleResult(
        bundles,
        members_gdf,
        pairs,
        packages,
        adj,
        excl.reset_index(drop=True),
        unit_bundle,
        unit_money,
        funding,
        _sources(u, money, pairs),
    )


def _sources(u: gpd.GeoDataFrame, money: pd.DataFrame, pairs: pd.DataFrame) -> gpd.GeoDataFrame:
    """The free parcels whose surplus funds deficit bundles across areas, with the money."""
    given = pairs[pairs["surplus_kind"] == "parcel"].groupby("surplus_id")["amount_yuan"].sum()
    ids = u["id"].astype(str)
    pick = ids.isin(given.index).to_numpy()
    cols = [c for c in ("id", "name", "kind", "subdistrict", "community") if c in u]
    out = u.loc[pick, [*cols, "geometry"]].copy()
    for col in ("revenue_yuan", "balance_yuan"):
        if col in money:
            out[col] = money[col].iloc[np.flatnonzero(pick)].to_numpy()
    out["given_yuan"] = given.reindex(ids[pick].to_numpy()).to_numpy()
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=u.crs)


def _explain(
    bundles: gpd.GeoDataFrame, funding: pd.DataFrame, pairs: pd.DataFrame
) -> gpd.GeoDataFrame:
    """Per bundle: money that funds its compounds, from where, and the surplus left over."""
    by_bundle = funding.groupby("bundle_id")
    out = bundles.copy()
    out["funded_yuan"] = by_bundle["funded_yuan"].sum().reindex(out["bundle_id"]).fillna(0).values
    funded_by = joined_by(funding["bundle_id"], funding["sources"], sep="; ", unique=True)
    out["funded_by"] = [funded_by.get(b, "") for b in out["bundle_id"]]
    given = (
        pairs[pairs["surplus_kind"] == "bundle"].groupby("surplus_id")["amount_yuan"].sum()
        if len(pairs)
        else pd.Series(dtype=float)
    )
    spare = np.maximum(out["balance_yuan"].to_numpy(), 0.0)
    out["spare_yuan"] = spare - given.reindex(out["bundle_id"]).fillna(0).to_numpy()
    return out


def _tables(
    u: gpd.GeoDataFrame, money: pd.DataFrame, groups: list[list[int]], corners: list[np.ndarray]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    ids = [f"B{k + 1:04d}" for k in range(len(groups))]
    rows = [(bid, m) for bid, g in zip(ids, groups, strict=True) for m in g]
    pos = [m for _, m in rows]
    cols = [
        c
        for c in (
            "id",
            "name",
            "kind",
            "households",
            "subdistrict",
            "community",
            "district",
            "missing",
            "place_source",
            *_FIGURES,
        )
        if c in u
    ]
    members = gpd.GeoDataFrame(
        u.iloc[pos][cols].reset_index(drop=True),
        crs=u.crs,
        geometry=u.geometry.iloc[pos].reset_index(drop=True).values,
    )
    members.insert(0, "bundle_id", [b for b, _ in rows])
    members["area_m2"] = members.geometry.area
    for col in money.columns:
        members[col] = money[col].iloc[pos].to_numpy()
    g = members.groupby("bundle_id", sort=True)
    sums = g[["households", "area_m2", *MONEY_COLUMNS]].sum()
    out = sums.reset_index()
    key = members["bundle_id"]
    out["parcels_default_far"] = (members["far_source"] == "default").groupby(key).sum().values
    out["parcels_missing_figures"] = (members["missing_figures"] != "").groupby(key).sum().values
    names = joined_by(members["bundle_id"], members["id"], sep=";")
    out["members"] = [names[b] for b in out["bundle_id"]]
    counts = members.groupby(["bundle_id", "kind"]).size().unstack(fill_value=0).sort_index(axis=1)
    mixes, mix = np.unique(counts.reindex(out["bundle_id"]).to_numpy(), axis=0, return_inverse=True)
    out["kinds"] = np.array(  # each distinct mix of kinds written once
        [";".join(f"{k}:{n}" for k, n in zip(counts.columns, r, strict=True) if n) for r in mixes],
        dtype=object,
    )[mix.ravel()]
    out["n_compounds"] = (members["kind"] == "old_compound").groupby(key).sum().values
    net = out["net_cost_yuan"].to_numpy()
    out["balance_ratio"] = np.where(
        net > 0, out["revenue_yuan"] / np.where(net > 0, net, 1), np.inf
    )
    out["status"] = np.where(out["balance_yuan"] >= 0, "self-balancing", "deficit")
    out["span_m"] = [_span(np.vstack([corners[m] for m in grp])) for grp in groups]
    named = members.dropna(subset=["subdistrict"]) if "subdistrict" in members else members[:0]
    if len(named):  # the most common subdistrict of the members (none: a column all empty)
        common = named.groupby(["bundle_id", "subdistrict"]).size().sort_values(ascending=False)
        first = common.reset_index().drop_duplicates("bundle_id").set_index("bundle_id")
        out["subdistrict"] = first["subdistrict"].reindex(out["bundle_id"]).to_numpy()
    elif "subdistrict" in members:
        out["subdistrict"] = None
    if "missing" in members:  # the categories the compounds miss, each once, in order
        comp = members.loc[(members["kind"] == "old_compound") & members["missing"].notna()]
        found: dict[Any, set[str]] = {}
        for b, v in zip(comp["bundle_id"].to_numpy(), comp["missing"].astype(str), strict=True):
            found.setdefault(b, set()).update(c for c in v.split(";") if c)
        out["gaps_missing"] = [";".join(sorted(found.get(b, ()))) for b in out["bundle_id"]]
        site_kinds = ["old_factory", "low_efficiency", "function_conversion"]
        land = members["kind"].isin(site_kinds).groupby(key).any()
        out["can_site_facilities"] = land.reindex(out["bundle_id"]).to_numpy()
        out["gaps_closable"] = np.where(out["can_site_facilities"], out["gaps_missing"], "")
    shapes, valid = members.geometry.values, shapely.is_valid(members.geometry.values)
    one = {b: at[0] for b, at in g.indices.items() if len(at) == 1 and valid[at[0]]}  # own union
    union = {b: shapely.union_all(shapes[at]) for b, at in g.indices.items() if b not in one}
    geom = pd.Series({**union, **{b: shapes[at] for b, at in one.items()}})
    bundles = gpd.GeoDataFrame(out, geometry=geom.reindex(out["bundle_id"]).values, crs=u.crs)
    return members, bundles


def _pair_across(
    bundles: gpd.GeoDataFrame,
    u: gpd.GeoDataFrame,
    bal: np.ndarray,
    owner: np.ndarray,
    nbrs: list[set[int]],
    groups: list[list[int]],
    *,
    pair_max_m: float,
    split: bool = True,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Fund deficit bundles from free surplus parcels and spare bundle surplus
    (:func:`spatial.bundling.funding.cross_area_flows`): one row per link with money, and
    per deficit bundle the number of surplus projects in reach."""
    columns = [
        "deficit_bundle",
        "surplus_kind",
        "surplus_id",
        "distance_m",
        "amount_yuan",
        "deficit_yuan",
        "surplus_yuan",
        "deficit_x",
        "deficit_y",
        "surplus_x",
        "surplus_y",
    ]
    district = (
        u["district"].fillna("").astype(str).to_numpy()
        if "district" in u
        else np.full(len(u), "", dtype=object)
    )
    cent = shapely.get_coordinates(bundles.geometry.centroid.values)
    unit_xy = shapely.get_coordinates(u.geometry.centroid.values)
    balance = bundles["balance_yuan"].to_numpy()
    free = np.flatnonzero((owner < 0) & (bal > 0))
    rich = np.flatnonzero(balance > 0)
    poor = np.flatnonzero(balance < 0)
    if len(poor) == 0 or len(free) + len(rich) == 0:
        return pd.DataFrame(columns=columns), {}
    # Surplus projects: free surplus parcels, then self-balancing bundles' spare surplus.
    s_kind = np.array(["parcel"] * len(free) + ["bundle"] * len(rich), dtype=object)
    s_id = np.concatenate(
        [u["id"].astype(str).to_numpy()[free], bundles["bundle_id"].to_numpy()[rich]]
    ).astype(object)
    s_money = np.concatenate([bal[free], balance[rich]])
    s_xy = np.vstack([unit_xy[free], cent[rich]])
    s_dist = np.concatenate([district[free], [district[groups[i][0]] for i in rich]])
    unit_supply = np.full(len(u), -1)
    unit_supply[free] = np.arange(len(free))
    for k, i in enumerate(rich):
        unit_supply[groups[i]] = len(free) + k
    hh = pd.to_numeric(bundles["households"], errors="coerce").fillna(0).to_numpy(float)
    flows = cross_area_flows(
        s_xy,
        s_money,
        s_dist,
        cent[poor],
        -balance[poor],
        hh[poor],
        np.array([district[groups[i][0]] for i in poor], dtype=object),
        pair_max_m=pair_max_m,
        single_source=not split,
    )
    reach = dict(zip(bundles["bundle_id"].to_numpy()[poor], flows.attrs["reach"], strict=True))
    if flows.empty:
        return pd.DataFrame(columns=columns), reach
    s_idx = flows["surplus"].to_numpy(int)
    d_idx = poor[flows["deficit"].to_numpy(int)]
    return pd.DataFrame(
        {
            "deficit_bundle": bundles["bundle_id"].to_numpy()[d_idx],
            "surplus_kind": s_kind[s_idx],
            "surplus_id": s_id[s_idx],
            "distance_m": flows["distance_m"].to_numpy(),
            "amount_yuan": flows["amount_yuan"].to_numpy(),
            "deficit_yuan": -balance[d_idx],
            "surplus_yuan": s_money[s_idx],
            "deficit_x": cent[d_idx, 0],
            "deficit_y": cent[d_idx, 1],
            "surplus_x": s_xy[s_idx, 0],
            "surplus_y": s_xy[s_idx, 1],
        }
    ).sort_values(["deficit_bundle", "distance_m"], ignore_index=True), reach


def _packages(u: gpd.GeoDataFrame, money: pd.DataFrame) -> pd.DataFrame:
    """Per subdistrict (街道) and community (社区): compounds, households and money."""
    frame = pd.concat([u.drop(columns="geometry"), money], axis=1)
    frame["is_compound"] = frame["kind"] == "old_compound"
    keys: Sequence[str] = [k for k in ("subdistrict", "community") if k in frame]
    if not keys:
        frame["subdistrict"] = "(none)"
        keys = ["subdistrict"]
    out = []
    for level in range(1, len(keys) + 1):
        by = list(keys[:level])
        g = frame.fillna({k: "(unknown)" for k in by}).groupby(by)
        t = g.agg(
            compounds=("is_compound", "sum"),
            households=("households", "sum"),
            cost_yuan=("cost_yuan", "sum"),
            subsidy_yuan=("subsidy_yuan", "sum"),
            revenue_yuan=("revenue_yuan", "sum"),
            balance_yuan=("balance_yuan", "sum"),
        )
        t = t.reset_index()
        t.insert(0, "level", by[-1])
        out.append(t)
    return cast("pd.DataFrame", pd.concat(out, ignore_index=True))
