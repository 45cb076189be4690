"""Maps: offline interactive folium maps and static maps for reports."""

from spatial.render._offline import BASEMAPS, save_map
from spatial.render.bundlemap import BundleTables, bundle_map, load_bundle_tables
from spatial.render.gapmap import GapTables, gap_map, load_gap_tables

__all__ = [
    "BASEMAPS",
    "BundleTables",
    "GapTables",
    "bundle_map",
    "gap_map",
    "load_bundle_tables",
    "load_gap_tables",
    "save_map",
]
