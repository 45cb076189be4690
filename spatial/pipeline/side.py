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
import queue
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from spatial._errors import InputError, InputWarning, Problem, format_problems
from spatial.io.osm.walk import WalkWays

__all__ = ["SideJobs", "write_context"]

log = logging.getLogger(__name__)

#: The usual reason a spawned process ends at once: it starts by importing the caller's
#: script, which then runs again
_HINT = (
    ' (a script that calls spatial should run it under `if __name__ == "__main__":`, '
    "as multiprocessing requires)"
)


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
    from spatial.io.context.read import read_context
    from spatial.io.context.store import CONTEXT_FILE
    from spatial.io.context.store import write_context as _write

    try:
        return _write(read_context([source]), Path(folder) / CONTEXT_FILE)
    except InputError as exc:  # the run goes on without it, and says so
        said = [
            Problem.warning(
                p.file,
                f"map context left out (the maps show no streets or water under the data): "
                f"{p.message}",
                hint="give the maps a context of your own (spatial map --context FILE)",
            )
            for p in exc.errors
        ]
        warnings.warn(InputWarning(format_problems(said), said), stacklevel=2)
        return None


def _side_main(source: str, folder: str, walk: bool, context: bool, out: Any) -> None:
    """The second process: the walk ways first (the run waits for them), then the context.

    Each result is put on ``out`` as soon as it is ready; a failure puts None (the
    first process then does that part itself and says why).
    """
    if walk:
        from spatial.io.osm.network import read_osm_walk

        try:
            ways: WalkWays | None = read_osm_walk(source)
        except InputError:  # read again there, to say why
            ways = None
        out.put(("walk", ways))
    if context:
        written = write_context(source, Path(folder))
        out.put(("context", None if written is None else str(written)))


@dataclass
class SideJobs:
    """A second process reading the walk ways and the map context of one file.

    Use :meth:`start`; then :meth:`walk` and :meth:`context` give the results (each
    falls back to reading here when the process gives none or dies), and :meth:`stop`
    ends the process (also on errors).

    Parameters
    ----------
    process
        The spawned ``multiprocessing`` process.
    results
        The queue it puts its results on.
    asked
        ``walk`` and/or ``context``: what it was asked for.
    source
        The network file.
    folder
        The run's folder.
    """

    process: Any
    results: Any
    asked: frozenset[str]
    source: Path
    folder: Path
    _got: dict[str, Any] = field(default_factory=dict, init=False)

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
        spawn = multiprocessing.get_context("spawn")
        path = Path(source)
        try:
            results = spawn.Queue()
            process = spawn.Process(
                target=_side_main,
                args=(str(path), str(folder), walk, context, results),
                daemon=True,
            )
            process.start()
        except (AssertionError, OSError) as exc:  # a daemonic process (Dask worker) …
            log.info("inputs read in this process only: %s", exc)
            return None
        asked = frozenset(k for k, on in (("walk", walk), ("context", context)) if on)
        return cls(process, results, asked, path, Path(folder))

    def _wait(self, key: str) -> tuple[bool, Any]:
        """(True, result) when the process gave ``key``; (False, None) when it died."""
        while key not in self._got:
            try:
                name, value = self.results.get(timeout=0.5)
            except queue.Empty:
                if self.process.is_alive():
                    continue
                try:  # it may have put the result just before ending
                    name, value = self.results.get(timeout=0.5)
                except queue.Empty:
                    return False, None
            self._got[name] = value
        return True, self._got[key]

    def walk(self) -> WalkWays | None:
        """The walk ways read by the second process; None when it has none to give.

        Returns
        -------
        WalkWays or None
            None: read them here (the file failed there, or the process died).
        """
        if "walk" not in self.asked:
            return None
        done, ways = self._wait("walk")
        if not done:
            log.warning("walk ways: the second process ended without them; read here%s", _HINT)
        return cast("WalkWays | None", ways)

    def context(self) -> Path | None:
        """``context.gpkg`` written by the second process (written here if it failed).

        Returns
        -------
        Path or None
            None when the file gives no context.
        """
        if "context" in self.asked:
            done, written = self._wait("context")
            if done:
                return None if written is None else Path(written)
            log.warning("map context: the second process ended without it; read here%s", _HINT)
        return write_context(self.source, self.folder)

    def stop(self) -> None:
        """End the second process, whatever it is doing."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.results.close()
