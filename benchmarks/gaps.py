"""Benchmark the life-circle gap engine against pandana and networkx on the demo city.

For each size (walk-network nodes) the demo city is generated, then three workers run
in separate processes (so that each one's peak memory is its own):

- ``engine``: spatial — walk network from the OSM file, loading, POI/access-point
  attachment, and the gap computation (one bounded multi-source Dijkstra per category);
- ``pandana``: the same network arrays; ``Network`` construction (contraction
  hierarchies), then ``set_pois`` + ``nearest_pois`` per category, compound distance =
  min over the nodes nearest its access points (pandana snaps points to nodes);
- ``networkx``: the same network with the engine's exact attachments as virtual nodes,
  one multi-source Dijkstra per compound (a sample of compounds; the full time is
  extrapolated).

Usage::

    python benchmarks/gaps.py                      # 10k, 100k and 1M nodes
    python benchmarks/gaps.py --nodes 10000 100000 --nx-sample 100
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SEARCH_FACTOR = 3.0


def _rss_mb() -> float:
    """Peak resident memory of this process in MB.

    ``VmHWM`` belongs to the process's own address space; ``ru_maxrss`` would not do,
    as Linux carries the parent's peak across fork and exec into the worker.
    """
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def worker_engine(work: Path) -> dict:
    import pandas as pd
    import shapely

    from spatial.io import LoadSpec, load_layers
    from spatial.lifecircle import point_distances
    from spatial.lifecircle.pois import classify_pois
    from spatial.network import attach_points, walk_network_from_osm
    from spatial.network.attach import compound_access_points
    from spatial.standards import load_categories

    cats = load_categories()
    t = {}
    t0 = time.perf_counter()
    net = walk_network_from_osm(work / "demo_city.osm")
    t["network"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    gpkg = work / "demo_city.gpkg"
    layers = load_layers(
        [LoadSpec(gpkg, k, source_layer=k) for k in ("compounds", "pois")], to_crs=net.crs
    )
    comp, pois = layers["compounds"], layers["pois"]
    t["load"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    member = classify_pois(pois, categories=cats).str.get_dummies(sep=";").astype(bool)
    member = member.reindex(columns=[c.id for c in cats], fill_value=False)
    attach = attach_points(net, shapely.get_coordinates(pois.geometry.values), snap_limit_m=150)
    access = compound_access_points(net, comp.geometry, snap_limit_m=150)
    t["attach"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = np.full((len(comp), len(cats)), np.nan)
    for j, cat in enumerate(cats):
        mask = member[cat.id].to_numpy() & attach.on_network
        d = point_distances(net, attach.take(mask), access, limit_m=cat.radius_m * SEARCH_FACTOR)
        per = pd.Series(d).groupby(access.owner).min()
        result[per.index.to_numpy(), j] = per.to_numpy()
    t["gaps"] = time.perf_counter() - t0
    np.savez(
        work / "arrays.npz",
        node_xy=net.node_xy,
        u=net.u,
        v=net.v,
        length=net.length_m,
        poi_edge=attach.edge,
        poi_off=attach.offset_m,
        poi_leg=attach.leg_m,
        poi_xy=shapely.get_coordinates(pois.geometry.values),
        poi_cat=member.to_numpy(),
        acc_edge=access.edge,
        acc_off=access.offset_m,
        acc_leg=access.leg_m,
        acc_owner=access.owner,
        radius=np.array([c.radius_m for c in cats]),
        n_comp=np.array(len(comp)),
    )
    np.save(work / "engine.npy", result)
    return {
        "times": t,
        "rss_mb": _rss_mb(),
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "compounds": len(comp),
        "pois": len(pois),
    }


def _acc_points(a: dict) -> np.ndarray:
    e = a["acc_edge"]
    p0, p1 = a["node_xy"][a["u"][e]], a["node_xy"][a["v"][e]]
    frac = np.divide(a["acc_off"], a["length"][e], out=np.zeros(len(e)), where=a["length"][e] > 0)
    return p0 + (p1 - p0) * frac[:, None]


def worker_pandana(work: Path) -> dict:
    import pandana
    import pandas as pd

    a = dict(np.load(work / "arrays.npz"))
    t = {}
    t0 = time.perf_counter()
    nodes = pd.DataFrame(a["node_xy"], columns=["x", "y"])
    edges = pd.DataFrame({"from": a["u"], "to": a["v"], "length": a["length"]})
    net = pandana.Network(
        nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["length"]], twoway=True
    )
    t["network"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    acc_nodes = net.get_node_ids(*_acc_points(a).T)
    t["attach"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_comp = int(a["n_comp"])
    result = np.full((n_comp, len(a["radius"])), np.nan)
    ok = a["poi_edge"] >= 0
    for j, radius in enumerate(a["radius"]):
        mask = a["poi_cat"][:, j] & ok
        if not mask.any():
            continue
        limit = float(radius * SEARCH_FACTOR)
        net.set_pois(f"c{j}", limit, 1, a["poi_xy"][mask, 0], a["poi_xy"][mask, 1])
        dist = net.nearest_pois(limit, f"c{j}", num_pois=1, max_distance=np.inf)[1]
        d = dist.reindex(acc_nodes).to_numpy()
        per = pd.Series(d).groupby(a["acc_owner"]).min()
        result[per.index.to_numpy(), j] = per.to_numpy()
    t["gaps"] = time.perf_counter() - t0
    result[result > a["radius"] * SEARCH_FACTOR] = np.nan
    np.save(work / "pandana.npy", result)
    return {"times": t, "rss_mb": _rss_mb()}


def worker_networkx(work: Path, sample: int) -> dict:
    import networkx as nx

    a = dict(np.load(work / "arrays.npz"))
    u, v, length = a["u"], a["v"], a["length"]
    t = {}
    t0 = time.perf_counter()
    g = nx.Graph()
    g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), length.tolist(), strict=True))
    ok = np.flatnonzero(a["poi_edge"] >= 0)
    for i in ok:
        e, off, leg = a["poi_edge"][i], a["poi_off"][i], a["poi_leg"][i]
        g.add_edge(("p", int(i)), int(u[e]), weight=leg + off)
        g.add_edge(("p", int(i)), int(v[e]), weight=leg + length[e] - off)
    t["network"] = time.perf_counter() - t0
    n_comp = int(a["n_comp"])
    rng = np.random.default_rng(0)
    chosen = np.sort(rng.choice(n_comp, size=min(sample, n_comp), replace=False))
    poi_by_edge: dict[int, list[int]] = {}
    for i in ok:
        poi_by_edge.setdefault(int(a["poi_edge"][i]), []).append(int(i))
    cutoff = float(a["radius"].max() * SEARCH_FACTOR)
    result = np.full((n_comp, len(a["radius"])), np.nan)
    t0 = time.perf_counter()
    for c in chosen:
        acc = np.flatnonzero(a["acc_owner"] == c)
        h = g  # virtual access nodes are added, searched from and removed again
        added = []
        for k in acc:
            e, off, leg = a["acc_edge"][k], a["acc_off"][k], a["acc_leg"][k]
            node = ("a", int(k))
            h.add_edge(node, int(u[e]), weight=leg + off)
            h.add_edge(node, int(v[e]), weight=leg + length[e] - off)
            for i in poi_by_edge.get(int(e), []):  # same edge: straight along it
                h.add_edge(
                    node, ("p", i), weight=leg + a["poi_leg"][i] + abs(off - a["poi_off"][i])
                )
            added.append(node)
        dist = nx.multi_source_dijkstra_path_length(h, added, cutoff=cutoff, weight="weight")
        h.remove_nodes_from(added)
        reached = {key[1]: d for key, d in dist.items() if isinstance(key, tuple) and key[0] == "p"}
        if reached:
            idx = np.fromiter(reached.keys(), dtype=np.int64)
            dd = np.fromiter(reached.values(), dtype=float)
            for j, radius in enumerate(a["radius"]):
                sel = a["poi_cat"][idx, j]
                if sel.any():
                    best = dd[sel].min()
                    result[c, j] = best if best <= radius * SEARCH_FACTOR else np.nan
    t["gaps_sample"] = time.perf_counter() - t0
    t["gaps_est"] = t["gaps_sample"] * n_comp / max(len(chosen), 1)
    np.save(work / "networkx.npy", result)
    np.save(work / "networkx_rows.npy", chosen)
    return {"times": t, "rss_mb": _rss_mb(), "sample": len(chosen)}


def _run(kind: str, work: Path, *extra: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--work", str(work), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _max_diff(x: np.ndarray, y: np.ndarray) -> tuple[float, int, float]:
    """(max |x − y|, pairs reachable in one only, median |x − y|) over pairs finite in both."""
    both = np.isfinite(x) & np.isfinite(y)
    mismatch = int((np.isfinite(x) != np.isfinite(y)).sum())
    if not both.any():
        return float("nan"), mismatch, float("nan")
    d = np.abs(x[both] - y[both])
    return float(d.max()), mismatch, float(np.median(d))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--nx-sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--worker")
    parser.add_argument("--work")
    args = parser.parse_args()
    if args.worker:
        work = Path(args.work)
        fn = {
            "engine": lambda: worker_engine(work),
            "pandana": lambda: worker_pandana(work),
            "networkx": lambda: worker_networkx(work, args.nx_sample),
        }[args.worker]
        print(json.dumps(fn()))
        return

    from spatial.demo import generate_demo, size_for_nodes

    rows = []
    for target in args.nodes:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            t0 = time.perf_counter()
            city = generate_demo(work, size=size_for_nodes(target), seed=args.seed)
            gen = time.perf_counter() - t0
            eng = _run("engine", work)
            pdn = _run("pandana", work)
            nxr = _run("networkx", work, "--nx-sample", str(args.nx_sample))
            e = np.load(work / "engine.npy")
            p = np.load(work / "pandana.npy")
            x = np.load(work / "networkx.npy")
            sample = np.load(work / "networkx_rows.npy")
            rows.append(
                {
                    "target": target,
                    "size": city.size,
                    "generate_s": gen,
                    **eng,
                    "pandana": pdn,
                    "networkx": nxr,
                    "diff_nx": _max_diff(e[sample], x[sample]),
                    "diff_pandana": _max_diff(e, p),
                }
            )
        _print(rows[-1])
    print()
    print(
        "| nodes | edges | compounds | POIs | engine network s | engine attach s | "
        "engine gaps s | pandana build s | pandana gaps s | pandana/engine (gaps) | "
        "networkx gaps s (est. all) | networkx/engine | peak RSS MB engine / pandana / "
        "networkx | max |engine−networkx| m | |engine−pandana| m median / max |"
    )
    print("|" + "---|" * 15)
    for r in rows:
        te, tp, tx = r["times"], r["pandana"]["times"], r["networkx"]["times"]
        print(
            f"| {r['nodes']:,} | {r['edges']:,} | {r['compounds']:,} | {r['pois']:,} | "
            f"{te['network']:.1f} | {te['attach']:.1f} | {te['gaps']:.2f} | "
            f"{tp['network']:.1f} | {tp['gaps']:.2f} | {tp['gaps'] / te['gaps']:.1f}× | "
            f"{tx['gaps_est']:.0f} | {tx['gaps_est'] / te['gaps']:.0f}× | "
            f"{r['rss_mb']:.0f} / {r['pandana']['rss_mb']:.0f} / "
            f"{r['networkx']['rss_mb']:.0f} | {r['diff_nx'][0]:.3f} | "
            f"{r['diff_pandana'][2]:.0f} / {r['diff_pandana'][0]:.0f} |"
        )


def _print(r: dict) -> None:
    print(
        f"nodes {r['nodes']:,} (size {r['size']}, generated in {r['generate_s']:.0f} s): "
        f"engine {r['times']}, pandana {r['pandana']['times']}, "
        f"networkx {r['networkx']['times']} (sample {r['networkx']['sample']}); "
        f"RSS MB engine {r['rss_mb']:.0f} pandana {r['pandana']['rss_mb']:.0f} "
        f"networkx {r['networkx']['rss_mb']:.0f}; max diff networkx {r['diff_nx']}, "
        f"pandana {r['diff_pandana']} (value m, reachability mismatches)",
        flush=True,
    )


if __name__ == "__main__":
    from _machine import machine_line

    main()
    if "--worker" not in sys.argv:  # a worker prints its JSON last
        print(machine_line())
