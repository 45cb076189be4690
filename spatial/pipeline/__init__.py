"""Run the chain from files to output folders; the CLI is a thin face over these functions.

Each ``run_*`` loads and validates every input at once (one :class:`~spatial.InputError`
with all problems, before any expensive work), runs one stage through the library face
(:mod:`spatial.api`) or the stage's own function, and writes the stage's output folder
through :mod:`spatial.io.results`. Stage settings travel as typed option dataclasses
(:class:`GapOptions`, :class:`BundleOptions`, :class:`PlanOptions`) whose defaults come
from :mod:`spatial.settings` and the standards files.
"""

from spatial.pipeline.demo import demo_paths, run_demo
from spatial.pipeline.options import (
    BundleOptions,
    BundleRun,
    DemoRun,
    GapOptions,
    GapRun,
    PlanOptions,
    PlanRun,
)
from spatial.pipeline.planning import run_plan
from spatial.pipeline.runs import run_bundles, run_gaps

__all__ = [
    "BundleOptions",
    "BundleRun",
    "DemoRun",
    "GapOptions",
    "GapRun",
    "PlanOptions",
    "PlanRun",
    "demo_paths",
    "run_bundles",
    "run_demo",
    "run_gaps",
    "run_plan",
]
