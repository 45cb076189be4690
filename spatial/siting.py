"""Where new facilities should go: candidate sites ranked, best k chosen by a covering model.

Candidate sites are parcels freed for community services — low-efficiency land, function
conversion buildings, old factory land, vacant parcels (Shandong and Qinghai give such
land inside an old compound's 15-minute circle to community services first). For each
category a site *covers* an uncovered compound when the compound is within the category's
radius of the site on the walk network. The best ``k`` sites per category maximise the
households newly covered (the maximal covering location problem), solved exactly as a
mixed-integer programme with ``scipy.optimize.milp`` (HiGHS), whose optimality gap is
reported (0 at a proven optimum).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from spatial.access import compound_access_points
from spatial.lifecircle import coverage_matrix
from spatial.network import WalkNetwork, attach_points
from spatial.settings import DEFAULTS
from spatial.standards import Category, load_categories

__all__ = ["SITE_KINDS", "maximal_covering", "site_facilities"]

SITE_KINDS = ("low_efficiency", "function_conversion", "old_factory", "vacant")


def maximal_covering(
    cover: sparse.csr_array | np.ndarray, weights: np.ndarray, k: int
) -> tuple[np.ndarray, float, float]:
    """Choose at most ``k`` sites (rows) maximising the weight of covered demands (columns).

    Returns
    -------
    chosen, covered, gap
        Indices of the chosen sites, the covered weight, and HiGHS's relative
        optimality gap (0 when optimal).
    """
    a = sparse.csr_array(cover, dtype=float)
    n_sites, n_demand = a.shape
    if n_sites == 0 or n_demand == 0 or k <= 0 or float(np.sum(weights)) == 0:
        return np.array([], dtype=int), 0.0, 0.0
    c = np.concatenate([np.zeros(n_sites), -np.asarray(weights, dtype=float)])
    # y_i <= sum_j a_ji x_j   ->   y_i - A^T x <= 0
    link = sparse.hstack([-a.T, sparse.identity(n_demand)], format="csr")
    budget = sparse.csr_array(np.concatenate([np.ones(n_sites), np.zeros(n_demand)])[None, :])
    res = milp(
        c,
        constraints=[LinearConstraint(link, -np.inf, 0), LinearConstraint(budget, 0, k)],
        integrality=np.concatenate([np.ones(n_sites), np.zeros(n_demand)]),
        bounds=Bounds(0, 1),
    )
    if not res.success:
        raise RuntimeError(f"covering model not solved: {res.message}")
    chosen = np.flatnonzero(res.x[:n_sites] > 0.5)
    covered = np.asarray(a[chosen].sum(axis=0)).ravel() > 0
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
    return chosen, float(np.asarray(weights, dtype=float)[covered].sum()), gap


def site_facilities(
    network: WalkNetwork,
    compounds: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    covered: pd.DataFrame,
    *,
    k: int = 3,
    categories: Sequence[Category] | None = None,
    snap_limit_m: float = DEFAULTS.snap_limit_m,
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

    Returns
    -------
    sites, choice
        ``sites``: one row per candidate × category with the uncovered households it
        would cover alone (``households_alone``) and its rank; ``choice``: per category,
        the chosen sites, households newly covered, the uncovered total and the gap.
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
        if not need.any() or len(cand) == 0:
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
        chosen, value, gap = maximal_covering(a, weights, k)
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
            }
        )
    return pd.DataFrame(site_rows), pd.DataFrame(choice_rows)
