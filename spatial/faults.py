"""Faults of the machine, not of the data or the code: a full disk, a file-size limit,
no permission, a read-only folder, a file removed while a run used it.

:func:`machine_fault` recognises them under any library's exception (GDAL and SQLite
report a full disk in words, not with an errno); :class:`MachineFaultError` names them for
the user, with where and how much, instead of an internal error.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

__all__ = [
    "MachineFaultError",
    "free_bytes",
    "limit_fault",
    "machine_fault",
    "tree_bytes",
    "write_fault",
]

_ERRNO = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large (a file-size limit of this machine or user)",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
}
_WORDS = (
    ("no space left on device", "disk full"),
    ("database or disk is full", "disk full"),
    ("disk quota exceeded", "disk quota exceeded"),
    ("file too large", "file too large (a file-size limit of this machine or user)"),
    ("disk i/o error", "disk I/O error (a full disk or a file-size limit)"),
    ("read-only file system", "read-only file system"),
    ("permission denied", "permission denied"),
)


class MachineFaultError(Exception):
    """The machine stopped a run: what, where, and what was kept.

    The exception's text is the whole sentence shown to the user.
    """


def machine_fault(exc: BaseException, *, vanished_ok: bool = False) -> str | None:
    """What fault of the machine ``exc`` (or an exception it came from) is, if any.

    Parameters
    ----------
    exc
        Any exception.
    vanished_ok
        Count a missing file (ENOENT) as a fault: inside a run's own staging folder a
        file that vanished was removed by another program.

    Returns
    -------
    str or None
        ``"disk full"``, ``"permission denied"`` … or None for anything else.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError):
            if e.errno in _ERRNO:
                return _ERRNO[e.errno]
            if vanished_ok and e.errno == errno.ENOENT:
                return "a file vanished while the run wrote it (removed by another program?)"
        text = str(e).lower()
        for words, fault in _WORDS:
            if words in text:
                return fault
        todo += [e.__cause__, e.__context__]
    return None


def limit_fault() -> str | None:
    """The file-size limit (``ulimit -f``) a failed write most likely hit, if one is set.

    GDAL and SQLite can report a write cut by the limit as anything ("no such table");
    called only for a write that failed in a way no other check explains.

    Returns
    -------
    str or None
        The fault in words, or None when there is no limit.
    """
    try:
        import resource
    except ImportError:  # Windows: no such limit
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft == resource.RLIM_INFINITY:
        return None
    return (
        f"file too large (this run may write files of at most {soft / 1e6:,.2f} MB: "
        "a file-size limit, ulimit -f)"
    )


def tree_bytes(path: Path) -> int:
    """Bytes of the files under ``path`` (0 if it is gone).

    Parameters
    ----------
    path
        A file or folder.

    Returns
    -------
    int
        Their total size.
    """
    if path.is_file():
        return path.stat().st_size
    total = 0
    for p in path.rglob("*") if path.is_dir() else ():
        try:
            total += p.stat().st_size if p.is_file() else 0
        except OSError:
            continue
    return total


def free_bytes(path: Path) -> int | None:
    """Free bytes on the disk holding ``path`` (or its nearest existing parent).

    Parameters
    ----------
    path
        A file or folder, existing or not.

    Returns
    -------
    int or None
        Bytes free, or None when the disk cannot be asked.
    """
    for p in (path, *path.parents):
        if p.exists():
            try:
                return shutil.disk_usage(p).free
            except OSError:
                return None
    return None


#: Free bytes under which a failed write is taken as a full disk, whatever it said.
_NEARLY_FULL = 4_000_000


def write_fault(exc: BaseException, *, stage: Path, where: Path) -> str | None:
    """What fault of the machine stopped a run writing into ``stage``, if any.

    Parameters
    ----------
    exc
        What the write raised.
    stage
        The run's staging folder: a file of it gone missing was removed by another
        program.
    where
        The folder the outputs go to (its disk's free space is asked).

    Returns
    -------
    str or None
        The fault in words (:func:`machine_fault`, a file-size limit, or a full disk
        whatever GDAL/SQLite said), or None for anything else: a bug.
    """
    name = str(getattr(exc, "filename", None) or "")
    vanished = not stage.exists() or (
        isinstance(exc, FileNotFoundError) and name.startswith(str(stage))
    )
    fault = machine_fault(exc, vanished_ok=vanished) or limit_fault()
    free = free_bytes(where)
    if fault is None and free is not None and free < _NEARLY_FULL:
        # GDAL/SQLite on a full disk can fail with any message ("no such table")
        fault = f"disk full (the write failed with: {str(exc)[:120]})"
    return fault
