"""Stage 4, bundles (大片区统筹平衡): money, adjacency, bundles, cross-area pairs, packages.

- :mod:`spatial.bundling.finance` cost, subsidy and land revenue per parcel, with the basis
- :mod:`spatial.bundling.adjacency` neighbours across lanes, not barriers; size limits
- :mod:`spatial.bundling.bundles` greedy bundles, cross-area pairs, subdistrict packages
- :mod:`spatial.bundling.units` old compounds and parcels in one frame
"""

import lazy_loader

# the names of __init__.pyi, each imported when first used: importing the package does
# no work (``spatial --help`` loads no geopandas)
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
