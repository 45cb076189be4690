"""Stage 6, maps: offline interactive folium maps and static maps for reports.

- :mod:`spatial.render.gapmap` the gap map; :mod:`spatial.render.bundlemap` the bundle map
- :mod:`spatial.render.static` PNG/PDF maps with Chinese labels
- :mod:`spatial.render.overview` the overview PNG of the inputs
- :mod:`spatial.render.offline` Leaflet inlined, base maps, legends

The tables they draw are read by :mod:`spatial.io.outputs.results`.
"""

import lazy_loader

# the names of __init__.pyi, each imported when first used: importing the package does
# no work (``spatial --help`` loads no geopandas)
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
