"""An independent implementation of the gap engine's definition, for the tests.

It shares no code with ``spatial``: networkx, shapely and numpy only. Every access point
and POI is inserted into the graph by *splitting* its edge (the engine uses a virtual
source and closed-form stretches instead); a stretch of ways in is found by sampling
each edge every 0.25 m, with a split node (and its own straight leg) at every sample and
POI: a walk is at most ~0.4 m longer than the exact one.

The definition (docs/architecture.md, "Compound access points"):

- gated compound (a gate node within 5 m of its boundary): its gates and every point
  where an edge crosses or touches its boundary, leg 0;
- else its radius R is 2 m when an edge of the largest piece reaches more than 2 m
  inside it, or ``d_min + 20`` m with ``d_min`` the distance to the nearest edge of the
  largest piece (any piece when that one is beyond 150 m); every point of every edge
  that comes within R of it is a way in, its leg x counting x + (x - R) beyond R;
- a POI is reached the same way, as a point, from every point of the edges within its
  own ``d_min + 20`` m (its leg counting x + (x - R) beyond R); beyond 150 m it is left
  out.
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
import numpy as np
import shapely

SNAP_M, GATE_TOL_M, LIMIT_M = 150.0, 5.0, 3000.0
DEPTH_M, BAND_M, LEG_FACTOR = 2.0, 20.0, 2.0
STEP_M = 0.25
# ways in: entrances except a building's own doors, and gates people walk through
BUILDING_DOORS = {"staircase", "home", "garage", "emergency"}
WALK_GATES = {"gate", "lift_gate", "turnstile", "kissing_gate", "swing_gate"}


def _has_poi(names) -> bool:
    return any(n[0] == "poi" for n, _ in names)


def reference_distances(edges, xy, gates, compounds, pois, categories):
    """Distances (metres, NaN: none) per ``(compound position, category id)``.

    Parameters
    ----------
    edges
        ``[(a, b), …]`` node keys of straight walk edges.
    xy
        ``{key: (x, y)}`` node coordinates in metres.
    gates
        Node keys of gates and entrances.
    compounds
        Shapely polygons or points in the same metric CRS.
    pois
        ``[(point, "cat;cat"), …]`` in the same CRS.
    categories
        ``[(id, radius_m), …]``.
    """
    g = nx.Graph()
    for a, b in edges:
        w = float(np.hypot(*(np.asarray(xy[a]) - np.asarray(xy[b]))))
        if a != b and (not g.has_edge(a, b) or g[a][b]["w"] > w):
            g.add_edge(a, b, w=w)
    edges = list(g.edges)
    largest = max(nx.connected_components(g), key=len) if len(g) else set()
    main = np.array([a in largest for a, _ in edges])
    lines = [shapely.LineString([xy[a], xy[b]]) for a, b in edges]
    line_array = np.array(lines, dtype=object)
    length = np.array([line.length for line in lines])
    inserts = defaultdict(dict)  # edge -> {offset: [(name, leg)]}

    def add(i, off, name, leg):
        inserts[i].setdefault(round(off, 6), []).append((name, leg))

    def samples(i):
        return np.linspace(0, length[i], max(2, int(np.ceil(length[i] / STEP_M)) + 1))

    def band_radius(d):  # d_min (to the largest piece if within 150 m) + 20 m; None: off
        d_main = np.where(main, d, np.inf).min() if main.any() else np.inf
        d_min = d_main if d_main <= SNAP_M else d.min()
        return d_min + BAND_M if d_min <= SNAP_M else None

    def cost(leg, radius):
        return leg + (LEG_FACTOR - 1) * max(0.0, leg - radius)

    # a POI is reached from every point of the edges within d_min + 20 m of it
    poi_names = defaultdict(list)
    for k, (p, cats) in enumerate(pois):
        if not cats:
            continue
        d = shapely.distance(p, line_array)
        radius = band_radius(d)
        if radius is None:
            continue
        for i in np.flatnonzero(d <= radius):
            ts = samples(i)
            legs = shapely.distance(p, shapely.line_interpolate_point(lines[i], ts))
            for t, leg in zip(ts, legs, strict=True):
                add(i, float(t), ("poi", k), cost(float(leg), radius))
        for c in cats.split(";"):
            poi_names[c].append(("poi", k))

    access = defaultdict(list)  # compound -> [(node name, leg)]
    for ci, geom in enumerate(compounds):
        ring = geom.boundary if geom.geom_type != "Point" else None
        near_gates = [
            n
            for n in gates
            if ring is not None and ring.distance(shapely.Point(xy[n])) <= GATE_TOL_M
        ]
        if near_gates:
            access[ci] = [(n, 0.0) for n in near_gates if n in g]
            for i, line in enumerate(lines):
                for x, y in shapely.get_coordinates(ring.intersection(line)):
                    off = line.project(shapely.Point(x, y))
                    add(i, off, ("acc", ci, i, round(off, 6)), 0.0)
                    access[ci].append((("acc", ci, i, round(off, 6)), 0.0))
            continue
        d = shapely.distance(geom, line_array)
        inner = geom.buffer(-DEPTH_M) if ring is not None else None
        if inner is not None and any(
            inner.intersects(line) for line, m in zip(lines, main, strict=True) if m
        ):
            radius = DEPTH_M
        else:
            radius = band_radius(d)
            if radius is None:
                continue
        for i in np.flatnonzero(d <= radius):
            line = lines[i]
            # every point of the edge is a way in: samples every STEP_M, and the POIs' own
            ts = np.union1d(samples(i), list(inserts[i]))
            legs = shapely.distance(geom, shapely.line_interpolate_point(line, ts))
            for t, leg in zip(ts, legs, strict=True):
                name = ("acc", ci, int(i), round(float(t), 6))
                add(i, float(t), name, cost(float(leg), radius))
                access[ci].append((name, 0.0))

    # directed: a POI is only ever a start (no walk passes through a facility)
    h = g.to_directed()
    for i, items in inserts.items():
        a, b = edges[i]
        h.remove_edge(a, b)
        h.remove_edge(b, a)
        chain, last = a, 0.0
        for off in sorted(items):
            mid = ("mid", i, off)
            h.add_edge(chain, mid, w=max(off - last, 0.0))
            h.add_edge(mid, chain, w=max(off - last, 0.0))
            for name, leg in items[off]:
                if name[0] == "poi":
                    h.add_edge(name, mid, w=leg)
                else:
                    h.add_edge(mid, name, w=leg)
            chain, last = mid, off
        h.add_edge(chain, b, w=max(length[i] - last, 0.0))
        h.add_edge(b, chain, w=max(length[i] - last, 0.0))
    out = {}
    for cat, radius_m in categories:
        src = poi_names.get(cat, [])
        dist = (
            nx.multi_source_dijkstra_path_length(h, src, cutoff=max(LIMIT_M, radius_m), weight="w")
            if src
            else {}
        )
        for ci in range(len(compounds)):
            found = [dist[n] + leg for n, leg in access.get(ci, []) if n in dist]
            out[(ci, cat)] = min(found) if found else np.nan
    return out
