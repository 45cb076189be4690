"""The whole city in one run: ``.osm.pbf`` to gap tables and both maps, each stage timed.

What a planning department runs for a city, in one process as ``spatial gaps`` and
``spatial map`` do (the stages are the ones their progress reports): load and check
the compounds and POIs, read the walk network from the PBF, compute the gaps, write the
gap tables, keep the map context, then write the gap map and the bundle map (the bundle
map from a bundles run's folder: ``spatial bundles`` is timed in ``benchmarks/bundles.py``).
Peak RSS is read from ``resource`` at the end: this process's, and the largest of its
children (the second processes that read the walk ways and the context, search half the
categories, draw the bundle map); and the largest sum over all of them at one time,
sampled every 0.1 s (what the machine must hold).

Usage::

    python benchmarks/pipeline.py --city /tmp/city1m --bundles /tmp/b1m
    (``--city``: a folder with demo_city.gpkg and demo_city.osm.pbf, e.g. from
    ``spatial demo --size 149`` and an osmium conversion)
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path


def main() -> None:
    from spatial.heap import trim_heap
    from spatial.io import LoadSpec
    from spatial.lifecircle import GapParams
    from spatial.pipeline import run_gaps
    from spatial.pipeline.maps import run_maps

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", type=Path, required=True)
    parser.add_argument("--bundles", type=Path, help="a bundles output folder of the city")
    parser.add_argument("--service-areas", action="store_true")
    args = parser.parse_args()
    stamps: list[tuple[str, float]] = [("start", time.perf_counter())]

    def progress(stage: str, _done: int, _total: int) -> None:
        if not stamps or stamps[-1][0] != stage:
            stamps.append((stage, time.perf_counter()))

    tree_peak = _TreePeak()
    tree_peak.start()
    gpkg, pbf = args.city / "demo_city.gpkg", args.city / "demo_city.osm.pbf"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        run = run_gaps(
            out_dir=out / "gaps",
            compounds=[LoadSpec(gpkg, "compounds", source_layer="compounds")],
            pois=[LoadSpec(gpkg, "pois", source_layer="pois")],
            network=pbf,
            params=GapParams(service_areas=args.service_areas),
            progress=progress,
        )
        from spatial.io.context.store import load_context
        from spatial.io.outputs.results import GapTables

        result = run.result
        context = load_context(run.outputs["context"]) if "context" in run.outputs else None
        # the outlines as `spatial map --gaps` reads them: from the file the run wrote, a
        # category at a time by a second process while the rest of the map is drawn
        area_file = run.outputs.get("service_areas")
        tables = GapTables(
            result.compounds.to_crs(4326), result.gaps, result.pois,
            None if area_file is not None else result.service_areas,
            None, result.categories, context, service_area_file=area_file,
        )  # fmt: skip
        if area_file is not None:
            result.service_areas = None
        nodes = run.network.n_nodes
        del run  # the walk network is not drawn: freed before the maps, as a script would
        trim_heap()
        progress("gap map and bundle map, side by side", 0, 0)
        # as `spatial map --gaps --bundles` does for a city: a large bundle folder is drawn
        # by a second process while the gap map is drawn here
        run_maps(tables, args.bundles, out=out / "gap_map.html")
        progress("end", 0, 0)
    tree_peak.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"city: {len(result.compounds):,} compounds, {nodes:,} walk nodes")
    print("| stage | s |")
    print("|---|---:|")
    for (name, t), (_, nxt) in itertools.pairwise(stamps):
        print(f"| {name} | {nxt - t:.1f} |")
    print(f"| **total** | **{stamps[-1][1] - stamps[0][1]:.1f}** |")
    print(
        f"\npeak RSS {peak_mb:,.0f} MB; largest second process {child_mb:,.0f} MB; "
        f"all processes together at most {tree_peak.peak_mb:,.0f} MB (sampled every 0.1 s)"
    )


class _TreePeak(threading.Thread):
    """The largest sum of RSS over this process and its children, sampled."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._done.wait(0.1):
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # ended between listing and reading
                    total += proc.memory_info().rss
            self.peak_mb = max(self.peak_mb, total / 2**20)

    def stop(self) -> None:
        self._done.set()
        self.join()


if __name__ == "__main__":
    from _machine import machine_line

    main()
    if "--worker" not in sys.argv:  # a worker prints its JSON last
        print(machine_line())
