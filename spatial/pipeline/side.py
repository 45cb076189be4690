"""Work a run hands to a second process while it loads and checks its inputs.

On a whole city the walk ways of a large ``.osm.pbf`` (a pass of libosmium with a
Python step per way) and the map context (another pass) would come after the inputs
are loaded and checked, one after the other. A spawned process (no state shared with
this one) reads the walk ways first, then the context, while this process loads and
checks the compounds and POIs; the network is then built here from the ways it
returns. Where no process can be started (a daemonic Dask worker, a platform without
it) or the second process fails, the same reading is done here: the results are the
same either way.
"""

from __future__ import annotations

import logging
import multiprocessing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spatial._errors import InputError
from spatial.io.osm_walk import WalkWays

__all__ = ["SideJobs", "write_context"]

log = logging.getLogger(__name__)


def write_context(source: str | Path, folder: Path) -> Path | None:
    """``context.gpkg`` of the network file, or None (said in the log) when unreadable.

    Parameters
    ----------
    source
        The OSM file or GIS layer the network comes from.
    folder
        Where ``context.gpkg`` is written.

    Returns
    -------
    Path or None
        The file written.
    """
    from spatial.io.context import CONTEXT_FILE
    from spatial.io.context import write_context as _write
    from spatial.network.context import read_context

    try:
        return _write(read_context([source]), Path(folder) / CONTEXT_FILE)
    except InputError as exc:
        log.warning("map context left out: %s", exc)
        return None


def _context_job(source: str, folder: str) -> str | None:
    written = write_context(source, Path(folder))
    return None if written is None else str(written)


def _walk_job(source: str) -> WalkWays | None:
    """The walk ways, or None when the file cannot be read (read again there, to say why)."""
    from spatial.io.osm_network import read_osm_walk

    try:
        return read_osm_walk(source)
    except InputError:
        return None


@dataclass
class SideJobs:
    """A second process reading the walk ways and the map context of one file.

    Use :meth:`start`; then :meth:`walk` and :meth:`context` give the results (each
    falls back to reading here), and :meth:`stop` ends the process (also on errors).

    Parameters
    ----------
    pool
        The ``multiprocessing`` pool of one spawned process.
    walk_job, context_job
        Their pending results (None: not asked for).
    source
        The network file.
    folder
        The run's folder.
    """

    pool: Any
    walk_job: Any
    context_job: Any
    source: Path
    folder: Path

    @classmethod
    def start(
        cls, source: str | Path, folder: Path, *, walk: bool, context: bool
    ) -> SideJobs | None:
        """Start the jobs asked for, or None when none is or no process can start.

        Parameters
        ----------
        source
            The network file.
        folder
            The run's folder (``context.gpkg`` is written there).
        walk
            Read the walk ways of ``source`` (an OSM file).
        context
            Write the map context of ``source``.

        Returns
        -------
        SideJobs or None
            The running jobs.
        """
        if not (walk or context):
            return None
        try:
            pool = multiprocessing.get_context("spawn").Pool(1)
        except (AssertionError, OSError, RuntimeError, ValueError) as exc:
            log.info("inputs read in this process only: %s", exc)
            return None
        path = Path(source)
        walk_job = pool.apply_async(_walk_job, (str(path),)) if walk else None
        context_job = pool.apply_async(_context_job, (str(path), str(folder))) if context else None
        return cls(pool, walk_job, context_job, path, Path(folder))

    def walk(self) -> WalkWays | None:
        """The walk ways read by the second process; None when it has none to give.

        Returns
        -------
        WalkWays or None
            None: read them here (the file failed there, or the process died).
        """
        if self.walk_job is None:
            return None
        try:
            return self.walk_job.get()
        except Exception as exc:  # the process died (memory, signal): read here
            log.warning("walk ways: the second process failed (%s); read here", exc)
            return None

    def context(self) -> Path | None:
        """``context.gpkg`` written by the second process (written here if it failed).

        Returns
        -------
        Path or None
            None when the file gives no context.
        """
        if self.context_job is None:
            return write_context(self.source, self.folder)
        try:
            result = self.context_job.get()
            return None if result is None else Path(result)
        except Exception as exc:  # the process died (memory, signal): do it here
            log.warning("map context: the second process failed (%s); read here", exc)
            return write_context(self.source, self.folder)

    def stop(self) -> None:
        """End the second process, whatever it is doing."""
        self.pool.terminate()
        self.pool.join()
