"""The category searches and service areas of a large network shared with a second
process.

One Dijkstra per category holds the GIL (scipy's csgraph), so threads do not help; a
spawned process gets the network's arrays once and takes categories from the end of
the list while this process takes them from the start, until they meet. There each
search also draws its category's service area from the node distances it found
(:func:`searches_and_outlines`). On a smaller network, searched in this process,
service areas (:class:`Outlines`) are shared the same way, a second process tracing
them while this one builds the tables. Where no process can be started (a daemonic
Dask worker, one core, a failed process) the rest is done here: the results are the
same either way.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

from spatial.heap import trim_heap
from spatial.lifecircle.areas import service_area
from spatial.lifecircle.engine import (
    EngineNet,
    OwnerTargets,
    csr_triple,
    net_arrays,
    owner_and_node_distances,
    owner_node_distances,
    owner_targets,
)
from spatial.network import Attachment, WalkNetwork
from spatial.network.attach import AccessPoints
from spatial.processes import from_the_end, result_or_here
from spatial.settings import DEFAULTS
from spatial.standards import Category

__all__ = ["Outlines", "category_distances", "searches_and_outlines", "searches_shared"]

log = logging.getLogger(__name__)

_Triple = tuple[np.ndarray, np.ndarray, np.ndarray]
_SHARED: tuple[EngineNet, OwnerTargets, WalkNetwork | None, dict[str, Any]] | None = None


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
    found = searches_and_outlines(
        network, sources, targets, n_owners, limits_m=limits_m, process_nodes=process_nodes
    )
    return found[0]


def searches_and_outlines(
    network: WalkNetwork,
    sources: Sequence[Attachment],
    targets: AccessPoints,
    n_owners: int,
    *,
    limits_m: Sequence[float],
    outlines: Sequence[Category | None] = (),
    outline_options: Mapping[str, Any] | None = None,
    process_nodes: int = DEFAULTS.engine_process_nodes,
) -> tuple[list[np.ndarray], list[dict[str, Any] | None]]:
    """:func:`category_distances`, each search's node distances also drawing its
    category's service area (:func:`~spatial.lifecircle.areas.service_area`) where one
    is asked: one search per category, not a second one for its outline.

    Parameters
    ----------
    network, sources, targets, n_owners, limits_m, process_nodes
        As for :func:`category_distances`; each limit at least its category's radius.
    outlines
        Per source set, the category whose service area is drawn, or None (empty:
        none is drawn).
    outline_options
        :func:`~spatial.lifecircle.areas.service_area`'s options (``half_width_m``, …).

    Returns
    -------
    tuple of lists
        The distances, as :func:`category_distances` returns, and per source set its
        service area (what :func:`~spatial.lifecircle.areas.service_area` returns) or None.
    """
    net = net_arrays(network)
    whole = owner_targets(net, targets, n_owners)
    jobs = [csr_triple(s) for s in sources]
    cats = list(outlines) or [None] * len(jobs)
    options = dict(outline_options or {})
    drawn = [k for k, c in enumerate(cats) if c is not None]
    pool = (
        _pool(net, whole, replace(network, problems=[]) if drawn else None, options)
        if searches_shared(network, sum(len(j[0]) > 0 for j in jobs), process_nodes)
        else None
    )
    futures: dict[int, Future[Any]] = {}
    if pool is not None:
        futures = from_the_end(
            pool,
            len(jobs),
            lambda k: (_search, jobs[k], float(limits_m[k]), _drawn_job(sources, cats, k)),
            "category searches",
        )
    try:
        out = _meet(
            futures,
            len(jobs),
            lambda k: _search_here(
                net,
                network,
                whole,
                jobs[k],
                float(limits_m[k]),
                _drawn_job(sources, cats, k),
                options,
            ),
            "search",
        )
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    return [np.asarray(o[0]) for o in out], [o[1] for o in out]


def searches_shared(network: WalkNetwork, busy: int, process_nodes: int) -> bool:
    """Whether a second process shares the category searches.

    Parameters
    ----------
    network
        The walk network.
    busy
        Categories with a facility on the network (each one search).
    process_nodes
        From this many network nodes on (and on a machine of two cores or more).

    Returns
    -------
    bool
    """
    return network.n_nodes >= process_nodes and busy >= 4 and (os.cpu_count() or 1) > 1


def _drawn_job(
    sources: Sequence[Attachment], cats: Sequence[Category | None], k: int
) -> tuple[Attachment, Category] | None:
    cat = cats[k]
    return None if cat is None else (sources[k], cat)


def _search_here(
    net: EngineNet,
    network: WalkNetwork | None,
    targets: OwnerTargets,
    sources: _Triple,
    limit_m: float,
    drawn: tuple[Attachment, Category] | None,
    options: Mapping[str, Any],
) -> tuple[np.ndarray, dict[str, Any] | None]:
    """One category's distances and, when asked, its service area from the same search
    (searched again up to its radius when the search stopped short of it)."""
    if drawn is None:
        return owner_node_distances(net, sources, targets, limit_m), None
    assert network is not None, "the process was started without the walk network"
    dist, dist_node = owner_and_node_distances(net, sources, targets, limit_m)
    found = dist_node if limit_m >= drawn[1].radius_m else None
    return dist, service_area(network, *drawn, **options, dist_node=found)


def _meet(
    futures: dict[int, Future[Any]], n: int, here: Callable[[int], Any], what: str
) -> list[Any]:
    """Results of jobs ``0`` … ``n - 1``: the second process's where it has begun the
    job, the rest done here (``here(k)``) from the first job on, until the two meet."""
    return [result_or_here(futures.get(k), partial(here, k), what) for k in range(n)]


def _pool(
    net: EngineNet,
    targets: OwnerTargets,
    network: WalkNetwork | None,
    options: Mapping[str, Any],
) -> ProcessPoolExecutor | None:
    try:
        return ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_receive,
            initargs=(net, targets, network, dict(options)),
        )
    except (AssertionError, OSError, ValueError) as exc:
        log.info("category searches in this process only: %s", exc)
        return None


def _receive(
    net: EngineNet, targets: OwnerTargets, network: WalkNetwork | None, options: dict[str, Any]
) -> None:
    """Keep the network, the targets and the outlines' options in the second process
    (once, at its start)."""
    global _SHARED
    _SHARED = (net, targets, network, options)


def _search(
    sources: _Triple, limit_m: float, drawn: tuple[Attachment, Category] | None
) -> tuple[np.ndarray, dict[str, Any] | None]:
    assert _SHARED is not None, "the process was started without its network"
    net, targets, network, options = _SHARED
    try:
        return _search_here(net, network, targets, sources, limit_m, drawn, options)
    finally:
        if drawn is not None:  # the process would grow by an outline's working memory
            trim_heap()


class Outlines:
    """Service areas of many categories (:func:`~spatial.lifecircle.areas.service_area`),
    a second process tracing them from the last category on as soon as this object is
    made, while this process goes on with other work; :meth:`collect` traces the rest
    here, from the first category, until the two meet.

    Parameters
    ----------
    network
        The walk network (metric CRS).
    jobs
        The facilities' ways onto the network and their category, one pair per area.
    half_width_m
        Half the width of the corridor drawn around the street parts, metres.
    cell_m, max_cells
        The grid the outlines are traced on (see :func:`service_area`).
    streets
        Also keep the street parts (see :func:`service_area`).
    process_nodes
        From this many network nodes on, a second process shares the work (when the
        machine has a second core).
    """

    def __init__(
        self,
        network: WalkNetwork,
        jobs: Sequence[tuple[Attachment, Category]],
        *,
        half_width_m: float,
        cell_m: float = DEFAULTS.service_area_cell_m,
        max_cells: int = DEFAULTS.service_area_max_cells,
        streets: bool = False,
        process_nodes: int = DEFAULTS.outline_process_nodes,
    ) -> None:
        self.network, self.jobs = network, list(jobs)
        self.options: dict[str, Any] = {
            "half_width_m": half_width_m,
            "cell_m": cell_m,
            "max_cells": max_cells,
            "streets": streets,
        }
        self.futures: dict[int, Future[dict[str, Any]]] = {}
        self.pool: ProcessPoolExecutor | None = None
        if len(self.jobs) >= 2 and network.n_nodes >= process_nodes and (os.cpu_count() or 1) > 1:
            try:
                self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
                # the network's fields only (no cached indexes), sent once as the first
                # task: by the pool's feeder thread, while the process starts and imports
                self.pool.submit(_receive_network, replace(network, problems=[]))
            except (AssertionError, OSError, ValueError, BrokenProcessPool) as exc:
                log.info("service areas in this process only: %s", exc)
            if self.pool is not None:
                self.futures = from_the_end(
                    self.pool,
                    len(self.jobs),
                    lambda k: (_outline, *self.jobs[k], self.options),
                    "service areas",
                )
            if not self.futures:
                self.close()

    def collect(self) -> list[dict[str, Any]]:
        """Every job's service area, in the order of the jobs.

        Returns
        -------
        list of dict
            What :func:`service_area` returns, per job.
        """
        try:
            return _meet(
                self.futures,
                len(self.jobs),
                lambda k: service_area(self.network, *self.jobs[k], **self.options),
                "service-area",
            )
        finally:
            self.close()

    def close(self) -> None:
        """Stop the second process (what it has not begun is cancelled)."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool, self.futures = None, {}


_NETWORK: WalkNetwork | None = None


def _receive_network(network: WalkNetwork) -> None:
    """Keep the network in the second process (its first task)."""
    global _NETWORK
    _NETWORK = network


def _outline(sources: Attachment, cat: Category, options: dict[str, Any]) -> dict[str, Any]:
    assert _NETWORK is not None, "the process was started without its network"
    try:
        return service_area(_NETWORK, sources, cat, **options)
    finally:
        trim_heap()  # the process would grow by a category's working memory each time
