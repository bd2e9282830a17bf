"""Warm helper processes for work that runs beside the pipeline: figures, and the trials of a
grid study. On two cores the pipeline itself is mostly one busy thread, so the other core is
free for this; two helpers (the default `workers`) draw two figures at a time and finish them
before the report needs them.

Helpers come from a fork server that has already imported what the jobs need (matplotlib,
scikit-learn, the clustering code), so they start clean (no inherited MLflow or SQLite handles)
and their jobs start at once; a second helper is one fork of the first. The fork server takes
1.5-2 s of the other core to start, so it starts in the background the moment the `Helper`
exists: the CLI makes one before importing the pipeline.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
PRELOAD = ["custseg.report.plots", "custseg.clustering.fit"]  # what the jobs import


def _watch(parent: int, every: float = 1.0) -> None:
    """Helper start-up: leave as soon as the process that made this helper is gone.

    A helper blocks waiting for its next job and is not told when its parent is killed, and
    the fork server stays up as long as any helper does: without this a killed run (SIGKILL,
    an out-of-memory kill) would leave both behind for good."""

    def watch() -> None:
        while True:
            time.sleep(every)
            try:
                os.kill(parent, 0)
            except (ProcessLookupError, PermissionError):  # gone, or its pid reused by another user
                os._exit(0)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _ready() -> None:
    """The warm-up job: the helper exists, and matplotlib has drawn once (fonts, renderer)."""
    import io

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1], label="warm-up")
    ax.legend()
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


class Helper:
    """`workers` helper processes (0: none, every job runs in the caller)."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(0, int(workers))
        self._pool: ProcessPoolExecutor | None = None
        if self.workers:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=ctx, initializer=_watch,
                initargs=(os.getpid(),),
            )  # fmt: skip
            # submit() starts the workers and blocks until they run; do that off this thread
            # (a submit meanwhile waits for the same lock, never starts more workers)
            threading.Thread(target=self._warm, args=(self._pool,), daemon=True).start()

    @staticmethod
    def _warm(pool: ProcessPoolExecutor) -> None:
        with contextlib.suppress(RuntimeError):  # closed already: the run ended (or failed)
            pool.submit(_ready)

    @property
    def enabled(self) -> bool:
        return self._pool is not None

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Run `fn(*args, **kwargs)` in a helper (it and its arguments must pickle)."""
        if self._pool is None:
            raise RuntimeError("this Helper has no worker processes (workers=0)")
        return self._pool.submit(fn, *args, **kwargs)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def workers_for(cfg: Mapping[str, Any]) -> int:
    """Helper processes a run should start: `workers`, if it has work for them (figures to
    draw or a study to run), else none."""
    busy = bool(cfg["report"]["enabled"]) or bool(cfg["tuning"]["enabled"])
    return int(cfg.get("workers", 0) or 0) if busy else 0
