"""Cross-area funding (跨片区组合平衡), and the funding table.

After the large-area bundles (:mod:`spatial.bundling.bundles`), money is left in two
kinds of project: surplus parcels in no bundle, and self-balancing bundles with spare
surplus. Compounds left in deficit are funded from it, a project's money reaching any
deficit within ``pair_max_m`` (centroids) in the same district (an unknown district
matches any):

1. deficits in order of households per yuan needed (most first, then the smaller need):
   one is funded **in full** when the money in its reach covers it, taken from the
   nearest projects first (money splits: a project may fund many compounds, a compound
   may take from several); otherwise it waits;
2. money still unused then goes to the waiting deficits in the same order, nearest
   first: those are ``partly_funded``.

The aim (households funded in full) is a multiple-knapsack problem; this greedy is a
heuristic, judged against the exact bound of :mod:`spatial.bundling.optimum`. Candidates
come from a k-d tree within ``pair_max_m``: memory grows with the pairs in reach, not with
deficits × surpluses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["cross_area_flows", "funding_table"]


def cross_area_flows(
    surplus_xy: np.ndarray,
    surplus_yuan: np.ndarray,
    surplus_district: np.ndarray,
    deficit_xy: np.ndarray,
    deficit_yuan: np.ndarray,
    deficit_households: np.ndarray,
    deficit_district: np.ndarray,
    *,
    pair_max_m: float,
) -> pd.DataFrame:
    """The money each surplus project moves to each deficit, by the greedy above.

    Parameters
    ----------
    surplus_xy, deficit_xy
        ``(n, 2)`` centroids in metres.
    surplus_yuan, deficit_yuan
        Money available and money needed (both ≥ 0), yuan.
    surplus_district, deficit_district
        District of each (``""``: unknown, matches any).
    deficit_households
        Households of each deficit (its weight; at least 1 is used).
    pair_max_m
        Largest distance of a pair, metres.

    Returns
    -------
    DataFrame
        One row per pair moving money: ``surplus``, ``deficit`` (positions),
        ``distance_m`` and ``amount_yuan``; ``attrs["reach"]`` counts the surplus
        projects each deficit could take money from.
    """
    from scipy.spatial import cKDTree

    n_def = len(deficit_yuan)
    out = pd.DataFrame({"surplus": [], "deficit": [], "distance_m": [], "amount_yuan": []})
    out.attrs["reach"] = np.zeros(n_def, dtype=int)
    if len(surplus_yuan) == 0 or n_def == 0:
        return out
    s_xy, d_xy = np.asarray(surplus_xy, dtype=float), np.asarray(deficit_xy, dtype=float)
    s_dist, d_dist = np.asarray(surplus_district), np.asarray(deficit_district)
    near = cKDTree(s_xy).query_ball_point(d_xy, r=pair_max_m)
    reach: list[np.ndarray] = []
    for j, cand in enumerate(near):
        cand = np.asarray(cand, dtype=np.int64)
        ok = (s_dist[cand] == d_dist[j]) | (s_dist[cand] == "") | (d_dist[j] == "")
        cand = cand[ok & (surplus_yuan[cand] > 0)]
        dist = np.hypot(*(s_xy[cand] - d_xy[j]).T) if len(cand) else np.zeros(0)
        reach.append(cand[np.argsort(dist, kind="stable")])
    left = np.asarray(surplus_yuan, dtype=float).copy()
    need = np.asarray(deficit_yuan, dtype=float)
    ratio = np.maximum(deficit_households, 1.0) / np.maximum(need, 1.0)
    order = np.lexsort((need, -ratio))
    rows: list[tuple[int, int, float]] = []

    def take(j: int, amount: float) -> float:
        given = 0.0
        for i in reach[j]:
            if given >= amount - 1e-6:
                break
            part = min(left[i], amount - given)
            if part > 0:
                left[i] -= part
                given += part
                rows.append((int(i), j, part))
        return given

    waiting = []
    for j in order:
        if need[j] <= 0:
            continue
        if left[reach[j]].sum() >= need[j] - 1e-6:
            take(int(j), need[j])
        else:
            waiting.append(int(j))
    for j in waiting:  # what is left funds part of the rest
        if left[reach[j]].sum() > 1.0:
            take(j, need[j])
    if not rows:
        out.attrs["reach"] = np.array([len(r) for r in reach])
        return out
    s_idx, d_idx, amount = (np.array(v) for v in zip(*rows, strict=True))
    out = pd.DataFrame(
        {
            "surplus": s_idx.astype(np.int64),
            "deficit": d_idx.astype(np.int64),
            "distance_m": np.hypot(*(s_xy[s_idx.astype(int)] - d_xy[d_idx.astype(int)]).T),
            "amount_yuan": amount.astype(float),
        }
    )
    out = out.groupby(["surplus", "deficit"], as_index=False).agg(
        distance_m=("distance_m", "first"), amount_yuan=("amount_yuan", "sum")
    )
    out = out[out["amount_yuan"] > 1.0].reset_index(drop=True)
    out.attrs["reach"] = np.array([len(r) for r in reach])
    return out


def _wan(yuan: float) -> str:
    return f"{yuan / 1e4:,.1f}万元"


def funding_table(
    units: pd.DataFrame,
    balance_yuan: np.ndarray,
    groups: list[list[int]],
    bundle_ids: list[str],
    pairs: pd.DataFrame,
    *,
    reach: dict[str, int],
    excluded: list[int],
    pair_max_m: float,
) -> pd.DataFrame:
    """One row per old compound: what it needs, what pays for it and how.

    Parameters
    ----------
    units
        The units bundled (``id``, ``name``, ``kind``, ``households``).
    balance_yuan
        Each unit's balance (revenue − net cost), yuan.
    groups, bundle_ids
        The bundles' member positions and ids.
    pairs
        Cross-area links (``deficit_bundle``, ``surplus_id``, ``amount_yuan``).
    reach
        Per deficit bundle id, how many surplus projects were within reach.
    excluded
        Positions of compounds left out (islands).
    pair_max_m
        The pair distance limit, for the reasons.

    Returns
    -------
    DataFrame
        ``compound_id``, ``name``, ``bundle_id``, ``households``, ``net_cost_yuan`` (the
        deficit land revenue must cover), ``funded_yuan``, ``mode`` (``large_area``
        大片区, ``cross_area`` 跨片区, ``none``), ``sources`` (payers with 万元),
        ``status`` (``funded``, ``partly_funded``, ``unfunded``) and ``reason``.
    """
    is_comp = (units["kind"] == "old_compound").to_numpy()
    given: dict = {}
    named: dict = {}
    if len(pairs):
        by = pairs.groupby("deficit_bundle")
        given = by["amount_yuan"].sum().to_dict()
        text = pairs["surplus_id"].astype(str) + ": " + pairs["amount_yuan"].map(_wan)
        named = text.groupby(pairs["deficit_bundle"]).agg("; ".join).to_dict()
    rows = []
    for bid, members in zip(bundle_ids, groups, strict=True):
        payers = [m for m in members if balance_yuan[m] > 0]
        pot = sum(balance_yuan[m] for m in payers)
        for c in members:
            if not is_comp[c]:
                continue
            need = max(-balance_yuan[c], 0.0)
            row = {"bundle_id": bid, "need": need, "pos": c}
            if need == 0:
                row.update(funded=0.0, mode="none", sources="", reason="its own figures balance")
            elif payers:
                shares = [(units["id"].iat[m], need * balance_yuan[m] / pot) for m in payers]
                row.update(
                    funded=need,
                    mode="large_area",
                    sources="; ".join(f"{i}: {_wan(v)}" for i, v in shares),
                    reason="",
                )
            else:
                funded = float(given.get(bid, 0.0))
                sources = named.get(bid, "")
                if funded >= need - 1.0:
                    reason = ""
                elif reach.get(bid, 0) == 0:
                    reason = f"no surplus project within {pair_max_m:g} m in its district"
                else:
                    reason = (
                        "the surplus within reach funds compounds with more households per yuan"
                    )
                row.update(
                    funded=min(funded, need),
                    mode="cross_area" if funded > 0 else "none",
                    sources=sources,
                    reason=reason,
                )
            rows.append(row)
    for c in excluded:
        rows.append(
            {
                "bundle_id": None,
                "need": max(-balance_yuan[c], 0.0),
                "pos": c,
                "funded": 0.0,
                "mode": "none",
                "sources": "",
                "reason": "island: left out (--islands exclude)",
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(
            columns=[
                "compound_id",
                "name",
                "bundle_id",
                "households",
                "net_cost_yuan",
                "funded_yuan",
                "mode",
                "sources",
                "status",
                "reason",
            ]
        )
    pos = frame["pos"].to_numpy(int)
    need, funded = frame["need"].to_numpy(float), frame["funded"].to_numpy(float)
    status = np.where(
        funded >= need - 1.0, "funded", np.where(funded > 0, "partly_funded", "unfunded")
    )
    return pd.DataFrame(
        {
            "compound_id": units["id"].to_numpy()[pos],
            "name": units["name"].to_numpy()[pos] if "name" in units else None,
            "bundle_id": frame["bundle_id"].to_numpy(),
            "households": pd.to_numeric(units["households"], errors="coerce").to_numpy()[pos],
            "net_cost_yuan": need,
            "funded_yuan": funded,
            "mode": frame["mode"].to_numpy(),
            "sources": frame["sources"].to_numpy(),
            "status": status,
            "reason": frame["reason"].to_numpy(),
        }
    ).sort_values("compound_id", ignore_index=True)
