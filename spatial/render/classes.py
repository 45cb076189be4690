"""How gap maps colour a compound: the share of the run's categories *with data* it misses.

Counting missing categories out of all 26 makes every compound look fine when a run has
data for two (bus stops and rail stations only): one missing is then half of what can be
known. The fill is a sequential, colour-blind-safe scale (ColorBrewer OrRd, 4 classes)
over that share; "none missing" is a neutral grey, never a green that reads as "good".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["SHARE_CLASSES", "missing_colours", "missing_legend"]

#: (upper share of the categories with data that are missing, colour); share 0 first.
SHARE_CLASSES: tuple[tuple[float, str], ...] = (
    (0.0, "#f0f0f0"),
    (0.25, "#fdcc8a"),
    (0.5, "#fc8d59"),
    (0.75, "#e34a33"),
    (1.0, "#b30000"),
)


def missing_colours(n_missing: Sequence[float] | pd.Series, counted: int) -> list[str]:
    """The fill of each compound.

    Parameters
    ----------
    n_missing
        Missing categories per compound (NaN: none).
    counted
        See :func:`spatial.lifecircle.counted.counted_categories`.

    Returns
    -------
    list of str
        CSS colours of :data:`SHARE_CLASSES`.
    """
    share = np.nan_to_num(np.asarray(n_missing, dtype=float)) / max(counted, 1)
    bounds = np.array([b for b, _ in SHARE_CLASSES])
    at = np.searchsorted(bounds, np.clip(share, 0, 1) - 1e-9, side="left")
    colours = [c for _, c in SHARE_CLASSES]
    return [colours[min(i, len(colours) - 1)] for i in at]


def missing_legend(counted: int) -> list[tuple[str, str]]:
    """The legend's classes for a run: only those a count can fall in, in counts.

    Parameters
    ----------
    counted
        See :func:`spatial.lifecircle.counted.counted_categories`.

    Returns
    -------
    list of (colour, label)
        ``无缺口 none missing`` first, then e.g. ``缺 1 类 missing 1 of 2``.
    """
    out = [(SHARE_CLASSES[0][1], f"无缺口 none missing (of {counted} 类有数据 with data)")]
    low = 0.0
    for high, colour in SHARE_CLASSES[1:]:
        first = int(np.floor(low * counted + 1e-9)) + 1
        last = int(np.floor(high * counted + 1e-9))
        low = high
        if last < first:
            continue
        span = f"{first}" if first == last else f"{first}–{last}"
        out.append((colour, f"缺 {span} 类 missing {span} of {counted}"))
    return out
