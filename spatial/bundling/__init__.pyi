"""The package's names, each loaded when first used (lazy_loader reads this stub)."""

from .adjacency import (
    BundleLimits,
    adjacency,
    load_limits,
)
from .bundles import (
    BundleResult,
    find_bundles,
)
from .finance import (
    MONEY_COLUMNS,
    FinanceDefaults,
    load_finance,
    money_problems,
    parcel_finance,
)
from .units import (
    bundle_units,
)

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
