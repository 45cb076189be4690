"""Cross-area funding (跨片区组合平衡), and the funding table.

After the large-area bundles (:mod:`spatial.bundling.bundles`), money is left in two
kinds of project: surplus parcels in no bundle, and self-balancing bundles with spare
surplus. Compounds left in deficit are funded from it, a project's money reaching any
deficit within ``pair_max_m`` (centroids) in the same district (an unknown district
matches any).

The model, in two steps:

1. **who is funded in full** (heuristic): a planner counts compounds funded *in full*,
   a multiple-knapsack problem. Deficits in order of households per yuan (most first,
   then the smaller need) are funded in full when the money still in their reach covers
   them, taken from the nearest projects first.
2. **how the money moves** (exact): a min-cost flow on the network source → surplus
   project (capacity: its money) → deficit (one arc per pair in reach; cost: the
   distance) → sink (capacity: the deficit's need; gain: its households per yuan, the
   deficits of step 1 before any other), with a free source → sink arc for money that
   stays, solved by OR-tools' ``SimpleMinCostFlow``. Every deficit of step 1 stays
   funded in full; the flow may route their money another way (fewer yuan × metres), and
   that can free money for deficits step 1 could not fund: those the flow funds in full
   are ``funded``, those it funds in part ``partly_funded``. Money splits: a project may
   fund many compounds, and a compound may take from several. Gains are rounded to
   ``_RATIO_LEVELS`` steps of the best deficit's, distances to ``_DISTANCE_LEVELS``
   steps of the longest pair; one gain step outweighs any distance.

Step 1 is judged against the exact bound of :mod:`spatial.bundling.optimum`. Past
``_PRUNE_FROM`` pairs, the flow runs over the pairs among the ``_NEAREST`` of their
deficit or of their project and those step 1 used (its size, not its answer, grows with
the city).

With ``single_source`` (``bundling.toml``: a compound takes money from one project only)
the flow cannot split a compound's need: deficits in order of households per yuan take
their whole need from the nearest project that still holds it (greedy).

Candidates come from a k-d tree within ``pair_max_m``: memory grows with the pairs in
reach, not with deficits × surpluses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spatial.bundling.joins import joined_by

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
    single_source: bool = False,
) -> pd.DataFrame:
    """The money each surplus project moves to each deficit (the model above).

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
    single_source
        A deficit takes its whole need from one project (no split on its side).

    Returns
    -------
    DataFrame
        One row per pair moving money: ``surplus``, ``deficit`` (positions),
        ``distance_m`` and ``amount_yuan``; ``attrs["reach"]`` counts the surplus
        projects each deficit could take money from.
    """
    n_def = len(deficit_yuan)
    out = pd.DataFrame({"surplus": [], "deficit": [], "distance_m": [], "amount_yuan": []})
    out.attrs["reach"] = np.zeros(n_def, dtype=int)
    if len(surplus_yuan) == 0 or n_def == 0:
        return out
    money = np.maximum(np.asarray(surplus_yuan, dtype=float), 0.0)
    need = np.maximum(np.asarray(deficit_yuan, dtype=float), 0.0)
    weight = np.maximum(np.asarray(deficit_households, dtype=float), 1.0)
    s_arc, d_arc, dist = _arcs(
        np.asarray(surplus_xy, dtype=float),
        money,
        np.asarray(surplus_district),
        np.asarray(deficit_xy, dtype=float),
        need,
        np.asarray(deficit_district),
        pair_max_m=pair_max_m,
    )
    reach = np.bincount(d_arc, minlength=n_def)
    if len(s_arc) == 0:
        out.attrs["reach"] = reach
        return out
    if single_source:
        amount = _single_source(s_arc, d_arc, dist, money, need, weight)
    else:
        amount = _min_cost_flow(s_arc, d_arc, dist, money, need, weight)
    keep = amount > 1.0
    out = pd.DataFrame(
        {
            "surplus": s_arc[keep],
            "deficit": d_arc[keep],
            "distance_m": dist[keep],
            "amount_yuan": amount[keep],
        }
    )
    out.attrs["reach"] = reach
    return out


def _arcs(
    s_xy: np.ndarray,
    money: np.ndarray,
    s_dist: np.ndarray,
    d_xy: np.ndarray,
    need: np.ndarray,
    d_dist: np.ndarray,
    *,
    pair_max_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (surplus, deficit) in reach, same district, with money on both sides."""
    from scipy.spatial import cKDTree

    near = cKDTree(s_xy).query_ball_point(d_xy, r=pair_max_m)
    counts = np.fromiter((len(c) for c in near), dtype=np.int64, count=len(near))
    s_arc = np.fromiter((i for c in near for i in c), dtype=np.int64, count=int(counts.sum()))
    d_arc = np.repeat(np.arange(len(near), dtype=np.int64), counts)
    # districts as numbers, "" as -1 (matches any): compared per arc without text
    codes, names = pd.factorize(np.concatenate([s_dist, d_dist]).astype(str))
    codes = np.where((np.asarray(names, dtype=object) == "")[codes], -1, codes)
    s_code, d_code = codes[: len(s_dist)][s_arc], codes[len(s_dist) :][d_arc]
    ok = (s_code == d_code) | (s_code < 0) | (d_code < 0)
    ok &= (money[s_arc] > 0) & (need[d_arc] > 0)
    s_arc, d_arc = s_arc[ok], d_arc[ok]
    dist = np.hypot(*(s_xy[s_arc] - d_xy[d_arc]).T)
    order = _by_group_then_distance(d_arc, dist)
    return s_arc[order], d_arc[order], dist[order]


def _by_group_then_distance(group: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """``np.lexsort((dist, group))`` (stable) for non-negative integer groups and
    distances: one float key, group above distance, sorted once; where two distances
    would share a key it falls back to ``lexsort`` (the same order either way)."""
    if not len(group):
        return np.zeros(0, dtype=np.int64)
    step = 2.0 ** np.ceil(np.log2(float(dist.max()) + 1.0))
    key = group * step + dist
    order = np.argsort(key, kind="stable")
    k, d = key[order], dist[order]
    tied = (k[1:] == k[:-1]) & (d[1:] != d[:-1])
    if tied.any() or float(group.max()) * step >= 2.0**52:
        return np.lexsort((dist, group))
    return order


def _nearest_arcs(s_arc: np.ndarray, d_arc: np.ndarray, dist: np.ndarray, k: int) -> np.ndarray:
    """Arcs among the ``k`` nearest of their deficit or of their project (a mask);
    arcs come sorted by deficit, then distance."""
    rank_d = np.arange(len(d_arc)) - np.searchsorted(d_arc, d_arc)
    by_s = _by_group_then_distance(s_arc, dist)
    sorted_s = s_arc[by_s]
    rank_s = np.empty(len(s_arc), dtype=np.int64)
    rank_s[by_s] = np.arange(len(s_arc)) - np.searchsorted(sorted_s, sorted_s)
    return (rank_d < k) | (rank_s < k)


_RATIO_LEVELS = 1_000  # households per yuan, in steps of the best deficit's
_DISTANCE_LEVELS = 100  # metres, in steps of the longest pair: below one ratio step
_PRUNE_FROM = 50_000  # arcs; beyond, the flow runs over the nearest ones and those in use
_NEAREST = 8


def _min_cost_flow(
    s_arc: np.ndarray,
    d_arc: np.ndarray,
    dist: np.ndarray,
    money: np.ndarray,
    need: np.ndarray,
    weight: np.ndarray,
) -> np.ndarray:
    """Yuan per arc: the greedy's funded set, grown and routed by min-cost flows."""
    taken = _greedy(s_arc, d_arc, money, need, weight)
    near = np.ones(len(s_arc), dtype=bool)
    if len(s_arc) > _PRUNE_FROM:
        near = _nearest_arcs(s_arc, d_arc, dist, _NEAREST) | (taken > 0)
    full = np.bincount(d_arc, weights=taken, minlength=len(need)) >= need - 1e-6
    return _flow(s_arc, d_arc, dist, money, need, weight, full=full, use=near)


def _greedy(
    s_arc: np.ndarray, d_arc: np.ndarray, money: np.ndarray, need: np.ndarray, weight: np.ndarray
) -> np.ndarray:
    """Yuan per arc funding deficits in full: most households per yuan first, from the
    nearest projects (arcs come sorted by deficit, then distance)."""
    starts = np.searchsorted(d_arc, np.arange(len(need) + 1))
    left = money.copy()
    taken = np.zeros(len(s_arc))
    ratio = weight / np.maximum(need, 1.0)
    for j in np.lexsort((need, -ratio)):
        if starts[j] == starts[j + 1]:
            continue
        reach = s_arc[starts[j] : starts[j + 1]]
        if left[reach].sum() < need[j] - 1e-6:
            continue
        due = need[j]
        for k, i in enumerate(reach):
            part = min(left[i], due)
            left[i] -= part
            taken[starts[j] + k] = part
            due -= part
            if due <= 1e-6:
                break
    return taken


def _flow(
    s_arc: np.ndarray,
    d_arc: np.ndarray,
    dist: np.ndarray,
    money: np.ndarray,
    need: np.ndarray,
    weight: np.ndarray,
    *,
    full: np.ndarray,
    use: np.ndarray,
) -> np.ndarray:
    """Yuan per arc by OR-tools' min-cost flow (the network of the module docstring);
    the ``full`` deficits come before any other."""
    from ortools.graph.python import min_cost_flow

    sa, da, n_s, n_d = s_arc[use], d_arc[use], len(money), len(need)
    ratio = weight / np.maximum(need, 1.0)
    level = np.maximum(np.rint(_RATIO_LEVELS * ratio / ratio[da].max()), 1).astype(np.int64)
    level[full] = _RATIO_LEVELS + 1
    step = np.rint(_DISTANCE_LEVELS * dist[use] / max(float(dist.max()), 1.0)).astype(np.int64)
    # whole yuan, or tens, hundreds … so that yuan × cost stays inside int64
    top = float(money.sum()) * (_RATIO_LEVELS + 2) * (_DISTANCE_LEVELS + 1)
    unit = 10.0 ** max(0, int(np.ceil(np.log10(max(top, 1.0) / 1e18))))
    need_u = np.ceil(need / unit).astype(np.int64)
    money_u = np.floor(money / unit).astype(np.int64)
    total = int(money_u.sum())
    d_node = 2 + n_s + np.arange(n_d)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([np.zeros(n_s, np.int64), 2 + sa, d_node, [0]]),
        np.concatenate([2 + np.arange(n_s), d_node[da], np.ones(n_d, np.int64), [1]]),
        np.concatenate([money_u, need_u[da], need_u, [total]]),
        np.concatenate([np.zeros(n_s, np.int64), step, -level * (_DISTANCE_LEVELS + 1), [0]]),
    )
    flow.set_nodes_supplies(np.array([0, 1]), np.array([total, -total]))
    if flow.solve() != flow.OPTIMAL:  # pragma: no cover - the free arc keeps it feasible
        raise RuntimeError("cross-area funding: the min-cost flow found no optimum")
    moved = flow.flows(n_s + np.arange(len(sa))).astype(float)
    out = np.zeros(len(s_arc))
    out[use] = np.minimum(moved * need[da] / np.maximum(need_u[da], 1), need[da])
    return out


def _single_source(
    s_arc: np.ndarray,
    d_arc: np.ndarray,
    dist: np.ndarray,
    money: np.ndarray,
    need: np.ndarray,
    weight: np.ndarray,
) -> np.ndarray:
    """Yuan per arc when a deficit takes all its need from one project (greedy)."""
    left = money.copy()
    amount = np.zeros(len(s_arc))
    starts = np.searchsorted(d_arc, np.arange(len(need) + 1))
    ratio = weight / np.maximum(need, 1.0)
    for j in np.lexsort((need, -ratio)):
        arcs = np.arange(starts[j], starts[j + 1])  # nearest first
        fits = arcs[left[s_arc[arcs]] >= need[j] - 1e-6]
        if len(fits):
            k = fits[0]
            left[s_arc[k]] -= need[j]
            amount[k] = need[j]
    return amount


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
        named = joined_by(pairs["deficit_bundle"], text, sep="; ")
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
