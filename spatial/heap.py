"""Returning freed memory to the system between the large steps of a city-sized run."""

from __future__ import annotations

import contextlib
import sys

__all__ = ["trim_heap"]


def trim_heap() -> None:
    """Give the heap's free pages back to the system (glibc's ``malloc_trim``).

    glibc keeps what a step freed for later use, so a process that reads, simplifies or
    traces a whole city's outlines one piece at a time otherwise grows by each piece's
    working memory. Elsewhere (macOS, Windows, musl) nothing is done.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)
