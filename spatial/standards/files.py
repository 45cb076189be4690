"""The one reader of the toolkit's TOML data files (shipped standards or a user's copy).

Every data file — the life-circle taxonomy, finance figures, bundle limits, policy
profiles — is read here, so that a syntax error always names the file, the line and the
column, and a missing file says what was looked for.
"""

from __future__ import annotations

import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from spatial._errors import input_error

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["key_line", "read_toml", "read_toml_text", "table_line"]


def read_toml(
    path: str | Path | None, *, default: str, package: str = "spatial.standards"
) -> tuple[dict[str, Any], str]:
    """Read a TOML data file: the user's ``path``, or the shipped file ``default``.

    Parameters
    ----------
    path
        A user's file, or None for the shipped one.
    default
        File name of the shipped file inside ``package`` (e.g. ``"finance.toml"``).
    package
        The package that ships ``default``.

    Returns
    -------
    data, where
        The parsed document and the name to use in messages (the user's path or the
        shipped file's name).

    Raises
    ------
    ValueError
        As :func:`read_toml_text`.
    """
    data, where, _ = read_toml_text(path, default=default, package=package)
    return data, where


def read_toml_text(
    path: str | Path | None, *, default: str, package: str = "spatial.standards"
) -> tuple[dict[str, Any], str, str]:
    """Read a TOML data file and keep its text (for line numbers in messages).

    Parameters
    ----------
    path
        A user's file, or None for the shipped one.
    default
        File name of the shipped file inside ``package`` (e.g. ``"finance.toml"``).
    package
        The package that ships ``default``.

    Returns
    -------
    data, where, text
        The parsed document, the name to use in messages (the user's path or the
        shipped file's name) and the file's text.

    Raises
    ------
    ValueError
        When the file is missing or is not valid TOML; the message names the file and,
        for syntax errors, the line and column.
    """
    if path is None:
        where = default
        text = resources.files(package).joinpath(default).read_text("utf-8")
    else:
        where = str(path)
        file = Path(path)
        if not file.is_file():
            raise input_error(
                where, "no such file", hint=f"give a TOML file like {default}, or check the path"
            )
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise input_error(
                where, f"not UTF-8 text ({exc.reason})", hint="save it as UTF-8"
            ) from exc
    try:
        return tomllib.loads(text), where, text
    except tomllib.TOMLDecodeError as exc:
        said = str(exc)  # "Expected ']' … (at line 1, column 3)" (no attributes before 3.14)
        at = re.search(r"\(at line (\d+), column (\d+)\)", said)
        raise input_error(
            where,
            f"not valid TOML: {said.split(' (at line')[0]}",
            row=f"line {at.group(1)}" if at else None,
            column=f"column {at.group(2)}" if at else None,
            hint="fix the line; a TOML editor shows the rule",
        ) from exc


def _bare(line: str) -> str:
    return line.split("#", 1)[0].strip()


def table_line(text: str, table: str) -> int:
    """Line (1-based) of the header ``[table]`` in a TOML text, or 0.

    Parameters
    ----------
    text
        The file's text.
    table
        Table name.

    Returns
    -------
    int
        The header's line.
    """
    for number, line in enumerate(text.splitlines(), start=1):
        bare = _bare(line)
        if bare.startswith("[") and bare.strip("[]").strip().strip('"') == table:
            return number
    return 0


def key_line(text: str, key: str, *, start: int) -> int:
    """Line (1-based) of ``key = …`` in the table whose header is on line ``start``, or 0.

    Parameters
    ----------
    text
        The file's text.
    key
        Key in the table.
    start
        Line of the table's header (0: the top of the file, before any table).

    Returns
    -------
    int
        The key's line; the search stops at the next table header.
    """
    lines = text.splitlines()
    for number in range(start, len(lines)):
        bare = _bare(lines[number])
        if bare.startswith("["):
            break
        if re.match(rf'"?{re.escape(key)}"?\s*=', bare):
            return number + 1
    return 0
