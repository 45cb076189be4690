"""Stage 3, the 15-minute life circle: POIs into categories, exact distances, gaps.

- :mod:`spatial.lifecircle.pois` classify POIs into categories, de-duplicate sources
- :mod:`spatial.lifecircle.engine` bounded multi-source Dijkstra with edge offsets
- :mod:`spatial.lifecircle.reach` how compounds are entered; meetings on shared edges
- :mod:`spatial.lifecircle.gaps` gaps of every compound for every category, summary
- :mod:`spatial.lifecircle.result` what the stage returns; a result still tracing its
  service areas while its tables are written
- :mod:`spatial.lifecircle.areas` service areas: reachable street parts and their outline
"""

import lazy_loader

# the names of __init__.pyi, each imported when first used: importing the package does
# no work (``spatial --help`` loads no geopandas)
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
