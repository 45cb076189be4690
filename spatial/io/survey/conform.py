"""Typing a table against its column contract (:func:`conform`).

Every column of a survey table is parsed cell by cell so that each bad cell is reported
with its row; a column repeats its values (years, counts, 是/否), so each distinct value
is parsed once, and a clean numeric column of a number field is typed in one step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
import pandas as pd

from spatial._errors import Problem
from spatial.io.survey.schema import CONTRACTS, PARCEL_KINDS, Field, map_columns
from spatial.io.survey.values import (
    clean_text,
    is_approximate,
    is_missing,
    normalize_header,
    parse_bool,
    parse_number,
    parse_share,
    parse_year,
)

__all__ = ["conform"]


def _kind_index() -> dict[str, str]:
    index = {}
    for kind, (zh, en, aliases) in PARCEL_KINDS.items():
        for alias in (kind, zh, en, *aliases):
            index[normalize_header(alias)] = kind
    return index


def _parse_kind(value: Any) -> tuple[str | None, str | None]:
    if is_missing(value):
        return None, "parcel kind is empty"
    kind = _kind_index().get(normalize_header(value))
    if kind is None:
        return None, f"'{value}' is not a known parcel kind"
    return kind, None


_KIND_HINT = "use one of: " + ", ".join(f"{zh}/{k}" for k, (zh, _, _) in PARCEL_KINDS.items())


def _parse_value(raw: Any, field: Field) -> tuple[Any, bool, str | None, str, bool]:
    """One cell: value, approximate-year flag, error, hint, approximate number."""
    err: str | None = None
    val: Any = None
    hint = ""
    flag = approx = False
    if field.dtype == "year":
        val, flag, err = parse_year(raw, future_ok=field.future_ok)
        hint = "write a 4-digit year such as 1988, 1988年 or 1980年代"
    elif field.dtype in ("int", "float"):
        val, err = parse_number(raw)
        hint = f"write a plain number in {field.zh}/{field.name}"
        approx = val is not None and is_approximate(raw)
        if val is not None and field.minimum is not None and val < field.minimum:
            val, err = None, f"{raw!r} is negative"
        elif val is not None and field.dtype == "int":
            if abs(val) >= 2**53:
                val, err = None, f"'{raw}' is too large for {field.zh}"
            elif not float(val).is_integer():
                val, err = None, f"'{raw}' is not a whole number"
            else:
                val = int(val)
    elif field.dtype == "bool":
        val, err = parse_bool(raw)
        hint = "write 是 or 否 (yes/no)"
    elif field.dtype == "share":
        val, err = parse_share(raw)
        hint = "write a share such as 0.8 or 80%"
    elif field.dtype == "kind":
        val, err = _parse_kind(raw)
        hint = _KIND_HINT
    elif field.name == "name":  # a name is kept as written (（农大宿舍）, ２７号院)
        val = None if is_missing(raw) else str(raw).strip()
    else:
        val = None if is_missing(raw) else clean_text(raw)
    return val, flag, err, hint, approx


def _numbers_as_they_are(series: pd.Series, field: Field) -> pd.Series | None:
    """A numeric column of a number field with nothing to report, typed at once; None
    otherwise (then every cell is parsed and each problem reported)."""
    if field.dtype not in ("int", "float") or series.dtype.kind not in "iuf":
        return None
    arr = series.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(arr).any():
        return None
    given = np.isfinite(arr)
    if field.minimum is not None and (arr[given] < field.minimum).any():
        return None
    if field.dtype == "int" and (
        (np.abs(arr[given]) >= 2**53).any() or (arr[given] != np.round(arr[given])).any()
    ):
        return None
    out = pd.Series(arr, index=series.index, dtype="Float64")  # NaN is missing
    return cast("pd.Series | None", out.astype("Int64") if field.dtype == "int" else out)


def _parse_column(
    series: pd.Series, field: Field, header: str, source: str, row_label: Callable[[int], Any]
) -> tuple[pd.Series, pd.Series | None, list[Problem]]:
    fast = _numbers_as_they_are(series, field)
    if fast is not None:
        return fast, None, []
    problems: list[Problem] = []
    values: list[Any] = []
    approx: list[bool] = []
    seen: dict[tuple[type, Any], tuple[Any, bool, str | None, str, bool]] = {}
    for pos, raw in enumerate(series.tolist()):
        key = (type(raw), raw)
        try:  # a column repeats its values (years, counts, 是/否): each is parsed once
            parsed = seen.get(key)
            hashable = True
        except TypeError:  # an unhashable cell
            parsed, hashable = None, False
        if parsed is None:
            parsed = _parse_value(raw, field)
            if hashable:
                seen[key] = parsed
        val, flag, err, hint, rough = parsed
        if rough:
            problems.append(
                Problem.warning(
                    source,
                    f"'{raw}' is approximate: read as {val:g}",
                    row=row_label(pos),
                    column=header,
                    hint="write the surveyed number where it is known",
                )
            )
        if err:
            problems.append(
                Problem.error(source, err, row=row_label(pos), column=header, hint=hint)
            )
        values.append(val)
        approx.append(flag)
    dtype = {
        "int": "Int64",
        "year": "Int64",
        "float": "Float64",
        "share": "Float64",
        "bool": "boolean",
    }.get(field.dtype, "object")
    out = pd.Series(values, index=series.index, dtype=dtype)
    flags = pd.Series(approx, index=series.index) if field.dtype == "year" else None
    return out, flags, problems


def conform(
    frame: pd.DataFrame,
    layer: str,
    *,
    source: str = "<data>",
    row_label: Callable[[int], Any] | None = None,
    id_prefix: str | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Rename columns to the canonical contract of ``layer`` and parse their values.

    Parameters
    ----------
    frame
        The table as read (any headers; a ``geometry`` column is passed through).
    layer
        ``"compounds"``, ``"pois"`` or ``"parcels"``.
    source
        File name used in problem messages.
    row_label
        Maps a 0-based record position to the row reported to the user (default:
        spreadsheet row ``pos + 2``).
    id_prefix
        Prefix of generated ids for records without one (default: first letter of
        the layer, upper case).

    Returns
    -------
    frame, problems
        A new frame (same index) with canonical columns parsed to typed columns,
        unmatched columns kept unchanged, ``id`` and ``name`` always present; and
        every problem found (errors and warnings).
    """
    label = row_label or (lambda pos: pos + 2)
    mapping, problems = map_columns(list(frame.columns), layer, source=source)
    out = frame.copy()
    fields = {f.name: f for f in CONTRACTS[layer]}
    for header, canonical in mapping.items():
        parsed, flags, found = _parse_column(
            frame[header], fields[canonical], str(header), source, label
        )
        problems += found
        out = out.drop(columns=[header])
        out[canonical] = parsed
        if flags is not None and flags.any():
            out[f"{canonical}_approx"] = flags
    prefix = id_prefix or layer[0].upper()
    generated = pd.Series([f"{prefix}{i + 1:05d}" for i in range(len(out))], index=out.index)
    if "id" not in out:
        out["id"] = generated
    else:
        missing = out["id"].isna()
        out["id"] = out["id"].where(~missing, generated).astype(str)
        dup = out["id"].duplicated(keep=False)
        id_header = next(h for h, c in mapping.items() if c == "id")
        positions = pd.Series(np.flatnonzero(dup.to_numpy()), index=out["id"][dup].to_numpy())
        for value, group in positions.groupby(level=0, sort=False):
            rows = [label(int(pos)) for pos in group]
            for row in rows:
                others = ", ".join(str(r) for r in rows if r != row)
                problems.append(
                    Problem.error(
                        source,
                        f"id '{value}' is also used at row(s) {others}",
                        row=row,
                        column=str(id_header),
                        hint="give every record its own id",
                    )
                )
    if "name" not in out:
        out["name"] = pd.Series([None] * len(out), index=out.index, dtype="object")
    if layer == "parcels" and "kind" not in out:
        problems.append(
            Problem.error(
                source,
                "no parcel kind column (地块类型/kind)",
                hint="add a column 地块类型 with values such as 棚户区, 城中村, 旧厂区",
            )
        )
    first = ["id", "name", *[f for f in fields if f in out and f not in ("id", "name")]]
    rest = [c for c in out.columns if c not in first]
    return out[first + rest], problems
