"""Work a run starts before the pipeline is even imported.

Importing the pipeline (MLflow, scikit-learn, Optuna) keeps one core busy for 2-3 s. Meanwhile
the helper processes can start on the other core, and the data can be read on a thread: pyarrow
parses CSV without holding the interpreter lock. The pipeline then finds the table ready at
stage 1. A load that fails raises there, inside the MLflow run, like any other load.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from custseg.helper import Helper, workers_for

if TYPE_CHECKING:
    from custseg.data.sources import Loaded


class HeadStart:
    """The helper processes and the data load of one run, both already under way."""

    def __init__(self, resolved: Mapping[str, Any]) -> None:
        self.helper = Helper(workers_for(resolved))
        self._loading: Future[Loaded] = Future()
        # a daemon thread: a run that fails before stage 1 does not wait for the load at exit
        threading.Thread(target=self._load, args=(dict(resolved["data"]), int(resolved["seed"])),
                         name="load", daemon=True).start()  # fmt: skip

    def _load(self, data_cfg: dict[str, Any], seed: int) -> None:
        try:
            from custseg.data import sources

            self._loading.set_result(sources.load(data_cfg, seed))
        except BaseException as exc:  # handed to the pipeline, raised at stage 1
            self._loading.set_exception(exc)

    def loaded(self) -> Loaded:
        """The loaded source (waits for the read to finish; re-raises its error)."""
        return self._loading.result()
