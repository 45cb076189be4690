"""Stage 3, the 15-minute life circle: POIs into categories, exact distances, gaps.

- :mod:`spatial.lifecircle.pois` classify POIs into categories, de-duplicate sources
- :mod:`spatial.lifecircle.engine` bounded multi-source Dijkstra with edge offsets
- :mod:`spatial.lifecircle.reach` how compounds are entered; meetings on shared edges
- :mod:`spatial.lifecircle.gaps` gaps of every compound for every category, summary
"""

from spatial.lifecircle.engine import (
    coverage_matrix,
    node_distances,
    point_distances,
    reachable_counts,
)
from spatial.lifecircle.gaps import GapResult, compute_gaps, gap_matrix
from spatial.lifecircle.pois import PoiReport, classify_pois, deduplicate, prepare_pois

__all__ = [
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
