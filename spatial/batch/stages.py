"""A province file's ``[gaps]``, ``[bundles]`` and ``[plan]`` tables: each stage's own
parameter object, checked by its fields (the same object the CLI and the library build).

In ``[province]`` they set every unit's settings; in a ``[[unit]]`` they change that
unit's. The unit keys ``profile``, ``budget_yuan``, ``households_per_year``, ``finance``
and ``default_far`` are short for the same fields of ``[bundles]`` and ``[plan]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spatial._errors import Problem
from spatial.bundling.params import BundleParams
from spatial.lifecircle.params import GapParams
from spatial.params import StageParams
from spatial.policy.params import PlanParams

__all__ = ["STAGE_TABLES", "StageSettings", "merge_tables", "stage_settings"]

#: The stage tables of a province file and the parameter object each sets.
STAGE_TABLES: dict[str, type[StageParams]] = {
    "gaps": GapParams,
    "bundles": BundleParams,
    "plan": PlanParams,
}
#: Keys whose text is a file path, relative to the province file.
_PATH_KEYS = frozenset({"categories", "finance"})
#: The unit keys that are short for fields of the bundle and plan stages.
_SHORT = {
    "bundles": ("profile", "finance", "default_far"),
    "plan": ("profile", "budget_yuan", "households_per_year", "finance"),
}


@dataclass(frozen=True)
class StageSettings:
    """The three stages' settings of one unit.

    Attributes
    ----------
    gaps, bundles, plan
        The parameter objects the unit's stages run with.
    """

    gaps: GapParams
    bundles: BundleParams
    plan: PlanParams


def merge_tables(
    base: Mapping[str, Mapping[str, Any]], table: Mapping[str, Any], *, folder: Path
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The stage tables of ``table`` laid over ``base`` (the province's), paths resolved.

    Parameters
    ----------
    base
        Stage name → keys set above (``[province]``'s tables).
    table
        A ``[province]`` or ``[[unit]]`` table.
    folder
        The province file's folder (relative paths start there).

    Returns
    -------
    tables, bad
        The merged tables; the stage keys that are not tables (to report).
    """
    out = {k: dict(v) for k, v in base.items()}
    bad = []
    for stage in STAGE_TABLES:
        given = table.get(stage)
        if given is None:
            continue
        if not isinstance(given, dict):
            bad.append(stage)
            continue
        resolved = {
            k: str((folder / v).resolve()) if k in _PATH_KEYS and isinstance(v, str) else v
            for k, v in given.items()
        }
        out[stage] = {**out.get(stage, {}), **resolved}
    return out, bad


def stage_settings(
    tables: Mapping[str, Mapping[str, Any]], short: Mapping[str, Any], *, source: str
) -> tuple[StageSettings | None, list[Problem]]:
    """Each stage's parameter object from a unit's tables and short keys, with every problem.

    Parameters
    ----------
    tables
        Stage name → its keys (from :func:`merge_tables`).
    short
        The unit's ``profile``, ``budget_yuan``, ``households_per_year``, ``finance``
        and ``default_far`` (a table's own key wins).
    source
        The province file, for the messages.

    Returns
    -------
    settings, problems
        None with the problems when any key or value is wrong.
    """
    found: list[Problem] = []
    made: dict[str, Any] = {}
    for stage, cls in STAGE_TABLES.items():
        given = {k: short[k] for k in _SHORT.get(stage, ()) if short.get(k) is not None}
        given = {k: str(v) if isinstance(v, Path) else v for k, v in given.items()}
        params, problems = cls.from_table(
            {**given, **tables.get(stage, {})}, source=f"{source} [{stage}]"
        )
        found += problems
        made[stage] = params
    if found or any(v is None for v in made.values()):
        return None, found
    return StageSettings(**made), []
