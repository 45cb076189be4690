"""Run the chain from files to output folders; the CLI is a thin face over these functions.

Each ``run_*`` loads and validates every input at once (one :class:`~spatial.InputError`
with all problems, before any expensive work), runs one stage through the library face
(:mod:`spatial.api`) or the stage's own function, and writes the stage's output folder
through :mod:`spatial.io.results`. Stage settings travel as typed option dataclasses
(:class:`GapOptions`, :class:`BundleOptions`, :class:`PlanOptions`) whose defaults come
from :mod:`spatial.settings` and the standards files.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd

from spatial import api
from spatial.bundling import BundleResult, bundle_units, find_bundles, load_finance, load_limits
from spatial.demo import DemoCity, generate_demo
from spatial.io.load import LoadSpec, load_layers
from spatial.io.osm import read_osm
from spatial.io.projection import to_wgs84
from spatial.io.results import (
    BundleTables,
    GapTables,
    load_gap_tables,
    pairs_lonlat,
    write_bundle_outputs,
    write_gap_outputs,
    write_plan_outputs,
)
from spatial.io.write import write_csv, write_gpkg
from spatial.lifecircle import GapResult
from spatial.network import WalkNetwork, load_network
from spatial.policy import HEADERS_ZH, inventory, load_profile, plan_sheets, site_facilities
from spatial.settings import DEFAULTS, Progress, no_progress
from spatial.standards import load_categories

__all__ = [
    "BundleOptions",
    "BundleRun",
    "DemoRun",
    "GapOptions",
    "GapRun",
    "PlanOptions",
    "PlanRun",
    "demo_paths",
    "run_bundles",
    "run_demo",
    "run_gaps",
    "run_plan",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GapOptions:
    """Settings of the gap stage.

    Attributes
    ----------
    categories
        A taxonomy file of one's own (default: the shipped GB 50180-2018 one).
    snap_limit_m
        POIs and compounds farther than this (metres) from the network are off-network.
    walk_speed_m_per_min
        Turns metres into the ``walk_min`` label.
    service_areas
        Also write ``service_areas.gpkg``.
    count_reachable
        Also count the facilities within the radius (slower).
    """

    categories: str | Path | None = None
    snap_limit_m: float = DEFAULTS.snap_limit_m
    walk_speed_m_per_min: float = DEFAULTS.walk_speed_m_per_min
    service_areas: bool = True
    count_reachable: bool = False


@dataclass(frozen=True)
class BundleOptions:
    """Settings of the bundle stage.

    Attributes
    ----------
    finance
        A finance figures file of one's own (default ``spatial/standards/finance.toml``).
    gap_m
        Parcels this close (metres) are neighbours (default from ``bundling.toml``).
    cross_barriers
        Let bundles cross barriers.
    islands
        Compounds with no neighbour: ``single`` (own bundle) or ``exclude``.
    seed
        Seed of the tie-breaking order (not the demo city's seed).
    """

    finance: str | Path | None = None
    gap_m: float | None = None
    cross_barriers: bool = False
    islands: Literal["single", "exclude"] = "single"
    seed: int = DEFAULTS.bundle_seed


@dataclass(frozen=True)
class PlanOptions:
    """Settings of the plan stage.

    Attributes
    ----------
    profile
        A policy profile name (``taian`` …) or file.
    budget_yuan
        Yearly budget of total investment, yuan.
    households_per_year
        Yearly household target (a cap), or None.
    sites_k
        Facility sites chosen per missing category.
    finance
        A finance figures file of one's own.
    """

    profile: str | Path
    budget_yuan: float
    households_per_year: float | None = None
    sites_k: int = DEFAULTS.sites_k
    finance: str | Path | None = None


@dataclass
class GapRun:
    """What :func:`run_gaps` produced: the engine's result, the network, the files."""

    result: GapResult
    network: WalkNetwork
    outputs: dict[str, Path] = field(default_factory=dict)


@dataclass
class BundleRun:
    """What :func:`run_bundles` produced: the bundles and the files."""

    result: BundleResult
    outputs: dict[str, Path] = field(default_factory=dict)


@dataclass
class PlanRun:
    """What :func:`run_plan` produced: the plan per compound, the site choice, the files."""

    plan: pd.DataFrame
    choice: pd.DataFrame | None
    outputs: dict[str, Path] = field(default_factory=dict)


@dataclass
class DemoRun:
    """What :func:`run_demo` produced."""

    city: DemoCity | None
    outputs: dict[str, Path] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    gaps: GapResult | None = None
    bundles: BundleResult | None = None


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


def _gaps_stage(
    layers: dict[str, gpd.GeoDataFrame],
    net: WalkNetwork,
    *,
    out_dir: str | Path,
    options: GapOptions,
    say: Progress,
) -> GapRun:
    say("computing life-circle gaps", 0, 0)
    result = api.gap_result(
        layers["compounds"],
        layers["pois"],
        net,
        categories=options.categories,
        snap_limit_m=options.snap_limit_m,
        walk_speed_m_per_min=options.walk_speed_m_per_min,
        service_areas=options.service_areas,
        count_reachable=options.count_reachable,
    )
    say("writing gap outputs", 0, 0)
    outputs = write_gap_outputs(
        result, out_dir, service_area_buffer_m=DEFAULTS.service_area_buffer_m
    )
    return GapRun(result, net, outputs)


def run_gaps(
    *,
    out_dir: str | Path,
    compounds: Sequence[LoadSpec] = (),
    pois: Sequence[LoadSpec] = (),
    osm: str | Path | None = None,
    network: str | Path | None = None,
    place: str | None = None,
    options: GapOptions | None = None,
    progress: Progress | None = None,
) -> GapRun:
    """Life-circle gaps from files to the output folder.

    Compounds and POIs come from the given files, or from the OSM file when none are
    given. Every input is loaded and validated (one :class:`~spatial.InputError` with
    all problems) before the network is built.

    Parameters
    ----------
    out_dir
        Output folder: ``gaps.csv``, ``compounds.gpkg``, ``summary.csv``,
        ``service_areas.gpkg``, ``problems.csv``, ``categories.toml``.
    compounds, pois
        Files to load; empty = take them from ``osm``.
    osm, network, place
        Where the walk network comes from (``network`` or ``place`` win over ``osm``),
        see :func:`spatial.network.load_network`.
    options
        Settings of the stage (default :class:`GapOptions`).
    progress
        ``progress(stage, done, total)``.

    Returns
    -------
    GapRun
        The result, the network and the files written.
    """
    say = progress or no_progress
    opts = options or GapOptions()
    load_categories(opts.categories)  # a broken taxonomy fails before any loading
    specs = list(compounds) or ([LoadSpec(osm, "compounds")] if osm else [])
    specs += list(pois) or ([LoadSpec(osm, "pois")] if osm else [])
    if not any(s.layer == "compounds" for s in specs) or not any(s.layer == "pois" for s in specs):
        raise ValueError(
            "compounds and POIs are needed: give files, or an OSM file to take them from"
        )
    say("loading and validating inputs", 0, 0)
    layers = load_layers(specs)
    say("building the walk network", 0, 0)
    net = load_network(
        network=network,
        osm=osm if network is None and place is None else None,
        place=place,
        crs=layers["compounds"].crs,
    )
    return _gaps_stage(layers, net, out_dir=out_dir, options=opts, say=say)


def _bundle_stage(
    units: gpd.GeoDataFrame,
    *,
    out_dir: str | Path,
    barriers: gpd.GeoSeries | None,
    options: BundleOptions,
    say: Progress,
) -> BundleRun:
    say("finding bundles", 0, 0)
    limits = load_limits(**({"gap_m": options.gap_m} if options.gap_m is not None else {}))
    result = find_bundles(
        units,
        barriers=barriers,
        limits=limits,
        finance=load_finance(options.finance),
        cross_barriers=options.cross_barriers,
        islands=options.islands,
        seed=options.seed,
    )
    say("writing bundle outputs", 0, 0)
    return BundleRun(result, write_bundle_outputs(result, out_dir))


def run_bundles(
    *,
    out_dir: str | Path,
    compounds: Sequence[LoadSpec] = (),
    parcels: Sequence[LoadSpec] = (),
    osm: str | Path | None = None,
    barriers: str | Path | None = None,
    gaps_dir: str | Path | None = None,
    options: BundleOptions | None = None,
    progress: Progress | None = None,
) -> BundleRun:
    """Candidate bundles from files to the output folder.

    Parameters
    ----------
    out_dir
        Output folder (``bundles.gpkg``, ``bundles.csv``, ``pairs.csv``, ``packages.csv``).
    compounds, parcels
        Files of old compounds and of other parcels (all loaded and validated first).
    osm, barriers
        Where barriers come from: an OSM file (major roads, rail, water) or a line layer.
    gaps_dir
        A ``spatial gaps`` output folder: bundles report the gaps of their compounds.
    options
        Settings of the stage (default :class:`BundleOptions`).
    progress
        ``progress(stage, done, total)``.

    Returns
    -------
    BundleRun
        The bundles and the files written.
    """
    say = progress or no_progress
    opts = options or BundleOptions()
    load_finance(opts.finance)  # a broken finance file fails before any loading
    say("loading and validating inputs", 0, 0)
    gaps = load_gap_tables(gaps_dir, service_areas=False).compounds if gaps_dir else None
    layers = load_layers([*compounds, *parcels])
    if "compounds" not in layers:
        raise ValueError("no old compounds given: bundles are built around old compounds")
    units = bundle_units(layers["compounds"], layers.get("parcels"), gaps)
    lines = None
    if osm is not None:
        lines = read_osm(osm).barriers.geometry
    elif barriers is not None:
        lines = gpd.read_file(barriers, engine="pyogrio").geometry
    return _bundle_stage(units, out_dir=out_dir, barriers=lines, options=opts, say=say)


def run_plan(
    *,
    out_dir: str | Path,
    gaps_dir: str | Path,
    options: PlanOptions,
    parcels: Sequence[LoadSpec] = (),
    osm: str | Path | None = None,
    progress: Progress | None = None,
) -> PlanRun:
    """Eligibility, needs, ranking, annual plan and facility siting into ``plan.xlsx``.

    The categories are those of the gaps run (``categories.toml`` in ``gaps_dir``).

    Parameters
    ----------
    out_dir
        Output folder: ``plan.xlsx`` (sheets 资格认定, 改造内容, 排序, 年度计划, 逐级汇总,
        设施选址, 选址方案) and ``plan.gpkg`` (layers ``eligibility``, ``sites``).
    gaps_dir
        A ``spatial gaps`` output folder (its compounds, with their gaps).
    options
        Profile, budget and the other settings (:class:`PlanOptions`).
    parcels, osm
        Candidate sites (low-efficiency land, function conversion …) and the walk network
        for siting; without them no sites are chosen.
    progress
        ``progress(stage, done, total)``.

    Returns
    -------
    PlanRun
        The plan per compound, the site choice and the files written.
    """
    say = progress or no_progress
    prof = load_profile(options.profile)
    say("reading gaps", 0, 0)
    tables = load_gap_tables(gaps_dir, service_areas=False)
    comp, cats = tables.compounds, tables.categories
    cand = load_layers(list(parcels))["parcels"] if parcels and osm is not None else None
    say("eligibility, needs and ranking", 0, 0)
    plan = api.plan(
        comp,
        profile=prof,
        budget_yuan=options.budget_yuan,
        households_per_year=options.households_per_year,
        categories=cats,
        finance=options.finance,
    )
    keys = [
        k
        for k in ("id", "name", "district", "subdistrict", "community", "build_year", "households")
        if k in comp
    ]
    choice = sites = None
    if cand is not None and osm is not None:
        say("siting facilities", 0, 0)
        net = load_network(osm=osm, crs=cand.crs)
        covered = tables.gaps.pivot(index="compound_id", columns="category", values="covered")
        sites, choice = site_facilities(
            net, comp, cand, covered.astype(bool), k=options.sites_k, categories=cats
        )
    table = pd.DataFrame(plan.drop(columns="geometry"))
    sheets = plan_sheets(table, keys=keys, sites=sites, choice=choice)
    layers = {
        "eligibility": comp[["id", "name", "geometry"]].join(
            plan[["status", "reason_zh", "reason_en", "rank", "year"]]
        )
    }
    if cand is not None and choice is not None and len(choice):
        chosen = {s for v in choice["chosen_sites"] for s in str(v).split(";") if s}
        picked = cand[cand["id"].astype(str).isin(chosen)]
        for_cat = {
            s: ";".join(
                choice.loc[
                    choice["chosen_sites"].str.split(";").apply(lambda ids, s=s: s in ids),
                    "category",
                ]
            )
            for s in chosen
        }
        layers["sites"] = picked[["id", "name", "kind", "geometry"]].assign(
            categories=picked["id"].astype(str).map(for_cat)
        )
    outputs = write_plan_outputs(sheets, layers, out_dir, headers=HEADERS_ZH)
    return PlanRun(table, choice, outputs)


def _demo_maps(
    gaps: GapResult,
    bundles: BundleResult,
    maps_dir: Path,
    say: Progress,
    plan_layers: Path | None = None,
) -> dict[str, Path]:
    """The demo's HTML and PNG maps, from the results in memory."""
    from spatial.render import bundle_map, gap_map, save_map
    from spatial.render.static import static_bundle_map, static_gap_map

    say("drawing maps", 0, 0)
    tables = GapTables(
        gaps.compounds,
        gaps.gaps,
        gaps.pois,
        gaps.service_areas,
        plan_layers=plan_layers,
        categories=gaps.categories,
    )
    btables = BundleTables(bundles.bundles, bundles.members, pairs_lonlat(bundles))
    source = "示范区（合成数据）synthetic demo city"
    maps = {
        "gap_map": save_map(gap_map(tables, osm_data=False), maps_dir / "gap_map.html"),
        "bundle_map": save_map(bundle_map(btables, osm_data=False), maps_dir / "bundle_map.html"),
    }
    try:
        maps["gap_png"] = static_gap_map(gaps.compounds, maps_dir / "gap_map.png", source=source)
        maps["bundle_png"] = static_bundle_map(
            bundles.bundles, bundles.members, maps_dir / "bundle_map.png", source=source
        )
    except RuntimeError as exc:  # no CJK font on this machine: the HTML maps are enough
        log.warning("PNG maps left out: %s", exc)
    return maps


def run_demo(
    *,
    data_dir: str | Path = "data/demo",
    out_dir: str | Path = "results/demo",
    maps_dir: str | Path = "maps/demo",
    size: int = 6,
    seed: int = 2021,
    bundle_seed: int = DEFAULTS.bundle_seed,
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
        Seed of bundling's tie-breaking order.
    regenerate
        Generate even if the files exist.
    progress
        ``progress(stage, done, total)`` at each stage (``total == 0``: unknown).

    Returns
    -------
    DemoRun
        The city (when generated), the files written, counts and the results.
    """
    from spatial.render.overview import write_overview_png

    say = progress or no_progress
    gpkg, osm = demo_paths(data_dir)
    city = None
    if regenerate or not (gpkg.exists() and osm.exists()):
        say(f"generating the demo city in {data_dir}", 0, 0)
        city = generate_demo(data_dir, size=size, seed=seed, progress=say)
    say("loading and validating inputs", 0, 0)
    specs = [LoadSpec(gpkg, kind, source_layer=kind) for kind in ("compounds", "pois", "parcels")]
    layers = load_layers(specs)
    compounds, pois, parcels = layers["compounds"], layers["pois"], layers["parcels"]
    say("building the walk network", 0, 0)
    osm_layers = read_osm(osm)
    net = load_network(osm=osm, crs=compounds.crs)
    gaps = _gaps_stage(layers, net, out_dir=out_dir, options=GapOptions(), say=say)
    units = bundle_units(compounds, parcels, gaps.result.compounds)
    barriers = osm_layers.barriers.geometry
    bundles = _bundle_stage(
        units,
        out_dir=out_dir,
        barriers=barriers,
        options=BundleOptions(seed=bundle_seed),
        say=say,
    )
    planned = run_plan(
        out_dir=out_dir,
        gaps_dir=out_dir,
        options=PlanOptions(profile="taian", budget_yuan=1e9),
        parcels=specs[2:],
        osm=osm,
        progress=say,
    )
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
        **gaps.outputs,
        **bundles.outputs,
        **planned.outputs,
        "overview": write_overview_png(
            compounds, parcels, maps_dir / "overview.png", barriers=barriers
        ),
        **_demo_maps(gaps.result, bundles.result, maps_dir, say, planned.outputs["plan_layers"]),
    }
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
