"""The map context — streets by class, water, railways, place names — in one home: read
from an OSM file or a planner's GIS layers, kept in ``context.gpkg`` beside the results,
and read back; :mod:`spatial.render.context` draws it.

- :mod:`spatial.io.context.read` reading it from OSM or GIS layers (:func:`read_context`)
- :mod:`spatial.io.context.store` its style, writing and loading ``context.gpkg``
"""

__all__: list[str] = []
