"""Standards, policy profiles and finance defaults as data files, with their sources.

``lifecircle.toml`` (facility categories), ``finance.toml`` (unit costs, subsidies, land
values), ``bundling.toml`` (bundle limits); read by :mod:`spatial.standards.lifecircle`,
:mod:`spatial.finance` and :mod:`spatial.bundling`.
"""

from spatial.standards.lifecircle import Category, load_categories

__all__ = ["Category", "load_categories"]
