"""Records of what each run produced (the stages' settings are their own parameter
objects: :class:`~spatial.lifecircle.params.GapParams`,
:class:`~spatial.bundling.params.BundleParams`, :class:`~spatial.policy.params.PlanParams`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from spatial._errors import Problem
from spatial.bundling import BundleResult
from spatial.demo import DemoCity
from spatial.finance import FinanceReport

if TYPE_CHECKING:
    from spatial.lifecircle.result import GapResult
    from spatial.network import WalkNetwork

__all__ = [
    "BundleRun",
    "DemoRun",
    "GapRun",
    "PlanRun",
]


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
