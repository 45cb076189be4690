"""What every command shares: the console, choices, the problem table, progress, logging."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable
from dataclasses import fields
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from spatial.lifecircle.params import GapParams
from spatial.params import StageParams

if TYPE_CHECKING:
    from spatial._errors import Problem
    from spatial.io.load import LoadSpec

__all__ = [
    "QUIET",
    "BasemapChoice",
    "Coords",
    "Islands",
    "Kind",
    "NetworkLayerOption",
    "SafeConsole",
    "SchoolUnknown",
    "SnapOption",
    "check_out",
    "console",
    "default_of",
    "error_console",
    "kind_specs",
    "layer_specs",
    "params_from",
    "print_outputs",
    "print_problems",
    "problem_table",
    "run_reporting",
    "setup_logging",
]

T = TypeVar("T")
P = TypeVar("P", bound=StageParams)
#: ``--network-layer`` of every command that reads a network file.
NetworkLayerOption = Annotated[
    str | None,
    typer.Option(help="The road layer of a multi-layer --network file (GeoPackage, FileGDB)."),
]


class SafeConsole(Console):
    """A rich console on which text from data is inert.

    Every text segment it renders passes through
    :func:`~spatial.io.outputs.write.inert_text`: a compound named with ``ESC ]0;…`` or
    U+202E cannot retitle the window, clear the screen or reorder a line. Rich's own
    styling is applied after, so colours are unaffected.
    """

    def render(self, renderable: Any, options: Any = None) -> Any:
        """Render as rich does, then make each text segment inert.

        Parameters
        ----------
        renderable, options
            As :meth:`rich.console.Console.render`.

        Returns
        -------
        iterator of Segment
            The segments, control segments (cursor moves of rich itself) unchanged.
        """
        from rich.segment import Segment

        from spatial.io.outputs.write import inert_text

        for segment in super().render(renderable, options):
            if segment.control or segment.text.isprintable():
                yield segment
            else:
                yield Segment(inert_text(segment.text), segment.style, segment.control)


console = SafeConsole()


def params_from(cls: type[P], **given: Any) -> P:
    """A stage's parameter object from command-line options: each option given (not None)
    replaces the object's default; the object holds the only defaults.

    Parameters
    ----------
    cls
        The stage's parameter class (``GapParams`` …).
    **given
        Option values by field name; None: not given. Enum choices give their value.

    Returns
    -------
    The validated object (:class:`~spatial.InputError` names a bad option).
    """
    values = {k: v.value if isinstance(v, Enum) else v for k, v in given.items() if v is not None}
    return cls(**values)


def default_of(cls: type[StageParams], name: str) -> str:
    """The default of a parameter as ``--help`` shows it (``3000``, ``True``, ``none``).

    Parameters
    ----------
    cls
        The stage's parameter class.
    name
        A field name.

    Returns
    -------
    str
    """
    value = next(f.default for f in fields(cls) if f.name == name)
    return f"{value:g}" if isinstance(value, float) else str(value)


#: ``--line-snap-m`` (also ``--snap-m``) of every command that reads a road-line layer.
SnapOption = Annotated[
    float | None,
    typer.Option(
        "--line-snap-m",
        "--snap-m",
        help="Road line layers: join vertices and line ends this close, metres "
        "(CAD lines that do not quite meet).",
        show_default=default_of(GapParams, "line_snap_m"),
    ),
]
QUIET = {"on": False}


class _ErrorConsole:
    """``console`` for errors: printed under ``--quiet`` too (``console`` is silent then)."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        was, console.quiet = console.quiet, False
        try:
            console.print(*objects, **kwargs)
        finally:
            console.quiet = was


error_console = _ErrorConsole()


def setup_logging(*, verbose: bool, quiet: bool) -> None:
    """Send the toolkit's ``logging`` records to the console at the chosen level.

    Parameters
    ----------
    verbose
        Also show informational records (stage details).
    quiet
        Show errors only, and no progress bar.
    """
    from rich.logging import RichHandler

    level = logging.ERROR if quiet else (logging.INFO if verbose else logging.WARNING)
    logger = logging.getLogger("spatial")
    # under --quiet only errors are logged, on a console of their own (``console`` is silent)
    handler = RichHandler(
        console=SafeConsole() if quiet else console, show_path=False, show_time=False
    )
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
    QUIET["on"] = quiet
    console.quiet = quiet


def check_out(path: Path, *, option: str = "--out") -> Path:
    """Check an output file before any work; print the problem and exit 1 if unusable.

    Parameters
    ----------
    path
        The file the command will write.
    option
        The option that named it.

    Returns
    -------
    Path
        ``path``.
    """
    from spatial.io.outputs.runfolder import check_out_file

    return run_reporting(lambda _r: check_out_file(path, option=option))


def layer_specs(
    paths: list[Path] | None, kind: str, *, layer: str | None, coords: str = "wgs84"
) -> list[LoadSpec]:
    """What to load from files given for one kind, ``layer`` naming the layer in GIS files.

    Parameters
    ----------
    paths
        The files given with ``--compounds``, ``--pois`` …
    kind
        ``compounds``, ``pois`` or ``parcels``.
    layer
        ``--<kind>-layer``: the layer of multi-layer GIS files (GeoPackage, FileGDB);
        tables and OSM files have none and ignore it.
    coords
        Coordinate system of tables' lon/lat.

    Returns
    -------
    list of LoadSpec
    """
    from spatial.io.load import LoadSpec
    from spatial.io.osm.read import is_osm_file
    from spatial.io.survey.tables import is_table_file

    specs = []
    for p in paths or []:
        url = _database_url(p)
        if url is not None and kind == "compounds":  # the compound database on a server
            specs.append(LoadSpec(_database_compounds(url), kind, source_layer="compounds"))
            continue
        specs.append(
            LoadSpec(
                p,
                kind,
                coords=coords,
                source_layer=None if is_osm_file(p) or is_table_file(p) else layer,
            )
        )
    return specs


def _database_url(path: Path) -> str | None:
    """``postgresql://…`` given where a file is asked for (a path folds its ``//``)."""
    text = str(path)
    if not text.startswith(("postgresql:", "postgres:")):
        return None
    return re.sub(r"^(postgres(?:ql)?):/+", r"\1://", text)


def _database_compounds(url: str) -> Path:
    """The database's compounds as they stand, in a GeoPackage removed at exit."""
    import atexit
    import shutil
    import tempfile

    from spatial.db.connect import open_db
    from spatial.db.frames import read_compounds
    from spatial.io.outputs.write import write_gpkg

    db = open_db(url)
    with db.reading() as conn:
        comp = read_compounds(conn, db)
    folder = Path(tempfile.mkdtemp(prefix="spatial-db-"))
    atexit.register(shutil.rmtree, folder, True)
    return write_gpkg({"compounds": comp}, folder / "compounds.gpkg")


def kind_specs(
    paths: list[Path] | None, kinds: tuple[str, ...], *, layers: list[str] | None
) -> list[LoadSpec]:
    """What to load from mixed files: each layer of the kinds wanted, as guessed.

    Parameters
    ----------
    paths
        Files that may hold several kinds (``--parcels``).
    kinds
        The kinds to keep (e.g. ``("compounds", "parcels")``).
    layers
        ``--parcels-layer``: only these layers of multi-layer GIS files, each still
        classed by its name, geometry and columns. An OSM file gives the kinds it holds.

    Returns
    -------
    list of LoadSpec
    """
    from spatial.io.kinds import guess_kinds
    from spatial.io.load import LoadSpec
    from spatial.io.osm.read import is_osm_file, read_osm
    from spatial.io.survey.tables import is_table_file

    specs = []
    for path in paths or []:
        named = layers if layers and not (is_osm_file(path) or is_table_file(path)) else [None]
        for name in named:
            try:
                guessed = [(k, src) for k, src in guess_kinds(path, layer=name) if k in kinds]
                if is_osm_file(path):  # an extract may hold only some kinds: take those
                    osm = read_osm(path)
                    guessed = [(k, s) for k, s in guessed if len(getattr(osm, k))] or guessed[:1]
            except Exception:  # missing or unreadable: the loader says what is wrong, with all
                guessed = [(kinds[0], name)]  # the other files' problems
            specs += [LoadSpec(path, k, source_layer=src) for k, src in guessed]
    return specs


class Kind(str, Enum):
    """What a file holds."""

    auto = "auto"
    compounds = "compounds"
    pois = "pois"
    parcels = "parcels"
    network = "network"


class Coords(str, Enum):
    """Coordinate system of lon/lat values."""

    wgs84 = "wgs84"
    gcj02 = "gcj02"
    bd09 = "bd09"
    bd09mc = "bd09mc"


def problem_table(problems: list[Problem]) -> Table:
    table = Table(title="Problems found 发现的问题", show_lines=False)
    for col in ("", "file 文件", "row 行", "column 列", "problem 问题", "fix 修改方法"):
        table.add_column(col, overflow="fold")
    for p in sorted(problems, key=lambda p: p.severity != "error"):
        mark = "[red]error[/red]" if p.severity == "error" else "[yellow]warning[/yellow]"
        table.add_row(
            mark,
            escape(Path(p.file).name),
            "" if p.row is None else escape(str(p.row)),
            escape(p.column or ""),
            escape(p.message),
            escape(p.hint),
        )
    return table


def run_reporting(job: Callable[[Callable[[str, int, int], None]], T]) -> T:
    """Run ``job(progress)`` under a progress bar; print input problems and warnings.

    Parameters
    ----------
    job
        The work, called with a ``progress(stage, done, total)`` callback.

    Returns
    -------
    object
        What ``job`` returned.

    Raises
    ------
    typer.Exit
        With code 1 after printing the problems of an :class:`~spatial.InputError` or
        a fault of the machine (:class:`~spatial.faults.MachineFaultError`: disk full …).
        Anything else is a bug and goes on to the internal-error report.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from spatial._errors import InputError, InputWarning
    from spatial.faults import MachineFaultError

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with (
        Progress(*columns, console=console, transient=True, disable=QUIET["on"]) as bar,
        warnings.catch_warnings(record=True) as caught,
    ):
        task = bar.add_task("starting", total=None)

        def report(stage: str, done: int = 0, total: int = 0) -> None:
            bar.update(task, description=stage, completed=done, total=total or None)

        warnings.simplefilter("always", InputWarning)
        try:
            result = job(report)
        except InputError as exc:
            error_console.print(problem_table(exc.problems))
            raise typer.Exit(1) from exc
        except MachineFaultError as exc:
            error_console.print(f"[red]{escape(str(exc))}[/red]", soft_wrap=True)
            raise typer.Exit(1) from exc
    if not QUIET["on"]:
        found = [p for w in caught for p in getattr(w.message, "problems", [])]
        print_problems(list(dict.fromkeys(found)))
        # other warnings: print each once
        others = (str(w.message) for w in caught if not getattr(w.message, "problems", None))
        for message in dict.fromkeys(others):
            console.print(f"[yellow]{escape(message)}[/yellow]")
    return result


def print_problems(problems: list[Problem]) -> None:
    """Print problems, one line per kind with its count and first places.

    Parameters
    ----------
    problems
        Any number of problems (all of them are in ``problems.csv``).
    """
    from spatial._errors import summarise_problems

    for line in summarise_problems(problems):
        console.print(f"[yellow]{escape(line)}[/yellow]")


def print_outputs(outputs: dict[str, Path]) -> None:
    """Print the files a command wrote.

    Parameters
    ----------
    outputs
        ``{name: path}`` of the files written.
    """
    for name, path in outputs.items():
        console.print(f"wrote {name}: {path}", markup=False, soft_wrap=True)


class SchoolUnknown(str, Enum):
    """What a school of unknown level counts as."""

    none = "none"
    primary = "primary"
    junior = "junior"
    both = "both"


class Islands(str, Enum):
    """What happens to a compound with no neighbour."""

    single = "single"
    exclude = "exclude"


class BasemapChoice(str, Enum):
    """Base map under the data."""

    none = "none"
    osm = "osm"
    tianditu = "tianditu"
    amap = "amap"
