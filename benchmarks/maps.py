"""Size and opening time of the HTML maps, against folium's own GeoJSON layer.

For each city: the gap and bundle maps are written, then opened in headless Chromium
(Debian's, as the tests do) with the network off. Measured from navigation start:
first contentful paint, and "layers ready" (``window.SPATIAL_READY``: every layer shown
at start is drawn); then the time to redraw after each of six zooms and pans. The peer,
in the same run, is folium's ``GeoJson`` of the compounds alone (canvas renderer), which
is what the maps were before (with Leaflet inlined the same way): its "ready" is when its
layer holds every feature.

Usage::

    python benchmarks/maps.py                                   # ~5,000-compound district
    python benchmarks/maps.py --gaps /tmp/g1m --bundles /tmp/b1m --no-peer   # outputs of a run
    python benchmarks/maps.py --size 149 --no-service-areas     # the ~1M-node city
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

_FIRST_PAINT = """() => { const p = performance.getEntriesByName('first-contentful-paint')[0];
  return p ? p.startTime : null; }"""
_REDRAW = """async (ops) => {
  const m = SpatialMap.map, out = [];
  const idle = () => new Promise(res => { const t0 = performance.now();
    const tick = () => { const busy = Object.values(SpatialMap.layers)
        .some(l => m.hasLayer(l) && l.isLoading());
      if (!busy || performance.now() - t0 > 30000) res(); else requestAnimationFrame(tick); };
    requestAnimationFrame(tick); });
  for (const op of ops) {
    const t = performance.now();
    if (op[0] === 'zoom') m.setZoom(m.getZoom() + op[1], {animate: false});
    else m.panBy([op[1], op[2]], {animate: false});
    await idle();
    out.push(performance.now() - t);
  }
  return out; }"""
_PEER_REDRAW = """async (ops) => {
  const m = window[Object.keys(window).find(k => k.startsWith('map_'))], out = [];
  const frame = () => new Promise(res => requestAnimationFrame(() => requestAnimationFrame(res)));
  for (const op of ops) {
    const t = performance.now();
    if (op[0] === 'zoom') m.setZoom(m.getZoom() + op[1], {animate: false});
    else m.panBy([op[1], op[2]], {animate: false});
    await frame();
    out.push(performance.now() - t);
  }
  return out; }"""
_OPS = [["zoom", 2], ["pan", 300, 200], ["zoom", 2], ["pan", -400, 100], ["zoom", -3], ["zoom", 4]]
_PEER_READY = """() => { const k = Object.keys(window).find(
    k => k.startsWith('geo_json_') && window[k] && window[k]._layers);
  return !!k && Object.keys(window[k]._layers).length > 0; }"""


def _open(path: Path, *, ours: bool, timeout_s: float) -> dict[str, float | None]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_context(offline=True, viewport={"width": 1280, "height": 900}).new_page()
        t0 = time.perf_counter()
        page.goto(path.resolve().as_uri(), timeout=timeout_s * 1000)
        try:
            if ours:
                page.wait_for_function(
                    "() => window.SPATIAL_READY === true", timeout=timeout_s * 1e3
                )
                ready = page.evaluate("() => window.SPATIAL_TIMING.ready_ms") / 1000
            else:
                page.wait_for_function(_PEER_READY, timeout=timeout_s * 1000)
                ready = time.perf_counter() - t0
        except Exception:  # the peer did not finish in time
            browser.close()
            return {"paint": None, "ready": None, "redraw_max": None}
        paint = page.evaluate(_FIRST_PAINT)
        redraw = page.evaluate(_REDRAW if ours else _PEER_REDRAW, _OPS)
        browser.close()
    return {
        "paint": None if paint is None else paint / 1000,
        "ready": ready,
        "redraw_max": max(redraw) / 1000 if redraw else None,
    }


def _peer(compounds, path: Path) -> Path:
    """folium's GeoJson of the compounds, Leaflet inlined as in our maps (no CDN offline)."""
    import folium

    from spatial.render.offline import map_frame, offline_map, save_map

    frame = map_frame(compounds[["id", "name", "geometry"]])
    m = offline_map(tuple(frame.total_bounds))
    folium.GeoJson(frame.__geo_interface__, tooltip=folium.GeoJsonTooltip(["name"])).add_to(m)
    return save_map(m, path)


def _fmt(v: float | None, timeout_s: float) -> str:
    return f"> {timeout_s:.0f}" if v is None else f"{v:.2f}"


def main() -> None:
    from spatial.io.outputs.results import load_bundle_tables, load_gap_tables
    from spatial.render import bundle_map, gap_map, save_map

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=37, help="superblocks per side (37: ~5k)")
    parser.add_argument("--no-service-areas", action="store_true")
    parser.add_argument("--gaps", type=Path, help="a gaps output folder (skips the run)")
    parser.add_argument("--bundles", type=Path, help="a bundles output folder")
    parser.add_argument("--no-peer", action="store_true", help="skip folium's GeoJSON")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per opening")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        gaps_dir, bundles_dir = args.gaps, args.bundles
        if gaps_dir is None:
            from spatial.bundling.params import BundleParams
            from spatial.demo import generate_demo
            from spatial.io import LoadSpec
            from spatial.lifecircle import GapParams
            from spatial.pipeline import run_bundles, run_gaps

            city = generate_demo(work / "city", size=args.size)
            specs = [LoadSpec(city.gpkg, k, source_layer=k) for k in ("compounds", "pois")]
            run_gaps(
                out_dir=work / "gaps",
                compounds=specs[:1],
                pois=specs[1:],
                osm=city.osm,
                params=GapParams(service_areas=not args.no_service_areas),
            )
            run_bundles(
                out_dir=work / "bundles",
                compounds=specs[:1],
                parcels=[LoadSpec(city.gpkg, "parcels", source_layer="parcels")],
                osm=city.osm,
                params=BundleParams(),
            )
            gaps_dir, bundles_dir = work / "gaps", work / "bundles"
        tables = load_gap_tables(gaps_dir)
        rows = []
        t0 = time.perf_counter()
        gap_html = save_map(gap_map(tables, osm_data=False), work / "gap_map.html")
        rows.append(("gap map", time.perf_counter() - t0, gap_html, True))
        if bundles_dir is not None:
            t0 = time.perf_counter()
            page = bundle_map(
                load_bundle_tables(bundles_dir), osm_data=False, context=tables.context
            )
            bundle_html = save_map(page, work / "bundle_map.html")
            rows.append(("bundle map", time.perf_counter() - t0, bundle_html, True))
        if not args.no_peer:
            t0 = time.perf_counter()
            peer = _peer(tables.compounds, work / "peer.html")
            rows.append(
                ("peer: folium GeoJson, compounds only", time.perf_counter() - t0, peer, False)
            )
        print(
            f"compounds: {len(tables.compounds):,}; POIs: "
            f"{0 if tables.pois is None else len(tables.pois):,}; "
            f"service areas: {tables.service_areas is not None}; "
            f"context rows: {0 if tables.context is None else len(tables.context):,}"
        )
        print(
            "| map | written s | HTML MB | first paint s | layers ready s | "
            "slowest redraw after zoom/pan s |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        ready = {}
        for name, write_s, path, ours in rows:
            r = _open(path, ours=ours, timeout_s=args.timeout)
            ready[name] = r["ready"]
            redraw = "—" if r["redraw_max"] is None else f"{r['redraw_max']:.2f}"
            print(
                f"| {name} | {write_s:.1f} | {path.stat().st_size / 1e6:.1f} | "
                f"{_fmt(r['paint'], args.timeout)} | {_fmt(r['ready'], args.timeout)} | "
                f"{redraw} |"
            )
        peer_ready = ready.get("peer: folium GeoJson, compounds only", -1)
        if "gap map" in ready and peer_ready != -1:
            ours_s = ready["gap map"]
            ratio = (
                "n/a"
                if not ours_s
                else (
                    f"> {args.timeout / ours_s:.0f}×"
                    if peer_ready is None
                    else f"{peer_ready / ours_s:.1f}×"
                )
            )
            print(f"\npeer ready / gap map ready: {ratio}")


if __name__ == "__main__":
    from _machine import machine_line

    main()
    if "--worker" not in sys.argv:  # a worker prints its JSON last
        print(machine_line())
