"""Policy commands: ``eligibility`` and ``plan``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spatial.cli._common import (
    NetworkLayerOption,
    SnapOption,
    check_out,
    console,
    default_of,
    kind_specs,
    layer_specs,
    params_from,
    print_outputs,
    run_reporting,
)
from spatial.policy.params import PlanParams

if TYPE_CHECKING:
    from collections.abc import Callable

    from spatial.pipeline import PlanRun

__all__ = ["eligibility_", "plan"]


def eligibility_(
    profile: Annotated[
        str,
        typer.Option(
            help="Policy profile: shandong, taian, liaocheng, qinghai, xining, or a TOML file."
        ),
    ],
    compounds: Annotated[list[Path] | None, typer.Option(help="Compound files.")] = None,
    compounds_layer: Annotated[
        str | None, typer.Option(help="The compound layer of multi-layer --compounds files.")
    ] = None,
    gaps: Annotated[
        Path | None, typer.Option(help="Or the output folder of `spatial gaps` (its compounds).")
    ] = None,
    out: Annotated[Path, typer.Option(help="CSV to write.")] = Path("eligibility.csv"),
) -> None:
    """Label each compound priority / eligible / excluded under a policy profile, with reasons.

    按政策口径认定老旧小区：优先改造、符合条件或不纳入，并给出中英文原因。
    """
    import pandas as pd

    from spatial.io.load import load_layers
    from spatial.io.outputs.results import load_gap_tables
    from spatial.io.outputs.write import write_csv
    from spatial.policy import eligibility, load_profile

    check_out(out)
    if gaps is not None:
        comp = run_reporting(lambda _r: load_gap_tables(gaps, service_areas=False).compounds)
    elif compounds:
        comp = run_reporting(
            lambda _r: load_layers(layer_specs(compounds, "compounds", layer=compounds_layer))[
                "compounds"
            ]
        )
    else:
        raise typer.BadParameter("give --compounds or --gaps")
    prof = run_reporting(lambda _r: load_profile(profile))
    result = eligibility(comp, prof)
    keys = [k for k in ("id", "name", "subdistrict", "community", "build_year") if k in comp]
    table = pd.DataFrame(comp[keys]).join(result)
    console.print(
        f"{prof.zh} {prof.en}: "
        + ", ".join(f"{k} {v}" for k, v in result["status"].value_counts().items())
    )
    console.print(f"source: {prof.source}", markup=False)
    write_csv(table, out)
    console.print(f"wrote {out}", markup=False, soft_wrap=True)


def plan(
    profile: Annotated[
        str,
        typer.Option(
            help="Policy profile: shandong, taian, liaocheng, qinghai, xining, or a TOML file."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Output folder (plan.xlsx, plan.gpkg).")],
    budget_yuan: Annotated[
        float, typer.Option(help="Yearly budget of total investment, yuan (e.g. 5e8).")
    ],
    gaps: Annotated[
        Path | None, typer.Option(help="Output folder of `spatial gaps` (or --db).")
    ] = None,
    households_per_year: Annotated[
        float | None, typer.Option(help="Yearly household target (a cap).")
    ] = None,
    parcels: Annotated[
        list[Path] | None,
        typer.Option(help="Candidate sites for new facilities (低效用地, 功能转换 … parcels)."),
    ] = None,
    parcels_layer: Annotated[
        list[str] | None,
        typer.Option(help="Only these layers of multi-layer --parcels files (repeat for several)."),
    ] = None,
    osm: Annotated[Path | None, typer.Option(help="Walk network (OSM) for siting.")] = None,
    network: Annotated[
        Path | None,
        typer.Option(
            help="Or the walk network for siting from a file: GraphML (osmnx), OSM, or a "
            "road-centreline line layer (as `spatial gaps --network`)."
        ),
    ] = None,
    network_layer: NetworkLayerOption = None,
    line_snap_m: SnapOption = None,
    sites_k: Annotated[
        int | None,
        typer.Option(
            help="Sites to choose per missing category.",
            show_default=default_of(PlanParams, "sites_k"),
        ),
    ] = None,
    finance: Annotated[Path | None, typer.Option(help="Finance figures of your own.")] = None,
    start_year: Annotated[
        int | None,
        typer.Option(help="First year of the plan (default: next year); the profile's span kept."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            help="Compound database (.gpkg or postgresql://): plan from its latest gaps run "
            "and write the plan back (compounds marked 计划 in their year)."
        ),
    ] = None,
    assess: Annotated[
        Path | None,
        typer.Option(
            help="Output folder of `spatial assess` of the same gaps: the needs name the m² "
            "each community is short of (千人指标) and a sheet lists them."
        ),
    ] = None,
) -> None:
    """Eligibility, renovation needs, ranking, annual plan and facility sites (plan.xlsx).

    按政策口径认定改造对象，确定改造内容，排序并编制年度计划，为缺失设施选址，输出 plan.xlsx。
    """
    from rich.table import Table

    from spatial.pipeline import run_plan

    if osm is not None and network is not None:
        raise typer.BadParameter("give the walk network for siting once: --osm or --network")
    if (gaps is None) == (db is None):
        raise typer.BadParameter("give --gaps (a gaps output folder) or --db, one of them")
    specs = kind_specs(parcels, ("parcels",), layers=parcels_layer)

    def job(report: Callable[[str, int, int], None]) -> PlanRun:
        params = params_from(
            PlanParams,
            profile=profile,
            budget_yuan=budget_yuan,
            households_per_year=households_per_year,
            sites_k=sites_k,
            finance=finance,
            start_year=start_year,
            network_layer=network_layer,
            line_snap_m=line_snap_m,
        )
        if db is None:
            return run_plan(
                out_dir=out,
                gaps_dir=gaps,
                params=params,
                parcels=specs,
                osm=osm,
                network=network,
                progress=report,
                assess_dir=assess,
            )
        from spatial.db.connect import open_db
        from spatial.db.results import load_gap_tables_db, save_plan_run

        database = open_db(db)
        done = run_plan(
            out_dir=out,
            gaps_dir=None,
            gap_tables=load_gap_tables_db(database),
            params=params,
            parcels=specs,
            osm=osm,
            network=network,
            progress=report,
            assess_dir=assess,
        )
        run_id, marked = save_plan_run(
            database, done.plan, options={"profile": profile, "budget_yuan": budget_yuan}
        )
        console.print(
            f"saved as plan run {run_id} in {database.label}; {marked} compounds marked "
            "计划 planned",
            markup=False,
        )
        return done

    run = run_reporting(job)
    counts = run.plan["status"].value_counts()
    console.print("认定 eligibility: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    table = Table(title="年度计划 Annual plan")
    for col in ("year 年度", "compounds 小区", "households 户数", "cost 投资 (万元)"):
        table.add_column(col, justify="right")
    for year, grp in run.plan[run.plan["year"].notna()].groupby("year"):
        table.add_row(
            str(year),
            str(len(grp)),
            f"{grp['households'].sum():,.0f}" if "households" in grp else "不详 unknown",
            f"{grp['cost_yuan'].sum() / 1e4:,.0f}",
        )
    if table.row_count:
        console.print(table)
    else:
        console.print("年度计划 Annual plan: empty — see the warning above", markup=False)
    print_outputs(run.outputs)
