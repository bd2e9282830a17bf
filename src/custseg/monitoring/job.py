"""`custseg drift`: how the segmentation holds up from one period to the next, as a tracked run.

Period A is fitted here, or comes from a logged model (`monitoring.model`): the very object a
run fitted and serves, loaded and called."""

from __future__ import annotations

import logging
from pathlib import Path

from custseg.clean import clean
from custseg.config.schema import Config
from custseg.data.sources import load
from custseg.monitoring.drift import DriftResult, drift
from custseg.progress import step
from custseg.result import run_name

log = logging.getLogger(__name__)


def run_drift(config: Config, out: Path) -> DriftResult:
    from custseg.tracking.connect import connect
    from custseg.tracking.hooks import log_drift
    from custseg.tracking.pyfunc import load_model
    from custseg.tracking.run import tracked_run

    connect(config.tracking)  # an unreachable server: exit 2 before anything is loaded
    model = None
    if config.monitoring.model:  # before the run opens: its name says which model is scored
        with step(f"load the model {config.monitoring.model}"):
            model = load_model(config.monitoring.model, config.tracking.uri)
    scored = model.config if model is not None else config
    name = "drift/" + run_name(scored.model_copy(update={"data": config.data}), model)
    with tracked_run(config.tracking, name, out) as tracker:
        with step(f"load and clean {config.data.name}"):
            tx, _ = clean(load(config.data, config.seed).transactions, config.clean)
        with step("fit on period A, score and refit period B"):
            result = drift(tx, config, model)
        log_drift(tracker, config, scored, result, name)
        log.info("Drift: ARI %.3f between model A and a refit on B; %.1f%% of %d repeat "
                 "customers moved", result.ari_refit, 100 * result.moved_share,
                 result.customers_both)  # fmt: skip
        if result.value_migration is not None:
            log.info("Drift: %.1f%% of the %s of customers active in both periods sits with "
                     "customers who changed segment", 100 * (result.value_moved_share or 0.0),
                     result.value_measure)  # fmt: skip
        return result
