"""GeoPackage plumbing under SQLAlchemy: the geometry blob and the registry tables.

A GeoPackage is an SQLite file with a few registry tables (``gpkg_contents``,
``gpkg_geometry_columns`` …) and geometries stored as a small header followed by WKB
(OGC 12-128r18, clause 2.1.3). Writing both here keeps the whole database in one SQLite
transaction, which GDAL's writer cannot join; GDAL, QGIS and geopandas read the file
as any other GeoPackage.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

import shapely
from pyproj import CRS
from sqlalchemy import Connection, Table, text
from sqlalchemy.types import TypeDecorator, UserDefinedType

__all__ = [
    "GpkgGeometry",
    "create_registry",
    "decode_geometry",
    "encode_geometry",
    "register_tables",
]

#: "GPKG" as the SQLite application id, and the GeoPackage version 1.4.0.
_APPLICATION_ID = 0x47504B47
_USER_VERSION = 10400
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def encode_geometry(geom: shapely.Geometry | None, srid: int) -> bytes | None:
    """A shapely geometry as a GeoPackage geometry blob (little endian, xy envelope).

    Parameters
    ----------
    geom
        The geometry (None stays NULL).
    srid
        Its ``srs_id`` in ``gpkg_spatial_ref_sys``.

    Returns
    -------
    bytes or None
        Header, envelope and ISO WKB.
    """
    if geom is None:
        return None
    if geom.is_empty:
        return b"GP" + struct.pack("<BBi", 0, 0b00010001, srid) + shapely.to_wkb(geom)
    minx, miny, maxx, maxy = geom.bounds
    header = b"GP" + struct.pack("<BBi4d", 0, 0b00000011, srid, minx, maxx, miny, maxy)
    return header + shapely.to_wkb(geom, byte_order=1, flavor="iso")


def decode_geometry(blob: bytes | memoryview | None) -> shapely.Geometry | None:
    """A GeoPackage geometry blob (any envelope, any byte order) as a shapely geometry.

    Parameters
    ----------
    blob
        The stored value.

    Returns
    -------
    shapely.Geometry or None
        The geometry; None for NULL.
    """
    if blob is None:
        return None
    data = bytes(blob)
    if data[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry (no GP header)")
    flags = data[3]
    envelope = _ENVELOPE_BYTES[(flags >> 1) & 0b111]
    return shapely.from_wkb(data[8 + envelope :])


class _GeometryColumn(UserDefinedType[Any]):
    """The declared type GDAL reads: ``GEOMETRY``."""

    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        return "GEOMETRY"


class GpkgGeometry(TypeDecorator[Any]):
    """SQLAlchemy column type of a GeoPackage geometry: shapely in, shapely out.

    Parameters
    ----------
    srid
        The ``srs_id`` written into every blob.
    """

    impl = _GeometryColumn
    cache_ok = True

    def __init__(self, srid: int = 4326) -> None:
        super().__init__()
        self.srid = srid

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        """Encode a shapely geometry.

        Parameters
        ----------
        value
            The geometry, or None.
        dialect
            SQLAlchemy's dialect (unused).

        Returns
        -------
        bytes or None
            The GeoPackage blob.
        """
        return encode_geometry(value, self.srid)

    def process_result_value(self, value: Any, dialect: Any) -> shapely.Geometry | None:
        """Decode a stored blob.

        Parameters
        ----------
        value
            The blob, or None.
        dialect
            SQLAlchemy's dialect (unused).

        Returns
        -------
        shapely.Geometry or None
            The geometry.
        """
        return decode_geometry(value)


def create_registry(conn: Connection, srid: int = 4326) -> None:
    """Create the GeoPackage registry tables of an empty SQLite file.

    Parameters
    ----------
    conn
        A connection inside a transaction.
    srid
        The EPSG code of the data (registered in ``gpkg_spatial_ref_sys``).
    """
    conn.exec_driver_sql(f"PRAGMA application_id = {_APPLICATION_ID}")
    conn.exec_driver_sql(f"PRAGMA user_version = {_USER_VERSION}")
    for ddl in _REGISTRY_DDL:
        conn.exec_driver_sql(ddl)
    crs = CRS.from_epsg(srid)
    rows = [
        (crs.name, srid, "EPSG", srid, crs.to_wkt("WKT1_GDAL"), ""),
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", ""),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", ""),
    ]
    conn.execute(
        text(
            "INSERT INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, "
            "organization_coordsys_id, definition, description) VALUES (:n, :i, :o, :c, :d, :e)"
        ),
        [dict(zip("niocde", r, strict=True)) for r in rows],
    )
    conn.execute(
        text(
            "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, "
            "scope) VALUES ('gpkg_data_columns', NULL, 'gpkg_schema', "
            "'http://www.geopackage.org/spec/#extension_schema', 'read-write')"
        )
    )


def register_tables(
    conn: Connection,
    tables: Iterable[Table],
    *,
    srid: int,
    labels: dict[str, dict[str, tuple[str, str]]],
) -> None:
    """Register tables in ``gpkg_contents`` (features or attributes) and their aliases.

    Parameters
    ----------
    conn
        A connection inside a transaction.
    tables
        The tables; one with a :class:`GpkgGeometry` column is a feature table.
    srid
        Their ``srs_id``.
    labels
        ``{table: {column: (zh, en)}}``: written to ``gpkg_data_columns`` (name = the
        Chinese label, GDAL's and QGIS' field alias; description = the English one).
    """
    for table in tables:
        geom = [c.name for c in table.columns if isinstance(c.type, GpkgGeometry)]
        conn.execute(
            text(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                "VALUES (:t, :d, :t, :s)"
            ),
            {
                "t": table.name,
                "d": "features" if geom else "attributes",
                "s": srid if geom else None,
            },
        )
        for column in geom:
            conn.execute(
                text(
                    "INSERT INTO gpkg_geometry_columns (table_name, column_name, "
                    "geometry_type_name, srs_id, z, m) VALUES (:t, :c, 'GEOMETRY', :s, 0, 0)"
                ),
                {"t": table.name, "c": column, "s": srid},
            )
        names = labels.get(table.name, {})
        conn.execute(
            text(
                "INSERT INTO gpkg_data_columns (table_name, column_name, name, title, "
                "description) VALUES (:t, :c, :n, :n, :e)"
            ),
            [
                {"t": table.name, "c": c, "n": zh, "e": en}
                for c, (zh, en) in names.items()
                if c in table.columns
            ]
            or [{"t": table.name, "c": "fid", "n": "序号", "e": "row"}],
        )


_REGISTRY_DDL = (
    "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL "
    "PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, "
    "definition TEXT NOT NULL, description TEXT)",
    "CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT "
    "NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT "
    "NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, "
    "max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY "
    "(srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))",
    "CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT "
    "NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, "
    "m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), "
    "CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), "
    "CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))",
    "CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT "
    "NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE "
    "(table_name, column_name, extension_name))",
    "CREATE TABLE gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
    "name TEXT, title TEXT, description TEXT, mime_type TEXT, constraint_name TEXT, "
    "CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name))",
)
