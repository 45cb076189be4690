"""Command line ``spatial``: a thin face over :mod:`spatial.pipeline`, one module per group.

Importing this package loads only typer and rich: every command imports the heavy
modules (geopandas, osmium, scipy …) when it runs, so ``spatial --help`` is fast.

- :mod:`spatial.cli.data` ``validate``, ``pois``, ``osm``
- :mod:`spatial.cli.gaps` ``gaps``; :mod:`spatial.cli.bundles` ``bundles``
- :mod:`spatial.cli.plan` ``eligibility``, ``plan``; :mod:`spatial.cli.maps` ``map``
- :mod:`spatial.cli.demo` ``demo``
"""

from __future__ import annotations

from typing import Annotated

import typer

from spatial.cli import bundles, data, demo, gaps, maps, plan
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
app.command("map")(maps.map_)
app.command()(data.pois)
app.command()(data.osm)


def main() -> None:
    """Run the ``spatial`` console script."""
    app()
