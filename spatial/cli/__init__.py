"""Command line ``spatial``: a thin face over :mod:`spatial.pipeline`, one module per group.

Importing this package loads only typer and rich: every command imports the heavy
modules (geopandas, osmium, scipy …) when it runs, so ``spatial --help`` is fast.

- :mod:`spatial.cli.data` ``validate``, ``pois``, ``osm``
- :mod:`spatial.cli.gaps` ``gaps``; :mod:`spatial.cli.bundles` ``bundles``
- :mod:`spatial.cli.plan` ``eligibility``, ``plan``; :mod:`spatial.cli.maps` ``map``
- :mod:`spatial.cli.demo` ``demo``; :mod:`spatial.cli.batch` ``batch``
- :mod:`spatial.cli.match` ``match``; :mod:`spatial.cli.db` ``db init|import|export|status|history``
"""

from __future__ import annotations

from typing import Annotated

import typer

from spatial.cli import (
    assess,
    batch,
    bundles,
    data,
    db,
    demo,
    evaluate,
    gaps,
    maps,
    match,
    plan,
)
from spatial.cli._common import setup_logging

__all__ = ["app", "main"]

app = typer.Typer(
    help="老旧小区改造规划工具 — planning toolkit for renovating old residential compounds: "
    "load survey data, find 15-minute life-circle gaps, bundle projects.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also show what each stage does.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Errors only; no progress bar.")
    ] = False,
) -> None:
    """老旧小区改造规划工具 — planning toolkit for renovating old residential compounds."""
    setup_logging(verbose=verbose, quiet=quiet)


app.command()(data.validate)
app.command()(demo.demo)
app.command()(gaps.gaps)
app.command()(bundles.bundles)
app.command("eligibility")(plan.eligibility_)
app.command()(plan.plan)
app.command()(assess.assess)
app.command()(evaluate.evaluate)
app.command("map")(maps.map_)
app.command()(batch.batch)
app.command()(data.pois)
app.command()(data.osm)
app.command()(match.match)
app.add_typer(db.app, name="db")


def main() -> None:
    """Run the ``spatial`` console script.

    Bad input ends in a problem table and exit code 1 inside each command. Anything else
    escaping is a bug: it is reported in two lines, its traceback written to a log file
    (``SPATIAL_DEBUG=1`` shows it instead), and the exit code is 2.
    """
    import os

    try:
        app()
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None or os.environ.get("SPATIAL_DEBUG"):
            raise
        from rich.markup import escape

        from spatial.cli._common import error_console

        error_console.print(
            f"[red]this command needs {escape(str(exc.name))}, which the core install leaves "
            "out[/red]\n"
            + escape(
                f"install the [{extra}] extra: pip install 'spatial[{extra}]' "
                "(or spatial[all] for every command)"
            ),
            soft_wrap=True,
        )
        raise SystemExit(1) from None
    except Exception as exc:
        if os.environ.get("SPATIAL_DEBUG"):
            raise
        from spatial.faults import MachineFaultError, machine_fault

        fault = str(exc) if isinstance(exc, MachineFaultError) else machine_fault(exc)
        if fault is not None:
            _report_fault(exc, fault)
            raise SystemExit(1) from None
        _report_bug(exc)
        raise SystemExit(2) from None


#: Modules of the optional extras (pyproject.toml) and the extra that installs each.
_EXTRAS = {
    "sqlalchemy": "db",
    "geoalchemy2": "db",
    "psycopg": "db",
    "dask": "batch",
    "distributed": "batch",
    "bokeh": "batch",
}


def _report_fault(exc: BaseException, fault: str) -> None:
    from rich.markup import escape

    from spatial.cli._common import error_console
    from spatial.faults import MachineFaultError

    where = getattr(exc, "filename", None)
    text = (
        fault
        if isinstance(exc, MachineFaultError)
        else (
            f"cannot {'write' if 'full' in fault or 'large' in fault else 'use'} "
            f"{where or 'a file'}: {fault}"
        )
    )
    error_console.print(f"[red]{escape(text)}[/red]", soft_wrap=True)


def _report_bug(exc: BaseException) -> None:
    import sys
    import tempfile
    import time
    import traceback
    from pathlib import Path

    from rich.markup import escape

    from spatial.cli._common import error_console

    log = Path(tempfile.gettempdir()) / f"spatial-error-{time.strftime('%Y%m%d-%H%M%S')}.log"
    text = "".join(traceback.format_exception(exc))
    try:
        from spatial.io.outputs.write import inert_text  # names from data in the message

        log.write_text(inert_text(f"spatial {' '.join(sys.argv[1:])}\n\n{text}"), "utf-8")
        where = f"details in {log}"
    except OSError:
        where = "run again with SPATIAL_DEBUG=1 for the details"
    error_console.print(
        f"[red]internal error: {escape(type(exc).__name__)}: {escape(str(exc))}[/red]\n"
        f"This is a fault in spatial, not a problem found in your files; {escape(where)}. "
        "Please report it with the command you ran.",
        soft_wrap=True,
    )
