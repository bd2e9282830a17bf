"""Optuna inside the app: multi-objective search (max silhouette, min Davies-Bouldin) with a
documented rule that picks one trial, so degenerate answers (a giant segment, dust clusters,
mostly noise) are never chosen just because they score well.

The study lives in RDB storage under a name derived from the config, so a killed run resumes
where it stopped and several processes can share one study: together they stop at exactly the
target number of complete trials, and each selects only once all of them are in, so every worker
chooses the same trial. Trial logging is a callback: this module never talks to MLflow.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import logging
import math
import os
import queue
import time
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import optuna
import pandas as pd
import sqlalchemy
from optuna.trial import FrozenTrial, TrialState

from custseg.atomic import sqlite_init_lock
from custseg.clustering.algorithms import UNASSIGNED, ClusteringError
from custseg.clustering.fit import evaluate, evaluate_single_threaded
from custseg.helper import Helper

log = logging.getLogger(__name__)
WORST = (-1.0, 1e6)  # objective values of a degenerate trial (one segment or no segment)
LIVE = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)  # trials that fill the target
SQLITE_TIMEOUT = 120  # seconds a SQLite writer waits for the lock (the driver's default is 5)
POLL = 0.5  # seconds between looks at the study while other workers finish their trials
PROGRESS_EVERY = 10.0  # seconds between progress lines while waiting
KEEP_FITS_UP_TO = 20_000  # customers: below this every trial's fit is kept for the final model

SAMPLERS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True),
    "nsga2": lambda seed: optuna.samplers.NSGAIISampler(seed=seed),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
}
CHOICES = ("auto", *SAMPLERS)  # tuning.sampler; auto = grid when small and discrete, else tpe


@dataclass
class Trial:
    number: int
    params: dict[str, Any]  # the searched parameters only
    metrics: dict[str, float]
    sizes: list[int] = field(default_factory=list)  # customers per segment, unassigned last
    on_front: bool = False
    eligible: bool = False
    why_not: str = ""


@dataclass
class TuningResult:
    study_name: str
    trials: list[Trial]
    chosen: Trial
    params: dict[str, Any]  # full algorithm config with the chosen trial's parameters
    new_trials: int = 0  # complete trials this process evaluated (other workers ran the rest)
    notes: list[str] = field(default_factory=list)
    sampler: str = ""  # the sampler that ran: grid (auto on a small discrete space), tpe, ...
    # the chosen trial's (metrics, labels, estimator) when this process fitted it and the data
    # is small: the final fit is then that fit, not a second identical one
    fitted: tuple[dict[str, float], np.ndarray, Any] | None = None

    def table(self) -> pd.DataFrame:
        rows = [
            {"trial": t.number, **{f"param.{k}": v for k, v in t.params.items()},
             **t.metrics, "on_front": t.on_front, "eligible": t.eligible,
             "chosen": t.number == self.chosen.number, "why_not": t.why_not}
            for t in self.trials
        ]  # fmt: skip
        return pd.DataFrame(rows).set_index("trial")


def grid(space: Mapping[str, Mapping[str, Any]], limit: int) -> dict[str, list[Any]] | None:
    """Every value of every parameter when the space is discrete (int ranges, categoricals) and
    has at most `limit` points; else None. Sizes are counted before anything is listed."""
    if not space:
        return None
    sizes = []
    for spec in space.values():
        kind = spec.get("type")
        if kind == "int":
            sizes.append(int(spec["high"]) - int(spec["low"]) + 1)
        elif kind == "categorical":
            sizes.append(len(spec["choices"]))
        else:
            return None
    if math.prod(sizes) > limit:
        return None
    return {
        name: list(range(int(spec["low"]), int(spec["high"]) + 1))
        if spec["type"] == "int" else list(spec["choices"])
        for name, spec in space.items()
    }  # fmt: skip


def resolve_sampler(tuning: Mapping[str, Any], space: Mapping[str, Any]) -> str:
    """The sampler that really runs: `auto` is `grid` when evaluating every point costs no more
    than n_trials (better and cheaper than sampling, and the same in parallel), else `tpe`."""
    name = str(tuning["sampler"])
    if name not in CHOICES:
        raise ValueError(f"tuning.sampler: {name!r} is not one of {list(CHOICES)}")
    if name != "auto":
        return name
    return "grid" if grid(space, int(tuning["n_trials"])) is not None else "tpe"


def resolve_n_jobs(tuning: Mapping[str, Any], kind: str) -> int:
    """Trials this process evaluates at once. `auto`: every core for a grid, whose points are
    fixed in advance (so any number of threads finds the same trials); 1 for a sampler, whose
    next point depends on which trials have finished (threads would make the study differ
    from run to run)."""
    value = tuning.get("n_jobs", "auto")
    if value == "auto":
        return max(1, os.cpu_count() or 1) if kind == "grid" else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"tuning.n_jobs: {value!r} is not auto or a whole number >= 1")
    return value


def study_name(resolved: Mapping[str, Any]) -> str:
    """Readable prefix plus a hash of everything that changes what a trial computes.

    n_trials is left out on purpose: asking for more trials continues the same study (the hash
    holds the sampler that runs, so `auto` never mixes grid and TPE trials in one study).
    """
    space = resolved["algorithm"].get("search_space") or {}
    tuning = {k: v for k, v in resolved["tuning"].items()
              if k not in {"n_trials", "storage", "wait_timeout", "n_jobs"}}  # fmt: skip
    if "sampler" in tuning:
        tuning["sampler"] = resolve_sampler(resolved["tuning"], space)
    key = {k: resolved[k] for k in ("data", "clean", "features", "algorithm", "seed", "metrics")}
    digest = hashlib.sha1(
        json.dumps({**key, "tuning": tuning}, sort_keys=True, default=str).encode()
    ).hexdigest()[:10]
    d, f, a = resolved["data"]["name"], resolved["features"]["name"], resolved["algorithm"]["name"]
    return f"{d}-{f}-{a}-{digest}"


def suggest(trial: optuna.Trial, space: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Config search space -> concrete parameters for one trial."""
    out: dict[str, Any] = {}
    for name, spec in space.items():
        kind = spec.get("type")
        if kind == "int":
            out[name] = trial.suggest_int(
                name, int(spec["low"]), int(spec["high"]), log=bool(spec.get("log", False))
            )
        elif kind == "float":
            out[name] = trial.suggest_float(
                name, float(spec["low"]), float(spec["high"]), log=bool(spec.get("log", False))
            )
        elif kind == "categorical":
            out[name] = trial.suggest_categorical(name, list(spec["choices"]))
        else:
            raise ValueError(
                f"algorithm.search_space.{name}.type: {kind!r} is not int|float|categorical"
            )
    return out


def segment_sizes(labels: np.ndarray) -> list[int]:
    """Customers per segment, largest first; unassigned (-1) customers last."""
    assigned = labels[labels != UNASSIGNED]
    sizes = sorted(np.bincount(assigned).tolist(), reverse=True) if assigned.size else []
    return [s for s in sizes if s] + [int((labels == UNASSIGNED).sum())]


def pareto_front(values: np.ndarray) -> np.ndarray:
    """Mask of non-dominated rows of (silhouette: max, davies_bouldin: min)."""
    s, d = values[:, 0], values[:, 1]
    front = np.ones(len(values), dtype=bool)
    for i in range(len(values)):
        dominated = (s >= s[i]) & (d <= d[i]) & ((s > s[i]) | (d < d[i]))
        front[i] = not dominated.any()
    return front


def _eligibility(m: Mapping[str, float], sel: Mapping[str, Any]) -> str:
    if "silhouette" not in m:
        return "fewer than two segments"
    if m["min_segment_share"] < float(sel["min_segment_share"]):
        return f"a segment below {sel['min_segment_share']:.0%} of customers"
    if m["max_segment_share"] > float(sel["max_segment_share"]):
        return f"a segment above {sel['max_segment_share']:.0%} of customers"
    if m.get("noise_share", 0.0) > float(sel["max_noise_share"]):
        return f"more than {sel['max_noise_share']:.0%} unassigned"
    return ""


def _pick_front_best_silhouette(trials: list[Trial], sel: Mapping[str, Any]) -> Trial:
    pool = [t for t in trials if t.eligible and t.on_front] or [t for t in trials if t.eligible]
    return max(pool, key=lambda t: (t.metrics["silhouette"], -t.number))


def _pick_parsimonious(trials: list[Trial], sel: Mapping[str, Any]) -> Trial:
    pool = [t for t in trials if t.eligible]
    best = max(t.metrics["silhouette"] for t in pool)
    near = [t for t in pool if t.metrics["silhouette"] >= best - float(sel["silhouette_tolerance"])]
    return min(near, key=lambda t: (t.metrics["n_segments"], t.metrics["davies_bouldin"], t.number))


RULES: dict[str, Callable[[list[Trial], Mapping[str, Any]], Trial]] = {
    "parsimonious": _pick_parsimonious,
    "front_best_silhouette": _pick_front_best_silhouette,
}


def select(trials: list[Trial], sel: Mapping[str, Any]) -> tuple[Trial, list[str]]:
    """Mark front and eligibility on every trial and pick one by the configured rule."""
    rule = sel.get("rule")
    if rule not in RULES:
        raise ValueError(f"tuning.selection.rule: {rule!r} is not one of {list(RULES)}")
    values = np.array(
        [(t.metrics.get("silhouette", WORST[0]), t.metrics.get("davies_bouldin", WORST[1]))
         for t in trials]
    )  # fmt: skip
    for t, on in zip(trials, pareto_front(values), strict=True):
        t.on_front = bool(on)
        t.why_not = _eligibility(t.metrics, sel)
        t.eligible = not t.why_not
    notes = []
    if not any(t.eligible for t in trials):
        notes.append("no trial met the selection constraints; chose the best silhouette overall")
        scored = [t for t in trials if "silhouette" in t.metrics] or trials
        return max(scored, key=lambda t: t.metrics.get("silhouette", -1.0)), notes
    return RULES[rule](trials, sel), notes


def _storage(url: str) -> optuna.storages.RDBStorage:
    sqlite = url.startswith("sqlite")
    engine_kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT}} if sqlite else {}
    with warnings.catch_warnings(), sqlite_init_lock(url):
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeats
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs=engine_kwargs,  # four writers on one file: wait for the lock
            heartbeat_interval=5,  # a killed process's RUNNING trial goes stale ...
            grace_period=15,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                max_retry=1
            ),  # ... and is retried by the next process working on the study
        )


def _point(t: FrozenTrial) -> dict[str, Any]:
    """The parameters a trial evaluates; a queued trial (a retry, a refill) has them fixed."""
    return dict(t.params) or dict(t.system_attrs.get("fixed_params") or {})


def _surplus(study: optuna.Study, trial: optuna.Trial, params: Mapping[str, Any], target: int,
             unique: bool) -> bool:  # fmt: skip
    """Would this trial overshoot? True when the trials numbered before it that are complete,
    running or queued already make the target (with `unique`: or one of them has this point).

    Numbers are handed out in creation order and a trial only moves WAITING -> RUNNING ->
    COMPLETE, so of any set of trials that all complete, the highest-numbered one saw all the
    others here: workers cannot together complete more than `target`.
    """
    earlier = [t for t in study.get_trials(deepcopy=False, states=LIVE) if t.number < trial.number]
    return len(earlier) >= target or (unique and any(_point(t) == params for t in earlier))


def _fail_stale(study: optuna.Study, storage: optuna.storages.RDBStorage) -> None:
    """Mark RUNNING trials whose worker died as FAIL; the retry callback queues a copy.

    Optuna only fails trials whose heartbeat stopped. A worker killed between creating a trial
    and its first heartbeat leaves a RUNNING trial with no heartbeat at all, which Optuna never
    calls stale (by design, optuna#4026) and which would hold a slot forever: such a trial is
    failed too once it is older than the grace period (a live one beats within milliseconds).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    if storage.grace_period is None:
        return
    cutoff = datetime.now() - timedelta(seconds=storage.grace_period)  # naive local, as Optuna
    old = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
           if t.datetime_start is not None and t.datetime_start < cutoff]  # fmt: skip
    if not old:
        return
    query = sqlalchemy.text("SELECT trial_id FROM trial_heartbeats WHERE trial_id IN :ids")
    query = query.bindparams(sqlalchemy.bindparam("ids", expanding=True))
    with storage.engine.connect() as con:
        beating = {row[0] for row in con.execute(query, {"ids": [t._trial_id for t in old]})}
    retry = storage.get_heartbeat_stale_trial_callback()
    for t in old:
        if t._trial_id in beating:
            continue
        try:
            failed = study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:  # another worker got there first
            continue
        if failed:
            log.warning("Trial %d never sent a heartbeat (its worker died): failed", t.number)
            if retry is not None:
                retry(study, copy.deepcopy(study._storage.get_trial(t._trial_id)))


def _fill(
    study: optuna.Study,
    storage: optuna.storages.RDBStorage,
    target: int,
    points: list[dict[str, Any]] | None,
    work: Callable[[int], None],
    timeout: float,
) -> None:
    """Work, then wait, until the study holds `target` complete trials and none running.

    A worker that finishes its share early waits for the other workers' running trials instead
    of selecting from a partial study; a trial whose worker died goes stale (heartbeat) and is
    retried here. With a grid (`points`), points that no trial holds any more (a trial failed)
    are queued again. Raises TimeoutError after `timeout` seconds without progress.
    """
    last_complete, since, logged = -1, time.monotonic(), float("-inf")  # say it at once
    while True:
        _fail_stale(study, storage)
        trials = study.get_trials(deepcopy=False)
        n = Counter(t.state for t in trials)
        complete, running, waiting = (n[TrialState.COMPLETE], n[TrialState.RUNNING],
                                      n[TrialState.WAITING])  # fmt: skip
        if complete >= target and not running:
            return
        held = [_point(t) for t in trials if t.state in LIVE]
        if points is not None and len(trials) >= len(points) and all(held):
            # the sampler has handed out every point (trial k gets point k) and every live
            # trial has its parameters (none just created): a point no live trial holds is
            # lost (its trial raised) and only comes back if queued
            for p in (p for p in points if p not in held):
                study.enqueue_trial(p, skip_if_exists=False)
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
            raise TimeoutError(
                f"Study {study.study_name}: no trial finished for {timeout:.0f} s while waiting "
                f"for other workers ({complete} of {target} complete, {running} running); "
                "raise tuning.wait_timeout if their trials are that slow"
            )
        if now - logged >= PROGRESS_EVERY:
            log.info("Study %s: waiting for other workers: %d of %d complete, %d running",
                     study.study_name, complete, target, running)  # fmt: skip
            logged = now
        time.sleep(POLL)


# searched integers that cannot exceed the number of customers minus one
_BOUNDED_BY_CUSTOMERS = ("n_clusters", "n_components", "min_cluster_size")


def _space_within_data(resolved: Mapping[str, Any], n: int) -> Mapping[str, Any]:
    """Cap k-like ranges at n - 1 customers, so a small file tunes what it can instead of
    failing at the first trial with more segments than customers."""
    space = dict(resolved["algorithm"].get("search_space") or {})
    changed = False
    for key in _BOUNDED_BY_CUSTOMERS:
        spec = space.get(key)
        if not spec or spec.get("type") != "int" or int(spec["high"]) < n:
            continue
        if int(spec["low"]) >= n:
            raise ClusteringError(
                f"algorithm.search_space.{key}: low={spec['low']} but the data has only {n} "
                f"customers; lower it below {n} or use more data"
            )
        log.warning("algorithm.search_space.%s.high %s capped at %d (customers - 1)", key,
                    spec["high"], n - 1)  # fmt: skip
        space[key] = {**spec, "high": n - 1}
        changed = True
    if not changed:
        return resolved
    return {**resolved, "algorithm": {**resolved["algorithm"], "search_space": space}}


def tune(
    X: np.ndarray,
    resolved: Mapping[str, Any],
    on_trial: Callable[[Trial], None] | None = None,
    helper: Helper | None = None,
) -> TuningResult:
    """Run (or continue, or help other workers finish) the study until it holds its target of
    complete trials and none running, then choose from all of them.

    The target is `tuning.n_trials`, or the number of grid points when `sampler: auto` picks the
    grid (every point once: fewer trials, no duplicates, the same points in any run order).
    With several trials at a time (`tuning.n_jobs`), a `helper` process fits some of them, so
    their numerical work runs beside this process's instead of taking turns with it.
    """
    resolved = _space_within_data(resolved, len(X))
    tuning, algo_cfg = resolved["tuning"], dict(resolved["algorithm"])
    seed, metrics_cfg = int(resolved["seed"]), resolved["metrics"]
    space = algo_cfg.get("search_space") or {}
    if not space:
        raise ValueError(f"algorithm.search_space is empty for {algo_cfg['name']}: nothing to tune")
    name = study_name(resolved)
    target = int(tuning["n_trials"])
    kind = resolve_sampler(tuning, space)
    notes: list[str] = []
    points = None
    if kind == "grid":
        values = grid(space, target) or {}
        sampler: optuna.samplers.BaseSampler = optuna.samplers.GridSampler(values, seed=seed)
        points = [dict(zip(values, p, strict=True)) for p in itertools.product(*values.values())]
        if len(points) < target:
            note = (
                f"sampler auto: the search space has only {len(points)} points, so each is "
                f"evaluated once (grid) instead of {target} sampled trials"
            )
            notes.append(note)
            log.info(note)
        target = len(points)
    else:
        sampler = SAMPLERS[kind](seed)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = _storage(str(tuning["storage"]))
    study = optuna.create_study(
        study_name=name, storage=storage, directions=["maximize", "minimize"], sampler=sampler,
        load_if_exists=True,
    )  # fmt: skip
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    n_jobs = resolve_n_jobs(tuning, kind)
    slots = _Slots(n_jobs, helper)
    at_once = f", {n_jobs} at a time ({slots})" if len(done) < target and n_jobs > 1 else ""
    log.info("Study %s (%s): %d of %d trials complete%s", name, kind, len(done), target, at_once)
    mine: set[int] = set()
    fits: dict[str, tuple[dict[str, float], np.ndarray, Any]] = {}

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        params = suggest(trial, space)  # first: a trial without params would empty TPE's space
        if _surplus(study, trial, params, target, unique=points is not None):
            trial.set_user_attr("surplus", True)  # another worker's trial took this slot
            study.stop()
            raise optuna.TrialPruned(f"the study already has its {target} trials")
        mine.add(trial.number)
        # a sampler may propose a point again: reuse its result (a grid's points are unique)
        seen = [] if points else study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        for old in seen:
            if old.params == params:
                metrics, sizes = old.user_attrs["metrics"], old.user_attrs["sizes"]
                break
        else:
            metrics, labels, est = slots.fit(X, {**algo_cfg, **params}, seed, metrics_cfg)
            if len(X) <= KEEP_FITS_UP_TO:
                fits[_key(params)] = (dict(metrics), labels, est)
            sizes = segment_sizes(labels)
        trial.set_user_attr("metrics", metrics)
        trial.set_user_attr("sizes", sizes)
        log.info(
            "trial %d/%d %s: silhouette %.3f, DBI %.3f, %d segments",
            trial.number + 1, target, params, metrics.get("silhouette", float("nan")),
            metrics.get("davies_bouldin", float("nan")), metrics["n_segments"],
        )  # fmt: skip
        if on_trial is not None:
            on_trial(Trial(trial.number, params, metrics, sizes))
        if "silhouette" not in metrics:
            return WORST
        return metrics["silhouette"], metrics["davies_bouldin"]

    def work(n: int) -> None:
        # stop as soon as complete + running + queued trials make the target, so no worker
        # starts a trial that others already cover (the objective's check closes the race)
        full = optuna.study.MaxTrialsCallback(target, states=LIVE)
        study.optimize(objective, n_trials=n, callbacks=[full], n_jobs=n_jobs)

    _fill(study, storage, target, points, work, float(tuning.get("wait_timeout", 3600)))
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    trials = [
        Trial(t.number, dict(t.params), dict(t.user_attrs["metrics"]), t.user_attrs["sizes"])
        for t in complete
    ]
    chosen, select_notes = select(trials, tuning["selection"])
    for note in select_notes:
        log.warning(note)
    log.info("Chose trial %d of %d: %s", chosen.number, len(trials), chosen.params)
    params = {**algo_cfg, **chosen.params}
    new = sum(t.number in mine for t in complete)
    return TuningResult(name, trials, chosen, params, new, notes + select_notes, kind,
                        fits.get(_key(chosen.params)))  # fmt: skip


class _Slots:
    """Where the trials running at once are fitted: in this process, or in a helper process
    (at most one trial per helper worker, the rest here). Side by side, each trial gets one
    core (BLAS and OpenMP limited to one thread where it runs), so its numbers do not depend
    on where it ran."""

    def __init__(self, n_jobs: int, helper: Helper | None) -> None:
        self.single = n_jobs > 1
        workers = helper.workers if helper is not None and helper.enabled else 0
        self.remote = min(workers, n_jobs - 1) if n_jobs > 1 else 0
        self._free: queue.SimpleQueue[Helper | None] = queue.SimpleQueue()
        for _ in range(n_jobs - self.remote):
            self._free.put(None)
        for _ in range(self.remote):
            self._free.put(helper)

    def __str__(self) -> str:
        return f"{self.remote} in a helper process" if self.remote else "threads"

    def fit(
        self, X: np.ndarray, algo_cfg: Mapping[str, Any], seed: int, metrics_cfg: Mapping[str, Any]
    ) -> tuple[dict[str, float], np.ndarray, Any]:
        where = self._free.get()
        try:
            if where is not None:
                job = where.submit(evaluate_single_threaded, X, algo_cfg, seed, metrics_cfg)
                try:
                    return job.result()
                except BrokenProcessPool:  # the helper died: fit here instead
                    log.warning("the helper process stopped; fitting this trial here")
            fit = evaluate_single_threaded if self.single else evaluate
            return fit(X, algo_cfg, seed, metrics_cfg)
        finally:
            self._free.put(where)


def _key(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def elbow(
    X: np.ndarray,
    algo_cfg: Mapping[str, Any],
    seed: int,
    metrics_cfg: Mapping[str, Any],
    trials: list[Trial] | None = None,
) -> pd.DataFrame | None:
    """Quality per k over the searched k range (KMeans/GMM): the classic elbow, made honest by
    showing silhouette and Davies-Bouldin beside inertia or BIC. A k that a trial already fitted
    with the same other parameters is taken from the study instead of fitted again."""
    k_space = (algo_cfg.get("search_space") or {}).get("n_clusters")
    if not k_space or "n_clusters" not in algo_cfg:
        return None
    known: dict[int, dict[str, float]] = {}
    for t in trials or []:
        others = {p: v for p, v in t.params.items() if p != "n_clusters"}
        if "n_clusters" in t.params and all(algo_cfg.get(p) == v for p, v in others.items()):
            known[int(t.params["n_clusters"])] = t.metrics
    rows = []
    for k in range(int(k_space["low"]), int(k_space["high"]) + 1):
        metrics = known.get(k) or evaluate(X, {**algo_cfg, "n_clusters": k}, seed, metrics_cfg)[0]
        rows.append({"k": k, **metrics})
    return pd.DataFrame(rows).set_index("k")
