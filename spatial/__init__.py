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
from importlib import metadata
from typing import Any

from spatial._errors import InputError, InputWarning, Problem

__all__ = [
    "BundleParams",
    "GapParams",
    "InputError",
    "InputWarning",
    "PlanParams",
    "Problem",
    "__version__",
    "bundles",
    "gaps",
    "plan",
    "prepare",
]

try:  # the installed distribution's version: declared once, in pyproject.toml
    __version__ = metadata.version("spatial")
except metadata.PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0+unknown"

#: Names loaded when first used, and the module that holds each.
_LAZY = {
    "gaps": "spatial.api",
    "bundles": "spatial.api",
    "plan": "spatial.api",
    "prepare": "spatial.api",
    "GapParams": "spatial.lifecircle.params",
    "BundleParams": "spatial.bundling.params",
    "PlanParams": "spatial.policy.params",
}


def __getattr__(name: str) -> Any:
    """Load the library face (``gaps``, ``bundles``, ``plan``, ``prepare``), the stages'
    parameter objects and ``api`` when first used."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "api":
        return importlib.import_module("spatial.api")
    raise AttributeError(f"module 'spatial' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The face, for tab completion (not the module's own imports)."""
    return sorted({*__all__, "api"})
