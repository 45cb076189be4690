"""The ``bundles`` command: area bundles (大片区统筹平衡)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spatial.bundling.params import BundleParams
from spatial.cli._common import (
    Islands,
    console,
    default_of,
    kind_specs,
    layer_specs,
    params_from,
    print_outputs,
    print_problems,
    run_reporting,
)

if TYPE_CHECKING:
    from spatial.bundling import BundleResult
    from spatial.finance import FinanceReport
    from spatial.io.load import LoadSpec

__all__ = ["bundles"]


def bundles(
    out: Annotated[
        Path,
        typer.Option(
            help="Output folder (bundles.gpkg, bundles.csv, pairs.csv, packages.csv, "
            "finance.xlsx, sensitivity.html)."
        ),
    ],
    parcels: Annotated[
        list[Path] | None,
        typer.Option(
            help="Files of old compounds and other parcels (棚户区, 城中村, 旧厂区 …); layers or "
            "headers tell which is which."
        ),
    ] = None,
    parcels_layer: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these layers of multi-layer --parcels files (repeat for several); "
            "each is still classed by its name, geometry and columns."
        ),
    ] = None,
    compounds: Annotated[
        list[Path] | None, typer.Option(help="Files holding only old compounds.")
    ] = None,
    compounds_layer: Annotated[
        str | None,
        typer.Option(help="The compound layer of multi-layer --compounds files."),
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
    profile: Annotated[
        str | None,
        typer.Option(
            help="Policy profile (taian, qinghai, xining, shandong, liaocheng or a TOML file): "
            "its subsidies and whether utilities get an award (以奖代补) replace finance.toml's."
        ),
    ] = None,
    gap_m: Annotated[
        float | None,
        typer.Option(help="Parcels this close (m) are neighbours (default: bundling.toml's)."),
    ] = None,
    pair_max_m: Annotated[
        float | None,
        typer.Option(
            help="Surplus funds compounds elsewhere (跨片区) up to this distance, m "
            "(default: bundling.toml's)."
        ),
    ] = None,
    default_far: Annotated[
        bool | None,
        typer.Option(
            help="Parcels without a planned FAR (规划容积率) earn revenue at the default FAR "
            "of their kind in finance.toml (an assumption); otherwise they earn none.",
            show_default=default_of(BundleParams, "default_far"),
        ),
    ] = None,
    workbook: Annotated[
        bool | None,
        typer.Option(
            help="Write finance.xlsx (every project with live formulas and their values, in "
            "万元); --no-workbook for batch runs: the CSV tables keep every figure.",
            show_default=default_of(BundleParams, "workbook"),
        ),
    ] = None,
    cash_flow_sheets: Annotated[
        int | None,
        typer.Option(
            help="Full cash-flow sheets (yearly lines, debt schedule) in finance.xlsx for "
            "this many bundles and combinations of largest cost.",
            show_default=default_of(BundleParams, "cash_flow_sheets"),
        ),
    ] = None,
    cross_barriers: Annotated[
        bool | None,
        typer.Option(
            help="Let bundles cross barriers.",
            show_default=default_of(BundleParams, "cross_barriers"),
        ),
    ] = None,
    islands: Annotated[
        Islands | None,
        typer.Option(
            help="Compounds with no neighbour: single (own bundle) or exclude.",
            show_default=default_of(BundleParams, "islands"),
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Seed of the tie-breaking order.", show_default=default_of(BundleParams, "seed")
        ),
    ] = None,
) -> None:
    """Bundle old compounds with adjacent parcels into self-balancing area projects.

    大片区统筹平衡：将老旧小区与相邻的棚户区、城中村、旧厂区等组合成资金自平衡的片区项目，
    并给出跨片区组合平衡与按街道打包的结果；finance.xlsx 测算四种模式（大片区、跨片区、
    小区内自求平衡、多元化投入）的现金流、专项债本息覆盖倍数与敏感性。
    """
    from spatial.pipeline import run_bundles

    specs = layer_specs(compounds, "compounds", layer=compounds_layer)
    more = kind_specs(parcels, ("compounds", "parcels"), layers=parcels_layer)
    # a file given as --compounds and as --parcels: its compounds are read once
    specs += [s for s in more if not any(_same(s, t) for t in specs)]
    run = run_reporting(
        lambda report: run_bundles(
            out_dir=out,
            compounds=[s for s in specs if s.layer == "compounds"],
            parcels=[s for s in specs if s.layer == "parcels"],
            osm=osm,
            barriers=barriers,
            gaps_dir=gaps,
            params=params_from(
                BundleParams,
                finance=finance,
                profile=profile,
                gap_m=gap_m,
                pair_max_m=pair_max_m,
                cross_barriers=cross_barriers,
                islands=islands,
                seed=seed,
                default_far=default_far,
                workbook=workbook,
                cash_flow_sheets=cash_flow_sheets,
            ),
            progress=report,
        )
    )
    _print_bundles(run.result)
    if run.finance is not None:
        _print_finance(run.finance)
    print_problems(run.problems)
    print_outputs(run.outputs)


def _print_bundles(result: BundleResult) -> None:
    from rich.table import Table

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
        f"{len(b)} bundles: {(b['status'] == 'self-balancing').sum()} self-balancing; "
        f"{result.pairs['deficit_bundle'].nunique() if len(result.pairs) else 0} deficit "
        f"bundle(s) funded across areas by {len(result.pairs)} link(s); "
        f"{len(result.excluded)} island compounds excluded"
    )
    _print_funding(result)
    money = result.unit_money
    if money is not None:
        no_far = int((money["far_source"] == "missing").sum())
        default = int((money["far_source"] == "default").sum())
        if no_far:
            console.print(
                f"{no_far} parcel(s) without a planned FAR earned no revenue "
                "(--default-far uses finance.toml's labelled default)"
            )
        if default:
            console.print(f"{default} parcel(s) used the default FAR (an assumption)")


def _print_funding(result: BundleResult) -> None:
    """Households funded from land revenue, money left idle and why, money still needed."""
    f = result.funding
    if f is None or f.empty:
        return
    hh = f["households"].fillna(0)
    by = f.groupby("status")
    count, households = by.size(), hh.groupby(f["status"]).sum()
    parts = [
        f"{label} {int(count.get(key, 0))} ({households.get(key, 0):,.0f} households)"
        for key, label in (
            ("funded", "funded 已平衡"),
            ("partly_funded", "partly 部分"),
            ("unfunded", "unfunded 未平衡"),
        )
    ]
    console.print("old compounds: " + ", ".join(parts))
    needed = float((f["net_cost_yuan"] - f["funded_yuan"]).clip(lower=0).sum())
    idle = float(result.bundles["spare_yuan"].clip(lower=0).sum())
    if result.unit_money is not None and result.unit_bundle is not None:
        free = result.unit_bundle.isna() & (result.unit_money["balance_yuan"] > 0)
        idle += float(result.unit_money.loc[free, "balance_yuan"].sum())
        gifts = (
            result.pairs[result.pairs["surplus_kind"] == "parcel"] if len(result.pairs) else None
        )
        idle -= float(gifts["amount_yuan"].sum()) if gifts is not None else 0.0
    why = (
        " (no deficit compound within --pair-max-m in its district, or the limits)"
        if idle > 1.0
        else ""
    )
    console.print(
        f"money still needed from the budget: {needed / 1e4:,.0f} 万元; land revenue left "
        f"unused: {max(idle, 0.0) / 1e4:,.0f} 万元{why}"
    )


def _print_finance(report: FinanceReport) -> None:
    """Bond-eligible projects, the city budget left and the bundles that flip."""
    p = report.projects
    parts = []
    for kind, label in (("bundle", "bundles 片区"), ("combination", "combinations 跨片区组合")):
        k = p[p["kind"] == kind]
        if len(k):
            parts.append(
                f"{label}: {int((k['financing'] == 'bond').sum())}/{len(k)} pass the special-bond "
                f"test (本息覆盖倍数 ≥ {report.finance['bond.min_coverage']:g}), "
                f"{int((k['npv_yuan'] >= 0).sum())} with NPV ≥ 0"
            )
    console.print("; ".join(parts) or "no bundles")
    src = report.sources
    if len(src):
        city = float(src["city_budget_yuan"].sum())
        cost = float(src["cost_yuan"].sum())
        payback = report.within["payback_years"]
        console.print(
            f"old compounds: cost {cost / 1e4:,.0f} 万元, of which, before land revenue, "
            f"the city budget {city / 1e4:,.0f} 万元 after subsidies, utilities, owners, "
            f"residents and maintenance funds; operating facilities pay back in a median "
            f"{payback[payback < float('inf')].median():.1f} years"
        )
    flips = report.sensitivity
    if len(flips):
        n = flips.loc[flips["flips"], "bundle_id"].nunique()
        console.print(
            f"{n} bundle(s) flip between balance and deficit at ±10/20 % of land value, "
            "cost or uptake (sensitivity.html)"
        )


def _same(a: LoadSpec, b: LoadSpec) -> bool:
    return (
        Path(a.path).resolve() == Path(b.path).resolve()
        and a.layer == b.layer
        and (not a.source_layer or not b.source_layer or a.source_layer == b.source_layer)
    )
