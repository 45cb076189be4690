"""The plan stage's parameters (:class:`PlanParams`): each option and its one default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spatial.params import StageParams, number
from spatial.settings import DEFAULTS

if TYPE_CHECKING:
    from spatial.bundling.finance import FinanceDefaults
    from spatial.policy.profiles import PolicyProfile

__all__ = ["EvaluateParams", "PlanParams"]


@dataclass(frozen=True, kw_only=True)
class PlanParams(StageParams):
    """Settings of the plan stage: eligibility, needs, ranking, the annual plan, siting.

    :func:`spatial.pipeline.run_plan`, a province file's ``[plan]`` table (or the unit's
    ``profile``/``budget_yuan``) and ``spatial plan`` all build this object; its defaults
    are the only ones.

    Attributes
    ----------
    profile
        A policy profile, a shipped profile's name (``taian`` …) or a TOML file.
    budget_yuan
        Yearly budget of total investment, yuan.
    households_per_year
        Yearly household target (a cap), or None.
    sites_k
        Facility sites chosen per missing category.
    finance
        Finance figures, or a file of one's own (default the shipped ``finance.toml``).
    start_year
        First year of the plan (None: next year); the profile's span is kept.
    network_layer
        The layer of a multi-layer network file for siting.
    line_snap_m
        Road line layers for siting: vertices and line ends this close (metres) join.
    """

    profile: str | Path | PolicyProfile
    budget_yuan: float = number()
    households_per_year: float | None = number(None)
    sites_k: int = number(DEFAULTS.sites_k, above=None, at_least=0)
    finance: str | Path | FinanceDefaults | None = None
    start_year: int | None = number(None, above=None, at_least=1949, at_most=2100)
    network_layer: str | None = None
    line_snap_m: float = number(DEFAULTS.line_snap_m, above=None, at_least=0.0)

    @classmethod
    def _lazy_types(cls) -> dict[str, Any]:
        from spatial.bundling.finance import FinanceDefaults
        from spatial.policy.profiles import PolicyProfile

        return {"FinanceDefaults": FinanceDefaults, "PolicyProfile": PolicyProfile}


@dataclass(frozen=True, kw_only=True)
class EvaluateParams(StageParams):
    """Settings of the evaluation stage (``spatial evaluate``): what a plan adds and when.

    How compounds and facilities enter the walk network, the categories and their radii
    are those of the gap run evaluated; only what the plan adds is set here.

    Attributes
    ----------
    additions
        What a renovation builds inside a compound (default the shipped
        ``spatial/standards/evaluation.toml``).
    sites_year
        The year the plan's chosen sites open (None: the plan's first year).
    network_layer
        The layer of a multi-layer network file.
    line_snap_m
        Road line layers: vertices and line ends this close (metres) join.
    sheet_rows
        Rows kept in each long sheet of ``evaluation.xlsx`` (compounds, facilities, units;
        the compounds gaining most first); the CSVs beside it hold every row.
    """

    additions: str | Path | None = None
    sites_year: int | None = number(None, above=None, at_least=1949, at_most=2100)
    network_layer: str | None = None
    line_snap_m: float = number(DEFAULTS.line_snap_m, above=None, at_least=0.0)
    sheet_rows: int = number(20_000, above=None, at_least=1)
