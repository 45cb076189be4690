"""Run the chain from files to outputs. The CLI is a thin face over these functions.

The chain: (generate the demo city) → load and validate every input at once →
project to metres → build the walk network → life-circle gaps → write the validated
database, the gap files, an inventory by subdistrict and an overview map. Later
stages (bundles, maps) plug in here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from spatial.bundling import BundleResult, find_bundles, load_limits
from spatial.demo import DemoCity, generate_demo
from spatial.finance import load_finance
from spatial.io.load import LoadSpec, load_layers
from spatial.io.osm import is_osm_file, read_osm
from spatial.io.write import atomic_path, write_csv, write_gpkg
from spatial.lifecircle import GapResult, compute_gaps
from spatial.network import (
    WalkNetwork,
    walk_network_from_graphml,
    walk_network_from_lines,
    walk_network_from_osm,
    walk_network_from_place,
)
from spatial.projection import to_wgs84
from spatial.report import pairs_lonlat, write_bundle_outputs, write_gap_outputs, write_xlsx
from spatial.schema import PARCEL_KINDS
from spatial.settings import DEFAULTS, Progress, no_progress
from spatial.standards import load_categories

__all__ = [
    "DemoRun",
    "GapRun",
    "demo_paths",
    "inventory",
    "load_network",
    "run_bundles",
    "run_demo",
    "run_gaps",
    "run_plan",
    "write_overview_png",
]


@dataclass
class DemoRun:
    """What :func:`run_demo` produced."""

    city: DemoCity | None
    outputs: dict[str, Path] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    gaps: GapResult | None = None
    bundles: BundleResult | None = None


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
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 9))  # no pyplot: no global backend or figure state
    ax = fig.subplots()
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
    return Path(path)


@dataclass
class GapRun:
    """What :func:`run_gaps` produced."""

    result: GapResult
    network: WalkNetwork
    outputs: dict[str, Path] = field(default_factory=dict)


def load_network(
    *,
    network: str | Path | None = None,
    osm: str | Path | None = None,
    place: str | None = None,
    crs: Any = None,
) -> WalkNetwork:
    """Build the walk network from a file (GraphML, OSM, or a line layer), OSM or a place name.

    ``place`` downloads through osmnx (internet); the others are local files.
    """
    given = [x for x in (network, osm, place) if x is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of network=, osm= or place=")
    if place is not None:
        return walk_network_from_place(place, crs=crs)
    path = Path(network or osm)  # type: ignore[arg-type]
    if path.suffix.lower() == ".graphml":
        return walk_network_from_graphml(path, crs=crs)
    if is_osm_file(path):
        return walk_network_from_osm(path, crs=crs)
    return walk_network_from_lines(gpd.read_file(path, engine="pyogrio"), crs=crs)


def run_gaps(
    *,
    out_dir: str | Path,
    compounds: Sequence[LoadSpec] = (),
    pois: Sequence[LoadSpec] = (),
    osm: str | Path | None = None,
    network: str | Path | None = None,
    place: str | None = None,
    categories: str | Path | None = None,
    snap_limit_m: float = DEFAULTS.snap_limit_m,
    walk_speed_m_per_min: float = DEFAULTS.walk_speed_m_per_min,
    service_areas: bool = True,
    count_reachable: bool = False,
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
        ``service_areas.gpkg``, ``problems.csv``.
    compounds, pois
        Files to load; empty = take them from ``osm``.
    osm, network, place
        Where the walk network comes from (exactly one), see :func:`load_network`.
    categories
        A taxonomy file of one's own (default: the shipped GB 50180-2018 one).
    snap_limit_m, walk_speed_m_per_min, service_areas, count_reachable
        See :func:`spatial.lifecircle.compute_gaps`.
    progress
        ``progress(stage, done, total)``.
    """
    say = progress or no_progress
    cats = load_categories(categories)
    specs = list(compounds) or ([LoadSpec(osm, "compounds")] if osm else [])
    specs += list(pois) or ([LoadSpec(osm, "pois")] if osm else [])
    if not any(s.layer == "compounds" for s in specs) or not any(s.layer == "pois" for s in specs):
        raise ValueError(
            "compounds and POIs are needed: give files, or an OSM file to take them from"
        )
    say("loading and validating inputs", 0, 0)
    layers = load_layers(specs)
    net = _network_stage(layers, network=network, osm=osm, place=place, say=say)
    return _gaps_stage(
        layers,
        net,
        out_dir=out_dir,
        say=say,
        categories=cats,
        snap_limit_m=snap_limit_m,
        walk_speed_m_per_min=walk_speed_m_per_min,
        service_areas=service_areas,
        count_reachable=count_reachable,
    )


def _network_stage(
    layers: dict[str, gpd.GeoDataFrame],
    *,
    network: str | Path | None,
    osm: str | Path | None,
    place: str | None,
    say: Progress,
) -> WalkNetwork:
    say("building the walk network", 0, 0)
    return load_network(
        network=network,
        osm=osm if network is None and place is None else None,
        place=place,
        crs=layers["compounds"].crs,
    )


def _gaps_stage(
    layers: dict[str, gpd.GeoDataFrame],
    net: WalkNetwork,
    *,
    out_dir: str | Path,
    say: Progress = no_progress,
    **options: Any,
) -> GapRun:
    """Gaps and gap outputs for layers already loaded; ``options`` go to ``compute_gaps``."""
    say("computing life-circle gaps", 0, 0)
    result = compute_gaps(layers["compounds"], layers["pois"], net, **options)
    say("writing gap outputs", 0, 0)
    return GapRun(result, net, write_gap_outputs(result, out_dir))


@dataclass
class BundleRun:
    """What :func:`run_bundles` produced."""

    result: BundleResult
    outputs: dict[str, Path] = field(default_factory=dict)


def bundle_units(
    compounds: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame | None,
    gaps: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Old compounds (kind ``old_compound``; ``missing`` from gaps) and parcels in one frame."""
    comp = compounds.assign(kind="old_compound")
    if gaps is not None and "missing" in gaps:
        missing = pd.Series(gaps["missing"].to_numpy(), index=gaps["id"].astype(str))
        comp["missing"] = comp["id"].astype(str).map(missing).to_numpy()
    parts = [comp] + ([parcels.to_crs(comp.crs)] if parcels is not None and len(parcels) else [])
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=comp.crs)


def _bundle_stage(
    units: gpd.GeoDataFrame,
    *,
    out_dir: str | Path,
    barriers: gpd.GeoSeries | None,
    say: Progress = no_progress,
    **options: Any,
) -> BundleRun:
    say("finding bundles", 0, 0)
    result = find_bundles(units, barriers=barriers, **options)
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
    finance: str | Path | None = None,
    gap_m: float | None = None,
    cross_barriers: bool = False,
    islands: str = "single",
    seed: int = 0,
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
    finance
        A finance figures file of one's own (default ``spatial/standards/finance.toml``).
    gap_m, cross_barriers, islands, seed
        See :func:`spatial.bundling.find_bundles` (``gap_m`` default from bundling.toml).
    """
    say = progress or no_progress
    say("loading and validating inputs", 0, 0)
    layers = load_layers([*compounds, *parcels])
    if "compounds" not in layers:
        raise ValueError("no old compounds given: bundles are built around old compounds")
    gaps = None
    if gaps_dir is not None:
        gaps = gpd.read_file(Path(gaps_dir) / "compounds.gpkg", layer="compounds", engine="pyogrio")
    units = bundle_units(layers["compounds"], layers.get("parcels"), gaps)
    lines = None
    if osm is not None:
        lines = read_osm(osm).barriers.geometry
    elif barriers is not None:
        lines = gpd.read_file(barriers, engine="pyogrio").geometry
    limits = load_limits(**({"gap_m": gap_m} if gap_m is not None else {}))
    return _bundle_stage(
        units,
        out_dir=out_dir,
        barriers=lines,
        say=say,
        limits=limits,
        finance=load_finance(finance),
        cross_barriers=cross_barriers,
        islands=islands,
        seed=seed,
    )


def _demo_maps(
    gaps: GapResult,
    bundles: BundleResult,
    maps_dir: Path,
    say: Progress,
    plan_layers: Path | None = None,
) -> dict[str, Path]:
    """The demo's HTML and PNG maps, from the results in memory."""
    from spatial.render import BundleTables, GapTables, bundle_map, gap_map, save_map
    from spatial.render.static import static_bundle_map, static_gap_map

    say("drawing maps", 0, 0)
    tables = GapTables(
        gaps.compounds, gaps.gaps, gaps.pois, gaps.service_areas, plan_layers=plan_layers
    )
    btables = BundleTables(bundles.bundles, bundles.members, pairs_lonlat(bundles))
    source = "示范区（合成数据）synthetic demo city"
    return {
        "gap_map": save_map(gap_map(tables, osm_data=False), maps_dir / "gap_map.html"),
        "bundle_map": save_map(bundle_map(btables, osm_data=False), maps_dir / "bundle_map.html"),
        "gap_png": static_gap_map(gaps.compounds, maps_dir / "gap_map.png", source=source),
        "bundle_png": static_bundle_map(
            bundles.bundles, bundles.members, maps_dir / "bundle_map.png", source=source
        ),
    }


@dataclass
class PlanRun:
    """What :func:`run_plan` produced."""

    plan: pd.DataFrame
    choice: pd.DataFrame | None
    outputs: dict[str, Path] = field(default_factory=dict)


def run_plan(
    *,
    out_dir: str | Path,
    profile: str | Path,
    gaps_dir: str | Path,
    budget_yuan: float,
    households_per_year: float | None = None,
    parcels: Sequence[LoadSpec] = (),
    osm: str | Path | None = None,
    sites_k: int = 3,
    finance: str | Path | None = None,
    progress: Progress | None = None,
) -> PlanRun:
    """Eligibility, needs, ranking, annual plan and facility siting into ``plan.xlsx``.

    Parameters
    ----------
    out_dir
        Output folder: ``plan.xlsx`` (sheets 资格认定, 改造内容, 排序, 年度计划, 逐级汇总,
        设施选址, 选址方案) and ``plan.gpkg`` (layers ``eligibility``, ``sites``).
    profile
        A policy profile name (``taian`` …) or file.
    gaps_dir
        A ``spatial gaps`` output folder (its compounds, with their gaps).
    budget_yuan, households_per_year
        Yearly budget (total investment, yuan) and household target of the annual plan.
    parcels, osm
        Candidate sites (low-efficiency land, function conversion …) and the walk network
        for siting; without them no sites are chosen.
    sites_k
        Sites to choose per missing category.
    """
    from spatial.policy import annual_plan, eligibility, load_profile, needs, rank, rollup
    from spatial.siting import site_facilities

    say = progress or no_progress
    prof = load_profile(profile)
    cats = load_categories()
    say("reading gaps", 0, 0)
    comp = gpd.read_file(Path(gaps_dir) / "compounds.gpkg", layer="compounds", engine="pyogrio")
    gaps = pd.read_csv(Path(gaps_dir) / "gaps.csv", dtype={"compound_id": str})
    say("eligibility, needs and ranking", 0, 0)
    elig = eligibility(comp, prof)
    need = needs(comp, prof, categories=cats, finance=load_finance(finance))
    ranks = rank(comp, elig["status"], prof, n_categories=len(cats))
    households = pd.to_numeric(comp.get("households"), errors="coerce").fillna(0)
    year = annual_plan(
        need["cost_yuan"],
        ranks["rank"],
        households,
        years=range(prof.plan_start_year, prof.plan_end_year + 1),
        budget_yuan=budget_yuan,
        households_per_year=households_per_year,
        priority=elig["status"].eq("priority"),
    )
    keys = [
        k
        for k in ("id", "name", "district", "subdistrict", "community", "build_year", "households")
        if k in comp
    ]
    base = pd.DataFrame(comp[keys])
    plan = (
        base.join(elig)
        .join(need[["cost_yuan", "subsidy_yuan"]])
        .join(ranks[["score", "rank"]])
        .assign(year=year)
    )
    choice = sites = None
    if parcels and osm is not None:
        say("siting facilities", 0, 0)
        cand = load_layers(list(parcels))["parcels"]
        net = load_network(osm=osm, crs=cand.crs)
        covered = gaps.pivot(index="compound_id", columns="category", values="covered")
        sites, choice = site_facilities(
            net, comp, cand, covered.astype(bool), k=sites_k, categories=cats
        )
    sheets = {
        "资格认定 eligibility": plan[[*keys, "status", "reason_zh", "reason_en"]],
        "改造内容 needs": base.join(need),
        "排序 ranking": base.join(elig[["status"]]).join(ranks).sort_values("rank"),
        "年度计划 annual plan": plan[plan["year"].notna()].sort_values(["year", "rank"]),
        "逐级汇总 rollup": rollup(plan.assign(cost_yuan=need["cost_yuan"])),
    }
    if sites is not None and choice is not None:
        sheets["设施选址 sites"] = sites
        sheets["选址方案 site choice"] = choice
    out = Path(out_dir)
    layers = {
        "eligibility": to_wgs84(
            comp[["id", "name", "geometry"]].join(elig).join(plan[["rank", "year"]])
        )
    }
    if choice is not None and len(choice):
        chosen = {s for v in choice["chosen_sites"] for s in str(v).split(";") if s}
        cand_all = load_layers(list(parcels))["parcels"]
        picked = cand_all[cand_all["id"].astype(str).isin(chosen)]
        for_cat = {
            s: ";".join(
                choice.loc[
                    choice["chosen_sites"].str.split(";").apply(lambda ids, s=s: s in ids),
                    "category",
                ]
            )
            for s in chosen
        }
        layers["sites"] = to_wgs84(
            picked[["id", "name", "kind", "geometry"]].assign(
                categories=picked["id"].astype(str).map(for_cat)
            )
        )
    outputs = {
        "plan": write_xlsx(sheets, out / "plan.xlsx"),
        "plan_layers": write_gpkg(layers, out / "plan.gpkg"),
    }
    return PlanRun(plan, choice, outputs)


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
    specs = [LoadSpec(gpkg, kind, source_layer=kind) for kind in ("compounds", "pois", "parcels")]
    layers = load_layers(specs)
    compounds, pois, parcels = layers["compounds"], layers["pois"], layers["parcels"]
    net = _network_stage(layers, network=None, osm=osm, place=None, say=say)
    gaps = _gaps_stage(layers, net, out_dir=out_dir, say=say)
    units = bundle_units(compounds, parcels, gaps.result.compounds)
    bundles = _bundle_stage(
        units, out_dir=out_dir, barriers=read_osm(osm).barriers.geometry, say=say, seed=seed
    )
    planned = run_plan(
        out_dir=out_dir,
        profile="taian",
        gaps_dir=out_dir,
        budget_yuan=1e9,
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
        "overview": write_overview_png(compounds, parcels, maps_dir / "overview.png", osm=osm),
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
    return DemoRun(
        city=city, outputs=outputs, counts=counts, gaps=gaps.result, bundles=bundles.result
    )
