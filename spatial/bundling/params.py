"""The bundle stage's parameters (:class:`BundleParams`): each option and its one default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from spatial.params import StageParams, number
from spatial.settings import DEFAULTS

if TYPE_CHECKING:
    from spatial.bundling.finance import FinanceDefaults

__all__ = ["BundleParams"]


@dataclass(frozen=True, kw_only=True)
class BundleParams(StageParams):
    """Settings of the bundle stage (大片区统筹平衡).

    The library face (:func:`spatial.bundles`), :func:`spatial.pipeline.run_bundles`, a
    province file's ``[bundles]`` table and ``spatial bundles`` all build this object;
    its defaults are the only ones.

    Attributes
    ----------
    finance
        Finance figures, or a file of one's own (default
        ``spatial/standards/finance.toml``, whose unit costs and land values are
        assumptions).
    profile
        A policy profile (``taian`` … or a file): its subsidies and whether utility
        companies get an award (以奖代补) replace the finance figures'; None keeps them.
    gap_m
        Parcels this close (metres) are neighbours (None: ``bundling.toml``'s figure).
    pair_max_m
        Largest distance (metres) over which surplus funds a compound elsewhere (None:
        ``bundling.toml``'s figure).
    cross_barriers
        Let bundles cross barriers (arterial roads, railways, rivers).
    islands
        A compound with no neighbour: ``single`` (a bundle of its own) or ``exclude``.
    seed
        Seed of the tie-breaking order (not the demo city's seed).
    default_far
        Parcels without a planned FAR earn revenue at the labelled default FAR of their
        kind (``finance.toml`` ``[default_far]``); otherwise they earn none.
    workbook
        Write ``finance.xlsx`` (projects with live formulas and their values, in 万元);
        False for batch runs, the CSV tables keep every figure.
    cash_flow_sheets
        Full cash-flow sheets in ``finance.xlsx`` for this many bundles and combinations
        of largest cost.
    """

    finance: str | Path | FinanceDefaults | None = None
    profile: str | Path | None = None
    gap_m: float | None = number(None, above=None, at_least=0.0)
    pair_max_m: float | None = number(None, above=None, at_least=0.0)
    cross_barriers: bool = False
    islands: Literal["single", "exclude"] = "single"
    seed: int = DEFAULTS.bundle_seed
    default_far: bool = False
    workbook: bool = True
    cash_flow_sheets: int = number(DEFAULTS.cash_flow_sheets, above=None, at_least=0)

    @classmethod
    def _lazy_types(cls) -> dict[str, Any]:
        from spatial.bundling.finance import FinanceDefaults

        return {"FinanceDefaults": FinanceDefaults}
