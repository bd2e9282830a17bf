"""Figures are drawn in a worker process while the pipeline goes on with rules and
recommendations: on two cores the 2-4 s of matplotlib per run then cost no wall time.

The worker comes from a fork server that has already imported matplotlib, so it starts
clean (no inherited MLflow or SQLite handles) and fast. Each figure is a call to a pure
function of `custseg.report.plots` that writes one PNG and returns its path.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any


class Figures:
    """Queue figure jobs by name; `collect` waits for them and returns name -> PNG path."""

    def __init__(self, parallel: bool = True) -> None:
        self._jobs: dict[str, Future[Path] | Path] = {}
        self._pool: ProcessPoolExecutor | None = None
        if parallel:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["custseg.report.plots"])
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx)

    def draw(self, name: str, fn: Callable[..., Path], *args: Any, **kwargs: Any) -> None:
        """Draw one figure: in the worker when parallel, else right here."""
        if self._pool is None:
            self._jobs[name] = fn(*args, **kwargs)
        else:
            self._jobs[name] = self._pool.submit(fn, *args, **kwargs)

    def collect(self) -> dict[str, Path]:
        """Every figure queued so far, finished; a failed figure raises its own error here."""
        out = {}
        for name, job in self._jobs.items():
            out[name] = job.result() if isinstance(job, Future) else job
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
