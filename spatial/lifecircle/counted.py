"""How many categories a compound's gaps are counted out of: those the run had data for.

A run with bus stops and rail stations only cannot say whether a compound lacks a
kindergarten; dividing its missing categories by all 26 makes every gap look small. The
maps' colours and the plan's 配套欠账 factor divide by :func:`counted_categories`.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["counted_categories"]


def counted_categories(compounds: pd.DataFrame, n_categories: int) -> int:
    """How many categories a compound's ``n_missing`` is counted out of.

    Parameters
    ----------
    compounds
        The gaps run's compounds (``n_missing``, ``no_data``: the categories without
        any facility in the inputs, joined by ``;``).
    n_categories
        The categories of the run.

    Returns
    -------
    int
        The categories with data, or all of them when the run counted the others too
        (``count_no_data``); at least 1.
    """
    no_data: set[str] = set()
    if "no_data" in compounds and len(compounds):
        for text in compounds["no_data"].dropna().astype(str).unique():
            no_data |= {c for c in text.split(";") if c}
    counted = n_categories - len(no_data)
    most = 0.0
    if "n_missing" in compounds and len(compounds):
        most = float(pd.to_numeric(compounds["n_missing"], errors="coerce").max())
    if pd.notna(most) and most > counted:
        counted = n_categories
    return max(int(counted), 1)
