"""When and by whom: the stamps of history rows, runs and styles (shared by the modules
of :mod:`spatial.db` without one importing another for them)."""

from __future__ import annotations

import getpass
import os
from datetime import datetime, timezone

__all__ = ["now_text", "user_name"]


def now_text() -> str:
    """The current time as ISO 8601 text with the offset (what history rows store).

    Returns
    -------
    str
        E.g. ``2026-11-23T10:42:00+08:00``.
    """
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def user_name() -> str:
    """Who is importing: ``SPATIAL_USER``, else the login name.

    Returns
    -------
    str
        The name (``unknown`` where the system has none).
    """
    try:
        return os.environ.get("SPATIAL_USER") or getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"
