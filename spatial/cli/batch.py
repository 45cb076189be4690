"""The ``batch`` command: every unit of a province file on this machine's cores or a Dask
cluster, rolled up."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from spatial.cli._common import QUIET, console, error_console, print_outputs, problem_table

if TYPE_CHECKING:
    from spatial.batch import BatchStatus

__all__ = ["batch"]


def _print_status(status: BatchStatus) -> None:
    name, what = status.last
    if QUIET["on"] or not what:
        return
    if what == "started":
        where = f" · dashboard {status.dashboard}" if status.dashboard else ""
        console.print(f"{status.total} units to run{where}", markup=False, soft_wrap=True)
        return
    finished = len(status.done) + len(status.skipped) + len(status.failed)
    running = ", ".join(f"{n} ({s})" for n, s in status.running.items()) or "-"
    mark = {
        "done": "[green]done[/green]",
        "skipped": "skipped (unchanged)",
        "failed": "[red]failed[/red]",
    }
    line = (
        f"[{finished}/{status.total}] {escape(name)}: {mark.get(what, escape(what))} · "
        f"done {len(status.done)}, skipped {len(status.skipped)}, failed {len(status.failed)}"
        f" · running: {escape(running)}"
    )
    console.print(line, soft_wrap=True, highlight=False)


def batch(
    province: Annotated[
        Path, typer.Argument(help="Province file (TOML): the units, their inputs and settings.")
    ],
    out: Annotated[Path, typer.Option(help="Batch folder (kept between runs).")],
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes on this machine (default: cores, ≤ 4)."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="An existing Dask scheduler, tcp://host:port, instead of this machine's "
            "processes (the batch extra)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Run every unit, even those whose inputs are unchanged.")
    ] = False,
) -> None:
    """Run gaps, bundles, plan and maps for every unit of a province file, then roll up.

    逐级生成：按省级清单对各市、区县分别计算生活圈缺口、片区组合、年度计划和地图，并汇总为
    province.xlsx 与总览图。Units run in parallel on this machine's cores (or a Dask cluster);
    a failing unit is reported and does not stop the others; unchanged units are skipped.
    """
    from spatial._errors import InputError
    from spatial.batch import load_province, run_batch

    if workers is not None and workers < 1:
        raise typer.BadParameter("--workers must be 1 or more")
    try:
        spec = load_province(province)
        run = run_batch(
            spec,
            out_dir=out,
            workers=workers,
            scheduler=scheduler,
            force=force,
            progress=_print_status,
        )
    except InputError as exc:
        console.print(problem_table(exc.problems))
        raise typer.Exit(1) from exc
    except OSError as exc:  # an unreachable scheduler, a folder that cannot be written
        error_console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from exc
    failed = {n: r for n, r in run.records.items() if r.get("status") == "failed"}
    for name, record in failed.items():
        error_console.print(f"[red]failed[/red] {escape(name)}:", soft_wrap=True)
        console.print(str(record.get("error", "")), markup=False, soft_wrap=True)
    console.print(
        f"{len(run.records) - len(failed)} of {len(run.records)} units ready in {run.wall_s:.1f} s",
        markup=False,
    )
    print_outputs(run.outputs)
    if failed:
        raise typer.Exit(1)
