"""spatial — planning the renovation of China's old residential compounds (老旧小区改造).

The library face (GeoDataFrames in, GeoDataFrames out, indexed like the input)::

    import spatial
    per_compound = spatial.gaps(compounds, pois, "area.osm")
    per_parcel = spatial.bundles(units, barriers=barriers)
    planned = spatial.plan(per_compound, profile="taian", budget_yuan=5e8)

Stages, in the order data flows through them (a lower stage never imports a higher one):

- :mod:`spatial.io` readers and writers, schema, CRS, checks, the output folders
- :mod:`spatial.network` the walk network, attachment, access points
- :mod:`spatial.lifecircle` POIs into categories, the distance engine, gaps
- :mod:`spatial.bundling` money, adjacency, bundles (大片区统筹平衡)
- :mod:`spatial.policy` eligibility, needs, ranking, annual plans, siting, workbook
- :mod:`spatial.render` offline HTML maps and static maps
- :mod:`spatial.api` (the face) and :mod:`spatial.pipeline` (files to folders)
- :mod:`spatial.cli` the ``spatial`` command

Importing the package does no work: the face and the stages load when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from spatial._errors import InputError, InputWarning, Problem

__all__ = ["InputError", "InputWarning", "Problem", "__version__", "bundles", "gaps", "plan"]

__version__ = "0.1.0"

_FACE = ("gaps", "bundles", "plan")


def __getattr__(name: str) -> Any:
    """Load the library face (``gaps``, ``bundles``, ``plan``) and ``api`` when first used."""
    if name in _FACE:
        return getattr(importlib.import_module("spatial.api"), name)
    if name == "api":
        return importlib.import_module("spatial.api")
    raise AttributeError(f"module 'spatial' has no attribute {name!r}")
