"""Run the chain from files to outputs. The CLI is a thin face over these functions.

So far the chain is: (generate the demo city) → load and validate every input at
once → project to metres → write the validated database, an inventory by
subdistrict and an overview map. Later stages (gaps, bundles, maps) plug in here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from spatial.demo import DemoCity, generate_demo
from spatial.io.load import LoadSpec, load_layers
from spatial.io.osm import read_osm
from spatial.io.write import atomic_path, write_csv, write_gpkg
from spatial.projection import to_wgs84
from spatial.schema import PARCEL_KINDS
from spatial.settings import Progress, no_progress

__all__ = ["DemoRun", "demo_paths", "inventory", "run_demo", "write_overview_png"]


@dataclass
class DemoRun:
    """What :func:`run_demo` produced."""

    city: DemoCity | None
    outputs: dict[str, Path] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def demo_paths(data_dir: str | Path, name: str = "demo_city") -> tuple[Path, Path]:
    """The GeoPackage and OSM file of the demo city in ``data_dir``."""
    data_dir = Path(data_dir)
    return data_dir / f"{name}.gpkg", data_dir / f"{name}.osm"


def inventory(compounds: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Per subdistrict (街道): compounds, households, age classes and parcels by kind.

    Parameters
    ----------
    compounds, parcels
        Validated layers with canonical columns (see :func:`spatial.io.load_layers`).

    Returns
    -------
    DataFrame
        One row per subdistrict plus a total row ``合计 total``; Chinese/English headers.
    """
    c = compounds.assign(
        subdistrict=compounds.get("subdistrict", pd.Series(dtype=object)).fillna("未知 unknown")
    )
    year = c.get("build_year", pd.Series(pd.NA, index=c.index, dtype="Int64"))
    rows = c.groupby("subdistrict").agg(
        n=("id", "size"),
        households=("households", "sum") if "households" in c else ("id", "size"),
    )
    rows["pre2001"] = (year <= 2000).groupby(c["subdistrict"]).sum()
    rows["pre2006"] = (year <= 2005).groupby(c["subdistrict"]).sum()
    table = rows.rename(
        columns={
            "n": "小区数 compounds",
            "households": "户数 households",
            "pre2001": "2000年及以前 built ≤2000",
            "pre2006": "2005年及以前 built ≤2005",
        }
    )
    if parcels is not None and len(parcels):
        p = parcels.assign(
            subdistrict=parcels.get("subdistrict", pd.Series(dtype=object)).fillna("未知 unknown")
        )
        kinds = p.groupby(["subdistrict", "kind"]).size().unstack(fill_value=0)
        kinds.columns = [f"{PARCEL_KINDS[k][0]} {PARCEL_KINDS[k][1]}" for k in kinds.columns]
        table = table.join(kinds, how="outer").fillna(0)
    table = table.astype("int64")
    table.loc["合计 total"] = table.sum()
    table.index.name = "街道 subdistrict"
    return table.reset_index()


def write_overview_png(
    compounds: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame | None,
    path: str | Path,
    *,
    osm: str | Path | None = None,
) -> Path:
    """A static overview map: compounds by build year, parcels, barriers (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 9))
    crs = compounds.crs
    if osm is not None:
        barriers = read_osm(osm).barriers
        if len(barriers):
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
    plt.close(fig)
    return Path(path)


def run_demo(
    *,
    data_dir: str | Path = "data/demo",
    out_dir: str | Path = "results/demo",
    maps_dir: str | Path = "maps/demo",
    size: int = 6,
    seed: int = 2021,
    regenerate: bool = False,
    progress: Progress | None = None,
) -> DemoRun:
    """Generate the demo city if missing, then run the pipeline on it.

    Parameters
    ----------
    data_dir
        Where the demo files are (or are generated).
    out_dir, maps_dir
        Where results and maps are written (atomically).
    size, seed
        Demo city size (superblocks per side) and seed, used when generating.
    regenerate
        Generate even if the files exist.
    progress
        ``progress(stage, done, total)`` at each stage (``total == 0``: unknown).
    """
    say = progress or no_progress
    gpkg, osm = demo_paths(data_dir)
    city = None
    if regenerate or not (gpkg.exists() and osm.exists()):
        say(f"generating the demo city in {data_dir}", 0, 0)
        city = generate_demo(data_dir, size=size, seed=seed, progress=say)
    say("loading and validating inputs", 0, 0)
    layers = load_layers(
        [
            LoadSpec(gpkg, "compounds", source_layer="compounds"),
            LoadSpec(gpkg, "pois", source_layer="pois"),
            LoadSpec(gpkg, "parcels", source_layer="parcels"),
        ]
    )
    compounds, pois, parcels = layers["compounds"], layers["pois"], layers["parcels"]
    say("writing outputs", 0, 0)
    out_dir, maps_dir = Path(out_dir), Path(maps_dir)
    outputs = {
        "database": write_gpkg(
            {
                "compounds": to_wgs84(compounds),
                "pois": to_wgs84(pois),
                "parcels": to_wgs84(parcels),
            },
            out_dir / "database.gpkg",
        ),
        "inventory": write_csv(inventory(compounds, parcels), out_dir / "inventory.csv"),
        "overview": write_overview_png(compounds, parcels, maps_dir / "overview.png", osm=osm),
    }
    counts = {
        "compounds": len(compounds),
        "pois": len(pois),
        "parcels": len(parcels),
        "households": int(compounds["households"].sum()),
    }
    return DemoRun(city=city, outputs=outputs, counts=counts)
