"""Rounds: every import is one, named once, its file's hash kept so no file comes twice."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import Connection, insert

from spatial._errors import Problem
from spatial.db.connect import Database
from spatial.db.frames import read_table
from spatial.db.stamps import now_text, user_name

__all__ = ["add_round", "file_sha256", "next_round", "round_problems"]


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (the same file is not imported twice).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    str
        Hex digest.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def round_problems(
    conn: Connection, db: Database, *, name: str, sha256: str, kind: str, source: str
) -> list[Problem]:
    """Errors for a round name or a file imported before.

    Parameters
    ----------
    conn
        Connection inside the import's transaction.
    db
        The database.
    name, sha256, kind, source
        The new round's name, its file's hash, ``survey``/``status``/``targets``, and
        the file as messages name it.

    Returns
    -------
    list of Problem
        Empty when the round is new.
    """
    rounds = read_table(conn, db, "rounds")
    found = []
    same = rounds[rounds["name"] == name]
    if len(same):
        r = same.iloc[0]
        found.append(
            Problem.error(
                source,
                f"round {name!r} was imported already ({r['imported_at']}, by "
                f"{r['imported_by']}, from {r['source']})",
                hint="give this survey a new --round name (e.g. 2026年第二轮)",
            )
        )
    twin = rounds[(rounds["sha256"] == sha256) & (rounds["kind"] == kind)]
    if len(twin):
        found.append(
            Problem.error(
                source,
                f"this file was imported already as round {twin.iloc[0]['name']!r}",
                hint="a re-import would change nothing; import the new survey's file",
            )
        )
    return found


def next_round(conn: Connection, db: Database) -> int:
    """The id the next round gets.

    Parameters
    ----------
    conn
        Connection inside the import's write transaction.
    db
        The database.

    Returns
    -------
    int
        One more than the largest round id (1 for the first).
    """
    fids = read_table(conn, db, "rounds")["fid"]
    return int(fids.max()) + 1 if len(fids) else 1


def add_round(
    conn: Connection,
    db: Database,
    *,
    name: str,
    kind: str,
    path: str | Path,
    rows: int,
    by: str | None = None,
    fid: int | None = None,
    surveyed_on: str | None = None,
) -> int:
    """Record an import as a round (inside the import's transaction).

    Parameters
    ----------
    conn
        Connection inside the import's write transaction.
    db
        The database.
    name, kind
        The round's name and ``survey``/``status``/``targets``.
    path
        The imported file (its name and SHA-256 are kept).
    rows
        Rows imported.
    by
        Who imports (default ``SPATIAL_USER`` or the login name).
    fid
        The round's id when already chosen (default the next one).
    surveyed_on
        Date of the survey (default today).

    Returns
    -------
    int
        The round's id.
    """
    fid = fid if fid is not None else next_round(conn, db)
    when = now_text()
    conn.execute(
        insert(db.table("rounds")).values(
            fid=fid,
            name=name,
            kind=kind,
            surveyed_on=surveyed_on or when[:10],
            source=Path(path).name,
            sha256=file_sha256(path) if Path(path).is_file() else "",
            imported_by=by or user_name(),
            imported_at=when,
            rows=rows,
        )
    )
    return fid
