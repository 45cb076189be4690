"""``spatial evaluate``: what plans achieve year by year, and plans side by side."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from spatial.cli._common import (
    NetworkLayerOption,
    SnapOption,
    console,
    params_from,
    print_outputs,
    run_reporting,
)

__all__ = ["evaluate"]


def evaluate(
    out: Annotated[
        Path,
        typer.Option(help="Output folder: evaluation.xlsx, before_after.html, chart."),
    ],
    gaps: Annotated[
        Path | None, typer.Option(help="Output folder of `spatial gaps` the plans came from.")
    ] = None,
    plan: Annotated[
        list[Path] | None,
        typer.Option(help="Output folder of `spatial plan` (repeat to compare plans)."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            help="Or a compound database: its latest gaps run and plan run (.gpkg or "
            "postgresql://…)."
        ),
    ] = None,
    osm: Annotated[Path | None, typer.Option(help="Walk network (OSM) of the gaps run.")] = None,
    network: Annotated[
        Path | None,
        typer.Option(help="Or the walk network file of the gaps run (GraphML, road lines)."),
    ] = None,
    network_layer: NetworkLayerOption = None,
    line_snap_m: SnapOption = None,
    additions: Annotated[
        Path | None,
        typer.Option(
            help="What a renovation builds in a compound (default "
            "spatial/standards/evaluation.toml)."
        ),
    ] = None,
    sites_year: Annotated[
        int | None,
        typer.Option(help="Year the plan's sites open (default the plan's first year)."),
    ] = None,
    sheet_rows: Annotated[
        int | None,
        typer.Option(help="Rows kept in each long sheet of evaluation.xlsx (CSVs hold all)."),
    ] = None,
) -> None:
    """Evaluate plans year by year: households newly covered, gaps closed, money per household.

    逐年评估改造计划：新增覆盖户数、补齐缺项、退出缺口名单小区、学位缺口减少、每户投资；
    多个计划并列对比。
    """
    from rich.table import Table

    from spatial.pipeline.evaluate import run_evaluate
    from spatial.policy.params import EvaluateParams

    if osm is not None and network is not None:
        raise typer.BadParameter("give the walk network once: --osm or --network")

    if db is not None and (gaps is not None or plan):
        raise typer.BadParameter("give --db, or --gaps and --plan, not both")

    def job(report: Callable[[str, int, int], None]) -> dict[str, Path]:
        tables, given = None, []
        if db is not None:
            from spatial.db.connect import open_db
            from spatial.db.results import load_gap_tables_db
            from spatial.pipeline.evaluate import plan_from_db

            database = open_db(db)
            tables, given = load_gap_tables_db(database), [plan_from_db(database)]
        params = params_from(
            EvaluateParams,
            additions=additions,
            sites_year=sites_year,
            sheet_rows=sheet_rows,
            network_layer=network_layer,
            line_snap_m=line_snap_m,
        )
        return run_evaluate(
            gaps_dir=gaps,
            plan_dirs=plan or [],
            gap_tables=tables,
            plans_given=given,
            out_dir=out,
            osm=osm,
            network=network,
            params=params,
            progress=report,
        )

    written = run_reporting(job)
    from spatial.io.outputs.write import read_own_csv

    by_year = read_own_csv(written["evaluation_by_year"])
    table = Table(title="逐年评估 Evaluation by year")
    heads = (
        "plan 方案",
        "year 年度",
        "money 投资(万元)",
        "gaps closed 补齐",
        "households 新覆盖户",
    )
    for col in heads:
        table.add_column(col, justify="right")
    for _, r in by_year.iterrows():
        table.add_row(
            str(r["plan"]),
            str(r["year"]),
            f"{r['money_wan']:,.0f}",
            str(r["gaps_closed"]),
            f"{r['households_newly_covered']:,.0f}",
        )
    if table.row_count:
        console.print(table)
    print_outputs(written)
