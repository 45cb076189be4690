"""Where new facilities should go: candidate sites ranked, best k chosen by a covering model.

Candidate sites are parcels freed for community services — low-efficiency land, function
conversion buildings, old factory land, vacant parcels (Shandong and Qinghai give such
land inside an old compound's 15-minute circle to community services first). For each
category a site *covers* an uncovered compound when the compound is within the category's
radius of the site on the walk network. The best ``k`` sites per category maximise the
households newly covered (the maximal covering location problem), solved exactly as a
mixed-integer programme with ``scipy.optimize.milp`` (HiGHS), whose optimality gap is
reported (0 at a proven optimum), by the solver class :class:`MaximalCovering`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from spatial.lifecircle import coverage_matrix
from spatial.network import WalkNetwork, attach_points
from spatial.network.attach import compound_access_points
from spatial.policy.capacitated import capacitated_covering
from spatial.settings import DEFAULTS
from spatial.standards import Category, load_categories

__all__ = ["SITE_KINDS", "MaximalCovering", "maximal_covering", "site_facilities"]

SITE_KINDS = ("low_efficiency", "function_conversion", "old_factory", "vacant")


class MaximalCovering:
    """The maximal covering location problem (MCLP), solved exactly.

    Choose at most ``p_facilities`` candidate sites so that the weight of the demands
    they cover (households of uncovered compounds) is as large as possible, as in
    spopt's ``MCLP``: build it with :meth:`from_cover_matrix` or :meth:`from_network`,
    then :meth:`solve`. The mixed-integer programme is solved with
    ``scipy.optimize.milp`` (HiGHS); the reported ``mip_gap`` is 0 at a proven optimum.

    Parameters
    ----------
    cover
        ``(sites, demands)`` 0/1 matrix: site ``j`` covers demand ``i``.
    weights
        ``(demands,)`` weight of each demand (households).
    p_facilities
        How many sites may be chosen at most.

    Attributes
    ----------
    chosen
        Indices of the chosen sites (rows of ``cover``), after :meth:`solve`.
    covered_weight
        Weight of the demands covered by the chosen sites.
    mip_gap
        HiGHS's relative optimality gap (0 when proven optimal).
    """

    def __init__(
        self, cover: sparse.csr_array | np.ndarray, weights: np.ndarray, p_facilities: int
    ) -> None:
        self.cover = sparse.csr_array(cover, dtype=float)
        self.weights = np.asarray(weights, dtype=float)
        self.p_facilities = int(p_facilities)
        if self.cover.shape[1] != len(self.weights):
            raise ValueError(
                f"cover has {self.cover.shape[1]} demand columns but {len(self.weights)} weights"
            )
        self.chosen = np.array([], dtype=int)
        self.covered_weight = 0.0
        self.mip_gap = 0.0

    @classmethod
    def from_cover_matrix(
        cls, cover: sparse.csr_array | np.ndarray, weights: np.ndarray, *, p_facilities: int
    ) -> MaximalCovering:
        """Build the problem from a site × demand cover matrix.

        Parameters
        ----------
        cover
            ``(sites, demands)`` 0/1 matrix.
        weights
            ``(demands,)`` weights.
        p_facilities
            Sites to choose at most.

        Returns
        -------
        MaximalCovering
            The unsolved problem.
        """
        return cls(cover, weights, p_facilities)

    @classmethod
    def from_network(
        cls,
        network: WalkNetwork,
        demand: gpd.GeoDataFrame,
        sites: gpd.GeoDataFrame,
        *,
        radius_m: float,
        weights: np.ndarray,
        p_facilities: int,
        snap_limit_m: float = DEFAULTS.snap_limit_m,
    ) -> MaximalCovering:
        """Build the problem on the walk network: a site covers a compound within the radius.

        Parameters
        ----------
        network
            The walk network (metric CRS).
        demand
            Compounds (polygons or points, any CRS); their access points are used.
        sites
            Candidate sites (any CRS); their representative points are attached.
        radius_m
            Walk distance in metres within which a site covers a compound.
        weights
            ``(len(demand),)`` weight of each compound (e.g. uncovered households).
        p_facilities
            Sites to choose at most.
        snap_limit_m
            Sites and compounds farther than this from the network cover nothing.

        Returns
        -------
        MaximalCovering
            The unsolved problem.
        """
        comp = demand.to_crs(network.crs).reset_index(drop=True)
        cand = sites.to_crs(network.crs).reset_index(drop=True)
        access = compound_access_points(network, comp.geometry, snap_limit_m=snap_limit_m)
        pts = shapely.get_coordinates(cand.geometry.representative_point().values)
        attach = attach_points(network, pts, snap_limit_m=snap_limit_m)
        cover = coverage_matrix(network, attach, access, len(comp), radius_m=radius_m)
        return cls(cover, weights, p_facilities)

    def solve(self) -> MaximalCovering:
        """Solve exactly; sets :attr:`chosen`, :attr:`covered_weight` and :attr:`mip_gap`.

        Returns
        -------
        MaximalCovering
            ``self``, solved.

        Raises
        ------
        RuntimeError
            When HiGHS finds no solution.
        """
        a, w, k = self.cover, self.weights, self.p_facilities
        n_sites, n_demand = a.shape
        if n_sites == 0 or n_demand == 0 or k <= 0 or float(np.sum(w)) == 0:
            self.chosen, self.covered_weight, self.mip_gap = np.array([], dtype=int), 0.0, 0.0
            return self
        c = np.concatenate([np.zeros(n_sites), -w])
        # y_i <= sum_j a_ji x_j   ->   y_i - A^T x <= 0
        link = sparse.hstack([-a.T, sparse.identity(n_demand)], format="csr")
        budget = sparse.csr_array(np.concatenate([np.ones(n_sites), np.zeros(n_demand)])[None, :])
        from scipy.optimize import Bounds, LinearConstraint, milp  # slow import: only here

        res = milp(
            c,
            constraints=[LinearConstraint(link, -np.inf, 0), LinearConstraint(budget, 0, k)],
            integrality=np.concatenate([np.ones(n_sites), np.zeros(n_demand)]),
            bounds=Bounds(0, 1),
        )
        if not res.success:
            raise RuntimeError(f"covering model not solved: {res.message}")
        self.chosen = np.flatnonzero(res.x[:n_sites] > 0.5)
        covered = np.asarray(a[self.chosen].sum(axis=0)).ravel() > 0
        self.covered_weight = float(w[covered].sum())
        self.mip_gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
        return self


def maximal_covering(
    cover: sparse.csr_array | np.ndarray, weights: np.ndarray, k: int
) -> tuple[np.ndarray, float, float]:
    """Choose at most ``k`` sites (rows) maximising the weight of covered demands (columns).

    Parameters
    ----------
    cover
        ``(sites, demands)`` 0/1 matrix.
    weights
        ``(demands,)`` weights (households).
    k
        Sites to choose at most.

    Returns
    -------
    chosen, covered, gap
        Indices of the chosen sites, the covered weight, and HiGHS's relative
        optimality gap (0 when optimal); see :class:`MaximalCovering`.
    """
    model = MaximalCovering.from_cover_matrix(cover, weights, p_facilities=k).solve()
    return model.chosen, model.covered_weight, model.mip_gap


def site_facilities(
    network: WalkNetwork,
    compounds: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    covered: pd.DataFrame,
    *,
    k: int = 3,
    categories: Sequence[Category] | None = None,
    snap_limit_m: float = DEFAULTS.snap_limit_m,
    shortfall: pd.DataFrame | None = None,
    new_places: Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rank candidate sites and choose the best ``k`` per missing category.

    Parameters
    ----------
    network
        The walk network.
    compounds
        Compounds (``id``, ``households``) in any CRS.
    candidates
        Candidate parcels (``id``, ``name``, ``kind``); only ``SITE_KINDS`` are used.
    covered
        Boolean frame, compounds (by ``id``) × category ids: already covered.
    k
        Sites to choose per category.
    categories
        The taxonomy (default the shipped one); gives each category's radius.
    snap_limit_m
        Sites farther than this from the network, metres, are left out.
    shortfall
        Places short, compounds (by ``id``) × category ids (``capacity.csv`` of
        ``spatial gaps --capacity``): those categories are sited by capacitated covering
        (:func:`~spatial.policy.capacitated.capacitated_covering`), where the places
        short are most, each new facility giving ``new_places``.
    new_places
        Places of a new facility per category (the capacity rules' default scale).

    Returns
    -------
    sites, choice
        ``sites``: one row per candidate × category with the uncovered households it
        would cover alone (``households_alone``) and its rank; ``choice``: per category,
        the chosen sites, households newly covered, the uncovered total and the gap
        (with ``places_short`` and ``places_given`` for capacitated categories).
    """
    cats = tuple(categories) if categories is not None else load_categories()
    comp = compounds.to_crs(network.crs).reset_index(drop=True)
    cand = candidates[candidates["kind"].isin(SITE_KINDS)].to_crs(network.crs)
    cand = cand.reset_index(drop=True)
    access = compound_access_points(network, comp.geometry, snap_limit_m=snap_limit_m)
    pts = shapely.get_coordinates(cand.geometry.representative_point().values)
    attach = attach_points(network, pts, snap_limit_m=snap_limit_m)
    households = pd.to_numeric(comp.get("households", 1), errors="coerce").fillna(0)
    households = households.to_numpy(dtype=float)
    cov = covered.reindex(comp["id"].astype(str))
    site_rows, choice_rows = [], []
    for cat in cats:
        if cat.id not in cov:
            continue
        need = ~cov[cat.id].fillna(False).to_numpy(dtype=bool)
        short = None
        if shortfall is not None and cat.id in shortfall and new_places and cat.id in new_places:
            short = shortfall[cat.id].reindex(comp["id"].astype(str)).fillna(0).to_numpy(float)
        if not (need.any() or (short is not None and (short > 0).any())) or len(cand) == 0:
            continue
        weights = np.where(need, households, 0.0)
        a = coverage_matrix(network, attach, access, len(comp), radius_m=cat.radius_m)
        alone = np.asarray(a.multiply(weights[None, :]).sum(axis=1)).ravel()
        order = np.argsort(-alone, kind="stable")
        for rank, j in enumerate(order, start=1):
            site_rows.append(
                {
                    "category": cat.id,
                    "zh": cat.zh,
                    "site_id": cand.at[j, "id"],
                    "site_name": cand.at[j, "name"],
                    "kind": cand.at[j, "kind"],
                    "households_alone": alone[j],
                    "rank": rank,
                }
            )
        places: dict[str, float] = {}
        if short is not None and new_places is not None:
            chosen, given, _ = capacitated_covering(a, short, capacity=new_places[cat.id], k=k)
            hit = np.asarray(a[chosen].sum(axis=0)).ravel() > 0 if len(chosen) else need & False
            value, gap = float(weights[hit].sum()), 0.0
            places = {"places_short": float(short.sum()), "places_given": given}
        else:
            model = MaximalCovering.from_cover_matrix(a, weights, p_facilities=k).solve()
            chosen, value, gap = model.chosen, model.covered_weight, model.mip_gap
        choice_rows.append(
            {
                "category": cat.id,
                "zh": cat.zh,
                "en": cat.en,
                "k": k,
                "chosen_sites": ";".join(str(cand.at[j, "id"]) for j in chosen),
                "households_newly_covered": value,
                "households_uncovered": float(weights.sum()),
                "optimality_gap": gap,
                **places,
            }
        )
    return pd.DataFrame(site_rows), pd.DataFrame(choice_rows)
