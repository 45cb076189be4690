"""Jobs shared with a second process from the end of the list while this process takes
them from the start, until the two meet (the category searches, the service areas and
the maps' outline layers); a job the second process has not begun, or lost with the
process, is done here, so the results are the same either way."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

__all__ = ["from_the_end", "result_or_here"]

log = logging.getLogger(__name__)

T = TypeVar("T")


def from_the_end(
    pool: Executor, n: int, call: Callable[[int], tuple[Any, ...]], what: str
) -> dict[int, Future[Any]]:
    """Jobs ``n - 1`` … ``0`` submitted to ``pool``.

    Parameters
    ----------
    pool
        A pool of one worker (a spawned process, or a thread).
    n
        Number of jobs.
    call
        ``call(k)``: job ``k``'s function and its arguments.
    what
        The jobs' name for the log.

    Returns
    -------
    dict
        Job → future; empty where the pool cannot take them (a daemonic process may
        not start one …): all are then done here.
    """
    futures: dict[int, Future[Any]] = {}
    try:
        for k in reversed(range(n)):
            fn, *args = call(k)
            futures[k] = pool.submit(fn, *args)
    except (AssertionError, OSError, RuntimeError, ValueError, BrokenProcessPool) as exc:
        log.info("%s in this process only: %s", what, exc)
        return {}
    return futures


def result_or_here(future: Future[T] | None, here: Callable[[], T], what: str) -> T:
    """A job's result from the second process if it has begun it, else done here.

    Parameters
    ----------
    future
        The job's future (None: never submitted).
    here
        Does the job in this process.
    what
        The jobs' name for the log.

    Returns
    -------
    object
        What the job returns; a job not begun is cancelled there and done here, and so is
        one whose process died.
    """
    if future is not None and not future.cancel():
        try:
            return future.result()
        except (OSError, EOFError, BrokenProcessPool) as exc:  # the process died
            log.warning("the second %s process failed (%s); done here", what, exc)
    return here()
