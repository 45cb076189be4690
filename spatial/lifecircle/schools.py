"""School levels from OSM tags and Chinese names (rules in ``standards/schools.toml``).

``amenity=school`` says nothing of the level: 清华附小 is a primary school, 十一学校 is
not said to be anything. Tags (``isced:level``, ``school:level``, ``school``, ``grades``)
win over names (小学, 附小, 中学, 附中, 九年一贯制 …); a school with neither is of
unknown level.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from spatial.standards.files import read_toml

__all__ = ["is_school", "level_categories", "named_category", "school_levels"]

_NUMBERS = re.compile(r"\d+")
_SEP = re.compile(r"[;,，；、\s]+")
_BRACKETS = re.compile(r"\(.*?\)|（.*?）|\[.*?\]|【.*?】")


@cache
def _rules() -> dict[str, Any]:
    data, _ = read_toml(None, default="schools.toml")
    data["_names"] = [(re.compile(n["pattern"]), tuple(n["levels"])) for n in data["names"]]
    return data


def is_school(tags: Mapping[str, str], typecode: str | None = None) -> bool:
    """Whether a POI is a school whose level must be read (``amenity=school``, or Amap's
    generic 学校 code 141200).

    Parameters
    ----------
    tags
        OSM tags.
    typecode
        Amap type code(s), ``;``-joined.

    Returns
    -------
    bool
    """
    codes = _SEP.split(typecode) if isinstance(typecode, str) else []
    return tags.get("amenity") == "school" or "141200" in codes


def _grade_levels(text: str) -> set[str]:
    grades: set[int] = set()
    for part in _SEP.split(text):
        numbers = [int(n) for n in _NUMBERS.findall(part)]
        if len(numbers) == 2 and "-" in part:
            grades.update(range(numbers[0], numbers[1] + 1))
        else:
            grades.update(numbers)
    spans = _rules()["grades"]
    return {level for level, (lo, hi) in spans.items() if grades & set(range(lo, hi + 1))}


def school_levels(tags: Mapping[str, str], name: str | None = None) -> frozenset[str] | None:
    """The levels a school teaches: ``primary``, ``junior``, ``senior``; None if unknown.

    Parameters
    ----------
    tags
        OSM tags (``isced:level``, ``school:level``, ``school``, ``grades``).
    name
        The school's name (小学, 附小, 九年一贯制 …).

    Returns
    -------
    frozenset of str or None
        Tags first, then the name; None when neither says.
    """
    rules = _rules()
    levels: set[str] = set()
    for value in _SEP.split(str(tags.get("isced:level", ""))):
        for part in value.split("-") if "-" in value else [value]:
            levels.update(rules["isced"].get(part.strip(), ()))
    for key in ("school:level", "school"):
        for value in _SEP.split(str(tags.get(key, ""))):
            levels.update(rules["school_tag"].get(value.strip().lower(), ()))
    if "grades" in tags:
        levels |= _grade_levels(str(tags["grades"]))
    if levels:
        return frozenset(levels)
    if isinstance(name, str):
        for pattern, named in rules["_names"]:
            if pattern.search(name):
                return frozenset(named)
    return None


def level_categories() -> dict[str, str]:
    """``{level: category id}`` of the levels that are life-circle categories.

    Returns
    -------
    dict
        e.g. ``{"primary": "primary_school", "junior": "junior_school"}``.
    """
    return dict(_rules()["categories"])


def named_category(name: object) -> str | None:
    """The category a facility's name settles (``…幼儿园`` → ``kindergarten``), or None.

    Parameters
    ----------
    name
        The facility's name; text in brackets (a branch) is ignored.

    Returns
    -------
    str or None
        A category id of ``spatial/standards/schools.toml`` ``[name_suffixes]``.
    """
    if not isinstance(name, str):
        return None
    bare = _BRACKETS.sub("", name).strip()
    for suffix, category in _rules().get("name_suffixes", {}).items():
        if bare.endswith(suffix):
            return str(category)
    return None
