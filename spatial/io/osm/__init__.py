"""Reading OpenStreetMap files (XML or PBF, ODbL): every layer in one pass, or the walk
network or barriers alone.

- :mod:`spatial.io.osm.read` compounds, POIs, entrances, barriers, parcels (:func:`read_osm`)
- :mod:`spatial.io.osm.elements` tags, lines and multipolygons of the file's elements
- :mod:`spatial.io.osm.rows` which layer an element gives rows of
- :mod:`spatial.io.osm.tags` walkable ways and gates
- :mod:`spatial.io.osm.walk`, :mod:`spatial.io.osm.network` the walk ways
- :mod:`spatial.io.osm.barriers` barriers alone (for bundling)
"""

import lazy_loader

# the names of __init__.pyi, each imported when first used
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
