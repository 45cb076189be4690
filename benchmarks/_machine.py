"""What a benchmark ran on and what it cost the processors, printed under its tables so a
run on a busy machine is recognisable (issue #37)."""

from __future__ import annotations

import os
import resource

__all__ = ["cpu_seconds", "machine_line"]


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def machine_line() -> str:
    """One line: load averages, cores, CPU seconds of this run (process and children)."""
    own, kids = cpu_seconds()
    one, five, fifteen = os.getloadavg()
    return (
        f"\nmachine: {os.cpu_count()} cores, load average {one:.2f} / {five:.2f} / "
        f"{fifteen:.2f} (1 / 5 / 15 min); CPU-s of this run {own:.1f} (this process) + "
        f"{kids:.1f} (its children)"
    )
