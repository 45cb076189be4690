"""Cell values as surveys write them: headers with units and full-width characters,
years such as "1990年代", numbers such as "1,200户" or "3.5万", yes/no as 是/否, shares.

Every parser returns the value and an error message (or None) instead of raising, so
that :func:`spatial.io.survey.conform.conform` can report every bad cell at once.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from collections.abc import Hashable
from typing import Any

import pandas as pd

from spatial.settings import DEFAULTS

__all__ = [
    "clean_text",
    "is_approximate",
    "is_missing",
    "normalize_header",
    "parse_bool",
    "parse_number",
    "parse_share",
    "parse_year",
]

_UNIT_RE = re.compile(
    r"(户|栋|幢|层|个|套|人|元|万元|m2|m²|㎡|平方米|平米|平方|亩|%|年)$", flags=re.IGNORECASE
)
_APPROX_PREFIX_RE = re.compile(r"^(约|大约|近|逾|~|～|≈)")
_APPROX_SUFFIX_RE = re.compile(r"(余|多|左右|以上|上下|\+)$")
_BRACKETS_RE = re.compile(r"\(.*?\)|\[.*?\]|（.*?）")
_TRUE = {"是", "有", "已", "已加装", "已安装", "yes", "y", "true", "t", "1", "√", "✓", "有电梯"}
_FALSE = {"否", "无", "没有", "未", "未加装", "no", "n", "false", "f", "0", "×", "✗", "无电梯"}
_CN_DECADES = {"五十": 1950, "六十": 1960, "七十": 1970, "八十": 1980, "九十": 1990}


def normalize_header(header: Hashable) -> str:
    """Normalise a column header for alias matching.

    Full-width characters become half-width (NFKC), units in brackets are dropped
    (``建筑面积(㎡)`` → ``建筑面积``), case is folded and spaces/hyphens become ``_``.

    Parameters
    ----------
    header
        A header as read.

    Returns
    -------
    str
        The normalised header.
    """
    text = unicodedata.normalize("NFKC", str(header)).strip()
    text = _BRACKETS_RE.sub("", text).strip().lower()
    return re.sub(r"[\s\-]+", "_", text).strip("_")


def is_missing(value: Any) -> bool:
    """Whether a cell is empty.

    Parameters
    ----------
    value
        A cell.

    Returns
    -------
    bool
        True for None, NA, NaN, and blank or placeholder text (``-``, ``—``, ``/``, ``null``).
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in ("", "-", "—", "/", "nan", "NaN", "null")


def clean_text(value: Any) -> str:
    """A cell as text: NFKC-normalised (full-width to half-width), trimmed.

    Parameters
    ----------
    value
        A cell.

    Returns
    -------
    str
        The cleaned text.
    """
    return unicodedata.normalize("NFKC", str(value)).strip()


def parse_year(
    value: Any, *, today: _dt.date | None = None, future_ok: bool = False
) -> tuple[int | None, bool, str | None]:
    """Parse a build year.

    Accepts ``1990``, ``1990.0``, ``"1985年"``, ``"1990年代"``/``"1990s"``/``"90年代"``/
    ``"九十年代"`` (a decade: its first year, flagged approximate), dates such as
    ``"2003-05"`` or ``"2003年5月"`` and datetime values.

    Parameters
    ----------
    value
        A cell.
    today
        Date against which future years are judged (default: today).
    future_ok
        Accept years after ``today`` (planned dates).

    Returns
    -------
    year, approximate, error
        ``error`` is a message when the value is not a plausible year; ``year`` is
        ``None`` then or when the value is missing.
    """
    today = today or _dt.date.today()
    if is_missing(value):
        return None, False, None
    year: int | None = None
    approx = False
    if isinstance(value, (_dt.date, pd.Timestamp)):
        year = value.year
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer():
            year = int(value)
    else:
        text = clean_text(value).lower().replace(" ", "")
        if m := re.fullmatch(r"(\d{4})(年)?", text):
            year = int(m.group(1))
        elif m := re.fullmatch(r"(\d{4})(年代|'?s)", text):
            year, approx = int(m.group(1)), True
        elif m := re.fullmatch(r"(\d{2})(年代|'?s)", text):
            year, approx = 1900 + int(m.group(1)) if int(m.group(1)) >= 20 else 2000, True
        elif m := re.fullmatch(r"(五十|六十|七十|八十|九十)年代", text):
            year, approx = _CN_DECADES[m.group(1)], True
        elif m := re.fullmatch(r"(\d{4})[-/.年](\d{1,2})([-/.月].*)?", text):
            year = int(m.group(1))
    if year is None or (year % 10 != 0 and approx):
        return None, False, f"'{value}' is not a year"
    if year < DEFAULTS.earliest_build_year:
        return None, False, f"year {year} is before {DEFAULTS.earliest_build_year}"
    if year > today.year and not future_ok:
        return None, False, f"year {year} is in the future"
    return year, approx, None


def parse_number(value: Any) -> tuple[float | None, str | None]:
    """Parse a number written as ``1200``, ``"1,200"``, ``"1200户"``, ``"约300"`` or ``"3.5万"``.

    Parameters
    ----------
    value
        A cell.

    Returns
    -------
    value, error
        The number (None when missing or unreadable) and an error message or None.
    """
    if is_missing(value):
        return None, None
    if isinstance(value, bool):
        return None, f"'{value}' is not a number"
    number: float | None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        number, err = _parse_number_text(value)
        if err:
            return None, err
    if number is None or not math.isfinite(number):
        return None, f"'{value}' is not a finite number"
    return number, None


def is_approximate(value: Any) -> bool:
    """Whether a number is written as approximate: ``约300``, ``~300``, ``300余户``, ``300左右``.

    Parameters
    ----------
    value
        A cell.

    Returns
    -------
    bool
    """
    if not isinstance(value, str):
        return False
    text = clean_text(value).replace(" ", "")
    return bool(_APPROX_PREFIX_RE.match(text) or _APPROX_SUFFIX_RE.search(_UNIT_RE.sub("", text)))


def _parse_number_text(value: Any) -> tuple[float | None, str | None]:
    text = clean_text(value).replace(",", "").replace(" ", "")
    text = _APPROX_PREFIX_RE.sub("", text)
    scale = 1.0
    for _ in range(2):  # 300余户, 300户左右: a unit and an approximate word in either order
        text = _APPROX_SUFFIX_RE.sub("", _UNIT_RE.sub("", text))
    if text.endswith("万"):
        scale, text = 10_000.0, text[:-1]
    try:
        return float(text) * scale, None
    except ValueError:
        return None, f"'{value}' is not a number"


def parse_bool(value: Any) -> tuple[bool | None, str | None]:
    """Parse yes/no values: 是/否, 有/无, yes/no, true/false, 1/0, √/×.

    Parameters
    ----------
    value
        A cell.

    Returns
    -------
    value, error
        The flag (None when missing or unreadable) and an error message or None.
    """
    if is_missing(value):
        return None, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value), None
    text = clean_text(value).lower()
    if text in _TRUE:
        return True, None
    if text in _FALSE:
        return False, None
    return None, f"'{value}' is not yes/no (是/否)"


def parse_share(value: Any) -> tuple[float | None, str | None]:
    """Parse a share of households as a fraction 0–1 from ``0.85``, ``85`` or ``"85%"``.

    Parameters
    ----------
    value
        A cell.

    Returns
    -------
    value, error
        The fraction (None when missing or unreadable) and an error message or None.
    """
    number, err = parse_number(value)
    if err or number is None:
        return None, err
    if (isinstance(value, str) and "%" in value) or 1 < number <= 100:
        number = number / 100.0
    if not 0 <= number <= 1:
        return None, f"'{value}' is not a share between 0 and 1 (or 0–100%)"
    return number, None
