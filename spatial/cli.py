"""Command line: ``spatial demo``, ``spatial validate``, ``spatial osm``.

A thin face over :mod:`spatial.pipeline` and :mod:`spatial.io`; all work happens there.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, TypeVar

import numpy as np
import pyogrio
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from spatial._errors import InputError, InputWarning, Problem
from spatial.bundling import BundleResult
from spatial.io.load import check_file
from spatial.io.osm import is_osm_file, read_osm
from spatial.io.tables import TABLE_SUFFIXES, read_table
from spatial.io.write import write_gpkg
from spatial.lifecircle import GapResult
from spatial.network import WalkNetwork
from spatial.schema import LAYERS, map_columns

__all__ = ["app", "main"]

T = TypeVar("T")

app = typer.Typer(
    help="老旧小区改造规划工具 — planning toolkit for renovating old residential compounds: "
    "load survey data, find 15-minute life-circle gaps, bundle projects.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()


class Kind(str, Enum):
    """What a file holds."""

    auto = "auto"
    compounds = "compounds"
    pois = "pois"
    parcels = "parcels"


class Coords(str, Enum):
    """Coordinate system of lon/lat values."""

    wgs84 = "wgs84"
    gcj02 = "gcj02"
    bd09 = "bd09"
    bd09mc = "bd09mc"


def _problem_table(problems: list[Problem]) -> Table:
    table = Table(title="Problems found 发现的问题", show_lines=False)
    for col in ("", "file 文件", "row 行", "column 列", "problem 问题", "fix 修改方法"):
        table.add_column(col, overflow="fold")
    for p in sorted(problems, key=lambda p: p.severity != "error"):
        mark = "[red]error[/red]" if p.severity == "error" else "[yellow]warning[/yellow]"
        table.add_row(
            mark,
            Path(p.file).name,
            "" if p.row is None else str(p.row),
            p.column or "",
            p.message,
            p.hint,
        )
    return table


def _guess_kinds(path: Path) -> list[tuple[str, str | None]]:
    """(layer kind, source layer) pairs to check in ``path``."""
    if is_osm_file(path):
        return [(k, None) for k in LAYERS]
    if path.suffix.lower() in TABLE_SUFFIXES:
        columns = list(read_table(path).columns)
        for kind in ("parcels", "pois"):
            mapping, _ = map_columns(columns, kind)
            key = {"parcels": "kind", "pois": "category"}[kind]
            if key in mapping.values() or (kind == "pois" and "typecode" in mapping.values()):
                return [(kind, None)]
        return [("compounds", None)]
    names = [n for n, _ in pyogrio.list_layers(path)]
    named = [(n, n) for n in names if n in LAYERS]
    return named or [("compounds", names[0] if names else None)]


@app.command()
def validate(
    files: Annotated[
        list[Path],
        typer.Argument(help="Files to check: .gpkg .shp .geojson .csv .xlsx .osm .osm.pbf"),
    ],
    kind: Annotated[
        Kind,
        typer.Option(help="What the files hold; auto guesses from the layer names and headers."),
    ] = Kind.auto,
    coords: Annotated[
        Coords,
        typer.Option(
            help="Coordinate system of lon/lat: wgs84 (also "
            "CGCS2000), gcj02 (Amap 高德), bd09 (Baidu 百度)."
        ),
    ] = Coords.wgs84,
    crs: Annotated[
        str | None,
        typer.Option(help="CRS of table coordinates if not WGS84 lon/lat, e.g. EPSG:4547."),
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="Excel sheet name.")] = None,
    reference: Annotated[
        Path | None,
        typer.Option(
            help="An OSM file of the same area in true WGS84: used to detect GCJ-02/BD-09 "
            "coordinates passed as WGS84."
        ),
    ] = None,
) -> None:
    """Check input files and list every problem with file, row and column (exit 1 on errors).

    校验输入文件：列出所有问题（文件、行、列）及修改方法；有错误时退出码为 1。
    """
    ref = None
    if reference is not None:
        ref_layers = read_osm(reference)
        ref = ref_layers.pois.geometry if len(ref_layers.pois) else ref_layers.barriers.geometry
    problems: list[Problem] = []
    for path in files:
        targets = (
            [(kind.value, None)]
            if kind is not Kind.auto
            else (_guess_kinds(path) if path.exists() else [("compounds", None)])
        )
        for layer, source_layer in targets:
            loaded = check_file(
                path,
                layer,
                crs=crs,
                coords=coords.value,
                sheet=sheet,
                source_layer=source_layer,
                reference=ref,
            )
            problems += loaded.problems
            n = 0 if loaded.frame is None else len(loaded.frame)
            console.print(f"{path}: {layer}: {n} records")
    # The same warning (e.g. from an OSM file read per layer) is listed once.
    problems = list(dict.fromkeys(problems))
    if problems:
        console.print(_problem_table(problems))
    n_err = sum(p.severity == "error" for p in problems)
    console.print(f"{n_err} error(s), {len(problems) - n_err} warning(s)")
    raise typer.Exit(1 if n_err else 0)


@app.command()
def demo(
    size: Annotated[int, typer.Option(help="Superblocks per side (6 ≈ 2.7 km).")] = 6,
    seed: Annotated[int, typer.Option(help="Random seed of the demo city.")] = 2021,
    data: Annotated[Path, typer.Option(help="Folder of the demo city files.")] = Path("data/demo"),
    out: Annotated[Path, typer.Option(help="Results folder.")] = Path("results/demo"),
    maps: Annotated[Path, typer.Option(help="Maps folder.")] = Path("maps/demo"),
    regenerate: Annotated[bool, typer.Option(help="Generate the demo city again.")] = False,
) -> None:
    """Run the whole pipeline on the embedded demo city (generated if missing).

    在内置示范城区上运行完整流程（若缺少数据则先生成）。
    """
    from spatial.pipeline import run_demo

    run = _run_reporting(
        lambda report: run_demo(
            data_dir=data,
            out_dir=out,
            maps_dir=maps,
            size=size,
            seed=seed,
            regenerate=regenerate,
            progress=report,
        )
    )
    if run.city is not None:
        console.print(
            f"generated demo city (size {run.city.size}, seed {run.city.seed}): {run.city.counts}"
        )
    console.print(f"loaded: {run.counts}")
    if run.gaps is not None:
        _print_gaps(run.gaps)
    for name, path in run.outputs.items():
        console.print(f"wrote {name}: {path}")


@app.command()
def gaps(
    out: Annotated[
        Path,
        typer.Option(
            help="Output folder (gaps.csv, compounds.gpkg, summary.csv, service_areas.gpkg)."
        ),
    ],
    osm: Annotated[
        Path | None,
        typer.Option(
            help="Local OSM file (.osm/.osm.pbf): the walk network, and compounds and POIs "
            "when --compounds/--pois are not given."
        ),
    ] = None,
    compounds: Annotated[
        list[Path] | None,
        typer.Option(help="Compound file(s) of your own (gpkg, shp, geojson, csv, xlsx)."),
    ] = None,
    pois: Annotated[list[Path] | None, typer.Option(help="POI file(s) of your own.")] = None,
    network: Annotated[
        Path | None,
        typer.Option(
            help="Walk network file: GraphML (osmnx), OSM, or a road-centreline line layer."
        ),
    ] = None,
    place: Annotated[
        str | None,
        typer.Option(help="Download the walk network of a place with osmnx (needs the internet)."),
    ] = None,
    coords: Annotated[
        Coords,
        typer.Option(
            help="Coordinate system of the POI files' lon/lat: wgs84, gcj02 (Amap), bd09 (Baidu)."
        ),
    ] = Coords.wgs84,
    categories: Annotated[
        Path | None,
        typer.Option(
            help="Your own life-circle category file (TOML like spatial/standards/lifecircle.toml)."
        ),
    ] = None,
    snap_limit_m: Annotated[
        float,
        typer.Option(help="POIs/compounds farther than this from the network are off-network."),
    ] = 150.0,
    walk_speed_m_per_min: Annotated[float, typer.Option(help="Walking speed for minutes.")] = 60.0,
    service_areas: Annotated[bool, typer.Option(help="Also write service-area polygons.")] = True,
    count_reachable: Annotated[
        bool,
        typer.Option(
            help="Also count the facilities each compound reaches within the radius (slower)."
        ),
    ] = False,
) -> None:
    """Find 15-minute life-circle gaps: walking distance from every compound to every category.

    计算15分钟生活圈缺口：每个小区到各类设施的步行距离、是否覆盖、缺少哪些设施。
    """
    from spatial.io.load import LoadSpec
    from spatial.pipeline import run_gaps

    if sum(x is not None for x in (osm, network, place)) == 0:
        raise typer.BadParameter("give the walk network: --osm, --network or --place")
    specs_c = [LoadSpec(p, "compounds") for p in compounds or []]
    specs_p = [LoadSpec(p, "pois", coords=coords.value) for p in pois or []]
    run = _run_reporting(
        lambda report: run_gaps(
            out_dir=out,
            compounds=specs_c,
            pois=specs_p,
            osm=osm,
            network=network,
            place=place,
            categories=categories,
            snap_limit_m=snap_limit_m,
            walk_speed_m_per_min=walk_speed_m_per_min,
            service_areas=service_areas,
            count_reachable=count_reachable,
            progress=report,
        )
    )
    _print_gaps(run.result, run.network)
    for name, path in run.outputs.items():
        console.print(f"wrote {name}: {path}")


def _run_reporting(job: Callable[[Callable[[str, int, int], None]], T]) -> T:
    """Run ``job(progress)`` under a progress bar; print input problems and warnings."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with (
        Progress(*columns, console=console, transient=True) as bar,
        warnings.catch_warnings(record=True) as caught,
    ):
        task = bar.add_task("starting", total=None)

        def report(stage: str, done: int = 0, total: int = 0) -> None:
            bar.update(task, description=stage, completed=done, total=total or None)

        warnings.simplefilter("always", InputWarning)
        try:
            result = job(report)
        except InputError as exc:
            console.print(_problem_table(exc.problems))
            raise typer.Exit(1) from exc
        except (ValueError, FileNotFoundError) as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
    for w in caught:
        console.print(f"[yellow]{w.message}[/yellow]")
    return result


def _print_gaps(result: GapResult, network: WalkNetwork | None = None) -> None:
    if network is not None:
        pieces = network.pieces()
        console.print(
            f"walk network: {network.n_nodes} nodes, {network.n_edges} edges, "
            f"{len(pieces)} piece(s); largest {int(pieces['nodes'].iloc[0])} nodes"
        )
    table = Table(title="Coverage per category 各类设施覆盖率")
    for col in ("category 类别", "level", "radius m", "compounds covered", "households covered"):
        table.add_column(col)
    for row in result.summary.to_dict("records"):
        share = float(row["share_households_covered"])
        table.add_row(
            f"{row['zh']} {row['en']}",
            str(row["level"]),
            f"{float(row['radius_m']):g}",
            f"{row['compounds_covered']}/{row['compounds']}",
            "" if np.isnan(share) else f"{share:.0%}",
        )
    console.print(table)
    for p in result.problems:
        console.print(f"[yellow]{p}[/yellow]")


class Islands(str, Enum):
    """What happens to a compound with no neighbour."""

    single = "single"
    exclude = "exclude"


@app.command()
def bundles(
    out: Annotated[
        Path,
        typer.Option(help="Output folder (bundles.gpkg, bundles.csv, pairs.csv, packages.csv)."),
    ],
    parcels: Annotated[
        list[Path] | None,
        typer.Option(
            help="Files of old compounds and other parcels (棚户区, 城中村, 旧厂区 …); layers or "
            "headers tell which is which."
        ),
    ] = None,
    compounds: Annotated[
        list[Path] | None, typer.Option(help="Files holding only old compounds.")
    ] = None,
    osm: Annotated[
        Path | None,
        typer.Option(
            help="OSM file of the area: its major roads, railways and rivers are barriers."
        ),
    ] = None,
    barriers: Annotated[Path | None, typer.Option(help="Barrier lines/areas of your own.")] = None,
    gaps: Annotated[
        Path | None,
        typer.Option(help="Output folder of `spatial gaps`: bundles report their compounds' gaps."),
    ] = None,
    finance: Annotated[
        Path | None,
        typer.Option(
            help="Finance figures of your own (TOML like spatial/standards/finance.toml)."
        ),
    ] = None,
    gap_m: Annotated[
        float | None, typer.Option(help="Parcels this close (m) are neighbours (default 30).")
    ] = None,
    cross_barriers: Annotated[bool, typer.Option(help="Let bundles cross barriers.")] = False,
    islands: Annotated[
        Islands, typer.Option(help="Compounds with no neighbour: single (own bundle) or exclude.")
    ] = Islands.single,
    seed: Annotated[int, typer.Option(help="Seed of the tie-breaking order.")] = 0,
) -> None:
    """Bundle old compounds with adjacent parcels into self-balancing area projects.

    大片区统筹平衡：将老旧小区与相邻的棚户区、城中村、旧厂区等组合成资金自平衡的片区项目，
    并给出跨片区组合平衡与按街道打包的结果。
    """
    from spatial.io.load import LoadSpec
    from spatial.pipeline import run_bundles

    specs = [LoadSpec(p, "compounds") for p in compounds or []]
    for path in parcels or []:
        specs += [
            LoadSpec(path, kind, source_layer=layer)
            for kind, layer in _guess_kinds(path)
            if kind in ("compounds", "parcels")
        ]
    run = _run_reporting(
        lambda report: run_bundles(
            out_dir=out,
            compounds=[s for s in specs if s.layer == "compounds"],
            parcels=[s for s in specs if s.layer == "parcels"],
            osm=osm,
            barriers=barriers,
            gaps_dir=gaps,
            finance=finance,
            gap_m=gap_m,
            cross_barriers=cross_barriers,
            islands=islands.value,
            seed=seed,
            progress=report,
        )
    )
    _print_bundles(run.result)
    for name, path in run.outputs.items():
        console.print(f"wrote {name}: {path}")


def _print_bundles(result: BundleResult) -> None:
    b = result.bundles
    table = Table(title="Candidate bundles 候选片区 (money in 10,000 yuan 万元)")
    for col in (
        "bundle",
        "members 组成",
        "households 户数",
        "cost 成本",
        "revenue 收益",
        "balance 平衡",
        "status 状态",
    ):
        table.add_column(col)
    for row in b.sort_values("households", ascending=False).head(15).to_dict("records"):
        table.add_row(
            row["bundle_id"],
            row["kinds"],
            f"{row['households']:,.0f}",
            f"{row['cost_yuan'] / 1e4:,.0f}",
            f"{row['revenue_yuan'] / 1e4:,.0f}",
            f"{row['balance_yuan'] / 1e4:,.0f}",
            "自平衡 self-balancing" if row["status"] == "self-balancing" else "资金缺口 deficit",
        )
    console.print(table)
    console.print(
        f"{len(b)} bundles: {(b['status'] == 'self-balancing').sum()} self-balancing;"
        f" {len(result.pairs)} deficit bundles paired across areas; "
        f"{len(result.excluded)} island compounds excluded"
    )


@app.command("eligibility")
def eligibility_(
    profile: Annotated[
        str,
        typer.Option(
            help="Policy profile: shandong, taian, liaocheng, qinghai, xining, or a TOML file."
        ),
    ],
    compounds: Annotated[list[Path] | None, typer.Option(help="Compound files.")] = None,
    gaps: Annotated[
        Path | None, typer.Option(help="Or the output folder of `spatial gaps` (its compounds).")
    ] = None,
    out: Annotated[Path, typer.Option(help="CSV to write.")] = Path("eligibility.csv"),
) -> None:
    """Label each compound priority / eligible / excluded under a policy profile, with reasons.

    按政策口径认定老旧小区：优先改造、符合条件或不纳入，并给出中英文原因。
    """
    import geopandas as gpd
    import pandas as pd

    from spatial.io.load import LoadSpec, load_layers
    from spatial.io.write import write_csv
    from spatial.policy import eligibility, load_profile

    if gaps is not None:
        comp = gpd.read_file(gaps / "compounds.gpkg", layer="compounds", engine="pyogrio")
    elif compounds:
        comp = _run_reporting(
            lambda _r: load_layers([LoadSpec(p, "compounds") for p in compounds])["compounds"]
        )
    else:
        raise typer.BadParameter("give --compounds or --gaps")
    try:
        prof = load_profile(profile)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    result = eligibility(comp, prof)
    keys = [k for k in ("id", "name", "subdistrict", "community", "build_year") if k in comp]
    table = pd.DataFrame(comp[keys]).join(result)
    console.print(
        f"{prof.zh} {prof.en}: "
        + ", ".join(f"{k} {v}" for k, v in result["status"].value_counts().items())
    )
    console.print(f"source: {prof.source}")
    write_csv(table, out)
    console.print(f"wrote {out}")


@app.command()
def plan(
    profile: Annotated[
        str,
        typer.Option(
            help="Policy profile: shandong, taian, liaocheng, qinghai, xining, or a TOML file."
        ),
    ],
    gaps: Annotated[Path, typer.Option(help="Output folder of `spatial gaps`.")],
    out: Annotated[Path, typer.Option(help="Output folder (plan.xlsx, plan.gpkg).")],
    budget_yuan: Annotated[
        float, typer.Option(help="Yearly budget of total investment, yuan (e.g. 5e8).")
    ],
    households_per_year: Annotated[
        float | None, typer.Option(help="Yearly household target (a cap).")
    ] = None,
    parcels: Annotated[
        list[Path] | None,
        typer.Option(help="Candidate sites for new facilities (低效用地, 功能转换 … parcels)."),
    ] = None,
    osm: Annotated[Path | None, typer.Option(help="Walk network (OSM) for siting.")] = None,
    sites_k: Annotated[int, typer.Option(help="Sites to choose per missing category.")] = 3,
    finance: Annotated[Path | None, typer.Option(help="Finance figures of your own.")] = None,
) -> None:
    """Eligibility, renovation needs, ranking, annual plan and facility sites (plan.xlsx).

    按政策口径认定改造对象，确定改造内容，排序并编制年度计划，为缺失设施选址，输出 plan.xlsx。
    """
    from spatial.io.load import LoadSpec
    from spatial.pipeline import run_plan

    specs = [
        LoadSpec(p, "parcels", source_layer=layer)
        for path in parcels or []
        for kind, layer in _guess_kinds(path)
        if kind == "parcels"
        for p in [path]
    ]
    run = _run_reporting(
        lambda report: run_plan(
            out_dir=out,
            profile=profile,
            gaps_dir=gaps,
            budget_yuan=budget_yuan,
            households_per_year=households_per_year,
            parcels=specs,
            osm=osm,
            sites_k=sites_k,
            finance=finance,
            progress=report,
        )
    )
    counts = run.plan["status"].value_counts()
    console.print("认定 eligibility: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    table = Table(title="年度计划 Annual plan")
    for col in ("year 年度", "compounds 小区", "households 户数", "cost 投资 (万元)"):
        table.add_column(col, justify="right")
    for year, grp in run.plan[run.plan["year"].notna()].groupby("year"):
        table.add_row(
            str(year),
            str(len(grp)),
            f"{grp['households'].sum():,.0f}",
            f"{grp['cost_yuan'].sum() / 1e4:,.0f}",
        )
    console.print(table)
    for name, path in run.outputs.items():
        console.print(f"wrote {name}: {path}")


class BasemapChoice(str, Enum):
    """Base map under the data."""

    none = "none"
    osm = "osm"
    tianditu = "tianditu"
    amap = "amap"


@app.command("map")
def map_(
    out: Annotated[Path, typer.Option(help="HTML file of the gap map, e.g. maps/城区.html.")],
    gaps: Annotated[Path | None, typer.Option(help="Output folder of `spatial gaps`.")] = None,
    bundles: Annotated[
        Path | None,
        typer.Option(help="Output folder of `spatial bundles`: also writes <out>_bundles.html."),
    ] = None,
    basemap: Annotated[
        BasemapChoice,
        typer.Option(
            help="none (works with no network), osm, tianditu (needs --tianditu-key) or amap "
            "(data shifted to GCJ-02)."
        ),
    ] = BasemapChoice.none,
    tianditu_key: Annotated[str | None, typer.Option(help="Tianditu (天地图) key.")] = None,
    png: Annotated[bool, typer.Option(help="Also write PNG maps for reports.")] = False,
) -> None:
    """Write interactive HTML maps that open without internet (and PNGs for reports).

    生成可离线打开的交互式地图（设施缺口图、片区图），可选输出 PNG 静态图。
    """
    from spatial.render import bundle_map, gap_map, load_bundle_tables, load_gap_tables, save_map
    from spatial.render.static import static_bundle_map, static_gap_map

    if gaps is None and bundles is None:
        raise typer.BadParameter("give --gaps and/or --bundles")
    written = []
    try:
        if gaps is not None:
            tables = load_gap_tables(gaps)
            written.append(
                save_map(gap_map(tables, basemap=basemap.value, tianditu_key=tianditu_key), out)
            )
            if png:
                written.append(static_gap_map(tables.compounds, out.with_suffix(".png")))
        if bundles is not None:
            target = out if gaps is None else out.with_name(out.stem + "_bundles.html")
            btables = load_bundle_tables(bundles)
            written.append(
                save_map(
                    bundle_map(btables, basemap=basemap.value, tianditu_key=tianditu_key), target
                )
            )
            if png:
                written.append(
                    static_bundle_map(btables.bundles, btables.members, target.with_suffix(".png"))
                )
    except (ValueError, FileNotFoundError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    for path in written:
        console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


@app.command()
def pois(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="POI files: Amap/Baidu exports (.csv .xlsx .json), OSM, GIS files. List the "
            "most trusted source first: duplicates keep its record."
        ),
    ],
    out: Annotated[Path, typer.Option(help="GeoPackage to write (layer pois, WGS84).")] = Path(
        "pois.gpkg"
    ),
    coords: Annotated[
        Coords,
        typer.Option(
            help="Coordinate system of lon/lat in the table/JSON files: gcj02 (Amap 高德), bd09 "
            "(Baidu 百度), bd09mc (Baidu Mercator metres), wgs84. OSM and GIS files are "
            "read as they are."
        ),
    ] = Coords.wgs84,
    dedupe_m: Annotated[
        float,
        typer.Option(help="Merge same-category POIs with alike names within this distance (m)."),
    ] = 50.0,
    area: Annotated[
        Path | None,
        typer.Option(
            help="Study area (OSM file: its bounds; or a polygon layer): POIs outside are "
            "reported off the map."
        ),
    ] = None,
    categories: Annotated[Path | None, typer.Option(help="Your own category file.")] = None,
) -> None:
    """Read, convert, classify and de-duplicate POIs into one file for `spatial gaps`.

    读取高德/百度/OSM 设施点：坐标转换、按生活圈类别分类、去重，输出一个设施点文件。
    """
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import box

    from spatial.facilities import prepare_pois
    from spatial.io.load import LoadSpec, load_layers
    from spatial.io.write import write_gpkg
    from spatial.standards import load_categories

    specs = [
        LoadSpec(
            f,
            "pois",
            coords=Coords.wgs84.value
            if is_osm_file(f) or f.suffix.lower() in (".gpkg", ".shp", ".geojson")
            else coords.value,
        )
        for f in files
    ]
    frames = _run_reporting(
        lambda _report: [
            gdf.assign(source=f.name)
            for f, gdf in (
                (f, load_layers([s], to_crs="EPSG:4326")["pois"])
                for f, s in zip(files, specs, strict=True)
            )
        ]
    )
    merged = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    area_geom = None
    if area is not None:
        if is_osm_file(area):
            area_geom = box(*read_osm(area).bounds)
        else:
            area_geom = gpd.read_file(area, engine="pyogrio").to_crs(4326).union_all()
    kept, report = prepare_pois(
        merged, categories=load_categories(categories), distance_m=dedupe_m, area=area_geom
    )
    table = Table(title="POIs per life-circle category 各类设施点数量")
    table.add_column("category 类别")
    table.add_column("POIs", justify="right")
    for row in report.per_category.to_dict("records"):
        table.add_row(f"{row['zh']} {row['en']}", str(row["pois"]))
    console.print(table)
    console.print(
        f"read {report.n_input} POIs; {report.n_outside} off the map; "
        f"{report.n_duplicates} duplicates merged; "
        f"{int(report.unmatched['pois'].sum())} match no category"
    )
    if len(report.unmatched):
        top = ", ".join(f"{k} ({v})" for k, v in report.unmatched.head(10).itertuples(index=False))
        console.print(f"unmatched, most common: {top}")
    write_gpkg({"pois": kept}, out)
    console.print(f"wrote {out}")


@app.command()
def osm(
    file: Annotated[Path, typer.Argument(help="Local OpenStreetMap file (.osm or .osm.pbf).")],
    out: Annotated[Path, typer.Option(help="GeoPackage to write.")] = Path("osm_layers.gpkg"),
) -> None:
    """Extract compounds, POIs, entrances, barriers and parcels from an OSM file.

    从 OSM 文件提取小区、设施点、出入口、阻隔（主干路、铁路、河流）和地块。
    Data © OpenStreetMap contributors, ODbL 1.0.
    """
    layers = read_osm(file)
    table = Table(title=f"{file.name} (© OpenStreetMap contributors, ODbL)")
    table.add_column("layer")
    table.add_column("features", justify="right")
    out_layers = {}
    for name in ("compounds", "pois", "entrances", "barriers", "parcels"):
        gdf = getattr(layers, name)
        table.add_row(name, str(len(gdf)))
        if len(gdf):
            out_layers[name] = gdf
    console.print(table)
    for note in layers.notes:
        console.print(f"[yellow]{note}[/yellow]")
    write_gpkg(out_layers, out)
    console.print(f"wrote {out}")


def main() -> None:
    """Entry point of the ``spatial`` console script."""
    app()
