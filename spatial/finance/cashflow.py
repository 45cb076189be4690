"""Yearly cash flows of renovation projects, their financing and the special-bond test.

A project (a compound, a bundle, a cross-area combination) is given by its totals:
``cost_yuan`` (renovation, resettlement …), ``facility_build_yuan``, ``grants_yuan``
(subsidies), ``sources_yuan`` (utilities, owners, residents, maintenance fund),
``land_yuan`` (land revenue), ``transfer_yuan`` (money moved in from another project's
land), ``facility_capacity_income_yuan_per_year`` and ``facility_cost_yuan_per_year``.
Year 0 is ``cashflow.start_year``. In each year ``t``:

- building work, grants and sources: one ``construction_years``-th each year while
  ``t < construction_years``;
- land revenue and transfers: all in ``t == land_sale_year``;
- facilities: capacity income × ``operating.uptake`` less running cost for
  ``t ≥ opens_after_years``.

Their sum is the project's net flow. NPV (at ``discount_rate``, year 0 undiscounted)
is each year's flow over ``(1 + rate) ** year``; IRR uses ``pyxirr`` (Rust: the same answers as
``numpy_financial.irr``, about 40 times faster, and a city has tens of thousands of
projects).

Financing: the debt is what grants and sources leave of the building cost, drawn in
year 0. For ``1 ≤ t ≤ term`` interest is paid on it; after ``grace_years``, equal annual
payments (:func:`annuity`, the formula of ``numpy_financial.pmt``) repay it. The special-bond test
(项目收益与融资自求平衡): project income (land, transfers, facilities' net) over years
``0..term`` divided by the bond's principal and interest (本息覆盖倍数) must reach
``bond.min_coverage``. Projects that pass are financed by the bond, the others by the
bank loan. ``finance.xlsx`` writes the same rules as formulas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyxirr

from spatial.bundling.finance import FinanceDefaults

__all__ = [
    "COMPONENTS",
    "DEBT_LINES",
    "FLOW_LINES",
    "PAYBACK_TOLERANCE_YUAN",
    "CashFlows",
    "Terms",
    "Timing",
    "annuity",
    "cash_flows",
    "npv_of",
    "timing",
]

#: The totals a project is given by (yuan; the last two per year).
COMPONENTS = (
    "cost_yuan",
    "facility_build_yuan",
    "grants_yuan",
    "sources_yuan",
    "land_yuan",
    "transfer_yuan",
    "facility_capacity_income_yuan_per_year",
    "facility_cost_yuan_per_year",
)
#: A cumulative flow this close to 0 counts as paid back (rounding of the yearly shares).
PAYBACK_TOLERANCE_YUAN = 0.5
#: Debt lines of :attr:`CashFlows.lines` (key → 中文 English), positive yuan.
DEBT_LINES = {
    "debt_service": "还本付息 debt service",
    "interest": "利息 interest",
    "principal": "本金 principal",
    "debt_balance": "期末债务 debt outstanding",
}
#: Yearly lines (key → 中文 English), in the order of the workbook.
FLOW_LINES = {
    "construction": "改造建设投入 building work",
    "facility_build": "经营设施建设 facility building",
    "grants": "上级补助 subsidies",
    "sources": "多元出资 other sources",
    "land": "土地收益 land revenue",
    "transfer": "跨片区调入 cross-area transfers",
    "facility_income": "经营收入 facility income",
    "facility_cost": "运营成本 facility running cost",
}


@dataclass(frozen=True)
class Terms:
    """A debt's terms.

    Attributes
    ----------
    rate
        Interest per year (share).
    term_years
        Years until it is repaid.
    grace_years
        First years with interest only.
    """

    rate: float
    term_years: int
    grace_years: int


@dataclass(frozen=True)
class Timing:
    """When money moves (years from 0 = ``start_year``) and the financing terms.

    Attributes
    ----------
    start_year
        Calendar year of year 0.
    years
        Years of flow computed.
    construction_years
        Years the building work is spread over.
    land_sale_year
        Year land revenue and transfers arrive.
    opens_after_years
        First year facilities earn.
    discount_rate
        Rate of the NPV.
    uptake
        Share of the facilities' capacity used.
    bond, loan
        Terms of the special bond and of the bank loan.
    min_coverage
        Bond test threshold (本息覆盖倍数).
    """

    start_year: int
    years: int
    construction_years: int
    land_sale_year: int
    opens_after_years: int
    discount_rate: float
    uptake: float
    bond: Terms
    loan: Terms
    min_coverage: float


def timing(finance: FinanceDefaults) -> Timing:
    """The :class:`Timing` of ``finance.toml`` (``[cashflow]``, ``[bond]``, ``[loan]``).

    Parameters
    ----------
    finance
        Figures.

    Returns
    -------
    Timing
        The horizon is extended to cover the land sale and both debts' terms.
    """
    f = finance

    def terms(kind: str) -> Terms:
        return Terms(f[f"{kind}.rate"], int(f[f"{kind}.term_years"]), int(f[f"{kind}.grace_years"]))

    bond, loan = terms("bond"), terms("loan")
    land = int(f["cashflow.land_sale_year"])
    build = int(f["cashflow.construction_years"])
    opens = int(f["operating.opens_after_years"])
    years = max(
        int(f["cashflow.horizon_years"]),
        bond.term_years + 1,
        loan.term_years + 1,
        land + 1,
        build,
        opens + 1,
    )
    return Timing(
        start_year=int(f["cashflow.start_year"]),
        years=years,
        construction_years=build,
        land_sale_year=land,
        opens_after_years=opens,
        discount_rate=f["cashflow.discount_rate"],
        uptake=f["operating.uptake"],
        bond=bond,
        loan=loan,
        min_coverage=f["bond.min_coverage"],
    )


@dataclass
class CashFlows:
    """Yearly lines and the summary of many projects.

    Attributes
    ----------
    years
        Calendar years (length ``H``).
    lines
        Line key (:data:`FLOW_LINES`, ``net``, ``debt_service``, ``interest``,
        ``principal``, ``debt_balance``) → ``(n, H)`` array of yuan (outflows negative;
        debt lines positive).
    summary
        One row per project, indexed like the projects: ``debt_yuan``, ``bond_coverage``,
        ``bond_eligible``, ``financing`` (``bond``, ``loan``, ``none``),
        ``debt_service_yuan``, ``npv_yuan``, ``irr`` (NaN where the flows do not sum to
        0 or more: a negative IRR is not reported), ``payback_year`` (NaN: never).
    """

    years: np.ndarray
    lines: dict[str, np.ndarray]
    summary: pd.DataFrame

    def table(self, position: int) -> pd.DataFrame:
        """One project's lines by year.

        Parameters
        ----------
        position
            The project's position in the projects given.

        Returns
        -------
        DataFrame
            Rows: the :data:`FLOW_LINES`, the net flow and the :data:`DEBT_LINES`
            (labelled in Chinese and English); columns: years; yuan.
        """
        return pd.DataFrame(
            {k: v[position] for k, v in self.lines.items()}, index=self.years
        ).T.rename(index={**FLOW_LINES, **DEBT_LINES, "net": "净现金流 net flow"})


def _schedule(debt: np.ndarray, terms: Terms, years: int) -> tuple[np.ndarray, ...]:
    """Interest, payment and closing balance by year of debts drawn in year 0."""
    n = len(debt)
    interest, service, balance = (np.zeros((n, years)) for _ in range(3))
    payment = annuity(debt, rate=terms.rate, years=terms.term_years - terms.grace_years)
    opening = debt.astype(float)
    for t in range(years):
        if 1 <= t <= terms.term_years:
            interest[:, t] = opening * terms.rate
            service[:, t] = interest[:, t] if t <= terms.grace_years else payment
        opening = opening - (service[:, t] - interest[:, t])
        balance[:, t] = opening
    return interest, service, balance


def _net_by_year(lines: Sequence[tuple[Sequence[np.ndarray], np.ndarray]]) -> np.ndarray:
    """``(n, H)`` net flows from ``(amounts, pattern by year)`` pairs, year by year: each
    year's column the sum, in order, of each amount times the year's pattern (the same
    sums as adding the lines' outer products, without holding them)."""
    years, n = len(lines[0][1]), len(lines[0][0][0])
    net = np.zeros((years, n))
    for t in range(years):
        column = net[t]
        for amounts, pattern in lines:
            for amount in amounts:
                column += amount * pattern[t]
    return np.ascontiguousarray(net.T)


def _has_irr(net: np.ndarray) -> np.ndarray:
    """IRR is given for projects that at least recover their money (IRR ≥ 0)."""
    return (net < 0).any(axis=1) & (net > 0).any(axis=1) & (net.sum(axis=1) >= 0)


def npv_of(net: np.ndarray, rate: float) -> np.ndarray:
    """NPV of each row of yearly flows, year 0 undiscounted (as ``numpy_financial.npv``).

    Parameters
    ----------
    net
        ``(n, H)`` flows, yuan.
    rate
        Discount rate per year.

    Returns
    -------
    ndarray
        ``(n,)`` yuan: each year's flow discounted by ``(1 + rate) ** year``.
    """
    factors = (1.0 + rate) ** -np.arange(net.shape[1], dtype=float)
    return net @ factors


def annuity(principal: np.ndarray, *, rate: float, years: int) -> np.ndarray:
    """Level yearly payment that repays ``principal`` with interest in ``years`` (as
    ``numpy_financial.pmt``, paid at the end of each year, the sign positive).

    Parameters
    ----------
    principal
        Debts, yuan.
    rate
        Interest rate per year.
    years
        Years of repayment (at least 1).

    Returns
    -------
    ndarray
        Payment per year, yuan.
    """
    principal = np.asarray(principal, dtype=float)
    gained = np.expm1(years * np.log1p(rate))  # (1 + rate) ** years - 1, exact for small rates
    if gained == 0:
        return principal / years
    return principal * rate * (gained + 1.0) / gained


def cash_flows(
    projects: pd.DataFrame,
    *,
    finance: FinanceDefaults,
    scale: Mapping[str, float] | None = None,
    npv_only: bool = False,
) -> CashFlows:
    """Cash flows, financing and the bond test of every project (see the module text).

    Parameters
    ----------
    projects
        One row per project with the :data:`COMPONENTS` columns (yuan; missing = 0).
    finance
        Figures (``[cashflow]``, ``[operating]``, ``[bond]``, ``[loan]``).
    scale
        Factors for sensitivity: ``land`` (land revenue and transfers), ``cost``
        (building work and facility building), ``uptake`` (facility income).
    npv_only
        Compute only the ``net`` line and ``npv_yuan`` (for sensitivity runs; the same
        figures as the whole computation, bit for bit).

    Returns
    -------
    CashFlows
        Lines by year and the summary, indexed like ``projects``.
    """
    tm = timing(finance)
    k = {"land": 1.0, "cost": 1.0, "uptake": 1.0, **(scale or {})}
    n, years = len(projects), tm.years
    get = {
        c: pd.to_numeric(projects[c], errors="coerce").fillna(0.0).to_numpy(float)
        if c in projects
        else np.zeros(n)
        for c in COMPONENTS
    }
    t = np.arange(years)
    building = (t < tm.construction_years) / tm.construction_years
    at_sale = (t == tm.land_sale_year).astype(float)
    running = (t >= tm.opens_after_years).astype(float)
    cost = get["cost_yuan"] * k["cost"]
    fbuild = get["facility_build_yuan"] * k["cost"]
    income = get["facility_capacity_income_yuan_per_year"] * tm.uptake * k["uptake"]
    if npv_only:  # a sensitivity run: the net flows year by year, no line kept
        net = _net_by_year(
            [
                ((-cost, -fbuild, get["grants_yuan"], get["sources_yuan"]), building),
                ((get["land_yuan"] * k["land"], get["transfer_yuan"] * k["land"]), at_sale),
                ((income, -get["facility_cost_yuan_per_year"]), running),
            ]
        )
        frame = pd.DataFrame({"npv_yuan": npv_of(net, tm.discount_rate)}, index=projects.index)
        return CashFlows(tm.start_year + t, {"net": net}, frame)
    lines = {
        "construction": -np.outer(cost, building),
        "facility_build": -np.outer(fbuild, building),
        "grants": np.outer(get["grants_yuan"], building),
        "sources": np.outer(get["sources_yuan"], building),
        "land": np.outer(get["land_yuan"] * k["land"], at_sale),
        "transfer": np.outer(get["transfer_yuan"] * k["land"], at_sale),
        "facility_income": np.outer(income, running),
        "facility_cost": -np.outer(get["facility_cost_yuan_per_year"], running),
    }
    net = np.zeros((n, years))
    for line in lines.values():
        net += line
    npv = npv_of(net, tm.discount_rate)
    debt = np.maximum(cost + fbuild - get["grants_yuan"] - get["sources_yuan"], 0.0)
    earning = lines["land"] + lines["transfer"] + lines["facility_income"] + lines["facility_cost"]
    b_interest, b_service, b_balance = _schedule(debt, tm.bond, years)
    within = t <= tm.bond.term_years
    b_total = b_service.sum(axis=1)
    coverage = np.full(n, np.nan)
    np.divide(earning[:, within].sum(axis=1), b_total, out=coverage, where=b_total > 0)
    eligible = (debt > 0) & (coverage >= tm.min_coverage)
    financing = np.where(debt <= 0, "none", np.where(eligible, "bond", "loan"))
    l_interest, l_service, l_balance = _schedule(debt, tm.loan, years)
    pick = eligible[:, None]
    interest = np.where(pick, b_interest, l_interest)
    service = np.where(pick, b_service, l_service)
    lines["net"] = net
    lines["debt_service"] = service
    lines["interest"] = interest
    lines["principal"] = service - interest
    lines["debt_balance"] = np.where(pick, b_balance, l_balance)
    irr = np.full(n, np.nan)
    has = np.flatnonzero(_has_irr(net))
    if len(has):  # many projects share their flows (a bundle of one compound): once each
        unique, back = np.unique(net[has], axis=0, return_inverse=True)
        found = [pyxirr.irr(row) for row in unique]
        irr[has] = np.array([np.nan if v is None else v for v in found], float)[back.ravel()]
    cum = np.cumsum(net, axis=1) >= -PAYBACK_TOLERANCE_YUAN
    payback = np.where(cum.any(axis=1), tm.start_year + cum.argmax(axis=1), np.nan)
    summary = pd.DataFrame(
        {
            "debt_yuan": debt,
            "bond_coverage": coverage,
            "bond_eligible": eligible,
            "financing": financing,
            "debt_service_yuan": service.sum(axis=1),
            "npv_yuan": npv,
            "irr": irr,
            "payback_year": payback,
        },
        index=projects.index,
    )
    return CashFlows(tm.start_year + t, lines, summary)
