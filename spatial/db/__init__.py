"""The compound database (老旧小区数据库): survey rounds, history, statuses and results.

A GeoPackage file is the embedded default, a PostgreSQL/PostGIS server the shared
option; both hold the same schema (:mod:`spatial.db.schema`).
"""

from spatial.db.connect import Database, init_db, open_db
from spatial.db.export import export_db
from spatial.db.progress import import_status, import_targets
from spatial.db.results import load_gap_tables_db, save_gap_run, save_plan_run
from spatial.db.rollup import progress
from spatial.db.survey import ImportReport, import_survey

__all__ = [
    "Database",
    "ImportReport",
    "export_db",
    "import_status",
    "import_survey",
    "import_targets",
    "init_db",
    "load_gap_tables_db",
    "open_db",
    "progress",
    "save_gap_run",
    "save_plan_run",
]
