"""An exact bound to judge the bundling heuristic against (small instances).

The mixed-integer program: choose the compounds funded in full (``y_c ∈ {0, 1}``) and
the yuan ``x_sc ≥ 0`` each surplus parcel ``s`` gives each compound ``c`` within
``pair_max_m`` in the same district, with ``Σ_c x_sc ≤ surplus_s`` and
``Σ_s x_sc ≥ deficit_c · y_c``; maximise the households funded ``Σ households_c · y_c``.

It drops the bundles' contiguity, span, area and household limits, so its optimum is an
upper bound on what any bundling within the limits can fund: the heuristic's share of it
is a lower bound on its share of the true optimum. Solved by HiGHS
(:func:`scipy.optimize.milp`); meant for up to about a hundred parcels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["households_upper_bound"]


def households_upper_bound(
    units: pd.DataFrame,
    balance_yuan: np.ndarray,
    xy: np.ndarray,
    *,
    pair_max_m: float,
    time_limit_s: float = 60.0,
) -> float:
    """The most households that land revenue could fund in full, ignoring bundle limits.

    Parameters
    ----------
    units
        ``kind`` and ``households`` per parcel (optional ``district``).
    balance_yuan
        Each parcel's balance (revenue − net cost), yuan.
    xy
        ``(n, 2)`` parcel centroids in metres.
    pair_max_m
        Largest distance between a paying parcel and a compound it funds.
    time_limit_s
        HiGHS time limit.

    Returns
    -------
    float
        Households of the compounds funded in the optimum (compounds that need no land
        revenue are counted as funded).
    """
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    is_comp = (units["kind"] == "old_compound").to_numpy()
    hh = pd.to_numeric(units["households"], errors="coerce").fillna(0).to_numpy(float)
    district = (
        units["district"].fillna("").astype(str).to_numpy()
        if "district" in units
        else np.full(len(units), "", dtype=object)
    )
    need = np.flatnonzero(is_comp & (balance_yuan < 0))
    free = float(hh[is_comp & (balance_yuan >= 0)].sum())
    payers = np.flatnonzero(balance_yuan > 0)
    if len(need) == 0 or len(payers) == 0:
        return free
    d = np.hypot(*(xy[payers][:, None, :] - xy[need][None, :, :]).transpose(2, 0, 1))
    same = (district[payers][:, None] == district[need][None, :]) | (
        (district[payers][:, None] == "") | (district[need][None, :] == "")
    )
    s_pos, c_pos = np.nonzero((d <= pair_max_m) & same)
    n_x, n_y = len(s_pos), len(need)
    scale = 1e4  # 万元
    # variables: x (n_x) then y (n_y)
    supply = sparse.csr_array(
        (np.ones(n_x), (s_pos, np.arange(n_x))), shape=(len(payers), n_x + n_y)
    )
    demand_x = sparse.csr_array((np.ones(n_x), (c_pos, np.arange(n_x))), shape=(n_y, n_x + n_y))
    demand_y = sparse.csr_array(
        (balance_yuan[need] / scale, (np.arange(n_y), n_x + np.arange(n_y))),
        shape=(n_y, n_x + n_y),
    )
    constraints = [
        LinearConstraint(supply, -np.inf, balance_yuan[payers] / scale),
        LinearConstraint(demand_x + demand_y, 0, np.inf),
    ]
    c = np.concatenate([np.zeros(n_x), -np.maximum(hh[need], 0.0)])
    integrality = np.concatenate([np.zeros(n_x), np.ones(n_y)])
    bounds = Bounds(np.zeros(n_x + n_y), np.concatenate([np.full(n_x, np.inf), np.ones(n_y)]))
    res = milp(
        c,
        constraints=constraints,
        integrality=integrality,
        bounds=bounds,
        options={"time_limit": time_limit_s},
    )
    if res.x is None:  # pragma: no cover - x = 0, y = 0 is always feasible
        raise RuntimeError(f"bound MILP failed: {res.message}")
    return free + float(-res.fun)
