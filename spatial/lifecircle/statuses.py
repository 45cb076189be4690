"""The statuses of a compound × category row (:data:`STATUSES`) and the long gap table as
a compound × category table (:func:`gap_matrix`): what maps and reports read, without
the engine (:mod:`spatial.lifecircle.gaps` computes them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["STATUSES", "gap_matrix"]

#: ``(id, 中文, English)`` of every status a compound × category row can have.
STATUSES: tuple[tuple[str, str, str], ...] = (
    ("covered", "覆盖", "within the radius"),
    ("too_far", "超出半径", "nearest beyond the radius"),
    ("beyond_limit", "超出搜索范围", "none within the search limit"),
    ("unreachable", "不连通", "none on the compound's network piece"),
    ("off_network", "小区不在路网上", "compound off the walk network"),
    ("no_data", "无该类设施数据", "no facility of the category in the inputs"),
)


def gap_matrix(
    gaps: pd.DataFrame,
    column: str,
    *,
    compound_ids: Sequence[object],
    categories: Sequence[str],
    fill: object = np.nan,
) -> pd.DataFrame:
    """One column of the long gap table as a compound × category table.

    The same as ``gaps.pivot(index="compound_id", columns="category", values=column)``
    reindexed to ``compound_ids`` and ``categories``, in one indexed assignment rather
    than pandas' reshaping (a city's table has millions of rows).

    Parameters
    ----------
    gaps
        The long table (``compound_id``, ``category`` and ``column``).
    column
        Which values, e.g. ``distance_m`` (metres) or ``status``.
    compound_ids
        Row order (ids may repeat; ids compare as text).
    categories
        Column order (category ids).
    fill
        Value where the table has no row for a compound and category.

    Returns
    -------
    DataFrame
        Indexed by ``compound_ids``, one column per category.
    """
    ids = pd.Index([str(v) for v in compound_ids], dtype=object)
    unique = ids.unique()
    # the long columns are factorised (hashing, fast on Arrow text), then their few
    # distinct values looked up
    codes, values_of = pd.factorize(gaps["compound_id"].astype(str))
    row = unique.get_indexer(pd.Index(np.asarray(values_of, dtype=object)))[codes]
    row[codes < 0] = -1
    cat_codes, cats_of = pd.factorize(gaps["category"].astype(str))
    col = pd.Index(list(categories)).get_indexer(pd.Index(np.asarray(cats_of, dtype=object)))
    col = col[cat_codes]
    col[cat_codes < 0] = -1
    ok = (row >= 0) & (col >= 0)
    values = gaps[column].to_numpy()
    numeric = values.dtype.kind in "biuf" and isinstance(fill, int | float)
    dtype = np.result_type(values.dtype, type(fill)) if numeric else object
    table: np.ndarray = np.full((len(unique), len(categories)), fill, dtype=dtype)
    table[row[ok], col[ok]] = values[ok]
    out: pd.DataFrame = pd.DataFrame(
        table[unique.get_indexer(ids)], index=ids, columns=list(categories)
    )
    return out
