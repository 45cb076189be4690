"""Time bundling (adjacency, finance, bundles, cross-area pairs) on a demo city of ~10k parcels.

Usage::

    python benchmarks/bundles.py              # ~10,000 parcels
    python benchmarks/bundles.py --size 30    # a smaller city
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from spatial.bundling import adjacency, bundle_units, find_bundles, load_limits
from spatial.bundling.finance import parcel_finance
from spatial.demo import generate_demo
from spatial.io import LoadSpec, load_layers, read_osm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=48, help="superblocks per side (48: ~10k)")
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        city = generate_demo(Path(tmp), size=args.size, seed=args.seed)
        t = {}
        t0 = time.perf_counter()
        layers = load_layers(
            [LoadSpec(city.gpkg, k, source_layer=k) for k in ("compounds", "parcels")]
        )
        units = bundle_units(layers["compounds"], layers["parcels"])
        barriers = read_osm(city.osm).barriers.geometry
        t["load"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        adj = adjacency(units, gap_m=load_limits().gap_m, barriers=barriers)
        t["adjacency"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        parcel_finance(units)
        t["finance"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = find_bundles(units, barriers=barriers, seed=0)
        t["bundles (all steps)"] = time.perf_counter() - t0
    b = result.bundles
    print(
        f"| parcels | neighbour pairs | bundles | self-balancing | pairs | "
        f"{' | '.join(f'{k} s' for k in t)} |"
    )
    print("|" + "---|" * (5 + len(t)))
    print(
        f"| {len(units):,} | {len(adj):,} | {len(b):,} | "
        f"{(b['status'] == 'self-balancing').sum():,} | {len(result.pairs):,} | "
        + " | ".join(f"{v:.2f}" for v in t.values())
        + " |"
    )


if __name__ == "__main__":
    main()
