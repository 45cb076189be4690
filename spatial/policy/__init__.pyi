"""The package's names, each loaded when first used (lazy_loader reads this stub)."""

from .annual import (
    annual_plan,
    rollup,
)
from .inventory import (
    inventory,
)
from .profiles import (
    PROFILES,
    PolicyProfile,
    eligibility,
    load_profile,
    needs,
    profile_finance,
    rank,
)
from .siting import (
    SITE_KINDS,
    MaximalCovering,
    maximal_covering,
    site_facilities,
)
from .workbook import (
    HEADERS_ZH,
    plan_sheets,
)

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
