"""The one reader of the toolkit's TOML data files (shipped standards or a user's copy).

Every data file — the life-circle taxonomy, finance figures, bundle limits, policy
profiles — is read here, so that a syntax error always names the file, the line and the
column, and a missing file says what was looked for.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["read_toml"]


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
            raise ValueError(f"{where}: no such file (expected a TOML file like {default})")
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{where}: not UTF-8 text ({exc.reason}); save it as UTF-8") from exc
    try:
        return tomllib.loads(text), where
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{where}: not valid TOML: {exc}") from exc
