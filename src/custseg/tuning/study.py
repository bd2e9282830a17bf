"""Optuna inside the app: a multi-objective study (max silhouette, min Davies-Bouldin) over the
`segment.search_space`, ended by the selection rule of `custseg.tuning.selection`.

The study lives in RDB storage under a name derived from the config, so a killed run resumes
where it stopped and several processes can share one study (`custseg.tuning.fill`): together
they stop at exactly the target number of complete trials, and each selects only once all of
them are in, so every worker chooses the same trial. Trial logging is a callback: this module
never talks to MLflow.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState
from threadpoolctl import threadpool_limits

from custseg import notices
from custseg.config.schema import GMM, Config, IntRange, KMeans, Metrics, Segment, Tuning
from custseg.segment.fit import fit_scored, stability
from custseg.segment.identity import max_revenue_share
from custseg.tuning.fill import Full, errored, fill, surplus
from custseg.tuning.outcome import all_failed, nothing_found, some_failed
from custseg.tuning.selection import REVENUE, Trial, objectives, segment_sizes, select
from custseg.tuning.space import make_sampler, resolve_sampler, suggest, within_data
from custseg.tuning.storage import ERROR, mark_started, open_storage

log = logging.getLogger(__name__)
KEEP_FITS_UP_TO = 20_000  # customers: below this every trial's fit is kept for the final model
Fit = tuple[dict[str, float], np.ndarray, Any]  # metrics, labels, fitted estimator
TRIAL_STABILITY = ("stability.ari_mean", "stability.jaccard_min")  # what a trial records
FAILED = (float("nan"), float("nan"))  # objective values Optuna records as a failed trial


@dataclass
class TuningResult:
    study_name: str
    trials: list[Trial]
    chosen: Trial
    params: Segment  # the segment block with the chosen trial's parameters
    new_trials: int = 0  # complete trials this process evaluated (other workers ran the rest)
    notes: list[str] = field(default_factory=list)
    sampler: str = ""  # the sampler that ran: grid (auto on a small discrete space), tpe, ...
    # the chosen trial's fit when this process made it and the data is small: the final model
    # is then that fit, not a second identical one
    fitted: Fit | None = None

    def table(self) -> pd.DataFrame:
        rows = [
            {"trial": t.number, **{f"param.{k}": v for k, v in t.params.items()},
             **t.metrics, "on_front": t.on_front, "eligible": t.eligible,
             "chosen": t.number == self.chosen.number, "why_not": t.why_not}
            for t in self.trials
        ]  # fmt: skip
        return pd.DataFrame(rows).set_index("trial")


def resolve_n_jobs(n_jobs: int | Literal["auto"], kind: str) -> int:
    """Trials this process evaluates at once. `auto`: every core for a grid, whose points are
    fixed in advance (so any number of threads finds the same trials); 1 for a sampler, whose
    next point depends on which trials have finished (threads would make the study differ
    from run to run)."""
    if n_jobs == "auto":
        return max(1, os.cpu_count() or 1) if kind == "grid" else 1
    return n_jobs


def _tuning(config: Config) -> Tuning:
    if not isinstance(config.tuning, Tuning):
        raise TypeError("a study needs tuning=optuna; this config has tuning=none")
    return config.tuning


def study_name(config: Config) -> str:
    """Readable prefix (data-features-segment) plus a hash of everything that changes what a
    trial computes.

    n_trials, storage, wait_timeout, n_jobs, the selection rule and the elbow are left out on
    purpose: asking for more trials continues the same study, where or how many at a time it
    runs changes no trial, and choosing by another rule re-reads the same trials. So is
    `segment.align_to` (it numbers the final segments, no trial changes) and the final fit's
    `stability.rounds`; the bootstrap's `stability.sample_size` is in (a trial's stability
    uses it). The hash holds the sampler that runs, so `auto` never mixes grid and TPE trials
    in one study.
    """
    tuning = _tuning(config)
    kept = {k: v for k, v in tuning.dump().items()
            if k not in {"n_trials", "storage", "wait_timeout", "n_jobs", "selection",
                         "elbow"}}  # fmt: skip
    kept["sampler"] = resolve_sampler(tuning, config.segment.search_space)
    key = {s: getattr(config, s).dump() for s in ("data", "clean", "features", "segment",
                                                  "metrics")}  # fmt: skip
    key["segment"].pop("align_to", None)
    key |= {"seed": config.seed, "tuning": kept,
            "stability_sample_size": config.stability.sample_size}  # fmt: skip
    digest = hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    return f"{config.data.name}-{config.features.name}-{config.segment.name}-{digest[:10]}"


def _one_thread_each(n_jobs: int) -> AbstractContextManager[Any]:
    """Around `study.optimize` with several threads: BLAS on one thread. Its thread count is
    global to the process (set here once, for all trial threads, and restored when the study
    returns); OpenMP's is per thread, so each trial limits its own (`_Objective._fit`)."""
    return threadpool_limits(limits=1, user_api="blas") if n_jobs > 1 else nullcontext()


@dataclass
class _Objective:
    """One trial: claim a slot in the study, fit its point (or reuse an identical trial's
    numbers), record what the selection needs."""

    study: optuna.Study
    X: np.ndarray
    config: Config  # with the search space capped to the data
    target: int
    unique: bool  # grid: every point once
    single_thread: bool  # several trials at once: each fits on one core
    on_trial: Callable[[Trial], None] | None
    revenue: np.ndarray | None = None  # per customer (row of X): max_revenue_share; None: no money
    mine: set[int] = field(default_factory=set)  # trial numbers this process evaluated
    fits: dict[str, Fit] = field(default_factory=dict)  # kept fits, by point

    def __call__(self, trial: optuna.Trial) -> tuple[float, float]:
        mark_started(trial)
        params = suggest(trial, self.config.segment.search_space)
        if surplus(self.study, trial.number, params, self.target, self.unique):
            trial.set_user_attr("surplus", True)  # another worker's trial took this slot
            self.study.stop()
            raise optuna.TrialPruned(f"the study already has its {self.target} trials")
        self.mine.add(trial.number)
        try:
            metrics, sizes = self._reuse(params) or self._fit(params)
        except ValueError as exc:  # this point cannot be fitted here (too few customers, a
            # mixture that collapses): recorded and settled, not retried, not the whole study
            trial.set_user_attr(ERROR, str(exc))
            log.warning("trial %d/%d %s failed: %s", trial.number + 1, self.target, params, exc)
            return FAILED
        trial.set_user_attr("metrics", metrics)
        trial.set_user_attr("sizes", sizes)
        log.info(
            "trial %d/%d %s: silhouette %.3f, DBI %.3f, %d segments, stability ARI %.3f",
            trial.number + 1, self.target, params, metrics.get("silhouette", float("nan")),
            metrics.get("davies_bouldin", float("nan")), metrics["n_segments"],
            metrics.get("stability.ari_mean", float("nan")),
        )  # fmt: skip
        if self.on_trial is not None:
            self.on_trial(Trial(trial.number, params, metrics, sizes))
        return objectives(metrics)

    def _reuse(self, params: dict[str, Any]) -> tuple[dict[str, float], list[int]] | None:
        """A sampler may propose a point again: its numbers (a grid's points are unique)."""
        if self.unique:
            return None
        for old in self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            if old.params == params:
                return old.user_attrs["metrics"], old.user_attrs["sizes"]
        return None

    def _fit(self, params: dict[str, Any]) -> tuple[dict[str, float], list[int]]:
        """The trial's fit, its metrics and, with `tuning.stability_rounds`, its bootstrap
        stability (the selection's stability gate; the kept fit holds the metrics alone)."""
        config, algorithm = self.config, self.config.segment.model_copy(update=params)
        one = threadpool_limits(limits=1, user_api="openmp") if self.single_thread else None
        with one or nullcontext():
            fit = fit_scored(self.X, algorithm, config.seed, config.metrics)
            metrics = dict(fit[0])
            if _tuning(config).stability_rounds:
                # trials one at a time (a sampler): its refits share the cores instead
                measured = stability(self.X, fit[1], algorithm, config.seed,
                                     _tuning(config).stability_rounds,
                                     config.stability.sample_size,
                                     1 if self.single_thread else os.cpu_count() or 1)  # fmt: skip
                metrics |= {k: measured.as_metrics()[k] for k in TRIAL_STABILITY}
        if self.revenue is not None:
            metrics[REVENUE] = max_revenue_share(fit[1], self.revenue)
        if len(self.X) <= KEEP_FITS_UP_TO:
            self.fits[_key(params)] = fit
        return metrics, segment_sizes(fit[1])


def _key(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def tune(X: np.ndarray, config: Config, on_trial: Callable[[Trial], None] | None = None,
         revenue: np.ndarray | None = None) -> TuningResult:  # fmt: skip
    """Run (or continue, or help other workers finish) the study until it holds its target of
    complete trials and none running, then choose from all of them.

    The target is `tuning.n_trials`, or the number of grid points when `sampler: auto` picks the
    grid (every point once: fewer trials, no duplicates, the same points in any run order).
    Trials run at once only as Optuna's threads (`tuning.n_jobs`), each on one core, so their
    numbers do not depend on how many run together. `on_trial` is called as each trial this
    process evaluates completes (from Optuna's threads when n_jobs > 1). `revenue` (per row of
    X; None when the data has no money) gives each trial its largest segment share of revenue.
    """
    tuning = _tuning(config)
    config = config.model_copy(update={"segment": within_data(config.segment, len(X))})
    space, name = config.segment.search_space, study_name(config)
    kind, target, notes = resolve_sampler(tuning, space), tuning.n_trials, []
    sampler, points = make_sampler(kind, space, target, config.seed)
    if points is not None:
        if len(points) < target:
            notes.append(
                f"sampler auto: the search space has only {len(points)} points, so each is "
                f"evaluated once (grid) instead of {target} sampled trials"
            )
            log.info(notes[-1])
        target = len(points)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(tuning.storage)
    study = optuna.create_study(
        study_name=name, storage=storage, sampler=sampler,
        directions=["maximize", "minimize"], load_if_exists=True,
    )  # fmt: skip
    done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    n_jobs = resolve_n_jobs(tuning.n_jobs, kind)
    at_once = f", {n_jobs} at a time" if done < target and n_jobs > 1 else ""
    log.info("Study %s (%s): %d of %d trials complete%s", name, kind, done, target, at_once)
    objective = _Objective(study, X, config, target, points is not None, n_jobs > 1, on_trial,
                           revenue)  # fmt: skip

    def work(n: int) -> None:
        # stop as soon as complete + running + queued trials make the target, so no worker
        # starts a trial that others already cover (the objective's check closes the race)
        with _one_thread_each(n_jobs):
            study.optimize(objective, n_trials=n, callbacks=[Full(target)], n_jobs=n_jobs)

    fill(study, storage, target, points, work, tuning.wait_timeout)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    failures = [(t.number, t.params, str(t.user_attrs[ERROR]))
                for t in study.get_trials(deepcopy=False) if errored(t)]  # fmt: skip
    if not complete:
        raise all_failed(failures)
    if failures:
        notes.append(some_failed(failures, len(complete) + len(failures)))
        notices.warn("tuning.failed_trials", notes[-1])
    trials = [Trial(t.number, dict(t.params), dict(t.user_attrs["metrics"]),
                    list(t.user_attrs["sizes"])) for t in complete]  # fmt: skip
    if not any("silhouette" in t.metrics for t in trials):
        raise nothing_found(X, config, [int(t.metrics["n_segments"]) for t in trials])
    chosen, select_notes = select(trials, tuning.selection)
    for note in select_notes:
        notices.warn("tuning.no_eligible_trial", note)
    log.info("Chose trial %d of %d: %s", chosen.number, len(trials), chosen.params)
    return TuningResult(
        name, trials, chosen, config.segment.model_copy(update=chosen.params),
        sum(t.number in objective.mine for t in complete), notes + select_notes, kind,
        objective.fits.get(_key(chosen.params)),
    )  # fmt: skip


def elbow(X: np.ndarray, algorithm_cfg: Segment, seed: int, metrics_cfg: Metrics,
          trials: list[Trial] | None = None) -> pd.DataFrame | None:  # fmt: skip
    """Quality per k over the searched k range (KMeans/GMM): the classic elbow, made honest by
    showing silhouette and Davies-Bouldin beside inertia or BIC. A k that a trial already fitted
    with the same other parameters is taken from the study instead of fitted again."""
    k_space = algorithm_cfg.search_space.get("n_clusters")
    if not isinstance(algorithm_cfg, KMeans | GMM) or not isinstance(k_space, IntRange):
        return None
    known: dict[int, dict[str, float]] = {}
    for t in trials or []:
        others = {p: v for p, v in t.params.items() if p != "n_clusters"}
        if "n_clusters" in t.params and all(getattr(algorithm_cfg, p, None) == v
                                            for p, v in others.items()):  # fmt: skip
            known[int(t.params["n_clusters"])] = t.metrics
    rows = []
    for k in range(k_space.low, k_space.high + 1):
        at_k = algorithm_cfg.model_copy(update={"n_clusters": k})
        try:
            rows.append({"k": k, **(known.get(k) or fit_scored(X, at_k, seed, metrics_cfg)[0])})
        except ValueError as exc:  # as a trial at this k would: left out of the curve
            log.warning("elbow: k=%d left out: %s", k, exc)
    return pd.DataFrame(rows).set_index("k") if rows else None
