"""The package's names, each loaded when first used (lazy_loader reads this stub)."""

from .engine import (
    node_distances,
    point_distances,
)
from .gaps import (
    begin_gaps,
    compute_gaps,
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
from .result import (
    GapResult,
    PendingGaps,
)
from .statuses import (
    STATUSES,
    gap_matrix,
)
from .within import (
    Reach,
    coverage_matrix,
    reach_matrix,
    reachable_counts,
)

__all__ = [
    "SCHOOL_UNKNOWN",
    "STATUSES",
    "GapParams",
    "GapResult",
    "PendingGaps",
    "PoiReport",
    "Reach",
    "begin_gaps",
    "classify_pois",
    "compute_gaps",
    "coverage_matrix",
    "deduplicate",
    "gap_matrix",
    "node_distances",
    "point_distances",
    "prepare_pois",
    "reach_matrix",
    "reachable_counts",
]
