"""The database schema, one for the GeoPackage file and the PostGIS server.

SQLAlchemy Core describes every table once; only the geometry column's type differs by
back end (a GeoPackage blob in SQLite, GeoAlchemy2's ``geometry(GEOMETRY, 4326)`` with a
GiST index in PostGIS). SQLAlchemy rather than geopandas' ``to_postgis``/``to_file``:
an import touches five tables and must be one transaction with a write lock, which
geopandas' writers (GDAL for the GeoPackage) cannot join.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)

from spatial.io.survey.schema import CONTRACTS
from spatial.standards.files import read_toml

__all__ = [
    "SRID",
    "SURVEY_FIELDS",
    "Level",
    "Status",
    "bulletin_settings",
    "column_labels",
    "levels",
    "same_footprint_share",
    "statuses",
    "tables",
]

#: Geometries are stored in WGS84 lon/lat (EPSG:4326), as GIS users exchange them.
SRID = 4326
#: GeoPackage knows INTEGER (64 bit) but not BIGINT
_BIG = BigInteger().with_variant(Integer(), "sqlite")
_TYPES: dict[str, Any] = {
    "str": Text,
    "kind": Text,
    "int": _BIG,
    "year": Integer,
    "float": Double,
    "share": Double,
    "bool": Boolean,
}


@dataclass(frozen=True)
class Status:
    """A renovation status (改造状态).

    Attributes
    ----------
    code
        ``reserve``, ``planned``, ``underway`` or ``completed``.
    zh, en
        Labels.
    rank
        Order (a status never goes to a lower rank).
    colour
        Map colour, ``#rrggbb``.
    """

    code: str
    zh: str
    en: str
    rank: int
    colour: str


@dataclass(frozen=True)
class Level:
    """A roll-up level (社区 … 省).

    Attributes
    ----------
    column
        The compounds' column.
    zh, en
        Labels.
    headers
        Survey-table headers that name it.
    """

    column: str
    zh: str
    en: str
    headers: tuple[str, ...]


@cache
def _standards() -> dict[str, Any]:
    return read_toml(None, default="database.toml")[0]


def statuses() -> tuple[Status, ...]:
    """The renovation statuses in the order a compound moves through them.

    Returns
    -------
    tuple of Status
        From ``spatial/standards/database.toml``.
    """
    return tuple(
        Status(s["code"], s["zh"], s["en"], i, s["colour"])
        for i, s in enumerate(_standards()["status"])
    )


def levels() -> tuple[Level, ...]:
    """The roll-up levels, smallest first (社区, 街道, 区县, 市, 省).

    Returns
    -------
    tuple of Level
        From ``spatial/standards/database.toml``.
    """
    return tuple(
        Level(x["column"], x["zh"], x["en"], tuple(x["headers"])) for x in _standards()["level"]
    )


def bulletin_settings() -> dict[str, tuple[Any, str]]:
    """The monthly bulletin's settings: ``behind_months`` and ``timezone``.

    Returns
    -------
    dict
        Name → (value, source), from ``[bulletin]`` of ``database.toml``.
    """
    table = _standards()["bulletin"]
    return {k: (v["value"], str(v["source"])) for k, v in table.items()}


def same_footprint_share() -> float:
    """Overlap (share of the smaller footprint) above which two footprints are one.

    Returns
    -------
    float
        From ``[matching]`` of ``database.toml``.
    """
    return float(_standards()["matching"]["same_footprint_share"])


#: Survey columns of the compounds table: the compound contract (minus the id) and the
#: city and province a table may carry for the roll-up.
SURVEY_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    *((f.name, f.dtype, f.zh, f.en) for f in CONTRACTS["compounds"] if f.name != "id"),
    ("city", "str", "市", "city"),
    ("province", "str", "省", "province"),
)


def column_labels() -> dict[str, dict[str, tuple[str, str]]]:
    """Chinese and English labels of every user-facing column, per table.

    Returns
    -------
    dict
        ``{table: {column: (zh, en)}}``, for GeoPackage aliases and QGIS styles.
    """
    compounds = {
        "compound_id": ("小区编号", "compound id"),
        **{name: (zh, en) for name, _, zh, en in SURVEY_FIELDS},
        "status": ("改造状态", "renovation status"),
        "status_year": ("状态年度", "status year"),
        "extra": ("其他字段", "other columns"),
    }
    return {
        "compounds": compounds,
        "compound_history": {
            "compound_id": ("小区编号", "compound id"),
            "field": ("字段", "field"),
            "old_value": ("原值", "old value"),
            "new_value": ("新值", "new value"),
            "changed_at": ("时间", "when"),
            "changed_by": ("操作人", "who"),
            "source": ("来源", "source"),
        },
        "renovation_status": {
            "compound_id": ("小区编号", "compound id"),
            "year": ("年度", "year"),
            "status": ("改造状态", "status"),
        },
        "targets": {
            "level": ("层级", "level"),
            "unit": ("名称", "unit"),
            "year": ("年度", "year"),
            "compounds": ("小区数", "compounds"),
            "households": ("户数", "households"),
            "money_yuan": ("投资（元）", "investment (yuan)"),
        },
    }


@cache
def tables(dialect: str) -> MetaData:
    """The schema's tables for a back end.

    Parameters
    ----------
    dialect
        ``"sqlite"`` (GeoPackage) or ``"postgresql"`` (PostGIS).

    Returns
    -------
    MetaData
        Tables ``rounds``, ``compounds``, ``compound_history``, ``renovation_status``,
        ``targets``, ``runs``, ``gap_results``, ``plan_results``, ``run_layers`` and
        QGIS' ``layer_styles``.
    """
    if dialect == "sqlite":
        from spatial.db.gpkg import GpkgGeometry

        def geometry() -> Any:
            return GpkgGeometry(SRID)
    else:
        from geoalchemy2 import Geometry

        def geometry() -> Any:
            return Geometry("GEOMETRY", srid=SRID, spatial_index=True)

    md = MetaData()

    def fid() -> Column[Any]:
        return Column("fid", Integer, primary_key=True, autoincrement=True)

    def round_ref(nullable: bool = False) -> Column[Any]:
        return Column("round_id", Integer, ForeignKey("rounds.fid"), nullable=nullable)

    Table(
        "rounds",
        md,
        fid(),
        Column("name", Text, nullable=False, unique=True),
        Column("kind", Text, nullable=False),
        Column("surveyed_on", Text),
        Column("source", Text),
        Column("sha256", Text, nullable=False),
        Column("imported_by", Text),
        Column("imported_at", Text, nullable=False),
        Column("rows", Integer),
        UniqueConstraint("kind", "sha256"),
    )
    Table(
        "compounds",
        md,
        fid(),
        Column("compound_id", Text, nullable=False, unique=True),
        *(Column(name, _TYPES[dtype]) for name, dtype, _, _ in SURVEY_FIELDS),
        Column("extra", Text),
        Column("status", Text),
        Column("status_year", Integer),
        round_ref(),
        Column("geom", geometry()),
    )
    Table(
        "compound_history",
        md,
        fid(),
        Column("compound_id", Text, nullable=False, index=True),
        Column("field", Text, nullable=False),
        Column("old_value", Text),
        Column("new_value", Text),
        round_ref(),
        Column("changed_at", Text, nullable=False),
        Column("changed_by", Text),
        Column("source", Text),
    )
    Table(
        "renovation_status",
        md,
        fid(),
        Column("compound_id", Text, nullable=False),
        Column("year", Integer, nullable=False),
        Column("status", Text, nullable=False),
        round_ref(nullable=True),
        UniqueConstraint("compound_id", "year"),
    )
    Table(
        "targets",
        md,
        fid(),
        Column("level", Text, nullable=False),
        Column("unit", Text, nullable=False),
        Column("year", Integer, nullable=False),
        Column("compounds", Integer),
        Column("households", _BIG),
        Column("money_yuan", Double),
        round_ref(),
        UniqueConstraint("level", "unit", "year"),
    )
    Table(
        "runs",
        md,
        fid(),
        Column("kind", Text, nullable=False),
        Column("created_at", Text, nullable=False),
        Column("created_by", Text),
        Column("options", Text),
        Column("categories", Text),
        Column("dtypes", Text),
        Column("outputs", Text),
    )

    def run_ref() -> Column[Any]:
        return Column("run_id", Integer, ForeignKey("runs.fid"), nullable=False, index=True)

    Table(
        "gap_results",
        md,
        fid(),
        run_ref(),
        Column("compound_id", Text, nullable=False),
        Column("compound_name", Text),
        Column("category", Text, nullable=False),
        Column("level", Text),
        Column("radius_m", Double),
        Column("distance_m", Double),
        Column("walk_min", Double),
        Column("covered", Boolean),
        Column("status", Text),
        Column("access", Text),
        Column("reachable_count", Integer),
    )
    Table(
        "plan_results",
        md,
        fid(),
        run_ref(),
        Column("compound_id", Text, nullable=False),
        Column("status", Text),
        Column("rank", Double),
        Column("year", Integer),
        Column("cost_yuan", Double),
        Column("households", Double),
        Column("reason_zh", Text),
        Column("reason_en", Text),
    )
    Table(
        "run_layers",
        md,
        fid(),
        run_ref(),
        Column("layer", Text, nullable=False),
        Column("seq", Integer, nullable=False),
        Column("attrs", Text, nullable=False),
        Column("geom", geometry()),
    )
    Table(  # QGIS reads a layer's default style from here (GeoPackage and PostgreSQL alike)
        "layer_styles",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("f_table_catalog", Text),
        Column("f_table_schema", Text),
        Column("f_table_name", Text),
        Column("f_geometry_column", Text),
        Column("stylename", Text),
        Column("styleqml", Text),
        Column("stylesld", Text),
        Column("useasdefault", Boolean),
        Column("description", Text),
        Column("owner", Text),
        Column("ui", Text),
        Column("update_time", Text),
    )
    return md
