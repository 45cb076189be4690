"""Many cities at once: run every unit of a province file on Dask and roll the results up.

- :mod:`spatial.batch.spec` the province file (units, hierarchy, inputs, settings)
- :mod:`spatial.batch.unit` one unit's task: gaps → bundles → plan → maps, hashed
- :mod:`spatial.batch.engine` the Dask client, the tasks, the progress
- :mod:`spatial.batch.rollup` ``province.xlsx`` and the overview map
"""

from spatial.batch.engine import BatchRun, BatchStatus, run_batch
from spatial.batch.rollup import rollup_tables, write_rollup
from spatial.batch.spec import DemoSpec, InputFile, Province, Unit, load_province
from spatial.batch.unit import run_unit, unit_hash

__all__ = [
    "BatchRun",
    "BatchStatus",
    "DemoSpec",
    "InputFile",
    "Province",
    "Unit",
    "load_province",
    "rollup_tables",
    "run_batch",
    "run_unit",
    "unit_hash",
    "write_rollup",
]
