"""The ``demo`` command: the whole pipeline on the embedded demo city."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spatial.bundling.params import BundleParams
from spatial.cli._common import console, default_of, print_outputs, run_reporting
from spatial.cli.gaps import print_gaps

__all__ = ["demo"]


def demo(
    size: Annotated[int, typer.Option(help="Superblocks per side (6 ≈ 2.7 km).")] = 6,
    seed: Annotated[int, typer.Option(help="Random seed of the demo city.")] = 2021,
    data: Annotated[Path, typer.Option(help="Folder of the demo city files.")] = Path("data/demo"),
    out: Annotated[Path, typer.Option(help="Results folder.")] = Path("results/demo"),
    maps: Annotated[Path, typer.Option(help="Maps folder.")] = Path("maps/demo"),
    regenerate: Annotated[bool, typer.Option(help="Generate the demo city again.")] = False,
    bundle_seed: Annotated[
        int | None,
        typer.Option(
            help="Seed of bundling's tie-breaking order (not the city's).",
            show_default=default_of(BundleParams, "seed"),
        ),
    ] = None,
) -> None:
    """Run the whole pipeline on the embedded demo city (generated if missing).

    在内置示范城区上运行完整流程（若缺少数据则先生成）。
    """
    from spatial.pipeline import run_demo

    run = run_reporting(
        lambda report: run_demo(
            data_dir=data,
            out_dir=out,
            maps_dir=maps,
            size=size,
            seed=seed,
            bundle_seed=bundle_seed,
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
        print_gaps(run.gaps)
    print_outputs(run.outputs)
