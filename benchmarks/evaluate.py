"""The cost of judging a 5-year plan (``spatial evaluate``, issue #36).

For each size a demo city is generated; in subprocesses (wall, CPU seconds of the child,
its peak RSS from ``wait4``): ``spatial gaps --no-service-areas``, ``spatial plan`` at a
budget renovating about 4 % of the compounds a year for five years, then ``spatial
evaluate`` of that plan. Target: the 5-year evaluation within 3× one gaps run. The peer in
the same run is what an evaluation costs without rerunning only what changes: one gaps
run per year with the year's facilities added (5 × the gaps run; one such run is timed
with the plan's facilities of all five years added).

Usage::

    python benchmarks/evaluate.py                    # ~100k nodes
    python benchmarks/evaluate.py --nodes 1000000    # the whole city
"""

from __future__ import annotations

import os
import shutil
import sys

import pandas as pd
from _machine import city_sizes, demo_cities, gaps_command, run_child


def _fmt(r: tuple[float, float, float]) -> str:
    return f"{r[0]:.1f} ({r[1]:.1f}, {r[2]:,.0f})"


def main() -> None:
    args = city_sizes(__doc__.splitlines()[0])
    import geopandas as gpd
    import pyogrio

    spatial = shutil.which("spatial") or "spatial"
    print(
        "| nodes | compounds | gaps s (CPU-s, MB) | plan s | evaluate s (CPU-s, MB) | "
        "facilities added | evaluate / gaps | one full rerun s | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for nodes, t, city in demo_cities(args.nodes, args.seed):
        osm = str(city.osm)
        n_comp = int(pyogrio.read_info(str(city.gpkg), layer="compounds")["features"])
        base = gaps_command(city)
        gaps = run_child([*base, "--out", str(t / "gaps")])
        budget = 2e6 * n_comp  # ≈ 4 % of the compounds a year at the demo's costs
        plan = run_child(
            [
                *(spatial, "-q", "plan", "--gaps", str(t / "gaps"), "--profile", "taian"),
                *("--budget-yuan", f"{budget:.0f}", "--start-year", "2027"),
                *("--out", str(t / "plan")),
            ]
        )
        ev = run_child(
            [
                *(spatial, "-q", "evaluate", "--gaps", str(t / "gaps")),
                *("--plan", str(t / "plan"), "--osm", osm, "--out", str(t / "ev")),
            ]
        )
        # every facility (the workbook's sheet keeps at most --sheet-rows of them)
        fac = pd.read_csv(t / "ev" / "evaluation_facilities.csv", encoding="utf-8-sig")
        added = gpd.GeoDataFrame(
            {"name": fac["facility"], "category": fac["category"]},
            geometry=gpd.points_from_xy(fac["lon"], fac["lat"]),
            crs=4326,
        )
        added.to_file(t / "added.gpkg", layer="pois", engine="pyogrio")
        full = run_child([*base, "--pois", str(t / "added.gpkg"), "--out", str(t / "full")])
        print(
            f"| {nodes:,} | {n_comp:,} | {_fmt(gaps)} | {plan[0]:.1f} | {_fmt(ev)} | "
            f"{len(fac):,} | {ev[0] / gaps[0]:.2f}× wall, {ev[1] / gaps[1]:.2f}× CPU | "
            f"{full[0]:.1f} | {os.getloadavg()[0]:.2f} |"
        )


if __name__ == "__main__":
    from _machine import machine_line

    main()
    if "--worker" not in sys.argv:
        print(machine_line())
