"""A static overview map of the inputs: compounds by build year, parcels, barriers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from spatial.io.outputs.write import atomic_path

__all__ = ["write_overview_png"]


def write_overview_png(
    compounds: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame | None,
    path: str | Path,
    *,
    barriers: gpd.GeoSeries | None = None,
) -> Path:
    """Write a static overview map: compounds by build year, parcels, barriers (PNG).

    Parameters
    ----------
    compounds
        Compounds (any CRS; drawn in theirs), coloured by ``build_year`` when present.
    parcels
        Other parcels drawn in red, or None.
    path
        PNG file to write (atomically).
    barriers
        Barrier lines or areas (e.g. :attr:`spatial.io.OSMLayers.barriers`), any CRS.

    Returns
    -------
    Path
        The file written.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 9))  # no pyplot: no global backend or figure state
    ax = fig.subplots()
    crs = compounds.crs
    if barriers is not None and len(barriers):
        barriers.to_crs(crs).plot(ax=ax, color="#4a90d9", linewidth=2)
    if parcels is not None and len(parcels):
        parcels.plot(ax=ax, color="#e8736c", alpha=0.6)
    compounds.plot(
        ax=ax,
        column="build_year" if "build_year" in compounds else None,
        cmap="viridis",
        legend=True,
        alpha=0.8,
        legend_kwds={"label": "build year", "shrink": 0.6},
    )
    ax.set_title("Old compounds by build year; red: parcels to bundle; blue: barriers")
    ax.set_axis_off()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format="png")
    return Path(path)
