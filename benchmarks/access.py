"""Benchmark how compounds are entered: this checkout's rule against a baseline revision.

The baseline (default ``d1b101d``, the last revision with the one-nearest-point rule) is
checked out into a temporary git worktree; the same worker runs once with this
checkout's ``spatial`` and once with the baseline's (``PYTHONPATH``), each in its own
process, on the same inputs, in the same run. A worker builds the walk network and times
``compute_gaps(compounds, pois, network, service_areas=False)`` — access points and
every category's search, the gap computation — best of three (of eleven below 10k
nodes, where a run takes ~0.1 s and the timer's noise is tens of milliseconds).

Inputs:

- the demo city at ``--nodes`` (default ~100k) walk-network nodes, as generated (every
  compound has gates) and as a surveyed district (no gates, the paths inside compounds
  left out, streets as a road-line layer): there every compound is entered from its
  perimeter;
- each shared OSM extract (``../shared/data/osm``), from its OSM file and as a planner's
  street-line set (survey polygons, streets only).

Usage::

    python benchmarks/access.py                 # ~100k demo nodes and the three extracts
    python benchmarks/access.py --nodes 10000 --baseline HEAD~3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data" / "osm"
STREETS = ("主干路", "次干路", "支路", "街巷", "步行街")


def worker(kind: str, work: Path) -> dict:
    import geopandas as gpd
    import numpy as np

    import spatial
    from spatial.lifecircle import compute_gaps
    from spatial.network import walk_network_from_lines, walk_network_from_osm

    comp = gpd.read_file(work / "inputs.gpkg", layer="compounds")
    pois = gpd.read_file(work / "inputs.gpkg", layer="pois")
    if kind == "osm":
        net = walk_network_from_osm(work / "city.osm")
    else:
        net = walk_network_from_lines(gpd.read_file(work / "inputs.gpkg", layer="roads"))
    times, result = [], None
    for _ in range(3 if net.n_nodes > 10_000 else 11):  # small inputs: timer noise
        t0 = time.perf_counter()
        result = compute_gaps(comp, pois, net, service_areas=False)
        times.append(time.perf_counter() - t0)
    access = result.compounds["access"].value_counts().to_dict()
    return {
        "spatial": str(Path(spatial.__file__).parent),
        "gaps_s": min(times),
        "nodes": net.n_nodes,
        "compounds": len(comp),
        "access": access,
        "covered": float(np.mean(result.gaps["covered"])),
    }


def _prepare_demo(work: Path, nodes: int, seed: int) -> list[tuple[str, str, Path]]:
    import shapely

    from spatial.demo import generate_demo, size_for_nodes
    from spatial.io import LoadSpec, load_layers
    from spatial.network import walk_network_from_osm

    gen = work / "demo"
    generate_demo(gen, size=size_for_nodes(nodes), seed=seed)
    gpkg = gen / "demo_city.gpkg"
    layers = load_layers([LoadSpec(gpkg, k, source_layer=k) for k in ("compounds", "pois")])
    comp, pois = layers["compounds"], layers["pois"]
    gated = work / "demo_gates"
    gated.mkdir()
    (gated / "city.osm").symlink_to(gen / "demo_city.osm")
    comp.to_file(gated / "inputs.gpkg", layer="compounds", engine="pyogrio")
    pois.to_file(gated / "inputs.gpkg", layer="pois", engine="pyogrio")
    survey = work / "demo_survey"
    survey.mkdir()
    net = walk_network_from_osm(gen / "demo_city.osm")
    edges = net.edges_gdf()
    inside = shapely.STRtree(comp.to_crs(net.crs).geometry.values).query(
        edges.geometry.values, predicate="intersects"
    )[0]
    roads = edges.drop(index=edges.index[inside])  # the paths into compounds, left out
    roads = roads.assign(highway=roads["highway"].replace({"": "residential"}))
    roads[["highway", "geometry"]].to_file(survey / "inputs.gpkg", layer="roads", engine="pyogrio")
    comp.to_file(survey / "inputs.gpkg", layer="compounds", engine="pyogrio")
    pois.to_file(survey / "inputs.gpkg", layer="pois", engine="pyogrio")
    return [("demo, gates", "osm", gated), ("demo, survey polygons", "lines", survey)]


def _prepare_extract(work: Path, osm: Path) -> list[tuple[str, str, Path]]:
    import geopandas as gpd

    sys.path.insert(0, str(REPO / "tests"))
    from planner_set import planner_set

    from spatial.io import LoadSpec, load_layers, read_osm
    from spatial.network import read_line_layer

    as_osm = work / f"{osm.stem}_osm"
    as_osm.mkdir()
    (as_osm / "city.osm").symlink_to(osm)
    layers = read_osm(osm)
    layers.compounds.to_file(as_osm / "inputs.gpkg", layer="compounds", engine="pyogrio")
    layers.pois.to_file(as_osm / "inputs.gpkg", layer="pois", engine="pyogrio")
    lines = work / f"{osm.stem}_lines"
    files = planner_set(osm, lines / "in")
    loaded = load_layers(
        [LoadSpec(files["compounds"], "compounds"), LoadSpec(files["pois"], "pois", coords="gcj02")]
    )
    roads = read_line_layer(files["network"])
    roads = gpd.GeoDataFrame(roads[roads["道路等级"].isin(STREETS)])
    roads.to_file(lines / "inputs.gpkg", layer="roads", engine="pyogrio")
    loaded["compounds"].to_file(lines / "inputs.gpkg", layer="compounds", engine="pyogrio")
    loaded["pois"].to_file(lines / "inputs.gpkg", layer="pois", engine="pyogrio")
    return [(f"{osm.stem} (OSM)", "osm", as_osm), (f"{osm.stem} (street lines)", "lines", lines)]


def _run(kind: str, work: Path, pythonpath: str | None) -> dict:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(work)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=pythonpath or REPO,
    )
    if out.returncode:
        raise SystemExit(f"worker {kind} {work} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--baseline", default="d1b101d")
    parser.add_argument("--worker", nargs=2)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], Path(args.worker[1]))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = work / "baseline"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(base), args.baseline],
            check=True,
            capture_output=True,
        )
        try:
            cases = _prepare_demo(work, args.nodes, args.seed)
            for osm in sorted(SHARED.glob("*.osm")):
                cases += _prepare_extract(work, osm)
            rows = []
            for name, kind, folder in cases:
                new = _run(kind, folder, None)
                old = _run(kind, folder, str(base))
                rows.append((name, new, old))
                print(name, json.dumps(new, ensure_ascii=False), json.dumps(old), flush=True)
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(base)], check=False
            )
    print()
    print(
        f"| input | nodes | compounds | entered by (this checkout) | gaps s, {args.baseline} | "
        "gaps s, this checkout | ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, new, old in rows:
        access = ", ".join(f"{k} {v}" for k, v in sorted(new["access"].items()))
        print(
            f"| {name} | {new['nodes']:,} | {new['compounds']:,} | {access} | "
            f"{old['gaps_s']:.3f} | {new['gaps_s']:.3f} | {new['gaps_s'] / old['gaps_s']:.2f}× |"
        )


if __name__ == "__main__":
    from _machine import machine_line

    main()
    if "--worker" not in sys.argv:  # a worker prints its JSON last
        print(machine_line())
