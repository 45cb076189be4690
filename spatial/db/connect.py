"""Open, create and lock the compound database (a GeoPackage file or a PostGIS server).

Every write is one transaction holding the database's write lock: SQLite's ``BEGIN
IMMEDIATE`` on the GeoPackage (a second writer waits, up to a minute), and a
transaction-level advisory lock on PostgreSQL. Two imports at once therefore run one
after the other, each seeing what the other wrote; one that fails leaves nothing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from spatial._errors import InputError, Problem
from spatial.db.schema import SRID, column_labels, tables

__all__ = ["Database", "init_db", "open_db"]

#: Key of PostgreSQL's advisory lock held by every write transaction.
_LOCK_KEY = 4_711_2020
_BUSY_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Database:
    """An open compound database.

    Attributes
    ----------
    engine
        The SQLAlchemy engine.
    label
        What to call it in messages (the file, or the URL without its password).
    """

    engine: Engine
    label: str

    @property
    def dialect(self) -> str:
        """``"sqlite"`` (GeoPackage) or ``"postgresql"``."""
        return self.engine.dialect.name

    @property
    def metadata(self) -> MetaData:
        """The schema's tables for this back end."""
        return tables(self.dialect)

    def table(self, name: str) -> Table:
        """One table of the schema.

        Parameters
        ----------
        name
            Table name (``compounds``, ``rounds`` …).

        Returns
        -------
        Table
            The SQLAlchemy table.
        """
        return self.metadata.tables[name]

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A write transaction holding the database's write lock (commit or roll back)."""
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only connection."""
        with self.engine.connect() as conn:
            yield conn


def _is_url(target: str) -> bool:
    return target.startswith(("postgresql:", "postgresql+", "postgres:"))


def _engine(target: str) -> tuple[Engine, str]:
    if _is_url(target):
        url = make_url(target.replace("postgres://", "postgresql://", 1))
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        label = url.render_as_string(hide_password=True).replace("+psycopg", "", 1)
        return create_engine(url, poolclass=NullPool), label
    engine = create_engine(f"sqlite:///{target}", poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's own BEGIN below
        dbapi_conn.execute("PRAGMA foreign_keys = ON")
        dbapi_conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine, target


def _problem(label: str, message: str, hint: str) -> InputError:
    return InputError([Problem.error(label, message, hint=hint)])


def open_db(target: str | Path) -> Database:
    """Open an initialised database.

    Parameters
    ----------
    target
        A ``.gpkg`` file, or ``postgresql://user@host:port/name``.

    Returns
    -------
    Database
        The open database.

    Raises
    ------
    InputError
        When the file is missing, is not a GeoPackage, or the server cannot be reached or
        holds no initialised database.
    """
    # no connection pool: a command opens a few connections, each closed after use
    text_target = str(target)
    if not _is_url(text_target):
        path = Path(text_target)
        if path.suffix.lower() != ".gpkg":
            raise _problem(
                text_target,
                "a database is a .gpkg file or a postgresql:// URL",
                "name a GeoPackage (e.g. 老旧小区.gpkg) or postgresql://user@host/db",
            )
        if not path.is_file():
            raise _problem(
                text_target,
                "no database here",
                f"create it first: spatial db init --db {text_target}",
            )
    engine, label = _engine(text_target)
    try:
        with engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
    except Exception as exc:  # unreachable server, bad password, not an SQLite file …
        raise _problem(
            label,
            f"cannot open the database: {str(exc).splitlines()[0]}",
            "check the file or the server's address, user and password",
        ) from exc
    missing = {"rounds", "compounds"} - present
    if missing:
        raise _problem(
            label,
            "not a compound database (no tables " + ", ".join(sorted(missing)) + ")",
            f"create one with: spatial db init --db {label}",
        )
    _add_new_columns(engine, present)
    return Database(engine, label)


#: Columns added to the schema since its first version: (table, column, SQL type).
_NEW_COLUMNS = (("gap_results", "access", "TEXT"),)


def _add_new_columns(engine: Engine, present: set[str]) -> None:
    """Add to a database made by an earlier version the columns it lacks."""
    with engine.connect() as conn:
        todo = [
            (table, column, kind)
            for table, column, kind in _NEW_COLUMNS
            if table in present
            and column not in {c["name"] for c in inspect(conn).get_columns(table)}
        ]
    if todo:
        with engine.begin() as conn:
            for table, column, kind in todo:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {kind}"))


def init_db(target: str | Path) -> Database:
    """Create the schema: a new GeoPackage file, or the tables in a PostGIS database.

    The GeoPackage is built in a temporary file and renamed into place; on PostgreSQL
    the PostGIS extension is created if missing and the tables in one transaction.

    Parameters
    ----------
    target
        A ``.gpkg`` path that does not exist yet, or a ``postgresql://`` URL.

    Returns
    -------
    Database
        The new database.

    Raises
    ------
    InputError
        When the file exists, or the server already holds the tables.
    """
    from spatial.db.styles import write_styles

    text_target = str(target)
    if _is_url(text_target):
        engine, label = _engine(text_target)
        try:
            with engine.begin() as conn:
                present = set(inspect(conn).get_table_names())
                if "compounds" in present:
                    raise _problem(label, "the database is initialised already", "use it")
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
                md = tables("postgresql")
                md.create_all(conn)
                _comment_columns(conn, md)
                write_styles(conn, md, catalog=str(engine.url.database or ""), schema="public")
        except InputError:
            raise
        except Exception as exc:
            raise _problem(
                label,
                f"cannot create the tables: {str(exc).splitlines()[0]}",
                "check the server's address and that the user may create tables and the "
                "postgis extension",
            ) from exc
        return Database(engine, label)
    path = Path(text_target)
    if path.suffix.lower() != ".gpkg":
        raise _problem(text_target, "a database file ends in .gpkg", "name it e.g. 老旧小区.gpkg")
    if path.exists():
        raise _problem(
            text_target, "the file exists already", "name a new file, or use this one as it is"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(suffix=".gpkg", dir=path.parent, prefix=f".{path.stem}.")
    os.close(fd)
    os.unlink(tmp_name)
    engine, _ = _engine(tmp_name)
    try:
        _init_gpkg(engine)
        engine.dispose()
        os.replace(tmp_name, path)
    finally:
        engine.dispose()
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return open_db(path)


def _init_gpkg(engine: Engine) -> None:
    from spatial.db.gpkg import create_registry, register_tables
    from spatial.db.styles import write_styles

    md = tables("sqlite")
    with engine.begin() as conn:
        create_registry(conn, SRID)
        md.create_all(conn)
        register_tables(conn, md.sorted_tables, srid=SRID, labels=column_labels())
        write_styles(conn, md, catalog="", schema="")


def _comment_columns(conn: Connection, md: MetaData) -> None:
    """Chinese labels as PostgreSQL column comments (QGIS shows them)."""
    preparer = conn.dialect.identifier_preparer
    for table_name, labels in column_labels().items():
        for column, (zh, en) in labels.items():
            if column in md.tables[table_name].columns:
                label = f"{zh} {en}".replace("'", "''")  # our own labels, quoted anyway
                conn.exec_driver_sql(
                    f"COMMENT ON COLUMN {preparer.quote(table_name)}."
                    f"{preparer.quote(column)} IS '{label}'"
                )
