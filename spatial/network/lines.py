"""Walk networks from road line layers: CAD centrelines, 道路中心线 shapefiles, Geofabrik roads.

Such layers differ from OSM in three ways this module repairs, each reported:

- **ends that do not meet** — vertices of one level closer than ``line_snap_m`` become one
  node, and a line end within ``line_snap_m`` of another line joins it where it projects;
- **crossings without a shared vertex** — lines of the same level are split where they
  cross (bridges, tunnels and ``layer`` values keep different levels apart);
- **road classes in Chinese** — ``highway``, ``fclass`` or 道路等级/等级 … values are
  mapped to OSM ``highway`` values by ``spatial/standards/road_classes.toml`` and the
  osmnx walk rule applies (高速公路 and 快速路 are not walked).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from spatial._errors import InputError, Problem, input_error
from spatial.io.roadclass import RoadClasses, classify_lines, line_levels, load_road_classes
from spatial.network.graph import WalkNetwork, build_graph
from spatial.settings import DEFAULTS

__all__ = ["check_connected", "read_line_layer", "walk_network_from_lines"]

#: Split points closer than this (metres) to a vertex are that vertex.
_SAME_POINT_M = 1e-6
#: Final node identity: coordinates closer than this (metres) are one node.
_NODE_TOLERANCE_M = 1e-3


def _clusters(xy: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Label per point: points joined by ``pairs`` share the label of their first point."""
    n = len(xy)
    graph = sparse.coo_array(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
    )
    _, labels = csgraph.connected_components(graph, directed=False)
    first = np.full(labels.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    return cast("np.ndarray", first[labels])


_Splits = tuple[np.ndarray, np.ndarray]  # (line index, xy) of points to split lines at
_NO_SPLITS: _Splits = (np.empty(0, dtype=np.int64), np.empty((0, 2)))


def _snap_ends(
    lines: np.ndarray, level: np.ndarray, line_snap_m: float
) -> tuple[np.ndarray, _Splits, int]:
    """Move dangling line ends within ``line_snap_m`` of a same-level line onto it."""
    tree = shapely.STRtree(lines)
    starts = shapely.get_point(lines, 0)
    ends = shapely.get_point(lines, -1)
    points = np.concatenate([starts, ends])
    owner = np.concatenate([np.arange(len(lines))] * 2)
    pt_idx, line_idx = tree.query(points, predicate="dwithin", distance=line_snap_m)
    other = (line_idx != owner[pt_idx]) & (level[line_idx] == level[owner[pt_idx]])
    pt_idx, line_idx = pt_idx[other], line_idx[other]
    if len(pt_idx) == 0:
        return lines, _NO_SPLITS, 0
    dist = shapely.distance(points[pt_idx], lines[line_idx])
    # an end already on a vertex of another line is joined there; not dangling
    touching = np.zeros(len(points), dtype=bool)
    vertex_hit = shapely.distance(points[pt_idx], shapely.extract_unique_points(lines)[line_idx])
    touching[pt_idx[vertex_hit <= _NODE_TOLERANCE_M]] = True
    order = np.lexsort((dist, pt_idx))
    pt_idx, line_idx, dist = pt_idx[order], line_idx[order], dist[order]
    first = np.concatenate([[True], pt_idx[1:] != pt_idx[:-1]])
    keep = first & ~touching[pt_idx]
    pt_idx, line_idx = pt_idx[keep], line_idx[keep]
    targets = shapely.line_interpolate_point(
        lines[line_idx], shapely.line_locate_point(lines[line_idx], points[pt_idx])
    )
    xy, line_of = shapely.get_coordinates(lines, return_index=True)
    first_vertex = np.searchsorted(line_of, np.arange(len(lines)))
    last_vertex = np.searchsorted(line_of, np.arange(len(lines)), side="right") - 1
    at = np.where(pt_idx < len(lines), first_vertex[owner[pt_idx]], last_vertex[owner[pt_idx]])
    xy[at] = shapely.get_coordinates(targets)
    moved = shapely.linestrings(xy, indices=line_of)
    return np.asarray(moved), (line_idx, shapely.get_coordinates(targets)), len(pt_idx)


def _crossings(lines: np.ndarray, level: np.ndarray) -> tuple[_Splits, int]:
    """Points where two same-level lines cross or touch, for both lines."""
    tree = shapely.STRtree(lines)
    a, b = tree.query(lines, predicate="intersects")
    keep = (a < b) & (level[a] == level[b])
    a, b = a[keep], b[keep]
    # two straight segments sharing an end meet only there (most pairs of a CAD layer)
    segment = shapely.get_num_coordinates(lines) == 2
    ends = np.stack([shapely.get_coordinates(shapely.get_point(lines, k)) for k in (0, -1)], 1)
    shared = (ends[a][:, :, None, :] == ends[b][:, None, :, :]).all(-1).any((1, 2))
    keep = ~(segment[a] & segment[b] & shared)
    a, b = a[keep], b[keep]
    if len(a) == 0:
        return _NO_SPLITS, 0
    xy, which = shapely.get_coordinates(shapely.intersection(lines[a], lines[b]), return_index=True)
    splits = (np.concatenate([a[which], b[which]]), np.concatenate([xy, xy]))
    # a point that is a vertex of both lines is a junction already, not a crossing
    points = shapely.points(xy)
    vertices = shapely.extract_unique_points(lines)
    joined = (shapely.distance(points, vertices[a[which]]) <= _NODE_TOLERANCE_M) & (
        shapely.distance(points, vertices[b[which]]) <= _NODE_TOLERANCE_M
    )
    return splits, int((~joined).sum())


def _insert(lines: np.ndarray, splits: _Splits) -> tuple[np.ndarray, ...]:
    """Vertices of every line with the split points inserted in order along it."""
    xy, line_of = shapely.get_coordinates(lines, return_index=True)
    seg = np.hypot(*np.diff(xy, axis=0).T)
    seg[line_of[1:] != line_of[:-1]] = 0.0
    along = np.concatenate([[0.0], np.cumsum(seg)])
    start = np.zeros(len(lines))
    first_vertex = np.concatenate([[True], line_of[1:] != line_of[:-1]])
    start[line_of[first_vertex]] = along[first_vertex]
    along = along - start[line_of]
    is_split = np.zeros(len(xy), dtype=bool)
    s_line, s_xy = splits
    if len(s_line):
        s_along = shapely.line_locate_point(lines[s_line], shapely.points(s_xy))
        xy = np.concatenate([xy[:, :2], s_xy])
        line_of = np.concatenate([line_of, s_line])
        along = np.concatenate([along, s_along])
        is_split = np.concatenate([is_split, np.ones(len(s_line), dtype=bool)])
    order = np.lexsort((is_split, along, line_of))
    xy, line_of, along, is_split = xy[order, :2], line_of[order], along[order], is_split[order]
    same_line = np.concatenate([[False], line_of[1:] == line_of[:-1]])
    dup = is_split & same_line & (np.abs(np.diff(along, prepend=-1.0)) <= _SAME_POINT_M)
    return xy[~dup], line_of[~dup]


def walk_network_from_lines(
    lines: gpd.GeoDataFrame,
    *,
    crs: Any = None,
    line_snap_m: float = DEFAULTS.line_snap_m,
    split_crossings: bool = True,
    classes: RoadClasses | None = None,
    source: str = "line layer",
) -> WalkNetwork:
    """Build the walk network of a road line layer (e.g. a road-centreline shapefile).

    Parameters
    ----------
    lines
        LineStrings (or MultiLineStrings) with a CRS; optional road-class, ``layer``,
        bridge and tunnel columns (see ``spatial/standards/road_classes.toml``).
    crs
        Metric CRS for the network; default the layer's own if projected, else its
        UTM zone.
    line_snap_m
        Vertices of one level closer than this many metres become one node, and a line
        end this close to another line joins it (CAD lines that do not quite meet).
    split_crossings
        Split lines of the same level where they cross; False joins lines only at
        shared vertices (as in OSM).
    classes
        The road-class table (default the shipped one).
    source
        The layer's name in messages (file path).

    Returns
    -------
    WalkNetwork
        Undirected, lengths in metres; :attr:`WalkNetwork.problems` says which lines
        were left out, how many ends were snapped and crossings split.
    """
    if lines.crs is None:
        raise input_error(
            source,
            "the line layer has no CRS",
            hint="a shapefile needs its .prj; or set the CRS in a GIS and save again",
        )
    if line_snap_m < 0:
        raise ValueError(f"line_snap_m must be >= 0 metres, got {line_snap_m}")
    table = classes or load_road_classes()
    own = CRS.from_user_input(lines.crs)
    target = CRS.from_user_input(crs) if crs is not None else own
    if not target.is_projected:
        target = CRS.from_user_input(lines.estimate_utm_crs())
    data = lines[lines.geometry.notna() & ~lines.geometry.is_empty].to_crs(target)
    highway, walk, problems = classify_lines(data, table, source)
    level, level_col = line_levels(data, table)
    data = data.assign(_hw=highway, _level=level)[walk]
    parts = data.explode(index_parts=False)
    parts = parts[parts.geom_type == "LineString"]
    geoms = shapely.force_2d(parts.geometry.to_numpy())
    level = parts["_level"].to_numpy(np.int64)
    hw = parts["_hw"].to_numpy(dtype=object)
    n_snapped = n_cross = n_merged = 0
    if len(geoms):
        xy, line_of = shapely.get_coordinates(geoms, return_index=True)
        ends = np.zeros(len(xy), dtype=bool)
        ends[np.concatenate([[True], line_of[1:] != line_of[:-1]])] = True
        ends[np.concatenate([line_of[1:] != line_of[:-1], [True]])] = True
        if line_snap_m > 0:
            pairs = cKDTree(xy).query_pairs(line_snap_m, output_type="ndarray")
            a, b = pairs.T if len(pairs) else (np.empty(0, int), np.empty(0, int))
            ok = (level[line_of[a]] == level[line_of[b]]) | (ends[a] & ends[b])
            xy = xy[_clusters(xy, pairs[ok])] if len(pairs) else xy
            n_merged = int(np.any(xy != shapely.get_coordinates(geoms), axis=1).sum())
            geoms = shapely.linestrings(xy, indices=line_of)
        splits = _NO_SPLITS
        if line_snap_m > 0:
            geoms, splits, n_snapped = _snap_ends(geoms, level, line_snap_m)
        if split_crossings:
            more, n_cross = _crossings(geoms, level)
            splits = (np.concatenate([splits[0], more[0]]), np.concatenate([splits[1], more[1]]))
        xy, line_of = _insert(geoms, splits)
    else:
        xy, line_of = np.empty((0, 2)), np.empty(0, dtype=np.int64)
    near = cKDTree(xy).query_pairs(_NODE_TOLERANCE_M, output_type="ndarray")
    node_of = _clusters(xy, near)
    same_line = line_of[1:] == line_of[:-1]
    pairs_uv = np.column_stack([node_of[:-1][same_line], node_of[1:][same_line]])
    net = build_graph(
        np.arange(len(xy), dtype=np.int64),
        xy,
        pairs_uv.astype(np.int64),
        hw[line_of[:-1][same_line]].astype(object),
        set(),
        source_crs=target,
        crs=target,
    )
    if n_merged:
        problems.append(
            Problem.warning(
                source, f"{n_merged} vertices within {line_snap_m:g} m of another were merged"
            )
        )
    if n_snapped:
        problems.append(
            Problem.warning(
                source, f"{n_snapped} line end(s) within {line_snap_m:g} m joined a line"
            )
        )
    if split_crossings and level_col is None and n_cross:
        problems.append(
            Problem.warning(
                source,
                f"no bridge/tunnel/layer column: {n_cross} crossing(s) taken as junctions",
                hint="add a 'layer' (or bridge/tunnel, 桥梁/隧道) column for grade-separated roads",
            )
        )
    net.problems.extend(problems)
    return net


def check_connected(net: WalkNetwork, *, source: str, line_snap_m: float) -> None:
    """Raise when the network falls apart: its largest piece has under half of the nodes.

    Parameters
    ----------
    net
        The network built from ``source``.
    source
        The file, for the message.
    line_snap_m
        The snapping distance used, for the hint.

    Raises
    ------
    InputError
        With the number of pieces, the largest, and how to fix it.
    """
    if net.n_nodes == 0:
        raise InputError([Problem.error(source, "no walkable line in the layer")])
    sizes = np.bincount(net.component)
    if sizes[0] >= 0.5 * net.n_nodes:
        return
    raise InputError(
        [
            Problem.error(
                source,
                f"the network falls into {len(sizes):,} pieces; the largest has "
                f"{sizes[0]:,} of {net.n_nodes:,} nodes: lines do not meet",
                hint=f"raise --line-snap-m (now {line_snap_m:g} m) to the gap between line ends, "
                "or check that the layer is a road-centreline layer in the right CRS",
            )
        ]
    )


def read_line_layer(path: str | Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read the road lines of a GIS file (shapefile, GeoPackage, GeoJSON, FileGDB …).

    Parameters
    ----------
    path
        The file.
    layer
        Its layer holding the roads; default the only line layer.

    Returns
    -------
    GeoDataFrame
        The layer as read, in its own CRS.

    Raises
    ------
    InputError
        When the file cannot be read, the layer is missing, several line layers leave
        the choice open, or the layer holds no lines; the message lists the layers.
    """
    import pyogrio

    src = str(path)
    try:
        listed = [(str(n), str(t)) for n, t in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise InputError(
            [Problem.error(src, f"cannot be read as a GIS file: {exc}", hint="check the file")]
        ) from exc
    shown = ", ".join(f"{n} ({t})" for n, t in listed)
    lines = [n for n, t in listed if "line" in t.lower()]
    if layer is not None and layer not in dict(listed):
        problem = Problem.error(src, f"no layer '{layer}'; it has: {shown}", hint="pick one")
        raise InputError([problem])
    if layer is None and len(lines) > 1:
        problem = Problem.error(
            src,
            f"{len(lines)} line layers: {shown}",
            hint="name the road layer with --network-layer (spatial validate: --layer)",
        )
        raise InputError([problem])
    chosen = layer or (lines[0] if lines else listed[0][0] if listed else None)
    if chosen is None:
        raise InputError([Problem.error(src, "the file has no layer")])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyogrio")
        frame = gpd.read_file(path, layer=chosen, engine="pyogrio")
    kinds = set(frame.geom_type.dropna())
    if not kinds & {"LineString", "MultiLineString"}:
        raise InputError(
            [
                Problem.error(
                    src,
                    f"layer '{chosen}' holds {', '.join(sorted(kinds)) or 'no geometry'}, "
                    "not lines: a walk network needs road centrelines",
                    hint="name the road line layer with --network-layer (spatial validate: "
                    "--layer), or give an OSM file with --osm",
                )
            ]
        )
    if frame.crs is None:
        raise InputError(
            [
                Problem.error(
                    src,
                    "the road layer has no CRS",
                    hint="add the .prj file (shapefile) or set the CRS in a GIS",
                )
            ]
        )
    return frame
