"""Facilities × compounds within a radius, with their exact walk distances.

The same definition as the gap engine (:mod:`spatial.lifecircle.engine`): walk along the
network plus both legs, a compound reached from any of its access points, a facility from
any of its points, and the walks where both meet along one edge. Sources are searched in
batches so a batch's distance matrix holds at most ``max_cells`` numbers; the result is
sparse (a city's facilities × compounds would not fit as a dense matrix).

- :func:`reach_matrix` the walk metres of every (facility, compound) pair within the
  radius (the 2SFCA supply–demand ratios use them);
- :func:`coverage_matrix` the same pairs as booleans (facility siting);
- :func:`reachable_counts` facilities within reach per compound.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from spatial.network import Attachment, WalkNetwork
from spatial.network.attach import AccessPoints

__all__ = ["Reach", "coverage_matrix", "reach_matrix", "reachable_counts"]


class Reach(NamedTuple):
    """Pairs of a source (facility) and an owner (compound) within a radius.

    Parameters
    ----------
    row
        Source (facility) of each pair.
    col
        Owner (compound) of each pair.
    metres
        Its walk distance, metres (the shortest of its walks).
    shape
        ``(n_sources, n_owners)``.
    """

    row: np.ndarray
    col: np.ndarray
    metres: np.ndarray
    shape: tuple[int, int]

    def counts(self) -> np.ndarray:
        """Sources within reach of each owner.

        Returns
        -------
        ndarray of int
            One count per owner (a pair is listed once).
        """
        return np.bincount(self.col, minlength=self.shape[1]).astype(np.int64)

    @classmethod
    def of(
        cls, row: np.ndarray, col: np.ndarray, metres: np.ndarray, shape: tuple[int, int]
    ) -> Reach:
        """Pairs given more than once kept once, with their shortest distance.

        Parameters
        ----------
        row, col, metres
            Pairs, possibly repeated.
        shape
            ``(n_sources, n_owners)``.

        Returns
        -------
        Reach
            Sorted by row, then column.
        """
        row, col = np.asarray(row, dtype=np.int64), np.asarray(col, dtype=np.int64)
        metres = np.asarray(metres, dtype=float)
        key = row * max(shape[1], 1) + col
        order = np.lexsort((metres, key))
        key, metres = key[order], metres[order]
        first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, dtype=bool)
        key, metres = key[first], metres[first]
        width = max(shape[1], 1)
        return cls(key // width, key % width, metres, shape)


def reach_matrix(
    network: WalkNetwork,
    sources: Attachment,
    access: AccessPoints,
    n_owners: int,
    *,
    radius_m: float,
    max_cells: int = 20_000_000,
    source_owner: np.ndarray | None = None,
    walks: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Reach:
    """The walk metres from each source (facility) to each owner (compound) it reaches
    within ``radius_m`` metres.

    Each source is its own virtual node; sources are searched in batches so that a
    batch's distance matrix holds at most ``max_cells`` numbers. An owner is reached
    when any of its access points is within the radius (walk along the network plus
    both legs).

    Parameters
    ----------
    network
        The walk network (metric CRS).
    sources
        Facilities attached to the network (``edge == -1``: off the network).
    access
        Access points of the owners, attached to the network.
    n_owners
        Number of owners (compounds); ``access.owner`` indexes them.
    radius_m
        Walking radius, metres.
    max_cells
        Largest number of distances held in memory at once per batch.
    source_owner
        The facility each source point belongs to (a facility reached from several
        points); rows are then facilities ``0 … max(source_owner)``.
    walks
        ``(row, owner, metres)``: more walks between a row (a facility, or a source) and
        an owner, e.g. where they meet along a shared edge
        (:func:`~spatial.network.meeting.same_edge_costs`).

    Returns
    -------
    Reach
        The pairs within the radius and their metres; rows of off-network sources have
        none.
    """
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    metres_out: list[np.ndarray] = []
    ok_s = np.flatnonzero(sources.on_network)
    ok_a = access.on_network
    shape = (len(sources.edge), n_owners)
    if source_owner is not None:
        shape = (int(np.max(source_owner, initial=-1)) + 1, n_owners)
    w_row, w_owner, w_m = walks if walks is not None else (np.zeros(0, dtype=np.int64),) * 3
    near = np.asarray(w_m) <= radius_m
    rows_out.append(np.asarray(w_row, dtype=np.int64)[near])
    cols_out.append(np.asarray(w_owner, dtype=np.int64)[near])
    metres_out.append(np.asarray(w_m, dtype=float)[near])
    if len(ok_s) == 0 or not ok_a.any():
        return Reach.of(rows_out[0], cols_out[0], metres_out[0], shape)
    ea, oa, la = access.edge[ok_a], access.offset_m[ok_a], access.leg_m[ok_a]
    owners = access.owner[ok_a]
    order = np.argsort(owners, kind="stable")
    ea, oa, la, owners = ea[order], oa[order], la[order], owners[order]
    ua, va = network.u[ea], network.v[ea]
    tree = cKDTree(network.node_xy)
    # sources near each other share a batch (and most of its local network)
    cell = np.floor(network.node_xy[network.u[sources.edge[ok_s]]] / (2 * radius_m + 1.0))
    ok_s = ok_s[np.lexsort((cell[:, 1], cell[:, 0]))]
    batch = max(1, min(64, max_cells // (network.n_nodes + 1)))
    for lo in range(0, len(ok_s), batch):
        idx = ok_s[lo : lo + batch]
        e, off, leg = sources.edge[idx], sources.offset_m[idx], sources.leg_m[idx]
        # a node within the radius of a source's point is within radius + offset of its
        # edge's first node, the straight line being no longer than the walk
        near = tree.query_ball_point(network.node_xy[network.u[e]], radius_m + off)
        nodes = np.unique(np.concatenate([np.asarray(a, dtype=np.int64) for a in near]))
        at = np.full(network.n_nodes, -1, dtype=np.int64)
        at[nodes] = np.arange(len(nodes))
        mine = (at[ua] >= 0) | (at[va] >= 0) | np.isin(ea, e)
        if not mine.any():
            continue
        dist = _local_search(network, nodes, at, e, off, leg, radius_m)
        pad = np.concatenate([dist, np.full((len(idx), 1), np.inf)], axis=1)  # -1: beyond
        a_e, a_o, a_l, a_own = ea[mine], oa[mine], la[mine], owners[mine]
        via = (
            np.minimum(
                pad[:, at[ua[mine]]] + a_o, pad[:, at[va[mine]]] + network.length_m[a_e] - a_o
            )
            + a_l
        )
        same = e[:, None] == a_e[None, :]
        if same.any():
            direct = leg[:, None] + a_l[None, :] + np.abs(off[:, None] - a_o[None, :])
            via = np.where(same, np.minimum(via, direct), via)
        starts = np.flatnonzero(np.r_[True, a_own[1:] != a_own[:-1]])
        best = np.minimum.reduceat(via, starts, axis=1)
        r, c = np.nonzero(best <= radius_m)
        rows_out.append(idx[r])
        cols_out.append(a_own[starts][c])
        metres_out.append(best[r, c])
    r_all = np.concatenate(rows_out[1:]) if len(rows_out) > 1 else np.zeros(0, dtype=np.int64)
    c_all = np.concatenate(cols_out[1:]) if len(cols_out) > 1 else np.zeros(0, dtype=np.int64)
    if source_owner is not None:  # a facility reaches a compound from any of its points
        r_all = np.asarray(source_owner)[r_all]
    return Reach.of(
        np.concatenate([rows_out[0], r_all]),
        np.concatenate([cols_out[0], c_all]),
        np.concatenate(metres_out),
        shape,
    )


def _local_search(
    network: WalkNetwork,
    nodes: np.ndarray,
    at: np.ndarray,
    e: np.ndarray,
    off: np.ndarray,
    leg: np.ndarray,
    radius_m: float,
) -> np.ndarray:
    """Walk metres from each source (edge, offset, leg) to each of ``nodes`` (the part of
    the network a walk of ``radius_m`` can reach), bounded by the radius."""
    k, m = len(e), len(nodes)
    sub = network.csr[nodes][:, nodes]
    ends = np.column_stack([at[network.u[e]], at[network.v[e]]])
    w = np.column_stack([leg + off, leg + network.length_m[e] - off])
    keep = ends >= 0  # an end beyond the part is beyond the radius too
    rows = np.repeat(np.arange(k), 2).reshape(k, 2)[keep]
    extra = sparse.csr_array((np.maximum(w[keep], 1e-9), (rows, ends[keep])), shape=(k, m + k))
    graph = sparse.vstack([sparse.hstack([sub, sparse.csr_array((m, k))]), extra], format="csr")
    dist = csgraph.dijkstra(graph, directed=True, indices=np.arange(m, m + k), limit=radius_m)
    return np.asarray(dist[:, :m], dtype=float)


def coverage_matrix(
    network: WalkNetwork,
    sources: Attachment,
    access: AccessPoints,
    n_owners: int,
    *,
    radius_m: float,
    max_cells: int = 20_000_000,
    source_owner: np.ndarray | None = None,
    walks: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> sparse.csr_array:
    """Which owners (compounds) each source reaches within ``radius_m`` metres.

    Parameters
    ----------
    network, sources, access, n_owners, radius_m, max_cells, source_owner, walks
        As for :func:`reach_matrix`.

    Returns
    -------
    scipy.sparse.csr_array
        Boolean ``(n_sources, n_owners)`` (rows: facilities with ``source_owner``).
    """
    reach = reach_matrix(
        network,
        sources,
        access,
        n_owners,
        radius_m=radius_m,
        max_cells=max_cells,
        source_owner=source_owner,
        walks=walks,
    )
    return sparse.csr_array(
        (np.ones(len(reach.row), dtype=bool), (reach.row, reach.col)), shape=reach.shape
    )


def reachable_counts(
    network: WalkNetwork,
    sources: Attachment,
    access: AccessPoints,
    n_owners: int,
    *,
    radius_m: float,
    max_cells: int = 20_000_000,
    source_owner: np.ndarray | None = None,
    walks: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """How many sources each owner (compound) reaches within ``radius_m`` metres.

    Parameters
    ----------
    network
        The walk network (metric CRS).
    sources
        Facilities attached to the network.
    access
        Access points of the owners, attached to the network.
    n_owners
        Number of owners; ``access.owner`` indexes them.
    radius_m
        Walking radius, metres.
    max_cells
        Largest number of distances held in memory at once per batch.
    source_owner
        The facility each source point belongs to: facilities are counted, not points.
    walks
        ``(row, owner, metres)``: more walks, as for :func:`reach_matrix`.

    Returns
    -------
    ndarray of int
        Sources (facilities) within reach, one count per owner.
    """
    reach = reach_matrix(
        network,
        sources,
        access,
        n_owners,
        radius_m=radius_m,
        max_cells=max_cells,
        source_owner=source_owner,
        walks=walks,
    )
    return reach.counts()
