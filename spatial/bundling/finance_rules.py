"""What a finance figures file must hold: every figure of the shipped ``finance.toml``,
each a number within its bounds. All problems are found at once, each naming the key
and its line, so a user's copy can be fixed in one go."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import cache
from typing import Any

from spatial._errors import Problem
from spatial.standards.files import key_line, read_toml, table_line

__all__ = ["finance_problems"]


def _bounds(name: str) -> tuple[float, float, bool, str]:
    """(low, high, integer, example) a figure must meet, by its key."""
    key = name.split(".")[-1]
    if key == "rate" or key.endswith("_rate"):
        return 0.0, 1.0, False, "a share per year, e.g. 0.035 for 3.5 %"
    if key == "term_years":
        return 1.0, 100.0, True, "whole years, at least 1"
    if key in ("construction_years", "horizon_years"):
        return 1.0, 100.0, True, "whole years, at least 1"
    if key in ("households_per_unit", "households_per_building", "m2_per_space"):
        return 1e-9, float("inf"), False, "a number above 0"
    if key == "start_year":
        return 1900.0, 2200.0, True, "a calendar year such as 2026"
    if "yuan" not in key and (key.endswith("_years") or key.endswith("_year")):
        return 0.0, 100.0, True, "whole years, 0 or more"
    if key.endswith("_share") or key in ("uptake", "building_coverage"):
        return 0.0, 1.0, False, "a share from 0 to 1"
    if key == "min_coverage":
        return 1e-9, 100.0, False, "a ratio above 0, e.g. 1.2"
    return 0.0, float("inf"), False, "a number of 0 or more"


@cache
def _shipped() -> dict[str, Any]:
    return read_toml(None, default="finance.toml")[0]


def _did_you_mean(name: str, known: Iterable[str], what: str, shown: str = "'{}'") -> str:
    """The hint for an unknown table or figure: the nearest known one, or all of them."""
    names = list(known)
    near = difflib.get_close_matches(name, names, n=1)
    return f"did you mean {shown.format(near[0])}?" if near else f"{what}: {', '.join(names)}"


def finance_problems(data: dict[str, Any], text: str, where: str) -> list[Problem]:
    """Every problem of a finance figures file, each with its key and line.

    Parameters
    ----------
    data
        The parsed file.
    text
        Its text (for line numbers).
    where
        Its name in messages.

    Returns
    -------
    list of Problem
        Errors: unknown tables or keys (with the nearest known one), figures that are
        not ``{ value = number }``, out of bounds (negative money, a rate below 0, a
        term of 0, a share above 1, a grace period as long as the term) or missing.
    """
    shipped = _shipped()
    found: list[Problem] = []

    def add(section: str, key: str | None, message: str, hint: str, *, missing: str = "") -> None:
        head = table_line(text, section)
        line = (key_line(text, key, start=head) if key and head else 0) or head
        column = f"{section}.{key or missing}" if key or missing else f"[{section}]"
        row = f"line {line}" if line else None
        found.append(Problem.error(where, message, row=row, column=column, hint=hint))

    for section, entries in data.items():
        if section not in shipped:
            hint = _did_you_mean(section, shipped, "tables", "[{}]")
            add(section, None, f"unknown table [{section}]", hint)
            continue
        if not isinstance(entries, dict):
            add(section, None, f"[{section}] must be a table of figures", "see finance.toml")
            continue
        known = shipped[section]
        for key, spec in entries.items():
            if key not in known:
                hint = _did_you_mean(key, known, "figures")
                add(section, key, f"unknown figure {section}.{key}", hint)
                continue
            value = spec.get("value") if isinstance(spec, dict) else None
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                add(
                    section,
                    key,
                    f"{section}.{key} needs a number",
                    f'write {key} = {{ value = 1.0, source = "…" }}',
                )
                continue
            low, high, whole, example = _bounds(f"{section}.{key}")
            if not low <= value <= high or (whole and value != int(value)):
                message = f"{section}.{key} = {value:g} is out of bounds"
                add(section, key, message, f"write {example}")
        for key in known:
            if key not in entries:
                add(
                    section,
                    None,
                    f"figure {section}.{key} is missing",
                    "every figure of the shipped finance.toml is needed: copy it and edit it",
                    missing=key,
                )
    for section in shipped:
        if section not in data:
            add(
                section,
                None,
                f"table [{section}] is missing",
                "every table of the shipped finance.toml is needed: copy it and edit it",
            )
    for kind in ("bond", "loan"):
        term = data.get(kind, {}).get("term_years", {})
        grace = data.get(kind, {}).get("grace_years", {})
        t, g = (s.get("value") if isinstance(s, dict) else None for s in (term, grace))
        if isinstance(t, (int, float)) and isinstance(g, (int, float)) and g >= t >= 1:
            add(
                kind,
                "grace_years",
                f"{kind}.grace_years = {g:g} leaves no year to repay a term of {t:g}",
                "grace must be shorter than the term",
            )
    return found
