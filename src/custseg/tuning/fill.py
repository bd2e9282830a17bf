"""Filling one study to its target across workers: any number of processes (and threads) run
trials of the same study and together settle exactly `target` of them, then each waits until
no trial is running, so all of them choose from the same complete study.

A trial settles by completing, or by failing with a recorded reason (its fit raised: the same
point would fail again, so it is not retried). A trial whose worker died has no reason: it is
queued again."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import optuna
from optuna.trial import TrialState

from custseg.tuning.outcome import StudyTimeout
from custseg.tuning.storage import ERROR, StaleTrials, enqueue, point

log = logging.getLogger(__name__)
LIVE = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)  # trials that fill the target
POLL = 0.5  # seconds between looks at the study while other workers finish their trials
PROGRESS_EVERY = 10.0  # seconds between progress lines while waiting


def errored(t: optuna.trial.FrozenTrial) -> bool:
    """A trial that failed for a reason its fit gave (see the module docstring)."""
    return t.state == TrialState.FAIL and ERROR in t.user_attrs


def filling(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The trials that fill the target: complete, running, queued, or failed with a reason."""
    return [t for t in study.get_trials(deepcopy=False) if t.state in LIVE or errored(t)]


class Full:
    """`study.optimize` callback: stop once the trials that fill the target make it (Optuna's
    MaxTrialsCallback, counting failed-with-a-reason trials too)."""

    def __init__(self, target: int) -> None:
        self.target = target

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if len(filling(study)) >= self.target:
            study.stop()


def surplus(study: optuna.Study, number: int, params: Mapping[str, Any], target: int,
            unique: bool) -> bool:  # fmt: skip
    """Would trial `number` overshoot? True when the trials numbered before it that are
    complete, running or queued already make the target (with `unique`: or one of them has
    this point).

    Numbers are handed out in creation order and a trial only moves WAITING -> RUNNING ->
    COMPLETE, so of any set of trials that all complete, the highest-numbered one saw all the
    others here: workers cannot together complete more than `target`.
    """
    earlier = [t for t in filling(study) if t.number < number]
    return len(earlier) >= target or (unique and any(point(t) == params for t in earlier))


def fill(study: optuna.Study, storage: optuna.storages.BaseStorage, target: int,
         points: list[dict[str, Any]] | None, work: Callable[[int], None],
         timeout: float) -> None:  # fmt: skip
    """Work, then wait, until the study holds `target` settled trials and none running.

    `work(n)` runs up to n trials in this process. A worker that finishes its share early waits
    for the other workers' running trials instead of selecting from a partial study; a trial
    whose worker died is failed (`StaleTrials`) and retried here. With a grid (`points`),
    points that no trial holds any more (a trial's worker died) are queued again. Raises
    StudyTimeout (a TuningError and a TimeoutError) after `timeout` seconds without progress.
    """
    stale = StaleTrials(study, storage)
    last_complete, since, logged = -1, time.monotonic(), float("-inf")  # say it at once
    while True:
        stale.fail()
        trials = study.get_trials(deepcopy=False)
        n = Counter(t.state for t in trials)
        complete = n[TrialState.COMPLETE] + sum(errored(t) for t in trials)  # settled
        running, waiting = n[TrialState.RUNNING], n[TrialState.WAITING]
        if complete >= target and not running:
            return
        held = [point(t) for t in trials if t.state in LIVE or errored(t)]
        if points is not None and len(trials) >= len(points) and all(held):
            # the sampler has handed out every point (trial k gets point k) and every live
            # trial has its parameters (none just created): a point no live trial holds is
            # lost (its trial raised) and only comes back if queued
            for p in (p for p in points if p not in held):
                enqueue(study, p)
                waiting += 1
        missing = target - complete - running - waiting
        if missing > 0 or (waiting and complete + running < target):
            work(max(missing, 0) + waiting)
            since = time.monotonic()
            continue
        now = time.monotonic()
        if complete != last_complete:
            last_complete, since = complete, now
        if now - since > timeout:
            raise StudyTimeout(
                f"tuning: study {study.study_name}: no trial finished for {timeout:.0f} s while "
                f"waiting for other workers ({complete} of {target} complete, {running} "
                "running); "
                "raise tuning.wait_timeout if their trials are that slow"
            )
        if now - logged >= PROGRESS_EVERY:
            log.info("Study %s: waiting for other workers: %d of %d complete, %d running",
                     study.study_name, complete, target, running)  # fmt: skip
            logged = now
        time.sleep(POLL)
