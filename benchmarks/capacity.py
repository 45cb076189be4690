"""The cost of the supply–demand ratios (``spatial gaps --capacity``, issue #35).

For each size a demo city is generated; ``spatial gaps --no-service-areas`` runs in a
subprocess with and without ``--capacity`` (wall, CPU seconds of the child, its peak
RSS from ``wait4``). Target: the ratios of the six capacity categories cost at most 2× the
gap computation (the ``--capacity`` run ≤ 3× the plain one), and no dense compounds ×
facilities matrix. Peer in the same run: PySAL ``access`` (2SFCA and E2SFCA) on the
toolkit's own pairs and distances, against the toolkit's ``fca_ratios`` on the same
pairs (the distances are the toolkit's: PySAL takes a cost table).

Usage::

    python benchmarks/capacity.py                    # ~100k nodes
    python benchmarks/capacity.py --nodes 1000000    # the whole city
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _machine import city_sizes, demo_cities, gaps_command, run_child


def _peer(folder: Path, category: str, radius_m: float) -> tuple[float, float, float]:
    """PySAL access E2SFCA and the toolkit's on the same pairs: seconds each, max diff."""
    import sys

    here = Path(__file__).resolve().parent  # benchmarks/access.py would shadow PySAL's
    sys.path = [p for p in sys.path if Path(p or ".").resolve() != here]
    from access import Access

    from spatial.lifecircle.capacity import fca_ratios, gaussian_weight
    from spatial.lifecircle.within import Reach

    cap = pd.read_csv(folder / "capacity.csv", encoding="utf-8-sig", dtype={"compound_id": str})
    pairs = pd.read_csv(
        folder / "capacity_pairs.csv", encoding="utf-8-sig", dtype={"compound_id": str}
    )
    rows = cap[cap["category"] == category].reset_index(drop=True)
    pairs = pairs[pairs["category"] == category]
    t0 = time.perf_counter()
    ids = {c: k for k, c in enumerate(rows["compound_id"])}
    row = pairs["poi"].to_numpy()
    supply = np.zeros(int(row.max()) + 1)
    supply[row] = pairs["places"].to_numpy()
    reach = Reach(
        row,
        pairs["compound_id"].map(ids).to_numpy(),
        pairs["walk_m"].to_numpy(),
        (len(supply), len(rows)),
    )
    mine = fca_ratios(reach, supply, rows["need_places"].to_numpy(), radius_m=radius_m)[0]
    t_mine = time.perf_counter() - t0
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # access 1.1.10 uses pandas' deprecated inplace=
        model = Access(
            demand_df=rows[["compound_id", "need_places"]],
            demand_index="compound_id",
            demand_value="need_places",
            supply_df=pairs.groupby("poi", as_index=False)["places"].first(),
            supply_index="poi",
            supply_value="places",
            cost_df=pairs[["compound_id", "poi", "walk_m"]],
            cost_origin="compound_id",
            cost_dest="poi",
            cost_name="walk_m",
        )
        out = model.enhanced_two_stage_fca(
            max_cost=radius_m, weight_fn=lambda d: float(gaussian_weight(np.array(d), radius_m))
        )
    t_peer = time.perf_counter() - t0
    theirs = out.iloc[:, 0].reindex(rows["compound_id"]).fillna(0.0).to_numpy()
    return t_mine, t_peer, float(np.abs(theirs - mine).max())


def main() -> None:
    args = city_sizes(__doc__.splitlines()[0])
    print(
        "| nodes | compounds | gaps s (CPU-s, MB) | gaps --capacity s (CPU-s, MB) | "
        "ratios / gaps | pairs | toolkit 2SFCA s | PySAL access s | max diff | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for nodes, tmp, city in demo_cities(args.nodes, args.seed):
        base = gaps_command(city)
        plain = run_child([*base, "--out", str(Path(tmp) / "plain")])
        withcap = run_child([*base, "--capacity", "--out", str(Path(tmp) / "cap")])
        cap = pd.read_csv(Path(tmp) / "cap" / "capacity.csv", encoding="utf-8-sig")
        n_comp = int((cap["category"] == "kindergarten").sum())
        with open(Path(tmp) / "cap" / "capacity_pairs.csv", encoding="utf-8-sig") as fh:
            pairs = sum(1 for _ in fh)
        mine, peer, diff = _peer(Path(tmp) / "cap", "kindergarten", 300.0)
        extra = (withcap[1] - plain[1]) / plain[1]
        print(
            f"| {nodes:,} | {n_comp:,} | {plain[0]:.1f} ({plain[1]:.1f}, {plain[2]:,.0f}) | "
            f"{withcap[0]:.1f} ({withcap[1]:.1f}, {withcap[2]:,.0f}) | {extra:.2f}× | "
            f"{pairs - 1:,} | {mine:.3f} | {peer:.2f} | {diff:.1e} | {os.getloadavg()[0]:.2f} |"
        )


if __name__ == "__main__":
    from _machine import machine_line

    main()
    if "--worker" not in sys.argv:  # a worker prints its JSON last
        print(machine_line())
