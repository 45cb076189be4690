"""The package's names, each loaded when first used (lazy_loader reads this stub)."""

from .bundlemap import (
    bundle_map,
)
from .gapmap import (
    gap_map,
)
from .offline import (
    BASEMAPS,
    save_map,
)

__all__ = [
    "BASEMAPS",
    "bundle_map",
    "gap_map",
    "save_map",
]
