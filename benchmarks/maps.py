"""Size and opening time of the HTML maps for large demo cities.

For each size: generate the demo city, compute gaps and bundles, write the gap and bundle
maps, and open each in headless Chromium (Debian's, as the tests do) with the network off,
timing until the map and its compounds are drawn.

Usage::

    python benchmarks/maps.py                    # ~5,000 compounds
    python benchmarks/maps.py --size 149 --no-service-areas   # the ~1M-node city
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from spatial.bundling import bundle_units, find_bundles
from spatial.demo import generate_demo
from spatial.io import LoadSpec, load_layers, read_osm
from spatial.io.results import BundleTables, GapTables, pairs_lonlat
from spatial.lifecircle import compute_gaps
from spatial.network import walk_network_from_osm
from spatial.render import bundle_map, gap_map, save_map

_READY = """() => { const k = Object.keys(window).find(k => k.startsWith('map_'));
  if (!k) return false; let n = 0; window[k].eachLayer(l => { if (l.feature) n++; });
  return n > 0; }"""


def _open_seconds(path: Path) -> float | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_context(offline=True).new_page()
        t0 = time.perf_counter()
        page.goto(path.resolve().as_uri(), timeout=300_000)
        page.wait_for_function(_READY, timeout=300_000)
        seconds = time.perf_counter() - t0
        browser.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=37, help="superblocks per side (37: ~5k)")
    parser.add_argument("--no-service-areas", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        city = generate_demo(work, size=args.size)
        g = city.gpkg
        layers = load_layers(
            [LoadSpec(g, k, source_layer=k) for k in ("compounds", "pois", "parcels")]
        )
        net = walk_network_from_osm(city.osm, crs=layers["compounds"].crs)
        gaps = compute_gaps(
            layers["compounds"], layers["pois"], net, service_areas=not args.no_service_areas
        )
        units = bundle_units(layers["compounds"], layers["parcels"], gaps.compounds)
        bundles = find_bundles(units, barriers=read_osm(city.osm).barriers.geometry)
        rows = []
        for name, build in (
            (
                "gap map",
                lambda: gap_map(
                    GapTables(gaps.compounds, gaps.gaps, gaps.pois, gaps.service_areas),
                    osm_data=False,
                ),
            ),
            (
                "bundle map",
                lambda: bundle_map(
                    BundleTables(bundles.bundles, bundles.members, pairs_lonlat(bundles)),
                    osm_data=False,
                ),
            ),
        ):
            t0 = time.perf_counter()
            path = save_map(build(), work / f"{name.replace(' ', '_')}.html")
            rows.append(
                (name, time.perf_counter() - t0, path.stat().st_size / 1e6, _open_seconds(path))
            )
    print(
        f"city: {city.counts['nodes']:,} nodes, {city.counts['compounds']:,} compounds, "
        f"{city.counts['pois']:,} POIs; service areas: {not args.no_service_areas}"
    )
    print("| map | written in s | HTML MB | opens in Chromium (offline) s |")
    print("|---|---|---|---|")
    for name, write_s, mb, open_s in rows:
        print(
            f"| {name} | {write_s:.1f} | {mb:.1f} | "
            f"{'n/a' if open_s is None else f'{open_s:.1f}'} |"
        )


if __name__ == "__main__":
    main()
