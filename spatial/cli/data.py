"""Commands on input files: ``validate``, ``pois``, ``osm``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from spatial.cli._common import (
    Coords,
    Kind,
    SnapOption,
    check_out,
    console,
    error_console,
    params_from,
    problem_table,
    run_reporting,
)
from spatial.lifecircle.params import GapParams
from spatial.settings import DEFAULTS

__all__ = ["osm", "pois", "validate"]


def validate(
    files: Annotated[
        list[Path],
        typer.Argument(help="Files to check: .gpkg .shp .geojson .csv .xlsx .osm .osm.pbf"),
    ],
    kind: Annotated[
        Kind,
        typer.Option(
            help="What the files hold; auto guesses from layer names, geometry and columns."
        ),
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
    layer: Annotated[
        str | None,
        typer.Option(help="Only this layer of multi-layer GIS files (GeoPackage, FileGDB)."),
    ] = None,
    line_snap_m: SnapOption = None,
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
    from spatial._errors import Problem
    from spatial.io.load import check_file
    from spatial.io.osm.read import read_osm
    from spatial.network import check_network_file

    ref = None
    if reference is not None:
        ref_layers = run_reporting(lambda _r: read_osm(reference))
        ref = ref_layers.pois.geometry if len(ref_layers.pois) else ref_layers.barriers.geometry
    problems: list[Problem] = []
    poi_frames: list[Any] = []
    for path in files:
        targets = [(kind.value, layer)] if kind is not Kind.auto else _kinds_or_read(path, layer)
        for what, source_layer in targets:
            where = f"{path}" + (f" [{source_layer}]" if source_layer else "")
            if what not in ("compounds", "pois", "parcels", "network"):
                console.print(f"{where}: {what} (not loaded)", markup=False, soft_wrap=True)
                continue
            if what == "network":
                summary, found = check_network_file(
                    path,
                    layer=source_layer,
                    line_snap_m=params_from(GapParams, line_snap_m=line_snap_m).line_snap_m,
                )
                problems += found
                console.print(f"{where}: walk network: {summary}", markup=False, soft_wrap=True)
                continue
            loaded = check_file(
                path,
                what,
                crs=crs,
                coords=coords.value,
                sheet=sheet,
                source_layer=source_layer,
                reference=ref,
            )
            problems += loaded.problems
            n = 0 if loaded.frame is None else len(loaded.frame)
            console.print(f"{where}: {what}: {n} records", markup=False, soft_wrap=True)
            if what == "pois" and loaded.frame is not None:
                poi_frames.append(loaded.frame)
    problems += _category_coverage(poi_frames)
    # The same warning (e.g. from an OSM file read per layer) is listed once.
    problems = list(dict.fromkeys(problems))
    n_err = sum(p.severity == "error" for p in problems)
    if problems:
        (error_console if n_err else console).print(problem_table(problems))
    console.print(f"{n_err} error(s), {len(problems) - n_err} warning(s)")
    raise typer.Exit(1 if n_err else 0)


def _category_coverage(frames: list[Any]) -> list[Any]:
    """Print which life-circle categories the POIs hold facilities of; warn of the
    categories without any (gaps reports them as ``no_data``)."""
    import pandas as pd

    from spatial._errors import Problem
    from spatial.lifecircle.pois import classify_pois
    from spatial.standards import load_categories

    if not frames:
        return []
    cats = load_categories()
    counts = pd.Series(0, index=[c.id for c in cats])
    for frame in frames:
        found = classify_pois(frame, categories=cats).str.split(";").explode()
        counts = counts.add(found[found != ""].value_counts(), fill_value=0).reindex(counts.index)
    have = [c for c in cats if counts[c.id] > 0]
    lack = [c for c in cats if counts[c.id] == 0]
    console.print(
        f"POI categories with facilities: {len(have)} of {len(cats)} — "
        + ", ".join(f"{c.zh} {int(counts[c.id])}" for c in have),
        markup=False,
        soft_wrap=True,
    )
    if not lack:
        return []
    return [
        Problem.warning(
            "pois",
            f"the POIs hold no facility of {len(lack)} of {len(cats)} categories: "
            + ", ".join(f"{c.zh} {c.id}" for c in lack),
            hint="gaps marks them no_data (left out of n_missing); add a POI file that has "
            "them (an Amap/Baidu export, the education or health bureau's list)",
        )
    ]


def _kinds_or_read(path: Path, layer: str | None) -> list[tuple[str, str | None]]:
    """The kinds a file holds; a file that cannot be opened is read as compounds so that
    the loader says what is wrong with it, beside the other files' problems."""
    from spatial.io.kinds import guess_kinds

    try:
        return guess_kinds(path, layer=layer)
    except Exception:  # missing, empty, corrupt, a folder …: check_file reports it
        return [("compounds", layer)]


def _area_geometry(path: Path) -> Any:
    """The study area of ``pois --area``: an OSM file's bounds or a polygon layer's union."""
    import geopandas as gpd
    from shapely.geometry import box

    from spatial._errors import InputError, Problem
    from spatial.io.osm.read import is_osm_file, read_osm

    if not path.exists():
        raise InputError([Problem.error(str(path), "file not found", column="--area")])
    if is_osm_file(path):
        return box(*read_osm(path).bounds)
    try:
        frame = gpd.read_file(path, engine="pyogrio")
        if frame.crs is None:
            raise ValueError("it has no CRS (a shapefile needs its .prj)")
        area = frame.to_crs(4326).union_all()
    except Exception as exc:  # GDAL's message says what is wrong with the file
        raise InputError(
            [
                Problem.error(
                    str(path),
                    f"cannot read the study area: {exc}",
                    column="--area",
                    hint="give an OSM file or a polygon layer with its CRS",
                )
            ]
        ) from None
    return area


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
        list[Coords] | None,
        typer.Option(
            help="Coordinate system of lon/lat in the table/JSON files: gcj02 (Amap 高德), bd09 "
            "(Baidu 百度), bd09mc (Baidu Mercator metres), wgs84 (default). Once for all "
            "table files, or once per table file in their order (amap.csv baidu.json "
            "--coords gcj02 --coords bd09). OSM and GIS files are read as they are."
        ),
    ] = None,
    dedupe_m: Annotated[
        float,
        typer.Option(help="Merge same-category POIs with alike names within this distance (m)."),
    ] = DEFAULTS.dedupe_m,
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
    from rich.table import Table

    from spatial._errors import InputError, raise_for_errors
    from spatial.io.load import LoadSpec, load_layers
    from spatial.io.osm.read import is_osm_file
    from spatial.io.outputs.write import write_gpkg
    from spatial.io.survey.tables import TABLE_SUFFIXES
    from spatial.lifecircle.pois import prepare_pois
    from spatial.standards import load_categories

    tables = [f for f in files if not is_osm_file(f) and f.suffix.lower() in TABLE_SUFFIXES]
    systems = [c.value for c in coords or [Coords.wgs84]]
    if len(systems) not in (1, len(tables)):
        raise typer.BadParameter(
            f"{len(systems)} --coords for {len(tables)} table file(s): give one for all, "
            "or one per table file in order",
            param_hint="--coords",
        )
    per_table = dict(
        zip(tables, systems * len(tables) if len(systems) == 1 else systems, strict=True)
    )
    specs = [LoadSpec(f, "pois", coords=per_table.get(f, "wgs84")) for f in files]

    check_out(out)

    def load_all(_report: object) -> tuple[list[gpd.GeoDataFrame], object]:
        frames, problems = [], []
        for f, spec in zip(files, specs, strict=True):  # every file checked before stopping
            try:
                frames.append(load_layers([spec], to_crs="EPSG:4326")["pois"].assign(source=f.name))
            except InputError as exc:
                problems += exc.problems
        area_geom = None
        try:
            area_geom = _area_geometry(area) if area is not None else None
        except InputError as exc:
            problems += exc.problems
        raise_for_errors(problems)
        return frames, area_geom

    frames, area_geom = run_reporting(load_all)
    merged = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
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
        console.print(f"unmatched, most common: {top}", markup=False)
    write_gpkg({"pois": kept}, out)
    console.print(f"wrote {out}", markup=False, soft_wrap=True)


def osm(
    file: Annotated[Path, typer.Argument(help="Local OpenStreetMap file (.osm or .osm.pbf).")],
    out: Annotated[Path, typer.Option(help="GeoPackage to write.")] = Path("osm_layers.gpkg"),
) -> None:
    """Extract compounds, POIs, entrances, barriers and parcels from an OSM file.

    从 OSM 文件提取小区、设施点、出入口、阻隔（主干路、铁路、河流）和地块。
    Data © OpenStreetMap contributors, ODbL 1.0.
    """
    from rich.table import Table

    from spatial.io.osm.read import read_osm
    from spatial.io.outputs.write import write_gpkg
    from spatial.io.survey.estimate import estimate_from_buildings

    check_out(out)
    layers = run_reporting(lambda report: read_osm(file))
    table = Table(title=f"{file.name} (© OpenStreetMap contributors, ODbL)")
    table.add_column("layer")
    table.add_column("features", justify="right")
    out_layers = {}
    notes = list(layers.notes)
    for name in ("compounds", "pois", "entrances", "barriers", "parcels"):
        gdf = getattr(layers, name)
        if name == "compounds" and len(gdf):  # as gaps and bundles estimate them from OSM
            gdf, found = estimate_from_buildings(gdf, layers.buildings, source=str(file))
            notes += found
        table.add_row(name, str(len(gdf)))
        if len(gdf):
            out_layers[name] = gdf
    console.print(table)
    for note in notes:
        console.print(f"[yellow]{escape(str(note))}[/yellow]")
    if not out_layers:
        error_console.print(
            f"[red]{escape(str(file))}: no compounds, POIs, entrances, barriers or parcels; "
            "nothing written[/red] — check that the extract covers the area"
        )
        raise typer.Exit(1)
    write_gpkg(out_layers, out)
    console.print(f"wrote {out}", markup=False, soft_wrap=True)
