"""Stage 6, maps: offline interactive folium maps and static maps for reports.

- :mod:`spatial.render.gapmap` the gap map; :mod:`spatial.render.bundlemap` the bundle map
- :mod:`spatial.render.static` PNG/PDF maps with Chinese labels
- :mod:`spatial.render.overview` the overview PNG of the inputs
- :mod:`spatial.render._offline` Leaflet inlined, base maps, legends

The tables they draw are read by :mod:`spatial.io.results`.
"""

from spatial.render._offline import BASEMAPS, save_map
from spatial.render.bundlemap import bundle_map
from spatial.render.gapmap import gap_map

__all__ = ["BASEMAPS", "bundle_map", "gap_map", "save_map"]
