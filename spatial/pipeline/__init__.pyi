"""The package's names, each loaded when first used (lazy_loader reads this stub)."""

from .demo import demo_paths, run_demo
from .options import BundleRun, DemoRun, GapRun, PlanRun
from .planning import run_plan
from .runs import run_bundles, run_gaps

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
