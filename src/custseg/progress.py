"""Progress lines for long steps: what is running, then how long it took and what it cost in
memory. At a million customers the question after "how long" is "how much", and the answer
belongs next to the step that spent it."""

from __future__ import annotations

import logging
import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

log = logging.getLogger("custseg")
_depth: ContextVar[int] = ContextVar("custseg_step_depth", default=0)


def memory() -> str:
    """Resident memory now and at its peak so far."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    try:
        with open("/proc/self/statm") as fh:
            now = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: the peak alone
        return f"peak {peak:,.0f} MB"
    return f"{now:,.0f} MB, peak {peak:,.0f} MB"


@contextmanager
def step(what: str) -> Iterator[None]:
    """Log `what ...` now and `what done in S s (memory ...)` when the block ends. A step
    inside another is indented under it, so the evaluation's own model of the past reads as
    part of the evaluation, not as the run mining its rules a second time."""
    depth = _depth.get()
    what = "  " * depth + what
    log.info("%s ...", what)
    token = _depth.set(depth + 1)
    t0 = time.perf_counter()
    try:
        yield
    finally:
        _depth.reset(token)
    log.info("%s done in %.1f s (memory %s)", what, time.perf_counter() - t0, memory())
