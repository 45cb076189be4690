"""The demo: generate the synthetic city if missing, run every stage on it, draw the maps."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd

from spatial.bundling import BundleResult, bundle_units
from spatial.bundling.params import BundleParams
from spatial.demo import generate_demo
from spatial.io.crs.projection import to_wgs84
from spatial.io.load import LoadSpec, load_layers
from spatial.io.osm.read import read_osm
from spatial.io.outputs.results import (
    BundleTables,
    GapTables,
    pairs_lonlat,
)
from spatial.io.outputs.runfolder import rebase_outputs, run_folder
from spatial.io.outputs.write import write_csv, write_gpkg
from spatial.lifecircle import GapResult
from spatial.lifecircle.params import GapParams
from spatial.network import load_network
from spatial.pipeline.options import DemoRun
from spatial.pipeline.planning import plan_stage
from spatial.pipeline.runs import bundle_stage, gaps_stage
from spatial.policy import inventory
from spatial.policy.params import PlanParams
from spatial.render.options import MapOptions
from spatial.settings import Progress, no_progress

__all__ = [
    "demo_paths",
    "run_demo",
]

log = logging.getLogger(__name__)


def demo_paths(data_dir: str | Path, name: str = "demo_city") -> tuple[Path, Path]:
    """The GeoPackage and OSM file of the demo city.

    Parameters
    ----------
    data_dir
        Folder of the demo city.
    name
        File stem.

    Returns
    -------
    gpkg, osm
        ``<data_dir>/<name>.gpkg`` and ``<data_dir>/<name>.osm``.
    """
    data_dir = Path(data_dir)
    return data_dir / f"{name}.gpkg", data_dir / f"{name}.osm"


def _demo_maps(
    gaps: GapResult,
    bundles: BundleResult,
    maps_dir: Path,
    say: Progress,
    plan_layers: Path | None = None,
    context: gpd.GeoDataFrame | None = None,
) -> dict[str, Path]:
    """The demo's HTML and PNG maps, from the results in memory."""
    from spatial.pipeline.maps import run_maps
    from spatial.render.static import MissingFontError, cjk_font_path

    say("drawing maps", 0, 0)
    tables = GapTables(
        gaps.compounds,
        gaps.gaps,
        gaps.pois,
        gaps.service_areas,
        plan_layers=plan_layers,
        categories=gaps.categories,
        context=context,
    )
    btables = BundleTables(
        bundles.bundles, bundles.members, pairs_lonlat(bundles), sources=bundles.sources
    )
    try:
        cjk_font_path()
        png = True
    except MissingFontError as exc:  # no CJK font on this machine: the HTML maps are enough
        log.warning("PNG maps left out: %s", exc)
        png = False
    options = MapOptions(png=png, source="示范区（合成数据）synthetic demo city")
    maps_dir = Path(maps_dir)
    return run_maps(
        tables,
        btables,
        out=maps_dir / "gap_map.html",
        bundle_out=maps_dir / "bundle_map.html",
        options=options,
    )


def run_demo(
    *,
    data_dir: str | Path = "data/demo",
    out_dir: str | Path = "results/demo",
    maps_dir: str | Path = "maps/demo",
    size: int = 6,
    seed: int = 2021,
    bundle_seed: int | None = None,
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
        Demo city size (superblocks per side) and the city's seed, used when generating.
    bundle_seed
        Seed of bundling's tie-breaking order (None: that of
        :class:`~spatial.bundling.params.BundleParams`).
    regenerate
        Generate even if the files exist.
    progress
        ``progress(stage, done, total)`` at each stage (``total == 0``: unknown).

    Returns
    -------
    DemoRun
        The city (when generated), the files written, counts and the results.
    """
    from spatial.io.context.read import read_context
    from spatial.io.context.store import CONTEXT_FILE, write_context
    from spatial.render.overview import write_overview_png

    say = progress or no_progress
    gpkg, osm = demo_paths(data_dir)
    city = None
    if regenerate or not (gpkg.exists() and osm.exists()):
        say(f"generating the demo city in {data_dir}", 0, 0)
        city = generate_demo(data_dir, size=size, seed=seed, progress=say)
    with run_folder(out_dir, command="demo") as stage:
        say("loading and validating inputs", 0, 0)
        specs = [
            LoadSpec(gpkg, kind, source_layer=kind) for kind in ("compounds", "pois", "parcels")
        ]
        layers = load_layers(specs)
        compounds, pois, parcels = layers["compounds"], layers["pois"], layers["parcels"]
        say("building the walk network", 0, 0)
        osm_layers = read_osm(osm)
        net = load_network(osm=osm, crs=compounds.crs)
        gaps = gaps_stage(layers, net, out_dir=stage, params=GapParams(), say=say)
        context = read_context([osm])
        gaps.outputs["context"] = write_context(context, stage / CONTEXT_FILE)
        units = bundle_units(compounds, parcels, gaps.result.compounds)
        barriers = osm_layers.barriers.geometry
        bundles = bundle_stage(
            units,
            out_dir=stage,
            barriers=barriers,
            params=BundleParams(profile="taian").replace(
                **({} if bundle_seed is None else {"seed": bundle_seed})
            ),
            say=say,
        )
        planned = plan_stage(
            out_dir=stage,
            gaps_dir=stage,
            params=PlanParams(profile="taian", budget_yuan=1e9),
            parcels=specs[2:],
            walk={"osm": osm},
            say=say,
            data_label=str(out_dir),  # the folder as it will be named, not the staging one
        )
        say("writing outputs", 0, 0)
        maps_dir = Path(maps_dir)
        outputs = {
            "database": write_gpkg(
                {
                    "compounds": to_wgs84(compounds),
                    "pois": to_wgs84(pois),
                    "parcels": to_wgs84(parcels),
                },
                stage / "database.gpkg",
            ),
            "inventory": write_csv(inventory(compounds, parcels), stage / "inventory.csv"),
            **gaps.outputs,
            **bundles.outputs,
            **planned.outputs,
            "overview": write_overview_png(
                compounds, parcels, maps_dir / "overview.png", barriers=barriers
            ),
            **_demo_maps(
                gaps.result,
                bundles.result,
                maps_dir,
                say,
                planned.outputs["plan_layers"],
                context,
            ),
        }
    outputs = rebase_outputs(outputs, stage, out_dir)
    counts = {
        "compounds": len(compounds),
        "pois": len(pois),
        "parcels": len(parcels),
        "households": int(compounds["households"].sum()),
        "network_nodes": gaps.network.n_nodes,
        "compounds_missing_any": int((gaps.result.compounds["n_missing"] > 0).sum()),
        "bundles_self_balancing": int((bundles.result.bundles["status"] == "self-balancing").sum()),
        "cross_area_pairs": len(bundles.result.pairs),
    }
    log.info("demo run: %s", counts)
    return DemoRun(
        city=city, outputs=outputs, counts=counts, gaps=gaps.result, bundles=bundles.result
    )
