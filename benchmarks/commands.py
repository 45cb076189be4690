"""Every command on one city, each taking the previous one's output: wall seconds, CPU
seconds and the peak RSS of all its processes together (issue #37, the README's table).

The chain is what a planning department runs: ``validate`` the survey GeoPackage, ``osm``
the street file, ``gaps`` (service areas on), ``bundles`` (compounds from the gaps
folder), ``eligibility``, ``plan`` (from the gaps folder), ``evaluate`` (that plan),
``assess``, ``map`` (gap map and bundle map), ``map --by subdistrict`` (the map book),
``db init`` / ``db import`` / ``db export``. Each command is a child process; the sum of
the RSS of it and its own children is sampled every 0.1 s (what the machine must hold),
CPU seconds are the child's and its descendants' from ``wait4``. The slowest command is
named at the end: profile it with ``python -m cProfile`` on the same arguments.

Usage::

    python benchmarks/commands.py --nodes 5000              # generate a small city
    python benchmarks/commands.py --city /tmp/c1m           # demo_city.gpkg + demo_city.osm
    python benchmarks/commands.py --city /tmp/c1m --work /tmp/w --only assess   # again, kept
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def _run(cmd: list[str], *, ok: tuple[int, ...] = (0,)) -> tuple[float, float, float]:
    """Wall s, CPU s (the child and its descendants, once reaped) and peak MB of the
    process tree."""
    import psutil

    t0, before = time.perf_counter(), os.times()
    with tempfile.TemporaryFile() as err:  # not a pipe: a full pipe would stall the child
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        proc, peak = psutil.Process(child.pid), 0.0
        while child.poll() is None:
            total = 0
            with contextlib.suppress(psutil.Error):  # ended between listing and reading
                for p in [proc, *proc.children(recursive=True)]:
                    total += p.memory_info().rss
            peak = max(peak, total / 2**20)
            time.sleep(0.1)
        wall = time.perf_counter() - t0
        code = child.returncode
        if code not in ok:
            err.seek(0)
            text = err.read().decode(errors="replace")
            raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n{text[-3000:]}")
    after = os.times()
    cpu = after.children_user - before.children_user
    return wall, cpu + after.children_system - before.children_system, peak


def _chain(city: Path, work: Path) -> list[tuple[str, list[str], tuple[int, ...]]]:
    g = str(city / "demo_city.gpkg")
    osm = city / "demo_city.osm.pbf"
    osm = str(osm if osm.exists() else city / "demo_city.osm")
    w = str(work)
    comp = ["--compounds", g, "--compounds-layer", "compounds"]
    return [
        ("validate", ["validate", g], (0, 1)),  # 1: errors were found and listed
        ("osm", ["osm", osm, "--out", f"{w}/osm.gpkg"], (0,)),
        ("gaps", ["gaps", *comp, "--pois", g, "--pois-layer", "pois", "--osm", osm,
                  "--out", f"{w}/gaps"], (0,)),
        ("bundles", ["bundles", "--compounds", f"{w}/gaps", "--parcels", g, "--parcels-layer",
                     "parcels", "--osm", osm, "--out", f"{w}/bundles"], (0,)),
        ("eligibility", ["eligibility", "--profile", "taian", "--gaps", f"{w}/gaps",
                         "--out", f"{w}/eligibility.csv"], (0,)),
        ("plan", ["plan", "--profile", "taian", "--gaps", f"{w}/gaps", "--budget-yuan", "5e9",
                  "--out", f"{w}/plan"], (0,)),
        ("evaluate", ["evaluate", "--gaps", f"{w}/gaps", "--plan", f"{w}/plan", "--osm", osm,
                      "--out", f"{w}/evaluation"], (0,)),
        ("assess", ["assess", "--gaps", f"{w}/gaps", "--out", f"{w}/assess"], (0,)),
        ("map", ["map", "--gaps", f"{w}/gaps", "--bundles", f"{w}/bundles",
                 "--out", f"{w}/maps/city.html"], (0,)),
        ("map --by subdistrict", ["map", "--gaps", f"{w}/gaps", "--by", "subdistrict",
                                  "--out", f"{w}/book/city.html"], (0,)),
        ("db init", ["db", "init", "--db", f"{w}/city_db.gpkg"], (0,)),
        ("db import", ["db", "import", g, "--db", f"{w}/city_db.gpkg", "--layer", "compounds",
                       "--round", "bench"], (0,)),
        ("db export", ["db", "export", "--db", f"{w}/city_db.gpkg", "--out", f"{w}/dbx"], (0,)),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", type=Path, help="folder with demo_city.gpkg and .osm(.pbf)")
    parser.add_argument("--nodes", type=int, default=5000, help="else generate this size")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--only", nargs="*", help="run only these commands (names as listed)")
    parser.add_argument("--work", type=Path, help="keep the outputs here (default: a temp dir)")
    args = parser.parse_args()
    exe = shutil.which("spatial") or "spatial"
    with tempfile.TemporaryDirectory() as tmp:
        city = args.city
        if city is None:
            from spatial.demo import generate_demo, size_for_nodes

            city = Path(tmp) / "city"
            generate_demo(city, size=size_for_nodes(args.nodes), seed=args.seed)
        rows = []
        for name, cmd, ok in _chain(city, args.work or Path(tmp) / "work"):
            if args.only and name not in args.only:
                continue
            wall, cpu, peak = _run([exe, "-q", *cmd], ok=ok)
            rows.append((name, wall, cpu, peak))
            print(f"{name}: {wall:.1f} s wall, {cpu:.1f} CPU-s, {peak:,.0f} MB", flush=True)
    print("\n| command | wall s | CPU s | peak RSS, all processes (MB) |\n|---|---|---|---|")
    for name, wall, cpu, peak in rows:
        print(f"| `spatial {name}` | {wall:.1f} | {cpu:.1f} | {peak:,.0f} |")
    slowest = max(rows, key=lambda r: r[1])
    print(f"\nslowest: `spatial {slowest[0]}` ({slowest[1]:.1f} s); over 4 GiB: "
          + (", ".join(r[0] for r in rows if r[3] > 4096) or "none"))  # fmt: skip


if __name__ == "__main__":
    from _machine import machine_line

    main()
    print(machine_line())
