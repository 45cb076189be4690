"""Files that belong together, written as one set beside other files (:func:`file_set`).

``spatial map`` writes a gap map, a bundle map, PNGs, a map book folder and an atlas
into a folder that may hold anything else. They are drawn into a hidden staging folder
first; only when every one is written are they moved onto their names, listed in a
journal so that a run killed during the move (milliseconds) is completed by the next.
A kill at any other moment leaves the earlier set whole. Every file carries its run id
(:data:`RUN_STAMP`), so a mixed set could not pass unseen either.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from spatial._errors import InputError, Problem
from spatial.faults import (
    MachineFaultError,
    free_bytes,
    tree_bytes,
    write_fault,
)

__all__ = ["RUN_STAMP", "file_set", "run_stamp_of"]

#: The run id and time of the set being written; the map writers put it in each file
#: (an HTML ``<meta name="spatial-run">``, PNG and PDF metadata).
RUN_STAMP: ContextVar[str | None] = ContextVar("spatial_run_stamp", default=None)

_JOURNAL = ".complete.json"


def _stages(parent: Path, name: str) -> list[Path]:
    return sorted(parent.glob(f".{name}.set-*"))


def _move_in(stage: Path, parent: Path) -> None:
    """Move the staged entries onto their names (again, where a move was cut short)."""
    entries = json.loads((stage / _JOURNAL).read_text("utf-8"))["entries"]
    aside = stage.with_name(stage.name.replace(".set-", ".old-", 1))
    aside.mkdir(exist_ok=True)
    for entry in entries:
        new, target = stage / entry, parent / entry
        if not new.exists() and not new.is_symlink():
            continue  # moved before the kill
        if target.is_dir() and not target.is_symlink():
            os.replace(target, aside / entry)  # a folder cannot be replaced in one step
        os.replace(new, target)
    shutil.rmtree(aside, ignore_errors=True)
    shutil.rmtree(stage, ignore_errors=True)


def _recover(parent: Path, name: str) -> None:
    """Finish a set whose move was cut short; drop one whose drawing was."""
    for stage in _stages(parent, name):
        if (stage / _JOURNAL).exists():
            _move_in(stage, parent)
        else:
            shutil.rmtree(stage, ignore_errors=True)
    for aside in parent.glob(f".{name}.old-*"):
        shutil.rmtree(aside, ignore_errors=True)


@contextmanager
def file_set(parent: str | Path, *, name: str) -> Iterator[Path]:
    """Stage a set of files and folders and move them into ``parent`` together.

    Parameters
    ----------
    parent
        The folder the files go to (created if missing).
    name
        The set's name (the gap map's stem), for the staging folder and the lock.

    Yields
    ------
    Path
        The staging folder: write the files there under their final names. While the
        block runs, :data:`RUN_STAMP` holds ``"<run id> <time>"``.

    Raises
    ------
    InputError
        The folder cannot be written, or another run is writing the same set.
    MachineFaultError
        The disk filled, a permission was refused … while the set was written; the
        earlier set is left as it was.
    """
    from filelock import FileLock, Timeout

    parent = Path(parent).absolute()
    try:
        parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(parent / f".{name}.set.lock", timeout=0)
        lock.acquire()
    except Timeout:
        raise InputError(
            [
                Problem.error(
                    str(parent / name),
                    "another spatial run is writing these maps",
                    hint="wait for it to finish, or give another --out",
                )
            ]
        ) from None
    except OSError as exc:
        raise InputError(
            [
                Problem.error(
                    str(parent),
                    f"cannot write here: {exc.strerror or exc}",
                    hint="choose a folder you can write",
                )
            ]
        ) from None
    token = None
    try:
        _recover(parent, name)
        run_id = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        stage = parent / f".{name}.set-{run_id}"
        try:
            stage.mkdir()
            token = RUN_STAMP.set(f"{run_id} {time.strftime('%Y-%m-%dT%H:%M:%S%z')}")
            yield stage
            entries = sorted(p.name for p in stage.iterdir())
            (stage / _JOURNAL).write_text(json.dumps({"entries": entries}), "utf-8")
            _move_in(stage, parent)
        except Exception as exc:
            fault = write_fault(exc, stage=stage, where=parent)
            if fault is None:
                raise
            free = free_bytes(parent)
            raise MachineFaultError(
                f"cannot write the maps in {parent}: {fault} (the run had written "
                f"{tree_bytes(stage) / 1e6:,.1f} MB"
                + (f"; {free / 1e6:,.1f} MB free there" if free is not None else "")
                + "); the earlier maps are kept as they were"
            ) from exc
        finally:
            if token is not None:
                RUN_STAMP.reset(token)
            if stage.exists() and not (stage / _JOURNAL).exists():
                shutil.rmtree(stage, ignore_errors=True)
    finally:
        lock.release()


def run_stamp_of(path: str | Path) -> str | None:
    """The run stamp an HTML page written in a :func:`file_set` carries.

    Parameters
    ----------
    path
        A page (``.html``).

    Returns
    -------
    str or None
        ``"<run id> <time>"``, or None for a page without one.
    """
    with open(path, encoding="utf-8", errors="replace") as fh:
        head = fh.read(4096)
    start = head.find('<meta name="spatial-run" content="')
    if start < 0:
        return None
    start += len('<meta name="spatial-run" content="')
    return head[start : head.find('"', start)]
