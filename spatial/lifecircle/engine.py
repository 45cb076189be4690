"""The exact distance engine: bounded multi-source Dijkstra with edge offsets.

Definition (docs/architecture.md, "The gap engine, defined"): the distance from a compound
to a category is the shortest walk-network distance from any of its access points to
any POI of the category, including the straight legs from the POI (and from a compound
without a gate or crossing) to their attachment points. It is computed exactly, with
edge offsets: per category one multi-source Dijkstra from a virtual source joined to
both ends of every POI's edge, bounded by a distance limit, over the network's CSR
matrix (scipy.sparse.csgraph). A POI and an access point on the same edge are also
joined directly along the edge. Per owner (:func:`owner_distances`) each node its points
reach carries one cost, the least of its points' leg plus offset, so a compound entered
from dozens of points costs a gather and a minimum per category.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from spatial.network import Attachment, WalkNetwork
from spatial.network.attach import AccessPoints

__all__ = [
    "EngineNet",
    "OwnerTargets",
    "csr_triple",
    "net_arrays",
    "node_distances",
    "owner_and_node_distances",
    "owner_distances",
    "owner_node_distances",
    "owner_targets",
    "point_distances",
]


def node_distances(network: WalkNetwork, sources: Attachment, *, limit_m: float) -> np.ndarray:
    """Walk distance from the nearest source to every node.

    One Dijkstra from a virtual source joined to both ends of every source's edge with
    weights ``leg + offset`` and ``leg + length - offset``.

    Parameters
    ----------
    network
        The walk network (metric CRS).
    sources
        Facilities attached to the network; off-network ones are ignored.
    limit_m
        Search no farther than this, metres.

    Returns
    -------
    ndarray of float
        One distance per node, metres; ``inf`` beyond ``limit_m`` or unreachable.
    """
    return _node_distances(net_arrays(network), csr_triple(sources), limit_m)


def point_distances(
    network: WalkNetwork, sources: Attachment, targets: Attachment, *, limit_m: float
) -> np.ndarray:
    """Walk distance from the nearest source to every target point.

    Includes the targets' own legs and the direct path along a shared edge.

    Parameters
    ----------
    network
        The walk network (metric CRS).
    sources
        Facilities attached to the network; off-network ones are ignored.
    targets
        Points attached to the same network (e.g. compound access points).
    limit_m
        Search no farther than this, metres.

    Returns
    -------
    ndarray of float
        One distance per target, metres; NaN beyond ``limit_m``, unreachable or off
        the network.
    """
    whole = (targets.edge, targets.offset_m, targets.leg_m)
    return _point_distances(net_arrays(network), csr_triple(sources), whole, limit_m)


class EngineNet(NamedTuple):
    """What a search needs of a network: plain arrays, cheap to send to a process.

    Parameters
    ----------
    csr
        Node × node edge lengths, metres.
    u, v, length_m
        Each edge's end nodes and length.
    """

    csr: sparse.csr_array
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray


def net_arrays(network: WalkNetwork) -> EngineNet:
    """The arrays of a walk network a search needs.

    Parameters
    ----------
    network
        The walk network.

    Returns
    -------
    EngineNet
    """
    return EngineNet(network.csr, network.u, network.v, network.length_m)


def csr_triple(points: Attachment) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge, offset and leg of the attached points only.

    Parameters
    ----------
    points
        Attached points.

    Returns
    -------
    edge, offset, leg
        Arrays of the points on the network.
    """
    ok = points.on_network
    return points.edge[ok], points.offset_m[ok], points.leg_m[ok]


def _node_distances(
    net: EngineNet, sources: tuple[np.ndarray, np.ndarray, np.ndarray], limit_m: float
) -> np.ndarray:
    n = len(net.csr.indptr) - 1
    e, off, leg = sources
    w = np.full(n, np.inf)
    if len(e):
        np.minimum.at(w, net.u[e], leg + off)
        np.minimum.at(w, net.v[e], leg + net.length_m[e] - off)
    targets = np.flatnonzero(np.isfinite(w) & (w <= limit_m))
    if len(targets) == 0:
        return np.full(n, np.inf)
    base = net.csr
    indptr = np.concatenate([base.indptr, [base.indptr[-1] + len(targets)]])
    indices = np.concatenate([base.indices, targets.astype(base.indices.dtype)])
    data = np.concatenate([base.data, np.maximum(w[targets], 1e-9)])
    graph = sparse.csr_array((data, indices, indptr), shape=(n + 1, n + 1))
    dist = csgraph.dijkstra(graph, directed=True, indices=n, limit=limit_m)
    return np.asarray(dist[:n])


def _point_distances(
    net: EngineNet,
    sources: tuple[np.ndarray, np.ndarray, np.ndarray],
    targets: tuple[np.ndarray, np.ndarray, np.ndarray],
    limit_m: float,
) -> np.ndarray:
    """As :func:`point_distances` on plain arrays; targets with edge ``-1`` are off."""
    dist_node = _node_distances(net, sources, limit_m)
    t_edge, t_off, t_leg = targets
    out = np.full(len(t_edge), np.inf)
    ok = t_edge >= 0
    e, off = t_edge[ok], t_off[ok]
    via = np.minimum(dist_node[net.u[e]] + off, dist_node[net.v[e]] + net.length_m[e] - off)
    out[ok] = t_leg[ok] + via
    s_edge, s_off, s_leg = sources
    if len(s_edge) and ok.any():
        src = pd.DataFrame({"edge": s_edge, "s_off": s_off, "s_leg": s_leg})
        tgt = pd.DataFrame({"pos": np.flatnonzero(ok), "edge": e, "t_off": off, "t_leg": t_leg[ok]})
        same = tgt.merge(src, on="edge")
        if len(same):
            direct = same["t_leg"] + same["s_leg"] + (same["t_off"] - same["s_off"]).abs()
            best = direct.groupby(same["pos"]).min()
            pos = best.index.to_numpy()
            out[pos] = np.minimum(out[pos], best.to_numpy())
    out[~(out <= limit_m)] = np.nan
    return out


class OwnerTargets(NamedTuple):
    """Access points of owners arranged for the per-owner search (built once).

    Parameters
    ----------
    n_owners
        Number of owners.
    node, cost
        Per (owner, node) pair: the node and the cost from it to the owner, metres.
    owners, starts
        The owners with pairs and where their pairs start.
    edge, offset, leg, owner
        The points by edge, for walks along one edge.
    """

    n_owners: int
    node: np.ndarray
    cost: np.ndarray
    owners: np.ndarray
    starts: np.ndarray
    edge: np.ndarray
    offset: np.ndarray
    leg: np.ndarray
    owner: np.ndarray


def owner_targets(net: EngineNet, points: AccessPoints, n_owners: int) -> OwnerTargets:
    """Arrange owners' access points for the per-owner search.

    Parameters
    ----------
    net
        The network's arrays.
    points
        The access points and their owners.
    n_owners
        Number of owners.

    Returns
    -------
    OwnerTargets
    """
    ok = points.edge >= 0
    e, off, leg, owner = points.edge[ok], points.offset_m[ok], points.leg_m[ok], points.owner[ok]
    n_nodes = len(net.csr.indptr) - 1
    node = np.concatenate([net.u[e], net.v[e]]).astype(np.int64)
    cost = np.concatenate([leg + off, leg + net.length_m[e] - off])
    key = np.concatenate([owner, owner]) * n_nodes + node
    order = np.argsort(key)
    key, cost = key[order], cost[order]
    runs = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else key
    least = np.minimum.reduceat(cost, runs) if len(key) else cost  # per (owner, node)
    key_u = key[runs]
    node_owner = key_u // n_nodes
    starts = np.flatnonzero(np.r_[True, node_owner[1:] != node_owner[:-1]]) if len(key_u) else key_u
    by_edge = np.argsort(e, kind="stable")
    return OwnerTargets(
        n_owners,
        key_u % n_nodes,
        least,
        node_owner[starts],
        starts,
        e[by_edge],
        off[by_edge],
        leg[by_edge],
        owner[by_edge],
    )


def owner_node_distances(
    net: EngineNet,
    sources: tuple[np.ndarray, np.ndarray, np.ndarray],
    targets: OwnerTargets,
    limit_m: float,
) -> np.ndarray:
    """Per owner, the least of :func:`point_distances` over its points.

    Parameters
    ----------
    net
        The network's arrays.
    sources
        Edge, offset and leg of the sources.
    targets
        The owners' access points (:func:`owner_targets`).
    limit_m
        Search limit, metres.

    Returns
    -------
    ndarray
        Metres per owner; NaN beyond the limit or unreachable.
    """
    if not len(targets.node):  # no search: only walks along the sources' own edges
        return _owner_walks(np.full(targets.n_owners, np.inf), sources, targets, limit_m)
    return owner_and_node_distances(net, sources, targets, limit_m)[0]


def owner_and_node_distances(
    net: EngineNet,
    sources: tuple[np.ndarray, np.ndarray, np.ndarray],
    targets: OwnerTargets,
    limit_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`owner_node_distances` and the distance to every node it came from (what a
    service area within any radius up to ``limit_m`` is drawn from).

    Parameters
    ----------
    net, sources, targets, limit_m
        As for :func:`owner_node_distances`.

    Returns
    -------
    tuple of ndarray
        Metres per owner (NaN beyond the limit or unreachable), and metres per node
        (``inf`` beyond the limit or unreachable).
    """
    dist_node = _node_distances(net, sources, limit_m)
    out = np.full(targets.n_owners, np.inf)
    if len(targets.node):
        best = np.minimum.reduceat(dist_node[targets.node] + targets.cost, targets.starts)
        out[targets.owners] = best
    return _owner_walks(out, sources, targets, limit_m), dist_node


def _owner_walks(
    out: np.ndarray,
    sources: tuple[np.ndarray, np.ndarray, np.ndarray],
    targets: OwnerTargets,
    limit_m: float,
) -> np.ndarray:
    """``out`` with the walks along an edge a source and a target share, NaN beyond."""
    s_edge, s_off, s_leg = sources
    lo = np.searchsorted(targets.edge, s_edge, side="left")
    count = np.searchsorted(targets.edge, s_edge, side="right") - lo
    if count.sum():  # a source and a target on one edge: the walk along it
        src = np.repeat(np.arange(len(s_edge)), count)
        tgt = np.arange(len(src)) - np.repeat(np.cumsum(count) - count, count) + lo[src]
        direct = s_leg[src] + targets.leg[tgt] + np.abs(s_off[src] - targets.offset[tgt])
        np.minimum.at(out, targets.owner[tgt], direct)
    out[~(out <= limit_m)] = np.nan
    return out


def owner_distances(
    network: WalkNetwork,
    sources: Attachment,
    targets: AccessPoints,
    n_owners: int,
    *,
    limit_m: float,
) -> np.ndarray:
    """Walk distance from the nearest source to each owner of access points.

    The least of :func:`point_distances` over each owner's points, computed per node an
    owner reaches (its points' legs and offsets folded into one cost per node).

    Parameters
    ----------
    network
        The walk network (metric CRS).
    sources
        Facilities attached to the network; off-network ones are ignored.
    targets
        Access points; ``targets.owner`` indexes ``0 … n_owners - 1``.
    n_owners
        Number of owners (compounds).
    limit_m
        Search no farther than this, metres.

    Returns
    -------
    ndarray of float
        One distance per owner, metres; NaN beyond ``limit_m``, unreachable or without
        points.
    """
    net = net_arrays(network)
    return owner_node_distances(
        net, csr_triple(sources), owner_targets(net, targets, n_owners), limit_m
    )
