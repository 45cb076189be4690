"""Read the life-circle facility taxonomy (``lifecircle.toml`` or a user's own file)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spatial._errors import InputError, Problem, input_error
from spatial.standards.files import read_toml

__all__ = ["LEVELS", "Category", "dump_categories", "load_categories", "select_categories"]

LEVELS = ("15min", "10min", "5min", "block")


@dataclass(frozen=True)
class Category:
    """One life-circle facility category; ``radius_m`` is a walk-network distance in metres.

    Attributes
    ----------
    id
        Short English id (``kindergarten`` …).
    zh, en
        Chinese and English names.
    level
        Life-circle level: ``5min``, ``10min``, ``15min`` or ``block`` (居住街坊).
    radius_m
        Walking radius, metres.
    radius_source
        Where the radius comes from (standard and clause).
    clause
        The clause of the standard that asks for the facility.
    osm
        OSM tags (``key=value``) of the category.
    amap
        Amap type codes of the category.
    keywords
        Name keywords that identify the category.
    """

    id: str
    zh: str
    en: str
    level: str
    radius_m: float
    radius_source: str
    clause: str
    osm: tuple[str, ...]
    amap: tuple[str, ...]
    keywords: tuple[str, ...]

    @property
    def label(self) -> str:
        """``"幼儿园 Kindergarten"``: the bilingual label used in maps and reports."""
        return f"{self.zh} {self.en}"


def load_categories(path: str | Path | None = None) -> tuple[Category, ...]:
    """Read the taxonomy.

    Parameters
    ----------
    path
        A TOML file like the shipped ``lifecircle.toml`` (the default).

    Returns
    -------
    tuple of Category
        In file order.

    Raises
    ------
    ValueError
        Naming the entry and field when the file is inconsistent.
    """
    data, where = read_toml(path, default="lifecircle.toml")
    out: list[Category] = []
    errors: list[str] = []
    for pos, entry in enumerate(data.get("category", [])):
        name = entry.get("id", f"#{pos + 1}")
        if entry.get("level") not in LEVELS:
            errors.append(f"{where}: category {name}: level must be one of {LEVELS}")
        radius = entry.get("radius_m")
        if not isinstance(radius, (int, float)) or radius <= 0:
            errors.append(f"{where}: category {name}: radius_m must be a positive number")
        missing = [k for k in ("id", "zh", "en") if not entry.get(k)]
        if missing:
            errors.append(f"{where}: category {name}: missing {', '.join(missing)}")
        if errors:
            continue
        out.append(
            Category(
                id=entry["id"],
                zh=entry["zh"],
                en=entry["en"],
                level=entry["level"],
                radius_m=float(radius),
                radius_source=entry.get("radius_source", "default"),
                clause=entry.get("clause", ""),
                osm=tuple(entry.get("osm", ())),
                amap=tuple(entry.get("amap", ())),
                keywords=tuple(entry.get("keywords", ())),
            )
        )
    ids = [c.id for c in out]
    dups = sorted({i for i in ids if ids.count(i) > 1})
    if dups:
        errors.append(f"{where}: duplicate category ids {dups}")
    if errors:
        raise InputError([Problem.error(where, e.removeprefix(f"{where}: ")) for e in errors])
    return tuple(out)


def select_categories(categories: Sequence[Category], ids: Sequence[str]) -> tuple[Category, ...]:
    """Keep only some categories, in the taxonomy's order.

    Parameters
    ----------
    categories
        The taxonomy.
    ids
        Category ids to keep (e.g. ``["kindergarten", "clinic"]``).

    Returns
    -------
    tuple of Category
        The kept categories.

    Raises
    ------
    ValueError
        Naming the unknown ids and listing the known ones.
    """
    known = {c.id for c in categories}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise input_error(
            "--categories",
            f"unknown category id(s): {', '.join(unknown)}",
            hint=f"use ids of the taxonomy: {', '.join(sorted(known))}",
        )
    keep = set(ids)
    return tuple(c for c in categories if c.id in keep)


def dump_categories(categories: tuple[Category, ...] | list[Category]) -> str:
    """Write a taxonomy as TOML text in the form :func:`load_categories` reads.

    Parameters
    ----------
    categories
        The categories of a run (shipped or a user's own).

    Returns
    -------
    str
        A ``lifecircle.toml``-style document: one ``[[category]]`` table per category.
    """
    out = [
        "# The life-circle categories this run used (spatial/standards/lifecircle.toml form).",
        "",
    ]
    for cat in categories:
        out.append("[[category]]")
        for key in ("id", "zh", "en", "level", "radius_m", "radius_source", "clause"):
            value = getattr(cat, key)
            out.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        for key in ("osm", "amap", "keywords"):
            out.append(f"{key} = {json.dumps(list(getattr(cat, key)), ensure_ascii=False)}")
        out.append("")
    return "\n".join(out)
