"""Warnings a run must not swallow: data that is usable but ambiguous (ids that collide after
normalisation, a training window too short to evaluate, a threshold that leaves a stage empty).

A stage calls `warn(key, sentence)`; the sentence goes to the log at once, and while a pipeline
run is collecting (`collecting`), into the run's result, where tracking logs it as the tag
`warning.<key>` and the report lists it. This module sits below every stage, like
`custseg.progress`, so no stage reaches up the chain to report a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar

log = logging.getLogger("custseg")
_sink: ContextVar[MutableMapping[str, str] | None] = ContextVar("custseg_notices", default=None)


def warn(key: str, message: str) -> None:
    """Log `message` as a warning and keep it under `key` (a short dotted name, e.g.
    `data.customer_id_collisions`) in the run being collected. A key seen twice keeps its
    first sentence: the evaluation's model of the past repeats the run's own stages."""
    log.warning("%s", message)
    sink = _sink.get()
    if sink is not None:
        sink.setdefault(key, message)


@contextmanager
def collecting(into: MutableMapping[str, str]) -> Iterator[MutableMapping[str, str]]:
    """Collect every `warn` made inside the block into `into`."""
    token = _sink.set(into)
    try:
        yield into
    finally:
        _sink.reset(token)
