"""Rows of the database as (Geo)DataFrames and values as the database stores them."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, select

from spatial.db.connect import Database
from spatial.db.schema import SRID, SURVEY_FIELDS

__all__ = [
    "geometry_param",
    "geometry_value",
    "latest_plan_results",
    "plain",
    "read_compounds",
    "read_table",
    "value_text",
]


def geometry_param(db: Database, geom: shapely.Geometry | None) -> Any:
    """A shapely geometry as the back end binds it (GeoPackage blob, or EWKB for PostGIS).

    Parameters
    ----------
    db
        The database.
    geom
        WGS84 geometry, or None.

    Returns
    -------
    object
        The parameter value.
    """
    if geom is None or db.dialect == "sqlite":
        return geom  # GpkgGeometry encodes it
    from geoalchemy2.shape import from_shape

    return from_shape(geom, srid=SRID, extended=True)


def geometry_value(value: Any) -> shapely.Geometry | None:
    """A stored geometry (shapely from the GeoPackage, WKB elements from PostGIS).

    Parameters
    ----------
    value
        What the driver returned.

    Returns
    -------
    shapely.Geometry or None
        The geometry.
    """
    if value is None or isinstance(value, shapely.Geometry):
        return value
    data = getattr(value, "data", value)
    if isinstance(data, str):
        return shapely.from_wkb(bytes.fromhex(data))
    return shapely.from_wkb(bytes(data))


def plain(value: Any) -> Any:
    """A value as the database driver takes it (numpy scalars unwrapped, NaN as None).

    Parameters
    ----------
    value
        A cell of a DataFrame.

    Returns
    -------
    object
        None, bool, int, float or str (others unchanged).
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def value_text(value: Any) -> str | None:
    """A value as history rows keep it: text, with 1990.0 as 1990 and NaN as None.

    Parameters
    ----------
    value
        Any cell value.

    Returns
    -------
    str or None
        Its text.
    """
    value = plain(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, shapely.Geometry):
        return shapely.to_wkt(value, rounding_precision=7)
    return str(value)


def read_table(conn: Connection, db: Database, name: str, **where: Any) -> pd.DataFrame:
    """All rows of a table without geometry, optionally filtered by equal columns.

    Parameters
    ----------
    conn
        An open connection.
    db
        The database.
    name
        Table name.
    **where
        ``column=value`` filters.

    Returns
    -------
    DataFrame
        The rows, ordered by ``fid``.
    """
    table = db.table(name)
    cols = [c for c in table.columns if c.name != "geom"]
    query = select(*cols)
    for key, value in where.items():
        query = query.where(table.c[key] == value)
    order = table.c["fid"] if "fid" in table.c else table.c["id"]
    rows = conn.execute(query.order_by(order)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in cols])


def read_compounds(conn: Connection, db: Database, *, expand: bool = True) -> gpd.GeoDataFrame:
    """The compounds as they stand now (WGS84), survey columns typed.

    Parameters
    ----------
    conn
        An open connection.
    db
        The database.
    expand
        Turn the ``extra`` JSON into columns of their own (the survey table's other
        columns), as exports and runs use them.

    Returns
    -------
    GeoDataFrame
        ``id`` (the compound id), the survey columns, ``status``, ``status_year`` and
        geometry; EPSG:4326.
    """
    table = db.table("compounds")
    rows = conn.execute(select(table).order_by(table.c.fid)).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in table.columns])
    geoms = [geometry_value(g) for g in frame.pop("geom")]
    frame = frame.drop(columns=["fid"]).rename(columns={"compound_id": "id"})
    for name, dtype, _, _ in SURVEY_FIELDS:
        if dtype in ("int", "year"):
            frame[name] = pd.array(frame[name], dtype="Int64")
        elif dtype in ("float", "share"):
            frame[name] = pd.to_numeric(frame[name]).astype(float)
        elif dtype == "bool":
            frame[name] = pd.array(frame[name], dtype="boolean")
    if expand:
        extras = [_extra(v) for v in frame.pop("extra")]
        keys = list(dict.fromkeys(k for e in extras for k in e))
        for key in keys:
            if key not in frame:
                frame[key] = [e.get(key) for e in extras]
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=f"EPSG:{SRID}")


def _extra(value: str | None) -> Mapping[str, Any]:
    return json.loads(value) if value else {}


def latest_plan_results(conn: Connection, db: Database) -> tuple[int | None, pd.DataFrame]:
    """The latest plan run's rows (``compound_id``, ``year``, ``cost_yuan`` …).

    Parameters
    ----------
    conn
        An open connection.
    db
        The database.

    Returns
    -------
    run_id, rows
        The run's id and rows; None and no rows when the database holds no plan run.
    """
    runs = read_table(conn, db, "runs", kind="plan")
    if not len(runs):
        return None, pd.DataFrame(columns=["compound_id", "year", "cost_yuan"])
    run_id = int(runs["fid"].max())
    return run_id, read_table(conn, db, "plan_results", run_id=run_id)
