"""Units on this machine's cores: a pool of worker processes that import the toolkit once.

A Dask ``LocalCluster`` costs about 2 s to start and 0.5 s to stop, and each of its
workers imports the toolkit again (2.5 s) before its first unit: on eight small units
that is a third of the batch (``benchmarks/batch.py``). Here the workers are forked from
a process that has imported the stages already: from this process on Linux with Python
before 3.12; elsewhere from a fork server that imports them once (Python 3.12 warns
about forking a process with threads, and numpy's BLAS has some). Stages come back on a
queue as ``(unit, stage)``. When a worker dies the pool stops them all: the units that
had begun run again one at a time (the one whose worker dies again fails, saying so),
the others on a new pool.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from .spec import Unit
from .unit import run_unit, send_events_to

__all__ = ["run_local"]

#: What a unit imports: loaded once before the workers start (their first unit would).
_STAGES = (
    "spatial.pipeline.runs",
    "spatial.pipeline.planning",
    "spatial.pipeline.maps",
    "spatial.lifecircle.gaps",
    "spatial.bundling.bundles",
    "spatial.finance.workbook",
    "spatial.render.gapmap",
    "spatial.render.bundlemap",
    "spatial.demo",
)


def _context(start_method: str | None) -> Any:
    methods = mp.get_all_start_methods()
    method = start_method or (
        "fork"
        if "fork" in methods and sys.platform == "linux" and sys.version_info < (3, 12)
        else "forkserver"
        if "forkserver" in methods
        else "spawn"
    )
    ctx = mp.get_context(method)
    if method == "fork":
        import importlib

        for name in _STAGES:  # the workers inherit them
            importlib.import_module(name)
    elif method == "forkserver":
        ctx.set_forkserver_preload(list(_STAGES))
    return ctx


def run_local(
    units: list[Unit],
    out: Path,
    *,
    workers: int,
    force: bool = False,
    on_stage: Callable[[str, str], None] | None = None,
    start_method: str | None = None,
) -> Iterator[tuple[Unit, dict[str, Any] | None]]:
    """Run units on ``workers`` processes of this machine, yielding each record as it ends.

    Parameters
    ----------
    units
        The units, the largest first (they are started in this order).
    out
        The batch folder.
    workers
        Worker processes.
    force
        Run unchanged units too.
    on_stage
        ``on_stage(unit name, stage)`` as units start their stages.
    start_method
        ``fork``, ``forkserver`` or ``spawn`` (default: the fastest safe one here).

    Yields
    ------
    tuple
        ``(unit, record)`` as units finish; ``(unit, None)`` for a unit whose worker
        died while running it.
    """
    ctx = _context(start_method)
    events = ctx.SimpleQueue()  # written at once: a worker that dies next has told
    started: set[str] = set()

    def drain(wait_s: float = 0.0) -> None:
        until = time.monotonic() + wait_s
        while True:
            while not events.empty():
                name, stage = events.get()
                if stage == "inputs":
                    started.add(name)
                if on_stage is not None:
                    on_stage(name, stage)
            if time.monotonic() >= until:
                return
            time.sleep(0.05)

    todo: list[Unit] = list(units)
    suspects: list[Unit] = []
    while todo or suspects:
        alone = not todo  # a unit whose pool broke runs again by itself
        batch = todo if todo else [suspects.pop(0)]
        started.clear()
        ended: set[str] = set()
        broken = False
        with ProcessPoolExecutor(
            1 if alone else min(workers, len(batch)),
            mp_context=ctx,
            initializer=send_events_to,
            initargs=(events,),
        ) as pool:
            futures = {pool.submit(run_unit, u, str(out), force=force): u for u in batch}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                drain()
                for future in done:
                    try:
                        record = future.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    ended.add(futures[future].name)
                    yield futures[future], record
        if broken:
            drain(wait_s=0.5)  # the stages the dead worker sent before it died
        left = [u for u in batch if u.name not in ended]
        if alone:
            for unit in left:
                yield unit, None
            continue
        todo = []
        if broken:
            # the pool stops every worker when one dies: the units that had begun are
            # suspects (each runs alone next), the others run on a new pool
            suspects += [u for u in left if u.name in started] or left[:1]
            todo = [u for u in left if u not in suspects]
    drain()
