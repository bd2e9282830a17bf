"""Where a study lives: Optuna's RDB storage, with heartbeats so a trial whose worker died is
failed and retried instead of holding its place in the study for good.

Only Optuna's public API: `RDBStorage(heartbeat_interval, grace_period,
heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback)` and
`optuna.storages.fail_stale_trials` for a worker killed during a trial, and, for the one case
heartbeats cannot see, `Study.tell(number, state=FAIL)` on the study loaded with a sampler
that does nothing after a trial (see `StaleTrials`).

On SQLite every transaction begins IMMEDIATE (`_begin_immediate`): a worker claims a queued
trial by reading it as WAITING and writing RUNNING, which Optuna guards with SELECT ... FOR
UPDATE. SQLite has no row locks and Python's sqlite3 driver only opens a transaction at the
first write, so two workers (threads or processes) could both read WAITING and both claim the
trial; the second to finish it then failed with "Cannot tell a COMPLETE trial". Queued trials
are how this study resumes (retries, lost grid points), so the claim must be atomic.
"""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError

from custseg.atomic import sqlite_init_lock
from custseg.tuning.outcome import TuningError

log = logging.getLogger(__name__)
HEARTBEAT_INTERVAL = 5  # seconds between a running trial's heartbeats ...
GRACE_PERIOD = 15  # ... and without one before the trial counts as stale (its worker died)
MAX_RETRY = 1  # a stale trial is queued again once: a point that kills workers is not rerun
SQLITE_TIMEOUT = 120  # seconds a SQLite writer waits for the lock (the driver's default is 5)
STARTED = "started"  # user attribute: the number of the trial whose objective has begun
POINT = "point"  # user attribute of a queued trial: the parameters it is to evaluate
ERROR = "error"  # user attribute of a trial whose fit raised: why (it is not run again)


def open_storage(url: str) -> optuna.storages.RDBStorage:
    """The study store at `url`; its tables are created under a lock, so workers starting
    together on a fresh SQLite file do not race in CREATE TABLE. A store that cannot be opened
    (a server that does not answer, a file that cannot be written) is a TuningError naming
    `tuning.storage`: the config check has already seen that the URL itself is sound."""
    sqlite = url.startswith("sqlite")
    # four writers on one file wait for the lock; transactions are SQLAlchemy's, not the
    # driver's (isolation_level=None), so that `_begin_immediate` decides how they begin
    connect = {"timeout": SQLITE_TIMEOUT, "isolation_level": None}
    engine_kwargs = {"connect_args": connect} if sqlite else {}
    try:
        with warnings.catch_warnings(), sqlite_init_lock(url):
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeats
            storage = optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=HEARTBEAT_INTERVAL,
                grace_period=GRACE_PERIOD,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=MAX_RETRY
                ),  # a stale trial is failed and a copy queued for the next worker that asks
            )
            if sqlite:
                event.listen(storage.engine, "begin", _begin_immediate)
            return storage
    except (SQLAlchemyError, ImportError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        shown = make_url(url).render_as_string(hide_password=True)
        raise TuningError(
            f"tuning.storage={shown}: cannot open the study store ({reason}); check that the "
            "file can be written or the database server answers, or use "
            "tuning.storage=sqlite:///optuna.db"
        ) from exc


def _begin_immediate(conn: Connection) -> None:
    """Begin each SQLite transaction holding the write lock, so a read-then-write (claiming a
    queued trial, failing a stale one) is atomic across workers (SQLAlchemy's recipe for
    pysqlite transactions; see the module docstring)."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def point(t: FrozenTrial) -> dict[str, Any]:
    """The parameters a trial evaluates: its own once suggested (a retried trial is created
    with them), else the ones it was queued with, else {} (just created by the sampler)."""
    return dict(t.params) or dict(t.user_attrs.get(POINT) or {})


def enqueue(study: optuna.Study, params: dict[str, Any]) -> None:
    """Queue a trial at `params`, the point recorded where `point` finds it."""
    study.enqueue_trial(params, user_attrs={POINT: params}, skip_if_exists=False)


def mark_started(trial: optuna.Trial) -> None:
    """The objective's first step: from here on the trial's worker is known to be alive and
    sending heartbeats (Optuna starts them just before it calls the objective)."""
    trial.set_user_attr(STARTED, trial.number)


class StaleTrials:
    """Fails the trials of workers that died, so the study can still reach its target.

    A worker killed during a trial stops its heartbeats: Optuna fails the trial once the grace
    period passes and the retry callback queues a copy (`fail_stale_trials`; Optuna also does
    this before each trial it starts). A worker killed after `study.ask` created the trial but
    before its heartbeat thread wrote the first beat leaves a RUNNING trial with no heartbeat,
    which Optuna never calls stale (by design, optuna#4026), so it would hold its place in the
    study for good (every run on it would wait `tuning.wait_timeout`, then fail). The gap is
    not rare: `study.ask` samples the trial's point before the heartbeat thread starts, which
    is a measurable share of a short trial, yet far below the grace period. Such a trial also
    never reached its objective, which `mark_started` makes visible: a RUNNING trial this
    process has watched for the grace period without that mark is failed with `Study.tell`,
    and its point, if it had one (queued or retried), queued again. The tell goes through the
    same study loaded with a RandomSampler: `tell` runs the sampler's `after_trial`, and a grid
    sampler whose points are all handed out then calls `Study.stop`, which raises outside
    `optimize` (this runs between `optimize` calls); the trial never ran, so no sampler has
    anything to learn from it.

    Limitation: a live worker that needs longer than the grace period between creating a trial
    and starting its objective (it was paused, or its database writes waited that long) loses
    that trial the same way a worker whose heartbeats stall loses it to Optuna: the trial is
    failed, and that worker's `study.optimize` raises "Cannot tell a FAIL trial".
    """

    def __init__(self, study: optuna.Study, storage: optuna.storages.BaseStorage,
                 grace: float | None = None) -> None:  # fmt: skip
        self.study = study
        # the same study, told about failures by a sampler whose after_trial does nothing
        self._teller = optuna.load_study(study_name=study.study_name, storage=storage,
                                         sampler=optuna.samplers.RandomSampler())  # fmt: skip
        self.grace = GRACE_PERIOD if grace is None else grace
        self._unstarted: dict[int, float] = {}  # trial number -> when first seen unstarted

    def fail(self) -> None:
        """Fail what is stale now; call it between looks at the study (it remembers, across
        calls, since when each unstarted trial has been seen)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(self.study)
        now = time.monotonic()
        running = self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        unstarted = {t.number: t for t in running if t.user_attrs.get(STARTED) != t.number}
        self._unstarted = {n: self._unstarted.get(n, now) for n in unstarted}
        for number, since in list(self._unstarted.items()):
            if now - since > self.grace:
                self._fail(unstarted[number])
                del self._unstarted[number]

    def _fail(self, t: FrozenTrial) -> None:
        try:
            self._teller.tell(t.number, state=TrialState.FAIL)
        except (ValueError, optuna.exceptions.UpdateFinishedTrialError):
            return  # it finished meanwhile, or another worker failed it first
        log.warning("Trial %d never started (its worker died before its first heartbeat): "
                    "failed", t.number)  # fmt: skip
        if point(t):
            enqueue(self.study, point(t))
