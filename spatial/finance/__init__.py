"""Stage 5, finance: the four ways renovation is paid for, with cash flows and bonds.

- :mod:`spatial.finance.operating` 小区内自求平衡: operating facilities per compound
- :mod:`spatial.finance.sources` 政府引导的多元化投入: funding lines per compound
- :mod:`spatial.finance.cashflow` yearly flows, NPV, IRR, payback, debt and the bond test
- :mod:`spatial.finance.projects` compounds, bundles (大片区) and cross-area combinations
  (跨片区) of a bundling run as projects
- :mod:`spatial.finance.sensitivity` land value, cost and uptake ±10/20 %; tornado charts
- :mod:`spatial.finance.workbook` ``finance.xlsx`` with live formulas
- :mod:`spatial.finance.outputs` the finance files of a bundles folder; map columns
"""

from spatial.finance.cashflow import COMPONENTS, CashFlows, Terms, Timing, cash_flows, timing
from spatial.finance.operating import FACILITIES, operating_facilities, within_compound
from spatial.finance.outputs import (
    FUNDING_LINES,
    facilities_table,
    sensitivity_table,
    with_finance_columns,
    write_finance_outputs,
)
from spatial.finance.projects import FinanceReport, bundle_finance_columns, finance_report
from spatial.finance.sensitivity import sensitivity, tornado_chart, tornado_html
from spatial.finance.sources import SOURCE_COLUMNS, SOURCE_LABELS, funding_sources
from spatial.finance.workbook import write_finance_workbook

__all__ = [
    "COMPONENTS",
    "FACILITIES",
    "FUNDING_LINES",
    "SOURCE_COLUMNS",
    "SOURCE_LABELS",
    "CashFlows",
    "FinanceReport",
    "Terms",
    "Timing",
    "bundle_finance_columns",
    "cash_flows",
    "facilities_table",
    "finance_report",
    "funding_sources",
    "operating_facilities",
    "sensitivity",
    "sensitivity_table",
    "timing",
    "tornado_chart",
    "tornado_html",
    "with_finance_columns",
    "within_compound",
    "write_finance_outputs",
    "write_finance_workbook",
]
