"""Run the chain from files to output folders; the CLI is a thin face over these functions.

Each ``run_*`` loads and validates every input at once (one :class:`~spatial.InputError`
with all problems, before any expensive work), runs one stage through the library face
(:mod:`spatial.api`) or the stage's own function, and writes the stage's output folder
through :mod:`spatial.io.outputs.results`. Each stage's settings travel as the stage's own
parameter object (:class:`~spatial.lifecircle.params.GapParams`,
:class:`~spatial.bundling.params.BundleParams`, :class:`~spatial.policy.params.PlanParams`),
passed on unchanged; the defaults are declared there only.
"""

from spatial.pipeline.demo import demo_paths, run_demo
from spatial.pipeline.options import (
    BundleRun,
    DemoRun,
    GapRun,
    PlanRun,
)
from spatial.pipeline.planning import run_plan
from spatial.pipeline.runs import run_bundles, run_gaps

__all__ = [
    "BundleRun",
    "DemoRun",
    "GapRun",
    "PlanRun",
    "demo_paths",
    "run_bundles",
    "run_demo",
    "run_gaps",
    "run_plan",
]
