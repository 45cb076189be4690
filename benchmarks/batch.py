"""Time ``spatial batch`` on 8 demo units: one process without a pool, then this
machine's pool of 1 and of 2 workers (:mod:`spatial.batch.local`), then a Dask
LocalCluster of 2 workers given as ``--scheduler``; and each unit alone in a subprocess
for its memory.

The peer is the plain loop: the same units run one after the other in this process by
:func:`spatial.batch.run_unit`, no scheduler. The pool on 1 worker shows its cost
(forking, pickling, events); on 2 workers, the speed-up the second core gives (target
≥ 1.6× the loop, issue #37); Dask on 2 workers, what the pool replaced for local runs
(its cluster start, workers importing the toolkit again). Every run writes a fresh folder
(nothing is skipped) and draws the maps. Peak RSS per unit (``wait4`` of a child running
that unit alone) is what a worker must hold.

Usage::

    python benchmarks/batch.py               # 8 units, sizes 3-6 superblocks
    python benchmarks/batch.py --units 4     # fewer
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from spatial.batch import load_province, run_batch, run_unit

_CHILD = """
import sys
from spatial.batch import load_province, run_unit
unit = [u for u in load_province(sys.argv[1]).units if u.name == sys.argv[2]][0]
record = run_unit(unit, sys.argv[3], force=True)
assert record["status"] == "done", record
"""


def _province(path: Path, units: int) -> Path:
    lines = ['[province]\nname = "基准省 benchmark"\nprofile = "taian"\nbudget_yuan = 1e9\n']
    for k in range(units):
        size = 3 + k % 4
        lon, lat = 116.5 + 0.25 * (k % 4), 36.2 + 0.25 * (k // 4)
        lines.append(
            f'[[unit]]\nname = "单元{k + 1}"\nlevel = "county"\n'
            f"demo = {{ size = {size}, seed = {100 + k}, centre = [{lon}, {lat}] }}\n"
        )
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _alone(spec: Path, name: str, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one unit run alone in a child process."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(spec), name, str(out)])
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"unit {name} failed alone (status {status})")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def _on_dask(province: Any, out: Path) -> float:
    """Wall seconds of the batch on a Dask LocalCluster of 2 workers, its start included."""
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster),
    ):
        run = run_batch(province, out_dir=out, scheduler=cluster.scheduler_address)
        assert all(r["status"] == "done" for r in run.records.values()), run.records
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        spec = _province(root / "province.toml", args.units)
        province = load_province(spec)
        run_unit(province.units[0], root / "warm", force=True)  # imports, caches
        rows = []
        start = time.perf_counter()
        serial = {u.name: run_unit(u, root / "serial", force=True) for u in province.units}
        rows.append(("plain loop, no Dask", 1, time.perf_counter() - start))
        totals = {}
        for workers in (1, 2):
            run = run_batch(province, out_dir=root / f"pool{workers}", workers=workers)
            rows.append((f"this machine's pool, {workers} worker(s)", workers, run.wall_s))
            assert all(r["status"] == "done" for r in run.records.values()), run.records
            totals[workers] = sum(r["totals"]["households"] for r in run.records.values())
        assert totals[1] == totals[2] == sum(r["totals"]["households"] for r in serial.values())
        rows.append(("Dask LocalCluster, 2 workers", 2, _on_dask(province, root / "dask2")))
        print(
            f"\n{args.units} demo units (sizes 3-6 superblocks), maps on, "
            f"on {os.cpu_count()} cores\n"
        )
        print(f"{'mode':<34}{'workers':>8}{'wall s':>9}{'vs loop':>9}")
        base = rows[0][2]
        for mode, workers, wall in rows:
            print(f"{mode:<34}{workers:>8}{wall:>9.1f}{base / wall:>8.2f}×")
        one, two = rows[1][2], rows[2][2]
        print(f"\nspeed-up of 2 workers over 1: {one / two:.2f}×")
        print(
            f"\n{'unit':<8}{'size':>5}{'compounds':>10}{'nodes':>7}{'alone s':>9}"
            f"{'peak RSS MB':>12}"
        )
        for unit in province.units:
            wall, rss = _alone(spec, unit.name, root / "alone")
            t = serial[unit.name]["totals"]
            size = unit.demo.size if unit.demo else 0
            print(
                f"{unit.name:<8}{size:>5}{t['compounds']:>10}{t['network_nodes']:>7}"
                f"{wall:>9.1f}{rss:>12.0f}"
            )


if __name__ == "__main__":
    from _machine import machine_line

    main()
    if "--worker" not in sys.argv:  # a worker prints its JSON last
        print(machine_line())
