"""Readers and writers: tables, GIS files, OSM XML/PBF, Chinese coordinate systems."""

from spatial.io.load import Loaded, LoadSpec, check_file, load_layer, load_layers
from spatial.io.osm.barriers import read_osm_barriers
from spatial.io.osm.read import OSMLayers, read_osm
from spatial.io.outputs.write import atomic_path, write_csv, write_gpkg, write_text

__all__ = [
    "LoadSpec",
    "Loaded",
    "OSMLayers",
    "atomic_path",
    "check_file",
    "load_layer",
    "load_layers",
    "read_osm",
    "read_osm_barriers",
    "write_csv",
    "write_gpkg",
    "write_text",
]
