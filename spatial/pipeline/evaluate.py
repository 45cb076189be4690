"""``spatial evaluate``: what one or more plans achieve, year by year, on the gap run they
were made from — ``evaluation.xlsx``, ``evaluation_by_year.csv``, a before/after map per
plan and a chart of coverage by year."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial._errors import InputError, InputWarning, Problem, format_problems, raise_for_errors
from spatial.io.crs.projection import to_metric
from spatial.io.outputs.results import GapTables, load_gap_tables
from spatial.io.outputs.runfolder import run_folder
from spatial.io.outputs.write import read_gpkg, write_csv, write_xlsx
from spatial.lifecircle.params import GapParams
from spatial.lifecircle.statuses import gap_matrix
from spatial.network import load_network
from spatial.policy.evaluation import (
    Additions,
    Evaluation,
    evaluate_plan,
    load_additions,
    planned_facilities,
)
from spatial.policy.evaluation_tables import (
    EVALUATION_HEADERS,
    compare_plans,
    evaluation_by_category,
    evaluation_by_compound,
    evaluation_by_unit,
    evaluation_by_year,
    households_basis,
)
from spatial.policy.params import EvaluateParams
from spatial.settings import Progress, no_progress

__all__ = ["PlanInput", "plan_from_db", "read_plan", "run_evaluate"]


@dataclass
class PlanInput:
    """A plan read back from a ``spatial plan`` folder.

    Attributes
    ----------
    name
        What tables call it (the folder's name).
    table
        One row per compound: ``compound_id``, ``year`` (NA: not planned), ``cost_yuan``.
    sites
        The chosen sites (``id``, ``categories``), or None.
    """

    name: str
    table: pd.DataFrame
    sites: gpd.GeoDataFrame | None


def _cost_from_workbook(path: Path) -> pd.Series | None:
    """Cost per compound (yuan) from an older plan.xlsx's 改造内容 sheet."""
    try:
        needs = pd.read_excel(path, sheet_name="改造内容 needs")
    except (ValueError, OSError):
        return None
    idc = next((c for c in needs.columns if str(c).startswith("编号")), None)
    cost = next((c for c in needs.columns if "Cost" in str(c)), None)
    if idc is None or cost is None:
        return None
    return pd.Series(
        pd.to_numeric(needs[cost], errors="coerce").to_numpy() * 1e4,
        index=needs[idc].astype(str).to_numpy(),
    )


def read_plan(folder: str | Path) -> PlanInput:
    """Read a ``spatial plan`` output folder (``plan.gpkg``, ``plan.xlsx``).

    Parameters
    ----------
    folder
        The folder ``spatial plan --out`` wrote.

    Returns
    -------
    PlanInput

    Raises
    ------
    InputError
        When the folder is not a plan folder or its plan has no years and costs.
    """
    path = Path(folder)
    gpkg = path / "plan.gpkg"
    if not gpkg.exists():
        raise InputError(
            [
                Problem.error(
                    str(path),
                    "not a plan folder: plan.gpkg is missing",
                    hint="give the --out folder of `spatial plan`",
                )
            ]
        )
    elig = read_gpkg(gpkg, "eligibility")
    table = pd.DataFrame(
        {
            "compound_id": elig["id"].astype(str).to_numpy(),
            "year": pd.to_numeric(elig["year"], errors="coerce").astype("Int64").to_numpy(),
        }
    )
    if "cost_yuan" in elig:
        table["cost_yuan"] = pd.to_numeric(elig["cost_yuan"], errors="coerce").to_numpy()
    else:  # a plan folder written before plan.gpkg carried the cost
        cost = _cost_from_workbook(path / "plan.xlsx")
        if cost is None:
            raise InputError(
                [
                    Problem.error(
                        str(path),
                        "the plan's cost per compound is in neither plan.gpkg nor plan.xlsx",
                        hint="run spatial plan again",
                    )
                ]
            )
        table["cost_yuan"] = table["compound_id"].map(cost).to_numpy()
    try:
        sites = read_gpkg(gpkg, "sites")
    except Exception:  # a plan without siting has no sites layer
        sites = None
    return PlanInput(path.name, table, sites)


def plan_from_db(db: Any) -> PlanInput:
    """The latest plan run of a compound database (its sites are not stored there).

    Parameters
    ----------
    db
        A :class:`~spatial.db.connect.Database`.

    Returns
    -------
    PlanInput

    Raises
    ------
    InputError
        When the database holds no plan run.
    """
    from spatial.db.frames import latest_plan_results

    with db.reading() as conn:
        run_id, rows = latest_plan_results(conn, db)
    if run_id is None:
        raise InputError(
            [
                Problem.error(
                    db.label, "the database holds no plan run", hint="run spatial plan --db first"
                )
            ]
        )
    table = pd.DataFrame(
        {
            "compound_id": rows["compound_id"].astype(str).to_numpy(),
            "year": pd.to_numeric(rows["year"], errors="coerce").astype("Int64").to_numpy(),
            "cost_yuan": pd.to_numeric(rows["cost_yuan"], errors="coerce").to_numpy(),
        }
    )
    return PlanInput(f"plan run {run_id}", table, None)


def _cover(
    plans: Sequence[PlanInput],
    gaps_dir: str | Path,
    additions: Additions,
    evals: Sequence[Evaluation],
    compounds: pd.DataFrame,
    params: EvaluateParams,
    network_source: str,
) -> pd.DataFrame:
    basis = households_basis(compounds).value_counts()
    rows = [
        ("方案 plans", "; ".join(p.name for p in plans), "spatial plan --out"),
        ("现状 gap run", str(gaps_dir), "spatial gaps --out"),
        ("步行网络 walk network", network_source, "as the gap run"),
        (
            "改造新增(完善类) renovation builds (improvement)",
            "、".join(additions.improvement),
            additions.sources.get("improvement", ""),
        ),
        (
            "改造新增(提升类) renovation builds (upgrade)",
            "、".join(additions.upgrade),
            additions.sources.get("upgrade", ""),
        ),
        ("位置 where", "小区内 inside the compound, 0 m", additions.sources.get("position", "")),
        (
            "选址设施启用 sites open",
            str(params.sites_year) if params.sites_year else "方案首年 the plan's first year",
            additions.sources.get("opens", ""),
        ),
        (
            "投资 money",
            "改造估算投资 the plan's renovation cost (万元); 选址设施建设费用未计 the sites' "
            "construction cost is not in the plan",
            "plan.gpkg / plan.xlsx 改造内容",
        ),
        (
            "方法 method",
            "每年只在新设施最大服务半径内重算步行距离 (与全市重算相同) each year the walk "
            "distances are recomputed only within the largest radius of the new facilities "
            "(equal to a full rerun)",
            "spatial/policy/evaluation.py",
        ),
    ]
    rows += [
        (f"户数来源 households: {k}", str(int(v)), "compounds (a missing figure is not counted)")
        for k, v in basis.items()
    ]
    for plan, ev in zip(plans, evals, strict=True):
        rows += [(f"{plan.name}: 注意 note", p.message, p.hint or "") for p in ev.problems]
    cover = pd.DataFrame(rows, columns=["what", "value", "source"])
    cover["value"] = cover["value"].astype(str)
    return cast("pd.DataFrame", cover)


def _unique_names(plans: Sequence[PlanInput]) -> None:
    seen: dict[str, int] = {}
    for p in plans:
        n = seen.get(p.name, 0)
        seen[p.name] = n + 1
        if n:
            p.name = f"{p.name} ({n + 1})"


def _missing_for(tables: GapTables) -> pd.DataFrame:
    """Compound × category: lacking before (not covered, with data)."""
    ids = tables.compounds["id"].astype(str).to_numpy()
    cats = [c.id for c in tables.categories or ()]
    status = gap_matrix(tables.gaps, "status", compound_ids=ids, categories=cats, fill="no_data")
    lacking: pd.DataFrame = ~status.isin(["covered", "covered_over_capacity", "no_data"])
    return lacking


def run_evaluate(
    *,
    gaps_dir: str | Path | None,
    plan_dirs: Sequence[str | Path],
    out_dir: str | Path,
    gap_tables: GapTables | None = None,
    plans_given: Sequence[PlanInput] = (),
    osm: str | Path | None = None,
    network: str | Path | None = None,
    params: EvaluateParams | None = None,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Evaluate plans year by year against the gap run they were made from.

    Parameters
    ----------
    gaps_dir
        The ``spatial gaps`` folder the plans came from (``capacity.csv`` when run with
        ``--capacity``: places short are followed too).
    plan_dirs
        One or more ``spatial plan`` folders (several: compared side by side).
    out_dir
        Output folder: ``evaluation.xlsx``, ``evaluation_by_year.csv``,
        ``before_after.html`` (one per plan), ``coverage_by_year.png``.
    gap_tables, plans_given
        Or the gap run's tables and plans themselves (a compound database's latest runs,
        :func:`plan_from_db`).
    osm, network
        The walk network the gap run used (``--osm`` or ``--network``).
    params
        What a renovation builds and when sites open.
    progress
        ``progress(stage, done, total)``.

    Returns
    -------
    dict
        ``{name: path}`` of the files written.
    """
    from spatial.render.beforeafter import before_after_map, coverage_chart

    say = progress or no_progress
    opts = params or EvaluateParams()
    found: list[Problem] = []
    if osm is None and network is None:
        found.append(
            Problem.error(
                "--osm/--network",
                "the walk network is needed to rerun the gap engine where the plan adds facilities",
                hint="give the same --osm or --network as the gaps run",
            )
        )
    if not plan_dirs and not plans_given:
        found.append(Problem.error("--plan", "no plan given", hint="give --plan PLAN_DIR"))
    tables = gap_tables
    if tables is None and gaps_dir is None:
        found.append(
            Problem.error(
                "--gaps", "no gap run given", hint="give --gaps GAPS_DIR (or --db DATABASE)"
            )
        )
    elif tables is None:
        try:
            tables = load_gap_tables(str(gaps_dir), service_areas=False)  # and context.gpkg
        except InputError as exc:
            found += exc.problems
    plans: list[PlanInput] = list(plans_given)
    for d in plan_dirs:
        try:
            plans.append(read_plan(d))
        except InputError as exc:
            found += exc.problems
    try:
        additions = load_additions(opts.additions)
    except InputError as exc:
        found += exc.problems
    raise_for_errors(found)
    assert tables is not None
    _unique_names(plans)
    comp = tables.compounds
    cats = list(tables.categories or ())
    known = {c.id for c in cats}
    unknown = sorted(set(additions.built_in_compound) - known)
    say("building the walk network", 0, 0)
    comp_m = to_metric(comp)
    net = load_network(
        osm=osm if network is None else None,
        network=network,
        crs=comp_m.crs,
        layer=opts.network_layer,
        line_snap_m=opts.line_snap_m,
    )
    missing = _missing_for(tables)
    evals: list[Evaluation] = []
    for k, plan in enumerate(plans):
        say(f"evaluating {plan.name}", k, len(plans))
        fac = planned_facilities(
            comp_m,
            plan.table,
            missing=missing,
            additions=additions,
            sites=plan.sites,
            sites_year=opts.sites_year,
        )
        years = sorted(
            {int(y) for y in plan.table["year"].dropna()} | {int(y) for y in fac["year"]}
        )
        ev = evaluate_plan(
            comp_m,
            tables.gaps,
            fac,
            net,
            categories=cats,
            years=years,
            capacity=tables.capacity,
            params=GapParams(categories=tuple(cats)),
        )
        if unknown:
            ev.problems.append(
                Problem.warning(
                    "additions",
                    f"categories not in the gap run's taxonomy are left out: {', '.join(unknown)}",
                )
            )
        if not years:
            ev.problems.append(
                Problem.warning(
                    plan.name,
                    "the plan schedules no compound and chooses no site: nothing to evaluate",
                    hint="see the plan's 资格认定 and 年度计划 sheets",
                )
            )
        evals.append(ev)
    say("writing", 0, 0)
    by_year, by_unit, by_cat, by_comp, facs = [], [], [], [], []
    for plan, ev in zip(plans, evals, strict=True):
        t = evaluation_by_year(ev, plan.table, comp)
        by_year.append(t.assign(plan=plan.name))
        by_unit.append(evaluation_by_unit(ev, plan.table, comp).assign(plan=plan.name))
        by_cat.append(evaluation_by_category(ev, comp, cats).assign(plan=plan.name))
        by_comp.append(evaluation_by_compound(ev, plan.table, comp, cats).assign(plan=plan.name))
        f = ev.facilities.to_crs(4326)
        facs.append(
            pd.DataFrame(f.drop(columns="geometry")).assign(
                lon=np.round(f.geometry.x, 6), lat=np.round(f.geometry.y, 6), plan=plan.name
            )
        )

    def first_plan(frames: list[pd.DataFrame]) -> pd.DataFrame:
        out = pd.concat(frames, ignore_index=True)
        table: pd.DataFrame = out[["plan", *[c for c in out.columns if c != "plan"]]]
        return table

    full = {
        "by_unit": first_plan(by_unit),
        "compounds": first_plan(by_comp),
        "facilities": first_plan(facs),
    }
    cap = opts.sheet_rows
    cut = [k for k, v in full.items() if len(v) > cap]
    compounds_sheet = full["compounds"]
    if "compounds" in cut:  # those gaining most first
        gained = compounds_sheet["gained"]
        n_gained = gained.fillna("").str.count("、") + gained.notna().astype(int)
        compounds_sheet = compounds_sheet.iloc[np.argsort(-n_gained.to_numpy(), kind="stable")]
    sheets = {
        "封面 cover": _cover(
            plans, gaps_dir or "database", additions, evals, comp, opts, str(network or osm)
        ),
        "逐年 by year": first_plan(by_year),
        "分单位 by unit": full["by_unit"].head(cap),
        "分类别 by category": first_plan(by_cat),
        "小区 compounds": compounds_sheet.head(cap),
        "新增设施 facilities": full["facilities"].head(cap),
    }
    if cut:
        note = pd.DataFrame(
            [
                (
                    "表格截断 sheets cut",
                    f"{', '.join(cut)}: the first {cap:,} rows (compounds gaining most first)",
                    "every row in evaluation_<sheet>.csv; --sheet-rows to keep more",
                )
            ],
            columns=["what", "value", "source"],
        )
        sheets["封面 cover"] = pd.concat([sheets["封面 cover"], note], ignore_index=True)
    if len(plans) > 1:
        sheets["方案对比 comparison"] = compare_plans(
            {p.name: t for p, t in zip(plans, by_year, strict=True)}
        )
    said = [p for ev in evals for p in ev.problems]
    if said:
        import warnings

        warnings.warn(InputWarning(format_problems(said), said), stacklevel=2)
    with run_folder(out_dir, command="evaluate") as stage:
        written = {
            "evaluation": write_xlsx(
                sheets, stage / "evaluation.xlsx", headers=EVALUATION_HEADERS, styled=True
            ),
            "evaluation_by_year": write_csv(
                sheets["逐年 by year"], stage / "evaluation_by_year.csv"
            ),
            **{
                f"evaluation_{k}": write_csv(v, stage / f"evaluation_{k}.csv")
                for k, v in full.items()
            },
            "coverage_by_year": coverage_chart(
                {p.name: (ev, comp) for p, ev in zip(plans, evals, strict=True)},
                stage / "coverage_by_year.png",
            ),
        }
        for k, (plan, ev) in enumerate(zip(plans, evals, strict=True)):
            name = "before_after.html" if k == 0 else f"before_after_{k + 1}.html"
            written[name] = before_after_map(
                ev,
                comp,
                cats,
                stage / name,
                title=f"改造前后 Before and after: {plan.name}",
                context=tables.context,
                osm_data=osm is not None,
            )
    out = Path(out_dir)
    return {k: out / v.name for k, v in written.items()}
