"""What a benchmark ran on and what it cost the processors, printed under its tables so a
run on a busy machine is recognisable (issue #37)."""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["city_sizes", "cpu_seconds", "demo_cities", "gaps_command", "machine_line", "run_child"]


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def machine_line() -> str:
    """One line: load averages, cores, CPU seconds of this run (process and children)."""
    own, kids = cpu_seconds()
    one, five, fifteen = os.getloadavg()
    return (
        f"\nmachine: {os.cpu_count()} cores, load average {one:.2f} / {five:.2f} / "
        f"{fifteen:.2f} (1 / 5 / 15 min); CPU-s of this run {own:.1f} (this process) + "
        f"{kids:.1f} (its children)"
    )


def run_child(cmd: list[str]) -> tuple[float, float, float]:
    """Run a command: its wall seconds, CPU seconds and peak RSS (MB, of its largest
    process, from ``wait4``); on failure, stop with its last error output."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:  # not a pipe: a full pipe would stall the child
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            text = err.read().decode(errors="replace")
            raise SystemExit(f"failed: {' '.join(cmd)}\n{text[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def city_sizes(description: str) -> argparse.Namespace:
    """``--nodes`` (sizes of the demo cities, default ~100k walk nodes) and ``--seed``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--nodes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=2021)
    return parser.parse_args()


def demo_cities(nodes: list[int], seed: int) -> Iterator[tuple[int, Path, Any]]:
    """``(nodes, folder, city)``: a demo city of each size, generated in a temporary folder
    that is removed when the next size starts."""
    from spatial.demo import generate_demo, size_for_nodes

    for n in nodes:
        with tempfile.TemporaryDirectory() as tmp:
            city = generate_demo(Path(tmp) / "city", size=size_for_nodes(n), seed=seed)
            yield n, Path(tmp), city


def gaps_command(city: Any) -> list[str]:
    """``spatial -q gaps`` on a demo city's compounds, POIs and OSM, service areas off."""
    g = str(city.gpkg)
    return [
        *(shutil.which("spatial") or "spatial", "-q", "gaps"),
        *("--compounds", g, "--compounds-layer", "compounds", "--pois", g),
        *("--pois-layer", "pois", "--osm", str(city.osm), "--no-service-areas"),
    ]
