"""政府引导的多元化投入 Multiple sources: who pays each compound's renovation, in order.

1. central and provincial subsidies (``[subsidy]``, ``[elevator]``: Qinghai's figures,
   policy), as :func:`spatial.bundling.finance.parcel_finance` computes them;
2. utility companies (专营单位) for their networks: the networks' share of the basic works,
   paid in full where they own them; where they do not, they renovate them with the
   city's award (以奖代补, a city cost) where the policy has one, otherwise the project
   pays (``utility_nonowned_share = 0``, set by a profile with ``utility_award = false``);
3. the original property-owning unit (原产权单位), where the compound names one;
4. residents: contributing households (the survey's 出资比例, or a default share) times a
   contribution per household;
5. the housing maintenance fund (住宅专项维修资金) per household;
6. what is left: the city budget.

Each line is capped at what the lines before it left, so the sources never exceed the
cost. Every figure comes from ``finance.toml`` ``[sources]`` and is labelled.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from spatial.bundling.finance import FinanceDefaults, numeric_column

__all__ = ["SOURCE_COLUMNS", "SOURCE_LABELS", "funding_sources"]

#: The funding lines in the order they are applied (yuan), before the city budget.
SOURCE_COLUMNS = (
    "subsidy_yuan",
    "utility_yuan",
    "original_owner_yuan",
    "residents_yuan",
    "maintenance_fund_yuan",
)
SOURCE_LABELS = {
    "subsidy_yuan": "中央和省级补助 central and provincial subsidy",
    "utility_yuan": "专营单位出资 utility companies",
    "original_owner_yuan": "原产权单位出资 original property-owning unit",
    "residents_yuan": "居民出资 residents",
    "maintenance_fund_yuan": "住宅专项维修资金 maintenance fund",
    "city_budget_yuan": "市县财政 city budget",
}


def funding_sources(
    compounds: pd.DataFrame, money: pd.DataFrame, *, finance: FinanceDefaults
) -> pd.DataFrame:
    """The funding lines of every old compound.

    Parameters
    ----------
    compounds
        Old compounds (``id``, ``households``; optional ``floor_area_m2``,
        ``contribution_share`` 出资比例, ``owner_unit`` 原产权单位).
    money
        :func:`spatial.bundling.finance.parcel_finance` of the same rows (``cost_yuan``,
        ``subsidy_yuan``).
    finance
        Figures (``[sources]``, ``[renovation]``).

    Returns
    -------
    DataFrame
        Indexed like ``compounds``: ``cost_yuan``, the lines of :data:`SOURCE_COLUMNS`,
        ``utility_award_yuan`` (the city's 以奖代补 award inside the city budget),
        ``city_budget_yuan`` (cost less the other lines), the inputs used
        (``floor_area_m2``, estimated from households where missing;
        ``contribution_share`` and ``contribution_surveyed``; ``owner_unit``) and
        ``basis``. Yuan.
    """
    f = finance
    cost = money["cost_yuan"].to_numpy(float)
    hh = np.nan_to_num(numeric_column(compounds, "households").to_numpy())
    floor = numeric_column(compounds, "floor_area_m2").to_numpy()
    floor = np.where(np.isfinite(floor), floor, hh * f["renovation.floor_area_per_household_m2"])
    networks = (
        floor * f["renovation.basic_yuan_per_m2"] * f["sources.utility_network_share_of_basic"]
    )
    owned = f["sources.utility_owned_share"]
    nonowned = networks * (1 - owned) * f["sources.utility_nonowned_share"]
    award = nonowned * f["sources.utility_award_share"]
    share = numeric_column(compounds, "contribution_share").to_numpy()
    surveyed = np.isfinite(share)
    share = np.where(surveyed, share, f["sources.default_contribution_share"])
    owner = (
        compounds["owner_unit"].fillna("").astype(str).str.strip().to_numpy()
        if "owner_unit" in compounds
        else np.full(len(compounds), "")
    )
    wanted = {
        "subsidy_yuan": money["subsidy_yuan"].to_numpy(float),
        "utility_yuan": networks * owned + nonowned - award,
        "original_owner_yuan": np.where(owner != "", cost * f["sources.original_owner_share"], 0),
        "residents_yuan": hh * share * f["sources.resident_yuan_per_household"],
        "maintenance_fund_yuan": hh * f["sources.maintenance_fund_yuan_per_household"],
    }
    left = cost.copy()
    out = {"cost_yuan": cost}
    for column in SOURCE_COLUMNS:
        paid = np.clip(wanted[column], 0.0, left)
        out[column] = paid
        left = left - paid
    out["utility_award_yuan"] = np.minimum(award, left)
    out["city_budget_yuan"] = left
    basis = [
        f"utility: networks {n:,.0f} = floor {fl:,.0f} m² × "
        f"{f.label('renovation.basic_yuan_per_m2')} × "
        f"{f.label('sources.utility_network_share_of_basic')}; owned "
        f"{f.label('sources.utility_owned_share')}, not owned × "
        f"{f.label('sources.utility_nonowned_share')} less award "
        f"{f.label('sources.utility_award_share')}; residents: {h:g} households × "
        f"{'出资比例 ' + format(s, '.0%') + ' (survey)' if sv else f.label('sources.default_contribution_share')}"  # noqa: E501
        f" × {f.label('sources.resident_yuan_per_household')}"
        + (f"; original owner {o}: {f.label('sources.original_owner_share')}" if o else "")
        for n, fl, h, s, sv, o in zip(networks, floor, hh, share, surveyed, owner, strict=True)
    ]
    frame = pd.DataFrame(out, index=compounds.index)
    frame["floor_area_m2"] = floor
    frame["contribution_share"] = share
    frame["contribution_surveyed"] = surveyed
    frame["owner_unit"] = owner
    frame["basis"] = basis
    return cast("pd.DataFrame", frame)
