"""Standards, policy profiles and finance defaults as data files, with their sources."""

from spatial.standards.lifecircle import Category, load_categories

__all__ = ["Category", "load_categories"]
