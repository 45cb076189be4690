"""Standards, policy profiles and finance defaults as data files, with their sources.

``lifecircle.toml`` (facility categories), ``finance.toml`` (unit costs, subsidies, land
values), ``bundling.toml`` (bundle limits), ``policies/*.toml`` (policy profiles),
``bd09mc.toml`` (Baidu Mercator coefficients); every one is read through
:func:`spatial.standards.files.read_toml`.
"""

from spatial.standards.files import read_toml
from spatial.standards.lifecircle import (
    Category,
    dump_categories,
    load_categories,
    select_categories,
)

__all__ = [
    "Category",
    "dump_categories",
    "load_categories",
    "read_toml",
    "select_categories",
]
