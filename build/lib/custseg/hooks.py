"""The points where a run's results leave the pipeline (as kedro's hooks): tracking implements
them to log to MLflow; without tracking nothing happens there. The pipeline never logs itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from custseg.result import RunResult


class Hooks(Protocol):
    def running(self, result: RunResult) -> Any:
        """A context around the whole run (tracking: the MLflow run, FAILED on an error)."""
        ...

    def on_trial(self, trial: Any) -> None:
        """One finished tuning trial."""
        ...

    def after(self, stage: str, result: RunResult) -> None:
        """`stage` has filled its part of `result`."""
        ...


class NoHooks:
    """Run without tracking (tests of the stages, a notebook)."""

    @contextmanager
    def running(self, result: RunResult) -> Iterator[None]:
        yield

    def on_trial(self, trial: Any) -> None:
        pass

    def after(self, stage: str, result: RunResult) -> None:
        pass
