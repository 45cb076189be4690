"""The package's names, each loaded when first used (lazy_loader reads this stub)."""

from .barriers import read_osm_barriers
from .network import read_osm_walk
from .read import OSM_SUFFIXES, POI_KEYS, OSMLayers, WalkWays, is_osm_file, read_osm

__all__ = [
    "OSM_SUFFIXES",
    "POI_KEYS",
    "OSMLayers",
    "WalkWays",
    "is_osm_file",
    "read_osm",
    "read_osm_barriers",
    "read_osm_walk",
]
