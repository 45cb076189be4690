"""``finance.xlsx`` written by a second process while ``spatial bundles`` writes its
tables (the workbook is ~2 s of XlsxWriter at ~10,000 parcels, the tables ~1.3 s).

The process is spawned when the bundling starts, so its imports overlap the bundling.
The finance report goes to it through a pickle file beside the outputs, not the pipe:
sent through the pipe, its ~80 MB crossed in 64 KB pieces, each waiting for the run's
thread to hand over the interpreter (~0.9 s). What the writer logs (the rows left out
of the workbook) is said again by the run. Where no process can start (a daemonic Dask
worker, a platform without processes) or it breaks, the run writes the same file itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from spatial.finance import FinanceReport
from spatial.finance.workbook import workbook_share

__all__ = ["WorkbookProcess"]

log = logging.getLogger(__name__)

_Done = tuple[Path, list[logging.LogRecord]]


class _Kept(logging.Handler):
    """Log records kept, not shown."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _import_writer() -> None:
    import xlsxwriter  # noqa: F401  (the job then starts at once)

    import spatial.finance.workbook  # noqa: F401


def _write(report: FinanceReport, path: Path, sheets: int, left_out: Sequence[str] = ()) -> _Done:
    """``finance.xlsx`` and what its writer logged (kept for the run to say)."""
    from spatial.finance.workbook import write_finance_workbook

    handler = _Kept()
    top = logging.getLogger("spatial")
    top.addHandler(handler)
    top.propagate, propagate = False, top.propagate
    level = top.level
    top.setLevel(logging.DEBUG)  # the run decides what it shows
    try:
        start = time.perf_counter()
        written = write_finance_workbook(report, path, cash_flow_sheets=sheets, left_out=left_out)
        took = time.perf_counter() - start
        log.debug("finance.xlsx written by process %d in %.2f s", os.getpid(), took)
        return written, handler.records
    finally:
        top.removeHandler(handler)
        top.propagate = propagate
        top.setLevel(level)


def _write_from(pickled: str, path: Path, sheets: int) -> _Done:
    """In the second process: the report from its pickle file, then the workbook."""
    with open(pickled, "rb") as f:
        report, left_out = pickle.load(f)
    return _write(report, path, sheets, left_out)


class WorkbookProcess:
    """A spawned process that writes ``finance.xlsx``.

    Use :meth:`start` when the bundling starts, :meth:`submit` once the finance report
    is known, :meth:`result` after the other files are written, :meth:`close` always.

    Parameters
    ----------
    pool
        A pool of one spawned process.
    """

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        self.pool = pool
        self.future: Future[_Done] | None = None
        self.pickled: str | None = None

    @classmethod
    def start(cls) -> WorkbookProcess | None:
        """The process (importing the writer meanwhile), or None where none can start.

        Returns
        -------
        WorkbookProcess or None
        """
        try:
            pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            pool.submit(_import_writer)  # a pool starts its process at the first task
        except (AssertionError, OSError, RuntimeError, ValueError):
            return None
        return cls(pool)

    def submit(self, report: FinanceReport, path: Path, sheets: int) -> bool:
        """Hand the report over; False when the process cannot take it (the run then
        writes the workbook itself).

        Parameters
        ----------
        report
            From :func:`spatial.finance.finance_report`.
        path
            The ``finance.xlsx`` to write (in the run's folder).
        sheets
            Full cash-flow sheets (``cash_flow_sheets``).

        Returns
        -------
        bool
        """
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, self.pickled = tempfile.mkstemp(prefix=".finance-", dir=path.parent)
            share = workbook_share(report)  # a city's flows stay here
            with os.fdopen(handle, "wb") as f:
                pickle.dump(share, f, protocol=pickle.HIGHEST_PROTOCOL)
            self.future = self.pool.submit(_write_from, self.pickled, path, sheets)
        except (AssertionError, OSError, RuntimeError):
            self._forget()
            return False
        return True

    def result(self, report: FinanceReport, path: Path, sheets: int) -> Path:
        """The written ``finance.xlsx``, after saying what its writer logged; written
        here if the process broke (the same file either way).

        Parameters
        ----------
        report, path, sheets
            As given to :meth:`submit`.

        Returns
        -------
        Path
        """
        try:
            assert self.future is not None
            written, said = self.future.result()
        except (BrokenProcessPool, OSError, EOFError) as exc:
            log.info("finance.xlsx written here: the second process failed (%s)", exc)
            written, said = _write(report, path, sheets)
        finally:
            self._forget()
        for record in said:
            logger = logging.getLogger(record.name)
            if logger.isEnabledFor(record.levelno):
                logger.handle(record)
        return written

    def close(self) -> None:
        """Stop the process and remove the report's pickle file."""
        self.pool.shutdown(wait=False, cancel_futures=True)  # it ends on its own
        self._forget()

    def _forget(self) -> None:
        if self.pickled is not None:
            Path(self.pickled).unlink(missing_ok=True)
            self.pickled = None
