"""Policy profiles: who is eligible, what each compound needs, ranking.

Profiles are data (``spatial/standards/policies/*.toml``: Shandong, Tai'an, Liaocheng,
Qinghai, Xining, or a user's own file) with their sources in the plans of
``../shared/seeds``. Build years are whole years: "built on or before 2005-12-31" is
``build_year <= 2005``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from spatial._errors import input_error
from spatial.bundling.finance import FinanceDefaults, load_finance, parcel_finance
from spatial.lifecircle.counted import counted_categories
from spatial.standards import Category, load_categories
from spatial.standards.files import read_toml

__all__ = [
    "FACTORS",
    "NEEDS_COLUMNS",
    "PROFILES",
    "UNKNOWN_FACTOR",
    "PolicyProfile",
    "eligibility",
    "load_profile",
    "needs",
    "profile_finance",
    "rank",
]

#: Columns of :func:`needs` and of :func:`rank` (besides the factors ``f_*``).
NEEDS_COLUMNS = (
    "basic_items",
    "improvement_items",
    "upgrade_items",
    "n_upgrade",
    "cost_yuan",
    "subsidy_yuan",
    "net_cost_yuan",
    "elevators",
    "basis",
)
PROFILES = ("shandong", "taian", "liaocheng", "qinghai", "xining")
FACTORS = ("age", "facility_deficit", "willingness", "contribution", "condition", "procedures")
_GRADE = {"A": 0.0, "B": 1 / 3, "C": 2 / 3, "D": 1.0}
#: What an unknown ranking factor counts: the middle of its 0–1 scale (neither for nor
#: against a compound); the ``assumed`` column names where it was used.
UNKNOWN_FACTOR = 0.5
_FACTOR_ZH = {
    "age": "房龄 age",
    "facility_deficit": "配套欠账 facility deficit",
    "willingness": "居民意愿 willingness (survey column 居民意愿)",
    "contribution": "出资比例 contribution (survey column 出资比例)",
    "condition": "房屋状况 condition (survey column 结构安全等级)",
    "procedures": "手续完备 procedures (column procedures_complete)",
}
#: Life-circle categories that are improvement items (完善类) rather than upgrade items.
_IMPROVEMENT_CATEGORIES = {
    "parking",
    "ev_charging",
    "parcel_point",
    "fitness_outdoor",
    "sports_small",
}


@dataclass(frozen=True)
class PolicyProfile:
    """Eligibility rules, ranking weights and plan horizon of one jurisdiction.

    Attributes
    ----------
    id, zh, en
        Short name and Chinese and English titles.
    source
        The policy document the rules come from.
    plan_start_year, plan_end_year
        The plan's horizon (inclusive).
    priority_build_year
        Compounds built by the end of this year are ``priority``.
    cutoff_build_year
        Compounds built after the end of this year are excluded (None: no cut-off).
    pre2000_first
        Rank priority compounds before the others.
    exclude_planned_demolition
        Exclude compounds marked for demolition.
    exclude_expropriation_within_years
        Exclude compounds to be expropriated within so many years.
    require_sound_structure
        Exclude compounds whose main structure is grade D (unsound).
    weights
        Ranking weight per factor.
    tie_break
        Factors that break ties of the score, in order.
    subsidy
        Subsidy figures (yuan) passed to the finance rules.
    utility_award
        Whether the city awards utility companies for networks they do not own
        (以奖代补); None where the profile is silent (``finance.toml`` applies).
    """

    id: str
    zh: str
    en: str
    source: str
    plan_start_year: int
    plan_end_year: int
    priority_build_year: int
    cutoff_build_year: int | None = None
    pre2000_first: bool = True
    exclude_planned_demolition: bool = False
    exclude_expropriation_within_years: int | None = None
    require_sound_structure: bool = False
    weights: dict[str, float] = field(default_factory=dict)
    tie_break: tuple[str, ...] = ()
    subsidy: dict[str, float] = field(default_factory=dict)
    utility_award: bool | None = None


def load_profile(name: str | Path) -> PolicyProfile:
    """A shipped profile by name or a user's TOML file of the same form.

    Parameters
    ----------
    name
        ``taian`` … (see ``spatial/standards/policies/``) or a path to a TOML file.

    Returns
    -------
    PolicyProfile
        The rules.
    """
    if str(name) in PROFILES:
        data, _ = read_toml(None, default=f"{name}.toml", package="spatial.standards.policies")
    elif Path(name).exists():
        data, _ = read_toml(name, default="taian.toml")
    else:
        raise input_error(
            "--profile",
            f"unknown profile {name!r}",
            hint=f"use one of {', '.join(PROFILES)} or a TOML file of your own",
        )
    rules = data.get("eligibility", {})
    weights = {k: float(v) for k, v in data.get("ranking", {}).items()}
    unknown = set(weights) - set(FACTORS)
    if unknown:
        raise input_error(
            str(name),
            f"unknown ranking factors {sorted(unknown)}",
            column="[ranking]",
            hint=f"use {', '.join(FACTORS)}",
        )
    return PolicyProfile(
        id=data["id"],
        zh=data["zh"],
        en=data["en"],
        source=data.get("source", ""),
        plan_start_year=int(data["plan_start_year"]),
        plan_end_year=int(data["plan_end_year"]),
        priority_build_year=int(rules["priority_build_year"]),
        cutoff_build_year=rules.get("cutoff_build_year"),
        pre2000_first=bool(rules.get("pre2000_first", True)),
        exclude_planned_demolition=bool(rules.get("exclude_planned_demolition", False)),
        exclude_expropriation_within_years=rules.get("exclude_expropriation_within_years"),
        require_sound_structure=bool(rules.get("require_sound_structure", False)),
        weights=weights,
        tie_break=tuple(data.get("tie_break", ())),
        subsidy={k: float(v) for k, v in data.get("subsidy", {}).items()},
        utility_award=data.get("funding", {}).get("utility_award"),
    )


def profile_finance(finance: FinanceDefaults, profile: PolicyProfile) -> FinanceDefaults:
    """Finance figures with what a policy profile says: its subsidies and 以奖代补.

    Parameters
    ----------
    finance
        Figures (``finance.toml`` or the user's).
    profile
        The jurisdiction.

    Returns
    -------
    FinanceDefaults
        A copy: the profile's subsidy per household and per elevator; where the profile
        has ``utility_award = false`` (no 以奖代补), utilities pay only for the networks
        they own (``sources.utility_nonowned_share = 0``). Labelled as user figures in
        every basis.
    """
    changes: dict[str, float] = {}
    if "yuan_per_household" in profile.subsidy:
        changes["subsidy__yuan_per_household"] = profile.subsidy["yuan_per_household"]
    if "yuan_per_elevator" in profile.subsidy:
        changes["elevator__subsidy_yuan_per_elevator"] = profile.subsidy["yuan_per_elevator"]
    if profile.utility_award is False:
        changes["sources__utility_nonowned_share"] = 0.0
    return finance.with_overrides(**changes) if changes else finance


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(pd.NA, index=frame.index, dtype=object)


def eligibility(compounds: pd.DataFrame, profile: PolicyProfile) -> pd.DataFrame:
    """Label each compound ``priority``, ``eligible``, ``excluded`` or ``unknown``.

    Parameters
    ----------
    compounds
        Canonical compound columns (``build_year``, ``demolition_planned`` …).
    profile
        The jurisdiction's rules.

    Returns
    -------
    DataFrame
        Indexed like ``compounds``: ``status``, ``reason_zh`` and ``reason_en`` (the
        first rule that decided).
    """
    year = pd.to_numeric(_col(compounds, "build_year"), errors="coerce").to_numpy(dtype=float)
    expro = pd.to_numeric(_col(compounds, "expropriation_year"), errors="coerce").to_numpy(
        dtype=float
    )
    demolish = (
        _col(compounds, "planned_demolition").astype("boolean").fillna(False).to_numpy(dtype=bool)
    )
    grade = _col(compounds, "structure_grade").astype(str).str.upper().str.strip().to_numpy()
    n = profile.exclude_expropriation_within_years
    start = profile.plan_start_year
    rows = []
    for k in range(len(compounds)):
        y, e = float(year[k]), float(expro[k])
        if profile.exclude_planned_demolition and demolish[k]:
            row = (
                "excluded",
                "拟拆迁改造或棚户区改造",
                "planned for demolition or shantytown redevelopment",
            )
        elif n is not None and np.isfinite(e) and start <= e < start + n:
            row = (
                "excluded",
                f"{start}—{start + n - 1}年内列入征收计划",
                f"on an expropriation list within {n} years ({int(e)})",
            )
        elif profile.require_sound_structure and grade[k] == "D":
            row = ("excluded", "建筑主体结构不完好（D级）", "main structure unsound (grade D)")
        elif not np.isfinite(y):
            row = ("unknown", "建成年份未知，请补充", "build year unknown: fill it in")
        elif profile.cutoff_build_year is not None and y > profile.cutoff_build_year:
            row = (
                "excluded",
                f"{profile.cutoff_build_year}年12月31日后建成",
                f"built after {profile.cutoff_build_year}-12-31",
            )
        elif y <= profile.priority_build_year:
            row = (
                "priority",
                f"{profile.priority_build_year}年底前建成，优先改造",
                f"built by {profile.priority_build_year}-12-31: priority",
            )
        else:
            row = ("eligible", "符合改造条件", "eligible")
        rows.append(row)
    return pd.DataFrame(rows, index=compounds.index, columns=["status", "reason_zh", "reason_en"])


def needs(
    compounds: pd.DataFrame,
    profile: PolicyProfile,
    *,
    categories: tuple[Category, ...] | None = None,
    finance: FinanceDefaults | None = None,
) -> pd.DataFrame:
    """Renovation content per compound: basic, improvement and upgrade items, and the cost.

    Improvement items: an elevator retrofit (≥ ``elevator.min_floors`` floors, none yet) and
    missing parking, charging, parcel and fitness facilities; upgrade items: the other
    missing life-circle categories (from the gap engine's ``missing``). Costs come from
    :func:`spatial.bundling.finance.parcel_finance` with the profile's subsidy figures.

    Parameters
    ----------
    compounds
        Canonical compound columns and ``missing`` from the gap engine.
    profile
        The jurisdiction (its subsidy figures).
    categories
        The taxonomy (default the shipped one).
    finance
        Finance figures (default the shipped ones).

    Returns
    -------
    DataFrame
        Indexed like ``compounds``: ``basic_items``, ``improvement_items``,
        ``upgrade_items``, ``n_upgrade``, ``cost_yuan``, ``subsidy_yuan``,
        ``net_cost_yuan``, ``elevators`` and ``basis``.
    """
    cats = {c.id: c for c in (categories or load_categories())}
    f = profile_finance(finance or load_finance(), profile)
    money = parcel_finance(compounds.assign(kind="old_compound"), defaults=f)
    missing = _col(compounds, "missing").fillna("").astype(str).to_numpy()
    elevators = money["elevators"].to_numpy(dtype=float)
    guessed = money["basis"].astype(str).str.contains("elevators assumed").to_numpy()
    rows = []
    for k in range(len(compounds)):
        miss = [c for c in missing[k].split(";") if c in cats]
        improve = [f"{cats[c].zh}" for c in miss if c in _IMPROVEMENT_CATEGORIES]
        if elevators[k] > 0:
            guess = "（楼栋数未知，估）" if guessed[k] else ""
            improve.insert(0, f"加装电梯{int(elevators[k])}部{guess}")
        upgrade = [cats[c].zh for c in miss if c not in _IMPROVEMENT_CATEGORIES]
        rows.append(
            {
                "basic_items": "水电气暖信等管网、屋面、外墙、道路、排水、消防、安防",
                "improvement_items": "、".join(improve),
                "upgrade_items": "、".join(upgrade),
                "n_upgrade": len(upgrade),
            }
        )
    out = pd.DataFrame(rows, index=compounds.index)
    return out.join(money[["cost_yuan", "subsidy_yuan", "net_cost_yuan", "elevators", "basis"]])


def rank(
    compounds: pd.DataFrame, status: pd.Series, profile: PolicyProfile, *, n_categories: int
) -> pd.DataFrame:
    """Transparent score and rank of the eligible and priority compounds.

    Factors, each scaled to 0–1: ``age`` ((plan start − build year) / 50, capped),
    ``facility_deficit`` (missing categories / the categories with data,
    :func:`~spatial.lifecircle.counted.counted_categories`), ``willingness``, ``contribution``
    (share of households that pay), ``condition`` (structure grade A 0 … D 1) and
    ``procedures`` (complete 1 / not 0); unknown values count :data:`UNKNOWN_FACTOR` and
    are named in ``assumed``. ``score`` = Σ weight ×
    factor. Order: priority compounds first when the profile says so, then score, then
    the profile's tie-break factors, then id. Excluded compounds get no rank.

    Parameters
    ----------
    compounds
        Canonical compound columns and ``missing``.
    status
        From :func:`eligibility`, indexed like ``compounds``.
    profile
        Weights and tie-break rules.
    n_categories
        Number of life-circle categories (denominator of ``facility_deficit``).

    Returns
    -------
    DataFrame
        Indexed like ``compounds``: one column per factor, ``assumed`` (the weighted
        factors unknown for the compound, set to :data:`UNKNOWN_FACTOR`; fill the survey
        column to replace it), ``score`` and ``rank`` (``<NA>`` for excluded compounds).
    """
    year = pd.to_numeric(_col(compounds, "build_year"), errors="coerce")
    counted = counted_categories(compounds, n_categories)
    given = (
        pd.DataFrame(
            {
                "age": ((profile.plan_start_year - year) / 50).clip(0, 1),
                "facility_deficit": pd.to_numeric(_col(compounds, "n_missing"), errors="coerce")
                / counted,
                "willingness": pd.to_numeric(_col(compounds, "willingness"), errors="coerce"),
                "contribution": pd.to_numeric(
                    _col(compounds, "contribution_share"), errors="coerce"
                ),
                "condition": _col(compounds, "structure_grade").astype(str).str.upper().map(_GRADE),
                "procedures": pd.to_numeric(
                    _col(compounds, "procedures_complete"), errors="coerce"
                ),
            },
            index=compounds.index,
        )
    ).astype(float)
    factors = given.fillna(UNKNOWN_FACTOR)
    score = sum(factors[k] * profile.weights.get(k, 0.0) for k in FACTORS)
    out = factors.add_prefix("f_").assign(score=np.round(score, 6))
    weighted = [k for k in FACTORS if profile.weights.get(k, 0.0)]
    unknown = given[weighted].isna().to_numpy()
    out["assumed"] = [
        "; ".join(_FACTOR_ZH[k] for k, u in zip(weighted, row, strict=True) if u) or None
        for row in unknown
    ]
    ok = status.isin(["priority", "eligible"])
    order = pd.DataFrame(
        {
            "group": np.where(status.eq("priority") & profile.pre2000_first, 0, 1),
            "score": -out["score"],
        },
        index=compounds.index,
    )
    for k, name in enumerate(profile.tie_break):
        order[f"t{k}"] = -factors[name]
    order["id"] = _col(compounds, "id").astype(str)
    ranked = order[ok].sort_values(list(order.columns), kind="stable").index
    out["rank"] = (
        pd.Series(np.arange(1, len(ranked) + 1), index=ranked)
        .reindex(compounds.index)
        .astype("Int64")
    )
    return out
