"""The package's names, each loaded when first used (lazy_loader reads this stub)."""

from .engine import (
    coverage_matrix,
    node_distances,
    point_distances,
    reachable_counts,
)
from .gaps import (
    GapResult,
    compute_gaps,
    gap_matrix,
)
from .params import (
    SCHOOL_UNKNOWN,
    GapParams,
)
from .pois import (
    PoiReport,
    classify_pois,
    deduplicate,
    prepare_pois,
)

__all__ = [
    "SCHOOL_UNKNOWN",
    "GapParams",
    "GapResult",
    "PoiReport",
    "classify_pois",
    "compute_gaps",
    "coverage_matrix",
    "deduplicate",
    "gap_matrix",
    "node_distances",
    "point_distances",
    "prepare_pois",
    "reachable_counts",
]
