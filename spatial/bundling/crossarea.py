"""The two uses of the cross-area model (:mod:`spatial.bundling.funding`) in bundling.

- :func:`_worth`, before bundles grow: what households per yuan each surplus parcel's
  money could buy within ``pair_max_m`` if there were no bundles, so that a bundle takes
  in a neighbour only when no better use of its money is in reach;
- :func:`_pair_across`, after: the free surplus parcels and the bundles' spare surplus
  fund the deficit bundles left.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.bundling.adjacency import BundleLimits
from spatial.bundling.funding import cross_area_flows

__all__: list[str] = []


def _worth(
    u: gpd.GeoDataFrame,
    bal: np.ndarray,
    cxy: np.ndarray,
    is_comp: np.ndarray,
    hh: np.ndarray,
    lim: BundleLimits,
) -> np.ndarray:
    """Per surplus parcel, the fewest households per yuan its money funds when every
    surplus funds every compound in reach (the cross-area model, no bundles); 0 when its
    money is not all used there. A bundle takes in a neighbour worth less only when no
    better use of the money is in reach: adjacency comes second to households."""
    from spatial.bundling.funding import cross_area_flows

    worth = np.zeros(len(u))
    payers = np.flatnonzero(bal > 0)
    takers = np.flatnonzero(is_comp & (bal < 0))
    if len(payers) == 0 or len(takers) == 0:
        return worth
    district = (
        u["district"].fillna("").astype(str).to_numpy()
        if "district" in u
        else np.full(len(u), "", dtype=object)
    )
    flows = cross_area_flows(
        cxy[payers],
        bal[payers],
        district[payers],
        cxy[takers],
        -bal[takers],
        hh[takers],
        district[takers],
        pair_max_m=lim.pair_max_m,
        single_source=not lim.split_funding,
    )
    if flows.empty:
        return worth
    taker = takers[flows["deficit"].to_numpy(int)]
    got = np.bincount(taker, weights=flows["amount_yuan"].to_numpy(), minlength=len(u))
    frame = pd.DataFrame(
        {
            "payer": payers[flows["surplus"].to_numpy(int)],
            "ratio": np.maximum(hh[taker], 1.0) / -bal[taker],
            "amount": flows["amount_yuan"].to_numpy(),
            "full": got[taker] >= -bal[taker] - 1.0,  # parts of a compound fund nobody
        }
    )
    by = frame.groupby("payer")
    used = by["amount"].sum()
    spent = used.index[used.to_numpy() >= bal[used.index.to_numpy()] * (1 - 1e-6)]
    floor = frame[frame["full"]].groupby("payer")["ratio"].min()
    spent = spent.intersection(floor.index)
    worth[spent.to_numpy()] = floor.loc[spent].to_numpy()
    return worth


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
