"""The province file: which units (cities, districts, counties) a batch runs, with what.

A province file is TOML: an optional ``[province]`` table of defaults and one
``[[unit]]`` table per unit. Paths are relative to the file. Every problem of the file —
unknown keys, missing files, unknown parents, cycles, bad budgets — is collected with its
line and raised at once, before any unit runs.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from spatial._errors import Problem, raise_for_errors
from spatial.batch.stages import STAGE_TABLES, StageSettings, merge_tables, stage_settings
from spatial.standards.files import key_line, read_toml

__all__ = ["LEVELS", "DemoSpec", "InputFile", "Province", "Unit", "load_province", "unit_slug"]

#: Levels of the roll-up (逐级生成), top first; Chinese names are accepted too.
LEVELS: dict[str, str] = {"province": "省", "city": "市", "district": "区", "county": "县"}
_LEVEL_ALIASES = {
    **{k: k for k in LEVELS},
    **{v: k for k, v in LEVELS.items()},
    "省级": "province",
    "市级": "city",
    "区县": "county",
    "县级": "county",
    "区级": "district",
}
_SETTINGS = {"profile", "budget_yuan", "households_per_year", "finance", "default_far", "maps"}
_SETTINGS |= set(STAGE_TABLES)  # [gaps], [bundles], [plan]: each stage's own parameters
_INPUTS = {"osm", "network", "compounds", "pois", "parcels", "demo"}
_UNIT_KEYS = {"name", "level", "parent", *_SETTINGS, *_INPUTS}
_PROVINCE_KEYS = {"name", *_SETTINGS}
_SHORT_KEYS = ("profile", "budget_yuan", "households_per_year", "finance", "default_far")
_FILE_KEYS = {"path", "layer", "sheet", "coords"}
_COORDS = ("wgs84", "gcj02", "bd09", "bd09mc")


@dataclass(frozen=True)
class InputFile:
    """One input file of a unit.

    Attributes
    ----------
    path
        The file (absolute).
    layer
        Layer inside a GeoPackage or FileGDB, or None.
    sheet
        Excel sheet, or None.
    coords
        Coordinate system of a table's lon/lat: ``wgs84``, ``gcj02``, ``bd09``, ``bd09mc``.
    """

    path: Path
    layer: str | None = None
    sheet: str | int | None = None
    coords: str = "wgs84"


@dataclass(frozen=True)
class DemoSpec:
    """A synthetic demo city as a unit's input (see :func:`spatial.demo.generate_demo`).

    Attributes
    ----------
    size
        Superblocks per side.
    seed
        Seed of the city.
    centre_lonlat
        Where it lies (WGS84), so that demo units lie side by side.
    """

    size: int
    seed: int
    centre_lonlat: tuple[float, float] = (117.02, 36.66)


@dataclass(frozen=True)
class Unit:
    """One unit of a batch: its place in the hierarchy, its inputs and its settings.

    Attributes
    ----------
    name
        Unique name (e.g. ``泰安市泰山区``).
    level
        ``province``, ``city``, ``district`` or ``county``.
    parent
        The unit above it, or None (directly under the province).
    osm, network
        OSM file (network; compounds, POIs, parcels and barriers where none are given)
        and a separate network file.
    compounds, pois, parcels
        Input files of each kind.
    demo
        A synthetic demo city generated for the unit, or None.
    profile, budget_yuan, households_per_year, finance, default_far
        Settings of the plan and bundle stages (yearly budget in yuan), short for the
        same fields of :attr:`stages`.
    stages
        Each stage's parameter object (from the ``[gaps]``, ``[bundles]`` and ``[plan]``
        tables); None: the defaults with the short keys (:meth:`settings`).
    maps
        Also draw the unit's HTML maps.
    line
        Line of its ``[[unit]]`` header in the province file.
    """

    name: str
    level: str
    parent: str | None = None
    osm: Path | None = None
    network: Path | None = None
    compounds: tuple[InputFile, ...] = ()
    pois: tuple[InputFile, ...] = ()
    parcels: tuple[InputFile, ...] = ()
    demo: DemoSpec | None = None
    profile: str = "shandong"
    budget_yuan: float = 1e9
    households_per_year: float | None = None
    finance: Path | None = None
    default_far: bool = False
    maps: bool = True
    line: int = 0
    stages: StageSettings | None = None

    def settings(self) -> StageSettings:
        """The parameter objects the unit's gaps, bundles and plan stages run with.

        Returns
        -------
        StageSettings
        """
        if self.stages is not None:
            return self.stages
        short = {k: getattr(self, k) for k in ("profile", "budget_yuan", "finance")}
        short |= {"households_per_year": self.households_per_year}
        short |= {"default_far": self.default_far}
        made, problems = stage_settings({}, short, source=self.name)
        raise_for_errors(problems)
        assert made is not None
        return made

    @property
    def has_data(self) -> bool:
        """Whether the unit runs the chain (False: it only sums the units below it)."""
        return self.demo is not None or self.osm is not None or bool(self.compounds)

    @property
    def slug(self) -> str:
        """Folder name of the unit's results (its name, safe as a file name)."""
        return unit_slug(self.name)

    def files(self) -> list[Path]:
        """Every file the unit reads (for the content hash).

        Returns
        -------
        list of Path
        """
        found = [p for p in (self.osm, self.network, self.finance) if p is not None]
        found += [f.path for f in (*self.compounds, *self.pois, *self.parcels)]
        if self.profile.endswith(".toml"):
            found.append(Path(self.profile))
        return found


@dataclass(frozen=True)
class Province:
    """A province file, read and checked.

    Attributes
    ----------
    name
        Name of the whole (the roll-up's top line).
    path
        The file.
    units
        Its units, in file order.
    """

    name: str
    path: Path
    units: tuple[Unit, ...] = field(default_factory=tuple)

    def children(self, name: str | None) -> list[Unit]:
        """The units directly under ``name`` (None: under the province).

        Parameters
        ----------
        name
            A unit's name, or None.

        Returns
        -------
        list of Unit
        """
        return [u for u in self.units if u.parent == name]


def unit_slug(name: str) -> str:
    """A unit's name made safe as a folder name (Chinese kept, separators replaced).

    Parameters
    ----------
    name
        The unit's name.

    Returns
    -------
    str
    """
    slug = re.sub(r"[^\w.-]+", "_", name.strip(), flags=re.UNICODE).strip("._")
    return slug or "unit"


def _block_lines(text: str) -> tuple[int, list[int]]:
    """Line of ``[province]`` and of each ``[[unit]]`` header (1-based)."""
    province, units = 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        head = line.split("#", 1)[0].strip()
        if head == "[[unit]]":
            units.append(number)
        elif head == "[province]":
            province = number
    return province, units


def _key_line(text: str, start: int, key: str) -> int:
    """Line of ``key = …`` in the block that begins at line ``start`` (or ``start``)."""
    return key_line(text, key, start=start) or start


class _Reader:
    """Collects problems of one file while turning its tables into values."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text, self.found = path, text, []  # type: ignore[var-annotated]
        self.base = path.parent

    def problem(self, start: int, key: str | None, message: str, hint: str = "") -> None:
        row = f"line {_key_line(self.text, start, key) if key else start}"
        self.found.append(Problem.error(str(self.path), message, row=row, column=key, hint=hint))

    def unknown(self, table: dict[str, Any], allowed: set[str], start: int, what: str) -> None:
        for key in sorted(set(table) - allowed):
            near = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"keys: {', '.join(sorted(allowed))}"
            self.problem(start, key, f"unknown key {key!r} in {what}", hint)

    def file(self, value: object, start: int, key: str) -> Path | None:
        if not isinstance(value, str) or not value:
            self.problem(start, key, f"{key} must be a file path (text)", f'{key} = "area.osm"')
            return None
        path = (self.base / value).resolve()
        if not path.is_file():
            self.problem(
                start, key, f"{key}: no such file {value!r}", f"paths are relative to {self.base}"
            )
        return path

    def files(self, value: object, start: int, key: str) -> tuple[InputFile, ...]:
        items = value if isinstance(value, list) else [value]
        out = []
        for item in items:
            if isinstance(item, dict):
                self.unknown(item, _FILE_KEYS, start, f"a {key} file")
                path = self.file(item.get("path"), start, key)
                coords = str(item.get("coords", "wgs84")).lower()
                if coords not in _COORDS:
                    self.problem(start, key, f"{key}: unknown coords {coords!r}", str(_COORDS))
                layer = item.get("layer")
                sheet = item.get("sheet")
                if path is not None:
                    out.append(InputFile(path, str(layer) if layer else None, sheet, coords))
            else:
                path = self.file(item, start, key)
                if path is not None:
                    out.append(InputFile(path))
        return tuple(out)

    def settings(self, table: dict[str, Any], start: int, base: dict[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for key in ("budget_yuan", "households_per_year"):
            if key in table:
                value = table[key]
                if (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or not (math.isfinite(value) and value > 0)
                ):
                    self.problem(start, key, f"{key} is {value!r}", "a positive number, e.g. 5e8")
                else:
                    out[key] = float(value)
        for key in ("default_far", "maps"):
            if key in table:
                if isinstance(table[key], bool):
                    out[key] = table[key]
                else:
                    self.problem(start, key, f"{key} must be true or false", f"{key} = true")
        if "finance" in table:
            out["finance"] = self.file(table["finance"], start, "finance")
        if "profile" in table:
            out["profile"] = self.profile(table["profile"], start)
        out["tables"], bad = merge_tables(out.get("tables", {}), table, folder=self.base)
        for stage in bad:
            self.problem(
                start, stage, f"{stage} must be a table", f"[{stage}] or {stage} = {{ … }}"
            )
        return out

    def profile(self, value: object, start: int) -> str:
        from spatial.policy import PROFILES

        text = str(value)
        if text in PROFILES:
            return text
        path = (self.base / text).resolve()
        if text.endswith(".toml") and path.is_file():
            return str(path)
        self.problem(
            start,
            "profile",
            f"unknown profile {text!r}",
            f"one of {', '.join(PROFILES)}, or a file",
        )
        return text


def _demo(reader: _Reader, spec: object, start: int) -> DemoSpec | None:
    fix = "demo = { size = 3, seed = 7, centre = [117.1, 36.2] }"
    ok = isinstance(spec, dict) and set(spec) <= {"size", "seed", "centre"}
    size, seed = (spec.get("size", 3), spec.get("seed", 2021)) if isinstance(spec, dict) else (0, 0)
    centre = spec.get("centre", [117.02, 36.66]) if isinstance(spec, dict) else []
    if not ok or not all(isinstance(v, int) and not isinstance(v, bool) for v in (size, seed)):
        reader.problem(
            start, "demo", "demo must be { size = N, seed = S, centre = [lon, lat] }", fix
        )
    elif not 1 <= size <= 60:
        reader.problem(start, "demo", f"demo size {size} is out of range", "1 to 60 superblocks")
    elif not (
        isinstance(centre, list)
        and len(centre) == 2
        and all(isinstance(v, (int, float)) for v in centre)
        and 114 <= centre[0] < 120
        and 0 < centre[1] < 84
    ):
        reader.problem(start, "demo", f"demo centre {centre!r} is not lon, lat in 114°-120° E", fix)
    else:
        return DemoSpec(size, seed, (float(centre[0]), float(centre[1])))
    return None


def _unit(reader: _Reader, table: dict[str, Any], start: int, base: dict[str, Any]) -> Unit | None:
    reader.unknown(table, _UNIT_KEYS, start, "[[unit]]")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        reader.problem(start, "name", "a unit needs a name", 'name = "泰山区"')
        return None
    level = _LEVEL_ALIASES.get(str(table.get("level", "")).strip().lower())
    if level is None:
        reader.problem(
            start,
            "level",
            f"unit {name!r}: level {table.get('level')!r} is not known",
            "province, city, district or county (省, 市, 区, 县)",
        )
        level = "county"
    settings = reader.settings(table, start, base)
    demo = None
    if "demo" in table:
        demo = _demo(reader, table["demo"], start)
    osm = reader.file(table["osm"], start, "osm") if "osm" in table else None
    network = reader.file(table["network"], start, "network") if "network" in table else None
    kinds = {
        k: reader.files(table[k], start, k) if k in table else ()
        for k in ("compounds", "pois", "parcels")
    }
    if demo is not None and (osm or network or any(kinds.values())):
        reader.problem(start, "demo", f"unit {name!r} has both demo and files", "keep one")
    if not demo and not osm and (kinds["compounds"] or kinds["pois"]) and not network:
        reader.problem(
            start,
            "network",
            f"unit {name!r} has no walk network",
            'osm = "area.osm" or network = "roads.shp"',
        )
    if not demo and not osm and kinds["compounds"] and not kinds["pois"]:
        reader.problem(
            start, "pois", f"unit {name!r} has compounds but no POIs", 'pois = ["pois.gpkg"]'
        )
    parent = table.get("parent")
    tables = settings.pop("tables", {})
    short = {k: settings.get(k, Unit.__dataclass_fields__[k].default) for k in _SHORT_KEYS}
    stages, problems = stage_settings(tables, short, source=str(reader.path))
    reader.found += [replace(p, row=f"line {start}") for p in problems]
    return Unit(
        name=name.strip(),
        level=level,
        parent=str(parent).strip() if parent else None,
        osm=osm,
        network=network,
        demo=demo,
        line=start,
        compounds=kinds["compounds"],
        pois=kinds["pois"],
        parcels=kinds["parcels"],
        stages=stages,
        **settings,
    )


def _check_tree(reader: _Reader, units: list[Unit]) -> None:
    names: dict[str, Unit] = {}
    slugs: dict[str, str] = {}
    for unit in units:
        if unit.name in names:
            reader.problem(
                unit.line, "name", f"unit {unit.name!r} is named twice", "names must be unique"
            )
        elif unit.slug.lower() in slugs:
            reader.problem(
                unit.line,
                "name",
                f"units {slugs[unit.slug.lower()]!r} and {unit.name!r} share a folder name",
                "rename one",
            )
        names[unit.name] = unit
        slugs[unit.slug.lower()] = unit.name
    for unit in units:
        if unit.parent is not None and unit.parent not in names:
            near = difflib.get_close_matches(unit.parent, list(names), n=1)
            reader.problem(
                unit.line,
                "parent",
                f"unit {unit.name!r}: parent {unit.parent!r} is not a unit",
                f"did you mean {near[0]!r}?"
                if near
                else "name a unit of this file, or leave parent out",
            )
            continue
        seen, up = {unit.name}, unit.parent
        while up is not None and up in names:
            if up in seen:
                reader.problem(
                    unit.line,
                    "parent",
                    f"unit {unit.name!r} is its own ancestor",
                    "break the cycle",
                )
                break
            seen.add(up)
            up = names[up].parent
    for unit in units:
        if not unit.has_data and not any(u.parent == unit.name for u in units):
            reader.problem(
                unit.line,
                None,
                f"unit {unit.name!r} has no inputs and no units below it",
                "give osm, compounds/pois/network, or demo; or make it the parent of others",
            )


def load_province(path: str | Path) -> Province:
    """Read and check a province file.

    Parameters
    ----------
    path
        The TOML file (see ``data/demo/province.toml``).

    Returns
    -------
    Province
        Its units with absolute paths and the province defaults applied.

    Raises
    ------
    InputError
        Every problem of the file at once, each with its line and key.
    """
    file = Path(path)
    data, _ = read_toml(file, default="province.toml")  # InputError: missing, not TOML
    text = file.read_text(encoding="utf-8")
    reader = _Reader(file, text)
    top_line, unit_lines = _block_lines(text)
    reader.unknown(
        {k: v for k, v in data.items() if k not in ("unit", "province")}, set(), 1, "the file"
    )
    top = data.get("province", {})
    if not isinstance(top, dict):
        top = {}
    reader.unknown(top, _PROVINCE_KEYS, top_line or 1, "[province]")
    base = reader.settings(top, top_line or 1, {})
    tables = data.get("unit", [])
    if not isinstance(tables, list) or not tables:
        reader.problem(1, None, "no [[unit]] tables", "add one [[unit]] per city or district")
        tables = []
    units = []
    for number, table in enumerate(tables):
        start = unit_lines[number] if number < len(unit_lines) else 1
        unit = _unit(reader, table, start, base)
        if unit is not None:
            units.append(unit)
    _check_tree(reader, units)
    raise_for_errors(reader.found)
    name = str(top.get("name") or file.stem)
    return Province(name=name, path=file.resolve(), units=tuple(units))
