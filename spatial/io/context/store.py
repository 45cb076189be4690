"""The map context: streets by class, water, railways and place names, read and kept.

Read by :func:`spatial.io.context.read.read_context` from an OpenStreetMap file or a
planner's GIS layers; written and read back here.
``spatial gaps`` keeps it in ``context.gpkg`` beside its results, so a map drawn later,
or on another machine, has the same streets. What is drawn and how is
``spatial/standards/maps.toml``; :mod:`spatial.render.context` draws it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from spatial.io.outputs.write import atomic_path, read_gpkg
from spatial.standards.files import read_toml

__all__ = [
    "CONTEXT_FILE",
    "CONTEXT_LAYERS",
    "context_frame",
    "context_style",
    "load_context",
    "write_context",
]

CONTEXT_FILE = "context.gpkg"
CONTEXT_LAYERS = ("water", "rail", "street", "place")


@lru_cache(maxsize=1)
def context_style() -> dict[str, Any]:
    """The table of ``spatial/standards/maps.toml``: classes, tag lists and styles.

    Returns
    -------
    dict
        The parsed file.
    """
    return read_toml(None, default="maps.toml")[0]


def context_frame(rows: dict[str, list[Any]]) -> gpd.GeoDataFrame:
    """The context layers' rows as one frame (WGS84).

    Parameters
    ----------
    rows
        Column name → values (``kind``, ``class``, ``name``, ``geometry`` …).

    Returns
    -------
    GeoDataFrame
    """
    return gpd.GeoDataFrame(
        {"layer": rows["layer"], "cls": rows["cls"], "name": rows["name"]},
        geometry=shapely.from_wkb(rows["wkb"]) if rows["wkb"] else [],
        crs="EPSG:4326",
    )


def write_context(frame: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write the context as ``context.gpkg``: one layer per kind that has rows (atomically).

    Parameters
    ----------
    frame
        From :func:`read_context` (WGS84).
    path
        Target ``.gpkg``.

    Returns
    -------
    Path
        ``path``.
    """
    with atomic_path(path) as tmp:
        written = False
        for layer in CONTEXT_LAYERS:
            part = frame[frame["layer"] == layer]
            if len(part):
                part.to_file(tmp, layer=layer, engine="pyogrio", use_arrow=True, append=written)
                written = True
        if not written:
            frame.iloc[:0].to_file(tmp, layer="street", engine="pyogrio", use_arrow=True)
        sources = ",".join(frame.attrs.get("sources", []))
        pd.DataFrame({"sources": [sources]}).pipe(
            lambda t: gpd.GeoDataFrame(t, geometry=[None], crs="EPSG:4326")
        ).to_file(tmp, layer="sources", engine="pyogrio", use_arrow=True, append=True)
    return Path(path)


def load_context(path: str | Path) -> gpd.GeoDataFrame:
    """Read a ``context.gpkg`` back (see :func:`write_context`).

    Parameters
    ----------
    path
        A ``context.gpkg``.

    Returns
    -------
    GeoDataFrame
        As :func:`read_context` returned it, with ``attrs["sources"]``.
    """
    import pyogrio

    names = [n for n, _ in pyogrio.list_layers(path)]
    parts = [read_gpkg(path, n) for n in names if n in CONTEXT_LAYERS]
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else context_frame({"layer": [], "cls": [], "name": [], "wkb": []})
    )
    out = gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")
    if "sources" in names:
        text = read_gpkg(path, "sources")["sources"].iloc[0]
        out.attrs["sources"] = [s for s in str(text or "").split(",") if s]
    return out
