"""Per-stage wall time and peak memory of ``spatial gaps`` on real data, against the floor.

Two tables, each row measured in a fresh process (peak RSS is the process's own ``VmHWM``):

1. ``spatial gaps --osm`` on each real extract in ``../shared/data/osm`` (ODbL, read in
   place): wall time from process start to the last file written, split into imports,
   loading and checking, network, gap computation and writing (the pipeline's own
   progress stages), plus the time of the whole command as a user runs it
   (``spatial -q gaps …`` in a subprocess). Target: < 3 s per extract.
2. The demo city at ~10k and ~100k walk nodes: network build, attachment (POIs and
   compound access points), the gap computation for all 26 categories (search limit
   3 km) and the **floor** — one bare bounded, directed ``scipy.sparse.csgraph.dijkstra``
   per category from each POI edge's nearest end on the same CSR matrix (it holds both
   directions), with the same limit, no attachment, no legs, no bookkeeping — measured in
   the same process. Wall and CPU seconds of each stage; the load average at the end.
   Targets: network + attachment ≤ 3 × gap computation; gap computation ≤ 3 × floor.

Usage::

    python benchmarks/real.py                    # both tables
    python benchmarks/real.py --nodes 10000      # only the smaller demo
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T_START = time.perf_counter()

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EXTRACTS = ("beijing_bupt_haidian", "beijing_cau_haidian", "shanghai_shu_baoshan")


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def worker_extract(osm: Path, out: Path) -> dict:
    """``run_gaps`` as the CLI calls it, with the time of each progress stage."""
    from spatial.pipeline import run_gaps  # imports are part of the wait

    marks: list[tuple[str, float]] = [("imports", time.perf_counter())]

    def progress(stage: str, done: int = 0, total: int = 0) -> None:
        if stage != marks[-1][0]:
            marks.append((stage, time.perf_counter()))

    run = run_gaps(out_dir=out, osm=osm, progress=progress)
    marks.append(("end", time.perf_counter()))
    stages = {"imports": marks[0][1] - T_START}
    for (stage, t0), (_, t1) in itertools.pairwise(marks[1:]):
        stages[stage] = t1 - t0
    return {
        "stages": stages,
        "total_s": marks[-1][1] - T_START,
        "rss_mb": _rss_mb(),
        "nodes": run.network.n_nodes,
        "compounds": len(run.result.compounds),
    }


def worker_demo(work: Path) -> dict:
    """Network, attachment, gap computation and the floor on one demo city."""
    import numpy as np
    import shapely
    from scipy.sparse import csgraph

    from spatial.io import LoadSpec, load_layers
    from spatial.lifecircle import point_distances
    from spatial.lifecircle.pois import classify_pois
    from spatial.network import attach_points, walk_network_from_osm
    from spatial.network.attach import compound_access_points
    from spatial.settings import DEFAULTS
    from spatial.standards import load_categories

    cats = load_categories()
    limit = DEFAULTS.search_limit_m
    t: dict[str, float] = {}
    c: dict[str, float] = {}  # CPU seconds of the same stages
    t0, c0 = time.perf_counter(), time.process_time()
    net = walk_network_from_osm(work / "demo_city.osm")
    _ = net.csr
    t["network"] = time.perf_counter() - t0
    c["network"] = time.process_time() - c0
    gpkg = work / "demo_city.gpkg"
    layers = load_layers(
        [LoadSpec(gpkg, k, source_layer=k) for k in ("compounds", "pois")], to_crs=net.crs
    )
    comp, pois = layers["compounds"], layers["pois"]
    member = classify_pois(pois, categories=cats).str.get_dummies(sep=";").astype(bool)
    member = member.reindex(columns=[c.id for c in cats], fill_value=False)
    t0, c0 = time.perf_counter(), time.process_time()
    attach = attach_points(
        net, shapely.get_coordinates(pois.geometry.values), snap_limit_m=DEFAULTS.snap_limit_m
    )
    access = compound_access_points(net, comp.geometry, snap_limit_m=DEFAULTS.snap_limit_m)
    t["attach"] = time.perf_counter() - t0
    c["attach"] = time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    nearest = np.full((len(comp), len(cats)), np.inf)
    for j, cat in enumerate(cats):
        mask = member[cat.id].to_numpy() & attach.on_network
        if mask.any():
            d = point_distances(net, attach.take(mask), access, limit_m=max(limit, cat.radius_m))
            np.fmin.at(nearest[:, j], access.owner, d)  # per compound: its nearest access
    t["gaps"] = time.perf_counter() - t0
    c["gaps"] = time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    for cat in cats:
        mask = member[cat.id].to_numpy() & attach.on_network
        if mask.any():  # each POI edge's nearest end; the CSR holds both directions
            e = attach.edge[mask]
            near_u = attach.offset_m[mask] <= net.length_m[e] / 2
            nodes = np.unique(np.where(near_u, net.u[e], net.v[e]))
            csgraph.dijkstra(
                net.csr,
                directed=True,
                indices=nodes,
                min_only=True,
                limit=max(limit, cat.radius_m),
            )
    t["floor"] = time.perf_counter() - t0
    c["floor"] = time.process_time() - c0
    return {
        "times": t,
        "cpu": c,
        "rss_mb": _rss_mb(),
        "nodes": net.n_nodes,
        "compounds": len(comp),
        "pois": int(attach.on_network.sum()),
    }


def _worker(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cli_wall(osm: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``spatial -q gaps`` as a user runs it."""
    import os

    t0 = time.perf_counter()
    child = subprocess.Popen(
        ["spatial", "-q", "gaps", "--osm", str(osm), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"spatial gaps failed on {osm}")
    return time.perf_counter() - t0, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--worker", nargs="*")
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        result = (
            worker_extract(Path(rest[0]), Path(rest[1]))
            if kind == "extract"
            else worker_demo(Path(rest[0]))
        )
        print(json.dumps(result))
        return

    print("## spatial gaps --osm on the real extracts (wall s; target < 3 s)\n")
    print(
        "| extract | walk nodes | compounds | imports | load + check | network | gaps | "
        "write | total (in process) | `spatial -q gaps` wall (CPU-s) | peak RSS MB |"
    )
    print("|" + "---|" * 11)
    for name in EXTRACTS:
        osm = SHARED / "data" / "osm" / f"{name}.osm"
        with tempfile.TemporaryDirectory() as tmp:
            r = _worker("extract", str(osm), str(Path(tmp) / "a"))
            wall, cpu = _cli_wall(osm, Path(tmp) / "b")
        s = r["stages"]
        print(
            f"| {name} | {r['nodes']:,} | {r['compounds']} | {s['imports']:.2f} | "
            f"{s.get('loading and validating inputs', 0):.2f} | "
            f"{s.get('building the walk network', 0):.2f} | "
            f"{s.get('computing life-circle gaps', 0):.2f} | "
            f"{s.get('writing gap outputs', 0):.2f} | {r['total_s']:.2f} | "
            f"{wall:.2f} ({cpu:.2f}) | "
            f"{r['rss_mb']:.0f} |"
        )
    if not args.nodes:
        return
    from spatial.demo import generate_demo, size_for_nodes

    print("\n## Demo city: stages against the floor (wall s, CPU-s in brackets)\n")
    print(
        "| nodes | compounds | POIs | network | attach | gaps (26 categories) | floor "
        "(bare scipy Dijkstra) | (network + attach) / gaps | gaps / floor | peak RSS MB |"
    )
    print("|" + "---|" * 10)
    for target in args.nodes:
        with tempfile.TemporaryDirectory() as tmp:
            generate_demo(Path(tmp), size=size_for_nodes(target), seed=args.seed)
            r = _worker("demo", tmp)
        t, c = r["times"], r["cpu"]
        w = {k: f"{t[k]:.2f} ({c[k]:.2f})" for k in t}
        print(
            f"| {r['nodes']:,} | {r['compounds']:,} | {r['pois']:,} | {w['network']} | "
            f"{w['attach']} | {w['gaps']} | {w['floor']} | "
            f"{(t['network'] + t['attach']) / t['gaps']:.1f}× | {t['gaps'] / t['floor']:.1f}× | "
            f"{r['rss_mb']:.0f} |"
        )


if __name__ == "__main__":
    from _machine import machine_line

    main()
    if "--worker" not in sys.argv:  # a worker prints its JSON last
        print(machine_line())
