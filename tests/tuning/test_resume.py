"""A worker that dies does not cost the study a trial: its trial is failed (Optuna's heartbeat,
or `StaleTrials` when it died before the first heartbeat), its point queued again, and the next
run completes the study without losing the trials already done."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState
from sklearn.datasets import make_blobs
from threadpoolctl import threadpool_limits

from custseg.config import Config
from custseg.tuning import storage as storage_module
from custseg.tuning.space import make_sampler, suggest
from custseg.tuning.storage import STARTED, enqueue, mark_started, open_storage
from custseg.tuning.study import study_name, tune
from tests.conftest import clean_env, make_config

X, _ = make_blobs(300, centers=4, random_state=0)


def _config(tmp_path: Path, *overrides: str) -> Config:
    storage = f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}"
    return make_config("tuning=optuna", "tuning.sampler=tpe", storage, *overrides)


@pytest.fixture
def short_grace(monkeypatch):
    """Heartbeats every second, stale after two: the same mechanism, in test time."""
    monkeypatch.setattr(storage_module, "HEARTBEAT_INTERVAL", 1)
    monkeypatch.setattr(storage_module, "GRACE_PERIOD", 2)


def _ask(study: optuna.Study) -> optuna.Trial:
    """A trial created as a worker's `study.optimize` creates it (ask outside optimize warns)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return study.ask()


def _by_state(study: optuna.Study, state: TrialState) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(state,))


@pytest.mark.slow
def test_a_worker_killed_before_its_first_heartbeat_loses_no_trial(tmp_path, short_grace, caplog):
    """The trial exists (RUNNING, its queued point taken) but the worker died before Optuna's
    heartbeat thread wrote a beat: Optuna never calls such a trial stale, so `StaleTrials`
    fails it once it has stayed unstarted for the grace period, and queues its point again."""
    config = _config(tmp_path, "tuning.n_trials=4")
    name = study_name(config)
    study = optuna.create_study(study_name=name, storage=open_storage(config.tuning.storage),
                                directions=["maximize", "minimize"])  # fmt: skip
    enqueue(study, {"n_clusters": 4})
    orphan = _ask(study)  # pops the queued trial; its worker dies here
    time.sleep(2.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    assert study.trials[orphan.number].state == TrialState.RUNNING  # Optuna's limit (#4026)

    with threadpool_limits(1), caplog.at_level("WARNING"):
        result = tune(X, config)
    assert study.trials[orphan.number].state == TrialState.FAIL
    assert f"Trial {orphan.number} never started" in caplog.text
    assert len(result.trials) == 4 == result.new_trials and not _by_state(study, TrialState.RUNNING)
    requeued = [t for t in result.trials if t.params == {"n_clusters": 4}]
    assert requeued and all(t.number > orphan.number for t in requeued)


@pytest.mark.slow
def test_an_unstarted_trial_holding_the_last_grid_point_is_failed_and_its_point_run(
    tmp_path, short_grace
):
    """A grid whose every point is handed out, one of them to a worker that died before its
    first heartbeat. Failing that trial through `Study.tell` ran the grid sampler's
    `after_trial`, which calls `Study.stop` outside `optimize` and raised (seen in CI); it is
    failed through the storage, and its point is queued and evaluated."""
    config = make_config("tuning=optuna", "tuning.sampler=auto", "tuning.n_trials=1",
                         f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}",
                         "segment.search_space.n_clusters.low=4",
                         "segment.search_space.n_clusters.high=4")  # fmt: skip
    sampler, points = make_sampler("grid", config.segment.search_space, 1, config.seed)
    assert points == [{"n_clusters": 4}]
    study = optuna.create_study(study_name=study_name(config), sampler=sampler,
                                storage=open_storage(config.tuning.storage),
                                directions=["maximize", "minimize"])  # fmt: skip
    orphan = _ask(study)  # takes the only grid point; its worker dies here
    time.sleep(2.5)
    with threadpool_limits(1):
        result = tune(X, config)
    assert study.trials[orphan.number].state == TrialState.FAIL
    assert [t.params for t in result.trials] == points and result.new_trials == 1
    assert not _by_state(study, TrialState.RUNNING)


@pytest.mark.slow
def test_a_worker_killed_during_a_trial_has_the_trial_retried(tmp_path, short_grace):
    """The trial started and sent a heartbeat, then its worker died: Optuna fails it once the
    heartbeat is older than the grace period and queues a copy, which this run evaluates."""
    config = _config(tmp_path, "tuning.n_trials=4")
    name = study_name(config)
    storage = open_storage(config.tuning.storage)
    study = optuna.create_study(study_name=name, storage=storage,
                                directions=["maximize", "minimize"])  # fmt: skip
    dead = _ask(study)
    mark_started(dead)
    params = suggest(dead, config.segment.search_space)
    study_id = storage.get_study_id_from_name(name)
    storage.record_heartbeat(storage.get_trial_id_from_study_id_trial_number(study_id, dead.number))

    with threadpool_limits(1):
        result = tune(X, config)
    assert study.trials[dead.number].state == TrialState.FAIL
    (retry,) = [t for t in study.trials if t.system_attrs.get("failed_trial") == dead.number]
    assert retry.state == TrialState.COMPLETE and retry.params == params
    assert retry.user_attrs[STARTED] == retry.number  # its own objective ran it
    assert len(result.trials) == 4 == result.new_trials and not _by_state(study, TrialState.RUNNING)


CHILD = """
import sys
import numpy as np
from custseg.config import load
from custseg.tuning.study import tune
tune(np.load(sys.argv[1]), load(sys.argv[2:]))
"""


def _complete(db: Path, name: str) -> list[tuple[int, float]]:
    """(number, silhouette) of the complete trials, read through Optuna while a worker runs."""
    if not db.exists():
        return []
    try:
        study = optuna.load_study(study_name=name, storage=open_storage(f"sqlite:///{db}"))
    except KeyError:  # not created yet
        return []
    return [(t.number, t.values[0]) for t in _by_state(study, TrialState.COMPLETE)]


@pytest.mark.slow
def test_killed_study_resumes_without_losing_trials(tmp_path):
    """SIGKILL a worker part-way (during a trial, or before a trial's first heartbeat): the next
    run keeps every complete trial, fails and retries the interrupted one, adds only the
    missing trials and leaves nothing running."""
    db = tmp_path / "optuna.db"
    overrides = ["+experiment=demo_basket", "tuning=optuna", "segment=gmm", "tuning.n_trials=30",
                 "tuning.sampler=tpe", f"tuning.storage=sqlite:///{db}"]  # fmt: skip
    config = make_config(*overrides)
    name = study_name(config)
    data, _ = make_blobs(1500, 5, centers=5, random_state=0)
    np.save(tmp_path / "X.npy", data)
    env = clean_env(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    first = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "X.npy"), *overrides],
                             cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 240
    while len(_complete(db, name)) < 4 and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    before = _complete(db, name)
    assert 4 <= len(before) < 30, "the study must be interrupted part-way"

    with threadpool_limits(1):
        result = tune(data, config)
    after = _complete(db, name)
    assert len(after) == 30 == len(result.trials)
    assert set(before) <= set(after)  # every trial of the killed run is still there
    assert result.new_trials == 30 - len(before)
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{db}")
    retried = {t.system_attrs.get("failed_trial") for t in study.trials}
    for t in study.trials:  # the interrupted trial was failed, and retried if it had a point
        assert t.state != TrialState.RUNNING
        if t.state == TrialState.FAIL:
            assert t.number in retried or t.user_attrs.get(STARTED) != t.number
