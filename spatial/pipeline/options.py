"""Typed settings of each stage (defaults from :mod:`spatial.settings` and the standards
files) and records of what each run produced."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from spatial._errors import Problem
from spatial.bundling import BundleResult
from spatial.demo import DemoCity
from spatial.finance import FinanceReport
from spatial.lifecircle import GapResult
from spatial.network import WalkNetwork
from spatial.settings import DEFAULTS
from spatial.standards import Category, load_categories, select_categories

__all__ = [
    "BundleOptions",
    "BundleRun",
    "DemoRun",
    "GapOptions",
    "GapRun",
    "PlanOptions",
    "PlanRun",
]


@dataclass(frozen=True)
class GapOptions:
    """Settings of the gap stage.

    Attributes
    ----------
    categories
        A taxonomy file of one's own (default: the shipped GB 50180-2018 one).
    only_categories
        Category ids to keep (empty: all).
    snap_limit_m
        POIs and compounds farther than this (metres) from the network are off-network.
    walk_speed_m_per_min
        Turns metres into the ``walk_min`` label.
    service_areas
        Also write ``service_areas.gpkg``.
    count_reachable
        Also count the facilities within the radius (slower).
    search_limit_m
        Distances are searched up to this many metres (at least each radius).
    count_no_data
        Count categories without any facility in the inputs as missing.
    snap_m
        Road line layers: vertices and line ends this close (metres) join.
    network_layer
        The layer of a multi-layer network file.
    context
        Also keep the streets, water, railways and names of the network file in
        ``context.gpkg``: the maps draw them under the data.
    context_process_mb
        From this file size (MB) the context is read by a second process meanwhile.
    gate_tolerance_m
        A gate or entrance this close (metres) to a compound's boundary is one of its
        access points.
    school_unknown
        What a school of unknown level counts as: ``none``, ``primary``, ``junior``,
        ``both``.
    keep_cut
        OSM: keep residential areas cut by the extract's edge (the part inside, flagged
        ``partial``) instead of leaving them out.
    """

    categories: str | Path | None = None
    only_categories: tuple[str, ...] = ()
    snap_limit_m: float = DEFAULTS.snap_limit_m
    walk_speed_m_per_min: float = DEFAULTS.walk_speed_m_per_min
    service_areas: bool = True
    count_reachable: bool = False
    search_limit_m: float = DEFAULTS.search_limit_m
    count_no_data: bool = False
    snap_m: float = DEFAULTS.line_snap_m
    network_layer: str | None = None
    gate_tolerance_m: float = DEFAULTS.gate_tolerance_m
    school_unknown: Literal["none", "primary", "junior", "both"] = "none"
    keep_cut: bool = False
    context: bool = True
    context_process_mb: float = DEFAULTS.context_process_mb

    def taxonomy(self) -> tuple[Category, ...]:
        """The categories of the run.

        Returns
        -------
        tuple of Category
            The taxonomy file's categories, only the kept ones if any are named.
        """
        cats = load_categories(self.categories)
        return select_categories(cats, self.only_categories) if self.only_categories else cats


@dataclass(frozen=True)
class BundleOptions:
    """Settings of the bundle stage.

    Attributes
    ----------
    finance
        A finance figures file of one's own (default ``spatial/standards/finance.toml``).
    gap_m
        Parcels this close (metres) are neighbours (default from ``bundling.toml``).
    pair_max_m
        Largest distance (m) over which surplus funds a compound elsewhere (default 3000).
    cross_barriers
        Let bundles cross barriers.
    islands
        Compounds with no neighbour: ``single`` (own bundle) or ``exclude``.
    seed
        Seed of the tie-breaking order (not the demo city's seed).
    default_far
        Parcels without a planned FAR earn revenue at the labelled default FAR of their
        kind (``finance.toml`` ``[default_far]``); otherwise they earn none.
    profile
        A policy profile (``taian`` … or a file): its subsidies and whether utility
        companies get an award (以奖代补) replace the finance figures'; None keeps them.
    """

    finance: str | Path | None = None
    profile: str | Path | None = None
    gap_m: float | None = None
    pair_max_m: float | None = None
    cross_barriers: bool = False
    islands: Literal["single", "exclude"] = "single"
    seed: int = DEFAULTS.bundle_seed
    default_far: bool = False


@dataclass(frozen=True)
class PlanOptions:
    """Settings of the plan stage.

    Attributes
    ----------
    profile
        A policy profile name (``taian`` …) or file.
    budget_yuan
        Yearly budget of total investment, yuan.
    households_per_year
        Yearly household target (a cap), or None.
    sites_k
        Facility sites chosen per missing category.
    finance
        A finance figures file of one's own.
    start_year
        First year of the plan (default: next year); the profile's span is kept.
    """

    profile: str | Path
    budget_yuan: float
    households_per_year: float | None = None
    sites_k: int = DEFAULTS.sites_k
    finance: str | Path | None = None
    start_year: int | None = None

    def problems(self) -> list[Problem]:
        """What is wrong with the settings (a budget must be positive …).

        Returns
        -------
        list of Problem
            One error per option out of range, naming the option.
        """
        found = []
        checks = (
            ("--budget-yuan", self.budget_yuan, "a positive yearly budget in yuan, e.g. 5e8"),
            ("--households-per-year", self.households_per_year, "a positive household target"),
        )
        for option, value, fix in checks:
            if value is not None and not (math.isfinite(value) and value > 0):
                found.append(
                    Problem.error("<options>", f"{option} is {value:g}", column=option, hint=fix)
                )
        if self.sites_k < 0:
            found.append(
                Problem.error(
                    "<options>",
                    f"--sites-k is {self.sites_k}",
                    column="--sites-k",
                    hint="0 or more",
                )
            )
        return found


@dataclass
class GapRun:
    """What :func:`run_gaps` produced: the engine's result, the network, the files.

    Attributes
    ----------
    result
        The gap result.
    network
        The walk network it was computed on.
    outputs
        Written files by name.
    """

    result: GapResult
    network: WalkNetwork
    outputs: dict[str, Path] = field(default_factory=dict)


@dataclass
class BundleRun:
    """What :func:`run_bundles` produced: the bundles and the files.

    Attributes
    ----------
    result
        The bundling result.
    outputs
        Written files by name.
    problems
        Warnings of loading and of the money (``problems.csv``).
    finance
        The four financing modes, cash flows and sensitivity (``finance.xlsx``).
    """

    result: BundleResult
    outputs: dict[str, Path] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    finance: FinanceReport | None = None


@dataclass
class PlanRun:
    """What :func:`run_plan` produced: the plan per compound, the site choice, the files.

    Attributes
    ----------
    plan
        One row per compound: status, needs, cost, score, rank and year.
    choice
        Chosen facility sites per category (None without candidate sites).
    outputs
        Written files by name.
    """

    plan: pd.DataFrame
    choice: pd.DataFrame | None
    outputs: dict[str, Path] = field(default_factory=dict)


@dataclass
class DemoRun:
    """What :func:`run_demo` produced.

    Attributes
    ----------
    city
        The generated city (None when an existing one was used).
    outputs
        Written files by name.
    counts
        Features per layer.
    gaps
        The gap result.
    bundles
        The bundling result.
    """

    city: DemoCity | None
    outputs: dict[str, Path] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    gaps: GapResult | None = None
    bundles: BundleResult | None = None
