"""Figures are drawn in the helper process (custseg.helper) while the pipeline goes on with
rules and recommendations: on two cores the 3-4 s of matplotlib per run then cost no wall time.

Plots are named, not passed, so this process never imports matplotlib at all (0.4 s); each
figure is a call to a pure function of `custseg.report.plots` that writes one PNG and returns
its path.
"""

from __future__ import annotations

import importlib
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from custseg.helper import Helper

PLOTS = "custseg.report.plots"


def draw_now(plot: str, *args: Any, **kwargs: Any) -> Path:
    """Call `custseg.report.plots.<plot>` here: what the helper runs for each figure."""
    fn = getattr(importlib.import_module(PLOTS), plot, None)
    if fn is None:
        raise ValueError(f"{PLOTS} has no plot function {plot!r}")
    return fn(*args, **kwargs)


class Figures:
    """Queue figure jobs by name; `collect` waits for them and returns name -> PNG path."""

    def __init__(self, helper: Helper | None = None) -> None:
        self._jobs: dict[str, Future[Path] | Path] = {}
        self._helper = helper if helper is not None and helper.enabled else None

    def draw(self, name: str, plot: str, *args: Any, **kwargs: Any) -> None:
        """Draw one figure with the plot function named `plot`: in the helper if there is one,
        else right here."""
        if self._helper is None:
            self._jobs[name] = draw_now(plot, *args, **kwargs)
        else:
            self._jobs[name] = self._helper.submit(draw_now, plot, *args, **kwargs)

    def collect(self) -> dict[str, Path]:
        """Every figure queued so far, finished; a failed figure raises its own error here."""
        out = {}
        for name, job in self._jobs.items():
            out[name] = job.result() if isinstance(job, Future) else job
        return out
