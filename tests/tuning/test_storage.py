"""The study store: a queued trial is claimed by exactly one worker, on SQLite too."""

from __future__ import annotations

import threading
from collections import Counter

import optuna
import pytest
from optuna.trial import TrialState

from custseg.tuning.storage import open_storage

QUEUED = 80
WORKERS = 4


@pytest.mark.slow  # a race: 80 claims by 4 threads, 6 s
def test_every_queued_trial_is_claimed_by_exactly_one_worker(tmp_path):
    """Resuming queues trials (retries, lost grid points) that workers claim by reading WAITING
    and writing RUNNING. Without atomic claims some trials went to two threads here (13-21 of
    200 with 4 threads) and the second tell raised "Cannot tell a COMPLETE trial"."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(f"sqlite:///{tmp_path / 'optuna.db'}")
    study = optuna.create_study(study_name="queue", storage=storage,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    for i in range(QUEUED):
        study.enqueue_trial({}, user_attrs={"queued": i})
    claimed: Counter[int] = Counter()
    errors: list[Exception] = []
    lock = threading.Lock()

    def worker() -> None:
        while True:
            trial = study.ask()
            if "queued" not in trial.user_attrs:  # the queue is empty: a fresh trial
                study.tell(trial, state=TrialState.FAIL)
                return
            with lock:
                claimed[trial.user_attrs["queued"]] += 1
            try:
                study.tell(trial, 1.0)
            except (ValueError, optuna.exceptions.UpdateFinishedTrialError) as exc:
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    twice = {q: n for q, n in claimed.items() if n > 1}
    assert not twice, f"claimed more than once: {twice}; errors: {errors[:3]}"
    assert not errors
    assert sorted(claimed) == list(range(QUEUED))
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == QUEUED
