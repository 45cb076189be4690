"""One parameter object per stage: frozen, keyword-only, validated once.

Each stage owns its parameters — :class:`spatial.lifecircle.params.GapParams`,
:class:`spatial.bundling.params.BundleParams`, :class:`spatial.policy.params.PlanParams`,
:class:`spatial.render.options.MapOptions` — and declares each default there once. The
library face, the pipeline, the batch file's ``[gaps]``/``[bundles]``/``[plan]`` tables
and the CLI build that object and pass it on unchanged; none of them declares a default
of its own (``tests/test_params.py`` fails if one does).

This module is the base those objects share: range checks from field metadata, choices
from ``Literal`` hints, :meth:`StageParams.replace` with a clear error for an unknown
name, and :meth:`StageParams.from_table` for a TOML table.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from spatial._errors import InputError, Problem

__all__ = ["StageParams", "number", "option_name"]

P = TypeVar("P", bound="StageParams")

#: Where a problem of options set in code or on the command line is reported.
OPTIONS_SOURCE = "<options>"


def number(
    default: Any = dataclasses.MISSING,
    *,
    above: float | None = 0.0,
    at_least: float | None = None,
    at_most: float | None = None,
) -> Any:
    """A numeric field with its range: above ``above`` (exclusive) or ``at_least``, and
    at most ``at_most``.

    Parameters
    ----------
    default
        The field's one default (none: the value must be given; None: optional).
    above
        The value must be greater than this (None: no lower bound of this kind).
    at_least
        The value must be at least this (None: no such bound).
    at_most
        The value must be at most this (None: no upper bound).

    Returns
    -------
    dataclasses.Field
        For a :class:`StageParams` subclass's attribute.
    """
    limits = {"above": above, "at_least": at_least, "at_most": at_most}
    if default is dataclasses.MISSING:
        return field(metadata=limits)
    return field(default=default, metadata=limits)


def option_name(name: str) -> str:
    """The command-line spelling of a field: ``search_limit_m`` → ``--search-limit-m``.

    Parameters
    ----------
    name
        A field name.

    Returns
    -------
    str
    """
    return "--" + name.replace("_", "-")


@dataclass(frozen=True, kw_only=True)
class StageParams:
    """Base of the stages' parameter objects (see the module docstring)."""

    def __post_init__(self) -> None:
        errors = [p for p in self.problems() if p.severity == "error"]
        if errors:
            raise InputError(errors)

    @classmethod
    def _lazy_types(cls) -> dict[str, Any]:
        """Classes the hints name that are imported only when checking (heavy modules)."""
        return {}

    @classmethod
    @functools.cache
    def _hints(cls) -> dict[str, Any]:  # once per class: every object built is checked
        module = sys.modules[cls.__module__]
        return typing.get_type_hints(cls, {**vars(module), **cls._lazy_types()})

    def problems(self) -> list[Problem]:
        """What is wrong with the values: out of range, not a number, not a choice.

        Returns
        -------
        list of Problem
            One error per bad value, naming the option (``--search-limit-m``).
        """
        return self._check(OPTIONS_SOURCE, option_name)

    def _check(self, source: str, name: Any) -> list[Problem]:
        found = []
        hints = self._hints()
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            choices = _choices(hints.get(f.name))
            if choices and value not in choices:
                found.append(
                    Problem.error(
                        source,
                        f"{name(f.name)} is {value!r}",
                        column=name(f.name),
                        hint=f"one of {', '.join(map(str, choices))}",
                    )
                )
            if "above" not in f.metadata or value is None:
                continue
            low, least = f.metadata["above"], f.metadata["at_least"]
            most = f.metadata.get("at_most")
            ok = (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and math.isfinite(value)
                and (low is None or value > low)
                and (least is None or value >= least)
                and (most is None or value <= most)
            )
            if not ok:
                shown = f"{value:g}" if isinstance(value, (int, float)) else repr(value)
                want = f"greater than {low:g}" if low is not None else f"at least {least:g}"
                if most is not None:
                    want = f"from {least if least is not None else low:g} to {most:g}"
                found.append(
                    Problem.error(
                        source,
                        f"{name(f.name)} is {shown}",
                        column=name(f.name),
                        hint=f"a number {want}",
                    )
                )
        return found

    def replace(self: P, **changes: Any) -> P:
        """A copy with some values changed, validated.

        Parameters
        ----------
        **changes
            Field names and their new values.

        Returns
        -------
        The new object.

        Raises
        ------
        InputError
            For a name that is no field (with the nearest one) or a bad value.
        """
        unknown = _unknown(type(self), changes, OPTIONS_SOURCE, option_name)
        if unknown:
            raise InputError(unknown)
        return dataclasses.replace(self, **changes) if changes else self

    @classmethod
    def from_table(
        cls: type[P], table: Mapping[str, Any], *, source: str, base: P | None = None
    ) -> tuple[P | None, list[Problem]]:
        """The object a TOML table sets (``[gaps]`` of a province file), and its problems.

        Parameters
        ----------
        table
            Keys are field names; lists become tuples; paths are taken as written
            (resolve them before).
        source
            The file, for the messages.
        base
            The values not in ``table`` (default: the defaults).

        Returns
        -------
        params, problems
            None and the problems (every one of the table) when anything is wrong.
        """
        found = _unknown(cls, table, source, str)
        hints = cls._hints()
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in hints:
                continue
            if isinstance(value, list):
                value = tuple(value)
            if _fits(value, hints[key]):
                values[key] = value
                continue
            found.append(
                Problem.error(
                    source,
                    f"{key} = {value!r} is not {_describe(hints[key])}",
                    column=key,
                    hint=f"write {key} as {_describe(hints[key])}",
                )
            )
        made = None
        try:  # ranges and choices of the values of the right type, named as the table does
            made = dataclasses.replace(base, **values) if base is not None else cls(**values)
        except InputError as exc:
            found += [_as_key(p, source) for p in exc.problems]
        except TypeError:  # a required value the table does not give: the caller's to say
            made = None
        if found:
            return None, found
        return made, []


def _as_key(problem: Problem, source: str) -> Problem:
    """A problem of a value as a table names it (``search_limit_m``, not the option)."""
    option = problem.column or ""
    key = option.removeprefix("--").replace("-", "_")
    return dataclasses.replace(
        problem, file=source, column=key or None, message=problem.message.replace(option, key)
    )


def _unknown(cls: type, given: Mapping[str, Any], source: str, name: Any) -> list[Problem]:
    names = [f.name for f in dataclasses.fields(cls)]
    out = []
    for key in given:
        if key in names:
            continue
        near = difflib.get_close_matches(key, names, n=1)
        out.append(
            Problem.error(
                source,
                f"{name(key)} is no {cls.__name__} setting",
                column=name(key),
                hint=f"did you mean {name(near[0])}?"
                if near
                else "settings: " + ", ".join(map(name, names)),
            )
        )
    return out


def _choices(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) is typing.Literal:
        return typing.get_args(hint)
    return ()


def _fits(value: Any, hint: Any) -> bool:
    """Whether a TOML value has the type a field's hint says (before range checks)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin is typing.Literal:
        return value in args
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint is Path:
        return isinstance(value, (str, Path))
    if origin is tuple:
        return isinstance(value, tuple) and all(_fits(v, args[0]) for v in value)
    return isinstance(hint, type) and isinstance(value, hint)


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args if a is not type(None))
    if origin is tuple:
        return f"a list of {_describe(args[0])}"
    return {bool: "true or false", float: "a number", int: "a whole number", str: "text"}.get(
        hint, "a file path" if hint is Path else getattr(hint, "__name__", str(hint))
    )
