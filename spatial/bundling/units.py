"""The units bundling works on: old compounds and the other parcels in one frame."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

__all__ = ["bundle_units"]


def bundle_units(
    compounds: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame | None,
    gaps: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Old compounds and other parcels in one frame, ready for bundling.

    Parameters
    ----------
    compounds
        Old compounds with canonical columns, metric CRS; they get ``kind="old_compound"``.
    parcels
        Shantytowns, old factories, urban villages … with a ``kind`` column, or None.
    gaps
        Gap table with ``id`` and ``missing``; joined onto the compounds by id.

    Returns
    -------
    GeoDataFrame
        Compounds then parcels, new RangeIndex, in the compounds' CRS.
    """
    comp = compounds.assign(kind="old_compound")
    if gaps is not None and "missing" in gaps:
        missing = pd.Series(gaps["missing"].to_numpy(), index=gaps["id"].astype(str))
        comp["missing"] = comp["id"].astype(str).map(missing).to_numpy()
    parts = [comp] + ([parcels.to_crs(comp.crs)] if parcels is not None and len(parcels) else [])
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=comp.crs)
