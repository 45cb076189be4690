"""Stage 5, policy and plans: eligibility, needs, ranking, annual plans, siting, workbook.

- :mod:`spatial.policy.profiles` policy profiles (data), eligibility, needs, ranking
- :mod:`spatial.policy.annual` annual plans within budget and targets, roll-ups
- :mod:`spatial.policy.siting` facility siting: an exact maximal covering model
- :mod:`spatial.policy.inventory` the inventory per subdistrict
- :mod:`spatial.policy.workbook` the plan workbook's sheets and Chinese headers
"""

from spatial.policy.annual import annual_plan, rollup
from spatial.policy.inventory import inventory
from spatial.policy.profiles import (
    PROFILES,
    PolicyProfile,
    eligibility,
    load_profile,
    needs,
    profile_finance,
    rank,
)
from spatial.policy.siting import SITE_KINDS, MaximalCovering, maximal_covering, site_facilities
from spatial.policy.workbook import HEADERS_ZH, plan_sheets

__all__ = [
    "HEADERS_ZH",
    "PROFILES",
    "SITE_KINDS",
    "MaximalCovering",
    "PolicyProfile",
    "annual_plan",
    "eligibility",
    "inventory",
    "load_profile",
    "maximal_covering",
    "needs",
    "plan_sheets",
    "profile_finance",
    "rank",
    "rollup",
    "site_facilities",
]
