"""Reading one file of any kind as a frame, its geometry and its row labels.

The private half of :mod:`spatial.io.load`: OSM extracts (with the compounds cut by the
edge on request), tables (the Excel sheet and header row found), GIS layers (the layer
of a multi-layer file picked, shapefile text repaired).
"""

from __future__ import annotations

import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from spatial._errors import InputError, Problem, input_error
from spatial.io.osm.read import is_osm_file, read_osm
from spatial.io.survey.dbf import expand_cut_names, repair_shapefile_text
from spatial.io.survey.estimate import estimate_from_buildings
from spatial.io.survey.schema import alias_index
from spatial.io.survey.sheets import unique_headers
from spatial.io.survey.tables import is_table_file, read_table, table_geometry, table_origin
from spatial.io.survey.values import normalize_header

__all__ = [
    "READ_ERRORS",
    "check_input_path",
    "is_gis_file",
    "library_failed",
    "pick_layer",
    "read_any",
    "read_table_file",
    "reading",
]

#: What reading a damaged, foreign or junk file raises — GDAL and osmium raise
#: RuntimeError, XML parsers SyntaxError, zips BadZipFile. Reported as "cannot read the
#: file"; anything else (KeyError, AttributeError, TypeError …) is a bug and stays one.
READ_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    OSError,
    RuntimeError,
    EOFError,
    SyntaxError,
    ImportError,
    OverflowError,
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    shapely.errors.GEOSException,
)


def library_failed(exc: BaseException) -> bool:
    """Whether ``exc`` is a reading failure: a :data:`READ_ERRORS` kind, or anything a
    file reader (GDAL through pyogrio, osmium, openpyxl) raised inside on a damaged file.

    An exception raised in the toolkit's own code that is no read error is a bug and
    must stay one, not become "cannot read the file".

    Parameters
    ----------
    exc
        The exception caught while reading.

    Returns
    -------
    bool
        True when it is the file's fault.
    """
    if isinstance(exc, READ_ERRORS):
        return True
    files = []
    tb = exc.__traceback__
    while tb is not None:
        files.append(Path(tb.tb_frame.f_code.co_filename))
        tb = tb.tb_next
    ours = [i for i, f in enumerate(files) if f.is_relative_to(_PACKAGE)]
    if not ours or ours[-1] == len(files) - 1:
        return False  # raised in the toolkit's own code
    called = {part for f in files[ours[-1] + 1 :] for part in f.parts}  # what it called last
    return any(name in called for name in _READERS)


_READERS = ("pyogrio", "osmium", "openpyxl", "xlrd", "zipfile")
_PACKAGE = Path(__file__).resolve().parents[1]


def check_input_path(path: Path, *, what: str, hint: str) -> None:
    """Refuse a missing path or a folder before it is opened.

    Parameters
    ----------
    path
        A file a command was given.
    what
        What the file should be, for the message ("survey table", "footprints").
    hint
        How to give a usable one.

    Raises
    ------
    InputError
        Missing, or a folder, naming the file.
    """
    if not path.exists():
        raise input_error(str(path), f"{what}: no such file", hint="check the path")
    if path.is_dir():
        raise input_error(str(path), f"{what}: a folder, not a file", hint=hint)


@contextmanager
def reading(path: Path, *, what: str, hint: str) -> Iterator[None]:
    """Turn what a damaged or foreign file raises while read into an error naming it.

    Parameters
    ----------
    path
        The file being read.
    what, hint
        As :func:`check_input_path`.

    Yields
    ------
    None
        The block that reads; a bug in it (see :func:`library_failed`) is raised as is.

    Raises
    ------
    InputError
        The file cannot be read, naming it and GDAL's or the reader's reason.
    """
    try:
        yield
    except InputError:
        raise
    except Exception as exc:
        if not library_failed(exc):
            raise
        said = str(exc)
        if "not recognized as being in a supported file format" in said:
            said = "not a file GDAL can read (GeoPackage, shapefile, GeoJSON …)"
        raise input_error(str(path), f"cannot read the {what}: {said}", hint=hint) from exc


def read_table_file(path: str | Path, *, what: str, hint: str) -> pd.DataFrame:
    """Read a CSV or Excel table a command was given, or say what is wrong with it.

    Parameters
    ----------
    path
        The file.
    what
        What the file should be, for the message ("survey table", "status table").
    hint
        How to give a usable one.

    Returns
    -------
    DataFrame
        As :func:`spatial.io.survey.tables.read_table` reads it.

    Raises
    ------
    InputError
        Missing, a folder, or unreadable (damaged, not a table), naming the file.
    """
    path = Path(path)
    check_input_path(path, what=what, hint=hint)
    with reading(path, what=what, hint=hint):
        return read_table(path)


def _label_rows(pos: int) -> int:
    return pos + 2


def _sheet_rows(header_row: int, rows: list[int] | None = None) -> Callable[[int], int]:
    """Record position → spreadsheet row: ``rows`` when known (empty rows skipped), else the
    row after ``header_row`` plus the position."""

    def label(pos: int) -> int:
        if rows and 0 <= pos < len(rows):
            return rows[pos]
        return pos + header_row + 1

    return label


def _label_features(pos: int) -> str:
    return f"feature {pos}"


def read_any(path: Path, layer: str, crs, coords, sheet, source_layer, problems, *, keep_cut):
    """Read a file of any kind (OSM, table, GIS) before it is checked.

    Parameters
    ----------
    path
        The file.
    layer
        ``compounds``, ``pois`` or ``parcels``.
    crs, coords, sheet, source_layer
        As :func:`spatial.io.load.check_file` takes them.
    problems
        Problems found (appended to).
    keep_cut
        OSM compounds: keep residential areas cut by the extract's edge.

    Returns
    -------
    raw, geometry, label, names
        The records (None when unreadable), their geometry, how messages name a row, and
        the column names as written.
    """
    src = str(path)
    if is_osm_file(path):
        osm = read_osm(path)
        problems += osm.notes
        frame = getattr(osm, layer)
        cut = osm.cut_compounds
        if layer == "compounds" and keep_cut and cut is not None and len(cut):
            frame = gpd.GeoDataFrame(pd.concat([frame, cut], ignore_index=True), crs=frame.crs)
            problems.append(
                Problem.warning(
                    src,
                    f"{len(cut)} residential area(s) cut by the extract's edge kept with their "
                    "part inside the file (partial = True): distances from them are approximate",
                    hint="use a larger extract for whole compounds",
                )
            )
        if layer == "compounds":  # OSM has no survey: estimate households from buildings
            frame, found = estimate_from_buildings(frame, osm.buildings, source=src)
            problems += found
        return frame, frame.geometry, _label_osm(frame), list(frame.columns)
    if is_table_file(path):
        table = read_table(path, sheet=sheet)
        label = _sheet_rows(table.attrs.get("header_row", 1), table.attrs.get("rows"))
        problems += [
            Problem.warning(
                src,
                note,
                hint="give each column a header of its own (rename, fill in or delete the column)",
            )
            for note in table.attrs.get("header_notes", [])
        ]
        geometry, used, found = table_geometry(
            table, source=src, crs=crs, coords=coords, row_label=label
        )
        problems += found
        names = [str(c) for c in table.columns]
        if geometry is None and (origin := table_origin(table)):
            problems.append(
                Problem.error(
                    src,
                    f"no geometry in {origin}: no 经度/纬度 (lon/lat), location or WKT column "
                    f"among its headers ({', '.join(names[:8])}{' …' if len(names) > 8 else ''})",
                    hint="name the sheet with --sheet, or add columns 经度 and 纬度 (WGS84 "
                    "degrees); the first 10 rows of every sheet were looked at for headers",
                )
            )
        return table.drop(columns=used), geometry, label, names
    with warnings.catch_warnings():
        # GDAL warns (RuntimeWarning) when a shapefile has no .prj; that case is
        # reported as a Problem below, with its fix.
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyogrio")
        # "Could not parse column as JSON; leaving as string": the text is checked below
        warnings.filterwarnings("ignore", message="Could not parse column", category=UserWarning)
        gdf = gpd.read_file(
            path,
            layer=source_layer,
            engine="pyogrio",
            use_arrow=path.suffix.lower() == ".gpkg",  # UTF-8 by the standard; 3-4× faster
        )
    if gdf.columns.duplicated().any():  # a damaged DBF can repeat a field name
        names, notes = unique_headers(
            [str(c) for c in gdf.columns], [str(i + 1) for i in range(gdf.shape[1])]
        )
        gdf = gdf.set_axis(names, axis=1).set_geometry("geometry")
        problems += [Problem.warning(src, note, hint="rename the fields") for note in notes]
    if path.suffix.lower() in (".shp", ".dbf"):
        gdf, found = repair_shapefile_text(
            gdf, source=src, has_cpg=path.with_suffix(".cpg").exists()
        )
        renames, cut = expand_cut_names(
            [str(c) for c in gdf.columns], alias_index(layer), source=src
        )
        gdf = gdf.rename(columns=renames)
        problems += found + cut
    return (
        pd.DataFrame(gdf.drop(columns="geometry")),
        gdf.geometry,
        _label_gis(gdf, layer),
        [str(c) for c in gdf.columns],
    )


def is_gis_file(path: Path) -> bool:
    """Whether the file is a GIS file (not OSM, not a table).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    bool
    """
    return not is_table_file(path) and not is_osm_file(path)


def pick_layer(path: Path, kind: str, source_layer: str | None) -> tuple[str, bool]:
    """The layer of a GIS file holding ``kind``, and whether the file has several.

    Parameters
    ----------
    path
        The GIS file.
    kind
        ``compounds``, ``pois`` or ``parcels``.
    source_layer
        The layer asked for, or None (the only one, or the one named like ``kind``).

    Returns
    -------
    layer, several
        The layer's name; whether the file has more than one.
    """
    from spatial.io.kinds import guess_kinds, named_kind

    with warnings.catch_warnings():
        # GDAL warns about a foreign or damaged header ("bad application_id"); the read
        # that follows fails with the reason or succeeds
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyogrio")
        listed = [(str(n), t) for n, t in pyogrio.list_layers(path)]
    names = [n for n, _ in listed]
    if not names:
        raise ValueError("the file has no layer")
    if source_layer is not None:
        if source_layer not in names:
            raise ValueError(f"no layer '{source_layer}'; it has: {', '.join(names)}")
        return source_layer, len(names) > 1
    if len(names) == 1:
        return names[0], False
    exact = [n for n, t in listed if n.lower() == kind and t is not None]
    if len(exact) == 1:  # the compound database's (and spatial osm's) own layer names
        return exact[0], True
    named = [n for n, t in listed if named_kind(n) == kind and t is not None]
    if len(named) == 1:
        return named[0], True
    fits = [n for k, n in guess_kinds(path) if k == kind and n is not None]
    if len(fits) == 1:
        return fits[0], True
    raise ValueError(
        f"{len(names)} layers ({', '.join(names)}) and "
        + (f"{len(fits)} look like {kind}" if fits else f"none looks like {kind}")
    )


def _label_gis(frame: pd.DataFrame, layer: str) -> Callable[[int], str]:
    """Name a GIS feature by its own id (地块编号 G-12) where the layer has one."""
    aliases = alias_index(layer)
    col = next((c for c in frame.columns if aliases.get(normalize_header(str(c))) == "id"), None)
    if col is None:
        return _label_features
    values = ["" if pd.isna(v) else str(v).strip() for v in frame[col]]

    def label(pos: int) -> str:
        value = values[pos] if pos < len(values) else ""
        return f"{col} {value}" if value else f"feature {pos}"

    return label


def _label_osm(frame: gpd.GeoDataFrame):
    ids = list(frame["id"]) if "id" in frame else []

    def label(pos: int) -> str:
        return f"OSM {ids[pos]}" if pos < len(ids) else f"feature {pos}"

    return label
