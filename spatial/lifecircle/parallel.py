"""The category searches of a large network shared with a second process.

One Dijkstra per category holds the GIL (scipy's csgraph), so threads do not help; a
spawned process gets the network's arrays once and takes categories from the end of
the list while this process takes them from the start, until they meet. Where no
process can be started (a daemonic Dask worker, one core, a failed process) the rest
is searched here: the distances are the same either way.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from spatial.lifecircle.engine import (
    EngineNet,
    OwnerTargets,
    csr_triple,
    net_arrays,
    owner_node_distances,
    owner_targets,
)
from spatial.network import Attachment, WalkNetwork
from spatial.network.attach import AccessPoints
from spatial.settings import DEFAULTS

__all__ = ["category_distances"]

log = logging.getLogger(__name__)

_Triple = tuple[np.ndarray, np.ndarray, np.ndarray]
_SHARED: tuple[EngineNet, OwnerTargets] | None = None


def category_distances(
    network: WalkNetwork,
    sources: Sequence[Attachment],
    targets: AccessPoints,
    n_owners: int,
    *,
    limits_m: Sequence[float],
    process_nodes: int = DEFAULTS.engine_process_nodes,
) -> list[np.ndarray]:
    """:func:`~spatial.lifecircle.engine.owner_distances` for many source sets at once.

    Parameters
    ----------
    network
        The walk network (metric CRS).
    sources
        One set of attached facilities per category.
    targets
        Access points of the owners (compounds) on the same network.
    n_owners
        Number of owners; ``targets.owner`` indexes them.
    limits_m
        Search limit of each set, metres.
    process_nodes
        From this many network nodes on, a second process shares the searches (when
        the machine has a second core).

    Returns
    -------
    list of ndarray
        Per source set, one distance per owner in metres (NaN beyond the limit,
        unreachable or without access points), as :func:`owner_distances` returns.
    """
    net = net_arrays(network)
    whole = owner_targets(net, targets, n_owners)
    jobs = [csr_triple(s) for s in sources]
    out: list[np.ndarray | None] = [None] * len(jobs)
    pool = _pool(net, whole) if _worth_it(network, jobs, process_nodes) else None
    futures: dict[int, Future[np.ndarray]] = {}
    if pool is not None:
        try:  # the second process works from the end
            for k in reversed(range(len(jobs))):
                futures[k] = pool.submit(_search, jobs[k], float(limits_m[k]))
        except (AssertionError, OSError, BrokenProcessPool) as exc:  # a daemonic process …
            log.info("category searches in this process only: %s", exc)
            futures = {}
    try:
        for k, job in enumerate(jobs):
            fut = futures.get(k)
            if fut is not None and not fut.cancel():
                try:
                    out[k] = fut.result()
                    continue
                except (OSError, BrokenProcessPool) as exc:  # the process died: search here
                    log.warning("the second search process failed (%s); searched here", exc)
            out[k] = owner_node_distances(net, job, whole, float(limits_m[k]))
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    return [np.asarray(o) for o in out]


def _worth_it(network: WalkNetwork, jobs: Sequence[_Triple], process_nodes: int) -> bool:
    busy = sum(len(j[0]) > 0 for j in jobs)
    return network.n_nodes >= process_nodes and busy >= 4 and (os.cpu_count() or 1) > 1


def _pool(net: EngineNet, targets: OwnerTargets) -> ProcessPoolExecutor | None:
    try:
        return ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_receive,
            initargs=(net, targets),
        )
    except (AssertionError, OSError, ValueError) as exc:
        log.info("category searches in this process only: %s", exc)
        return None


def _receive(net: EngineNet, targets: OwnerTargets) -> None:
    """Keep the network and the targets in the second process (once, at its start)."""
    global _SHARED
    _SHARED = (net, targets)


def _search(sources: _Triple, limit_m: float) -> np.ndarray:
    assert _SHARED is not None, "the process was started without its network"
    net, targets = _SHARED
    return owner_node_distances(net, sources, targets, limit_m)
