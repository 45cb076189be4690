"""The plan stage: eligibility, needs, ranking, annual plan and facility siting into
``plan.xlsx`` (:func:`run_plan`), saying what it leaves out and why."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from spatial import api
from spatial._errors import InputError, InputWarning, Problem, format_problems, raise_for_errors
from spatial.io.load import LoadSpec, load_layers
from spatial.io.outputs.results import (
    GapTables,
    load_assessment,
    load_gap_tables,
    write_plan_outputs,
)
from spatial.io.outputs.runfolder import rebase_outputs, run_folder
from spatial.lifecircle.capacity import load_capacity
from spatial.network import load_network
from spatial.pipeline.assess import ASSESS_HEADERS
from spatial.pipeline.options import PlanRun
from spatial.policy import (
    HEADERS_ZH,
    PolicyProfile,
    load_profile,
    plan_sheets,
    site_facilities,
)
from spatial.policy.community import places_short
from spatial.policy.params import PlanParams
from spatial.policy.per_thousand import floorspace_short
from spatial.policy.plan_book import cover_sheet, official_sheets
from spatial.settings import Progress, no_progress

__all__ = ["plan_stage", "run_plan"]


def run_plan(
    *,
    out_dir: str | Path,
    gaps_dir: str | Path | None,
    params: PlanParams,
    gap_tables: GapTables | None = None,
    parcels: Sequence[LoadSpec] = (),
    osm: str | Path | None = None,
    network: str | Path | None = None,
    progress: Progress | None = None,
    assess_dir: str | Path | None = None,
) -> PlanRun:
    """Eligibility, needs, ranking, annual plan and facility siting into ``plan.xlsx``.

    The categories are those of the gaps run (``categories.toml`` in ``gaps_dir``).

    Parameters
    ----------
    out_dir
        Output folder: ``plan.xlsx`` (sheets 资格认定, 改造内容, 排序, 年度计划, 逐级汇总,
        设施选址, 选址方案) and ``plan.gpkg`` (layers ``eligibility``, ``sites``).
    gaps_dir
        A ``spatial gaps`` output folder (its compounds, with their gaps).
    params
        Profile, budget and the other settings
        (:class:`~spatial.policy.params.PlanParams`), passed on unchanged.
    gap_tables
        Or the gap tables themselves (a run of the compound database), instead of
        ``gaps_dir``.
    parcels, osm
        Candidate sites (low-efficiency land, function conversion …) and the walk network
        for siting; without them no sites are chosen.
    network
        Or the walk network from any file ``gaps`` takes (GraphML, OSM, a road-centreline
        layer: ``params`` say its layer and how close line ends join).
    progress
        ``progress(stage, done, total)``.
    assess_dir
        A ``spatial assess`` folder of the same gaps run: the needs name the m² each
        compound's community is short of (千人指标), and a sheet lists every unit and
        level short of floor area or land.

    Returns
    -------
    PlanRun
        The plan per compound, the site choice and the files written.
    """
    with run_folder(out_dir, command="plan") as stage:
        run = plan_stage(
            out_dir=stage,
            gaps_dir=gaps_dir,
            gap_tables=gap_tables,
            params=params,
            parcels=parcels,
            assess_dir=assess_dir,
            walk={
                "osm": osm,
                "network": network,
                "layer": params.network_layer,
                "line_snap_m": params.line_snap_m,
            },
            say=progress or no_progress,
        )
    return replace(run, outputs=rebase_outputs(run.outputs, stage, out_dir))


def _plan_warnings(
    comp: gpd.GeoDataFrame, table: pd.DataFrame, profile: PolicyProfile, *, siting: bool
) -> list[Problem]:
    """What a plan leaves out and why: an empty annual plan, no facility siting."""
    said = []
    if not table["year"].notna().any():
        has_years = (
            "build_year" in comp
            and pd.to_numeric(comp["build_year"], errors="coerce").notna().any()
        )
        if not has_years:
            said.append(
                Problem.warning(
                    "compounds",
                    f"the annual plan is empty: no compound has a build year (建成年代), "
                    f"and {profile.zh} ({profile.id}) admits compounds built by "
                    f"{profile.cutoff_build_year or profile.priority_build_year}",
                    column="build_year",
                    hint="add a 建成年代 column to the survey and run gaps again, or match a "
                    "clerk's table to the compounds (`spatial match`, `spatial db import`)",
                )
            )
        else:
            said.append(
                Problem.warning(
                    "compounds",
                    f"the annual plan is empty: no compound is eligible under {profile.zh} "
                    f"({profile.id}) within the budget",
                    hint="see the 资格认定 sheet for each compound's reason",
                )
            )
    if not siting:
        said.append(
            Problem.warning(
                "plan",
                "no facility sites chosen (the 设施选址 sheets are left out): siting needs "
                "candidate parcels and a walk network",
                hint="give --parcels (低效用地, 功能转换 … parcels) and --osm or --network",
            )
        )
    return said


def plan_stage(
    *,
    out_dir: Path,
    gaps_dir: str | Path | None,
    params: PlanParams,
    gap_tables: GapTables | None = None,
    parcels: Sequence[LoadSpec],
    walk: dict[str, Any],
    say: Progress,
    data_label: str | None = None,
    assess_dir: str | Path | None = None,
) -> PlanRun:
    """The plan stage into ``out_dir`` (see :func:`run_plan`), for runs that stage their
    folder themselves (the demo).

    Parameters
    ----------
    out_dir
        The folder written.
    gaps_dir, gap_tables
        The gaps folder, or its tables.
    params
        The plan stage's settings.
    parcels
        Candidate sites.
    walk
        Where the walk network for siting comes from (:func:`spatial.network.load_network`).
    say
        Progress callback.
    data_label
        What the cover names as the data (default the gaps folder).
    assess_dir
        A ``spatial assess`` folder (see :func:`run_plan`).

    Returns
    -------
    PlanRun
    """
    if params.start_year is None:  # a plan from next year on, the profile's span kept
        params = replace(params, start_year=date.today().year + 1)
    prof = (
        params.profile
        if isinstance(params.profile, PolicyProfile)
        else load_profile(params.profile)
    )
    assert params.start_year is not None
    prof = replace(
        prof,
        plan_start_year=params.start_year,
        plan_end_year=params.start_year + prof.plan_end_year - prof.plan_start_year,
    )
    say("reading gaps", 0, 0)
    found: list[Problem] = []  # the gaps folder and the parcels are checked together
    tables = gap_tables
    if tables is None:
        try:
            tables = load_gap_tables(str(gaps_dir), service_areas=False)
        except InputError as exc:
            found += exc.problems
    assessed = None
    if assess_dir is not None:
        try:
            assessed = load_assessment(assess_dir)
        except InputError as exc:
            found += exc.problems
    cand = None
    has_network = walk.get("osm") is not None or walk.get("network") is not None
    if parcels and has_network:
        try:
            cand = load_layers(list(parcels))["parcels"]
        except InputError as exc:
            found += exc.problems
    raise_for_errors(found)
    assert tables is not None
    comp, cats = tables.compounds, tables.categories
    say("eligibility, needs and ranking", 0, 0)
    plan = api.plan(comp, params=params.replace(profile=prof, start_year=None), categories=cats)
    keys = [
        k
        for k in ("id", "name", "district", "subdistrict", "community", "build_year", "households")
        if k in comp
    ]
    choice = sites = None
    if cand is not None and has_network:
        say("siting facilities", 0, 0)
        net = load_network(**walk, crs=cand.crs)
        covered = tables.gaps.pivot(index="compound_id", columns="category", values="covered")
        short = rules = None
        if tables.capacity is not None:  # gaps --capacity: site where places are short
            short = tables.capacity.pivot_table(
                index="compound_id", columns="category", values="shortfall_places"
            )
            rules = {c: r.capacity for c, r in load_capacity().rules.items()}
        sites, choice = site_facilities(
            net,
            comp,
            cand,
            covered.astype(bool),
            k=params.sites_k,
            categories=cats,
            shortfall=short,
            new_places=rules,
        )
    table = pd.DataFrame(plan.drop(columns="geometry"))
    if tables.capacity is not None and "id" in table:  # gaps --capacity: places to add
        names = {c.id: c.zh for c in cats or ()}
        table["places_short"] = places_short(tables.capacity, table["id"], names=names)
    short_m2 = None
    if assessed is not None and "id" in table:
        units, _, thousand = assessed
        if thousand is not None:
            table["floorspace_short"] = floorspace_short(units, thousand, table["id"])
            short_m2 = thousand[(thousand["floor_short_m2"] > 0) | (thousand["land_short_m2"] > 0)]
            short_m2 = short_m2.sort_values("floor_short_m2", ascending=False)
    said = _plan_warnings(comp, table, prof, siting=cand is not None and has_network)
    if said:
        warnings.warn(InputWarning(format_problems(said), said), stacklevel=2)
    cover = cover_sheet(
        prof,
        budget_yuan=params.budget_yuan,
        households_per_year=params.households_per_year,
        compounds=len(table),
        planned=int(table["year"].notna().sum()),
        data=data_label
        or (str(gaps_dir) if gaps_dir is not None else "老旧小区数据库 compound database"),
        finance=str(params.finance) if params.finance is not None else None,
        attention=[f"{p.message} — {p.hint}" for p in said],
    )
    sheets = {
        "封面 cover": cover,
        **official_sheets(plan_sheets(table, keys=keys, sites=sites, choice=choice)),
    }
    if short_m2 is not None:
        sheets["千人指标缺口 m² to add"] = short_m2.rename(columns=ASSESS_HEADERS)
    layers = {
        "eligibility": comp[["id", "name", "geometry"]].join(
            plan[
                ["status", "reason_zh", "reason_en", "rank", "year"]
                + [c for c in ("cost_yuan", "households") if c in plan]
            ]
        )
    }
    if cand is not None and choice is not None and len(choice):
        chosen = {s for v in choice["chosen_sites"] for s in str(v).split(";") if s}
        picked = cand[cand["id"].astype(str).isin(chosen)]
        for_cat = {
            s: ";".join(
                choice.loc[
                    choice["chosen_sites"].str.split(";").apply(lambda ids, s=s: s in ids),
                    "category",
                ]
            )
            for s in chosen
        }
        layers["sites"] = picked[["id", "name", "kind", "geometry"]].assign(
            categories=picked["id"].astype(str).map(for_cat)
        )
    outputs = write_plan_outputs(sheets, layers, out_dir, headers=HEADERS_ZH)
    return PlanRun(table, choice, outputs)
