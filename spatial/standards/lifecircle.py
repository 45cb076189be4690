"""Read the life-circle facility taxonomy (``lifecircle.toml`` or a user's own file)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["LEVELS", "Category", "load_categories"]

LEVELS = ("15min", "10min", "5min", "block")


@dataclass(frozen=True)
class Category:
    """One life-circle facility category; ``radius_m`` is a walk-network distance in metres."""

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
    """Read the taxonomy; ``path`` defaults to the shipped ``lifecircle.toml``.

    Raises ``ValueError`` naming the entry and field when the file is inconsistent.
    """
    if path is None:
        text = resources.files("spatial.standards").joinpath("lifecircle.toml").read_text("utf-8")
        where = "lifecircle.toml"
    else:
        text = Path(path).read_text(encoding="utf-8")
        where = str(path)
    data = tomllib.loads(text)
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
        raise ValueError("\n".join(errors))
    return tuple(out)
