"""Capacitated covering: new facilities placed where the places short are largest, each
serving at most its own places (a kindergarten of 270 places does not close a shortfall
of 3,000).

Choose at most ``k`` sites ``x_j ∈ {0, 1}`` and the places ``s_ij ≥ 0`` site ``j`` gives
compound ``i`` it covers (within the category's radius) to maximise ``Σ s_ij`` subject to
``Σ_i s_ij ≤ capacity × x_j`` (a site's places) and ``Σ_j s_ij ≤ short_i`` (a compound's
shortfall). A mixed-integer programme over the covered pairs only (sparse), solved
exactly with ``scipy.optimize.milp`` (HiGHS).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

__all__ = ["capacitated_covering"]


def capacitated_covering(
    cover: sparse.csr_array, short: np.ndarray, *, capacity: float, k: int
) -> tuple[np.ndarray, float, np.ndarray]:
    """Sites that close the most places short, each giving at most ``capacity`` places.

    Parameters
    ----------
    cover
        ``(sites, compounds)`` boolean: the site is within the radius of the compound.
    short
        ``(compounds,)`` places each compound is short of.
    capacity
        Places a new facility gives (the category's default scale).
    k
        Sites to choose at most.

    Returns
    -------
    chosen, served, per_compound
        Indices of the chosen sites, the places they give in all, and the places each
        compound receives.

    Raises
    ------
    RuntimeError
        When HiGHS finds no solution.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp  # slow import: only here

    a = sparse.coo_array(cover)
    site, comp = a.row.astype(np.int64), a.col.astype(np.int64)
    short = np.nan_to_num(np.asarray(short, dtype=float))
    useful = short[comp] > 0
    site, comp = site[useful], comp[useful]
    n_sites, n_comp, n_pairs = a.shape[0], a.shape[1], len(site)
    if n_pairs == 0 or k <= 0 or capacity <= 0:
        return np.array([], dtype=np.int64), 0.0, np.zeros(n_comp)
    pairs = np.arange(n_pairs)
    # variables: x (sites) then s (pairs); maximise Σ s
    c = np.concatenate([np.zeros(n_sites), -np.ones(n_pairs)])
    give = sparse.hstack(
        [
            sparse.diags_array(np.full(n_sites, -float(capacity), dtype=float)),
            sparse.csr_array((np.ones(n_pairs), (site, pairs)), shape=(n_sites, n_pairs)),
        ],
        format="csr",
    )
    take = sparse.hstack(
        [
            sparse.csr_array((n_comp, n_sites)),
            sparse.csr_array((np.ones(n_pairs), (comp, pairs)), shape=(n_comp, n_pairs)),
        ],
        format="csr",
    )
    budget = sparse.csr_array(np.concatenate([np.ones(n_sites), np.zeros(n_pairs)])[None, :])
    res = milp(
        c,
        constraints=[
            LinearConstraint(give, -np.inf, 0),
            LinearConstraint(take, -np.inf, short),
            LinearConstraint(budget, 0, k),
        ],
        integrality=np.concatenate([np.ones(n_sites), np.zeros(n_pairs)]),
        bounds=Bounds(0, np.concatenate([np.ones(n_sites), np.full(n_pairs, np.inf)])),
    )
    if not res.success:
        raise RuntimeError(f"capacitated covering not solved: {res.message}")
    chosen = np.flatnonzero(res.x[:n_sites] > 0.5)
    s = res.x[n_sites:]
    per_compound = np.bincount(comp, weights=s, minlength=n_comp)
    return chosen, float(s.sum()), per_compound
