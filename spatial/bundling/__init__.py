"""Stage 4, bundles (大片区统筹平衡): money, adjacency, bundles, cross-area pairs, packages.

- :mod:`spatial.bundling.finance` cost, subsidy and land revenue per parcel, with the basis
- :mod:`spatial.bundling.adjacency` neighbours across lanes, not barriers; size limits
- :mod:`spatial.bundling.bundles` greedy bundles, cross-area pairs, subdistrict packages
- :mod:`spatial.bundling.units` old compounds and parcels in one frame
"""

from spatial.bundling.adjacency import BundleLimits, adjacency, load_limits
from spatial.bundling.bundles import BundleResult, find_bundles
from spatial.bundling.finance import (
    MONEY_COLUMNS,
    FinanceDefaults,
    load_finance,
    money_problems,
    parcel_finance,
)
from spatial.bundling.units import bundle_units

__all__ = [
    "MONEY_COLUMNS",
    "BundleLimits",
    "BundleResult",
    "FinanceDefaults",
    "adjacency",
    "bundle_units",
    "find_bundles",
    "load_finance",
    "load_limits",
    "money_problems",
    "parcel_finance",
]
