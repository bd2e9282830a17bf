"""The Optuna study: sampler and grid choice, the study's name, the target across workers,
threads, the cap to small data, the kept fit, the elbow and the planted k of the demo data."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import get_args

import numpy as np
import optuna
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_info, threadpool_limits

from custseg.clean import clean
from custseg.config import Config, ConfigError
from custseg.config.schema import Choices, FloatRange, IntRange, Tuning
from custseg.data.sources import load
from custseg.features import builder
from custseg.segment.algorithms import ClusteringError
from custseg.segment.fit import evaluate
from custseg.tuning import study as study_module
from custseg.tuning.selection import Trial, segment_sizes
from custseg.tuning.space import SAMPLERS, grid, resolve_sampler, suggest
from custseg.tuning.storage import mark_started
from custseg.tuning.study import (
    TRIAL_STABILITY,
    TuningResult,
    elbow,
    resolve_n_jobs,
    study_name,
    tune,
)
from tests.conftest import make_config

KMEANS_SPACE = {"n_clusters": IntRange(type="int", low=2, high=10)}
COVARIANCE = Choices(type="categorical", choices=["full", "diag", "tied"])
GMM_SPACE = {**KMEANS_SPACE, "covariance_type": COVARIANCE}
TUNING = make_config("tuning=optuna").tuning


def _config(tmp_path: Path, *overrides: str) -> Config:
    storage = f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}"
    return make_config("+experiment=demo_basket", "tuning=optuna", storage, *overrides)


def _with(**changes) -> Tuning:
    return TUNING.model_copy(update=changes)


def test_auto_sampler_is_a_grid_only_for_small_discrete_spaces():
    assert grid(KMEANS_SPACE, 30) == {"n_clusters": list(range(2, 11))}
    assert grid(GMM_SPACE, 27)["covariance_type"] == ["full", "diag", "tied"]
    assert grid(GMM_SPACE, 26) is None  # 27 points > 26 trials
    assert grid({"x": IntRange(type="int", low=0, high=10**12)}, 30) is None  # counted, not listed
    eps = FloatRange(type="float", low=0.1, high=1.0)
    assert grid({**KMEANS_SPACE, "eps": eps}, 10**6) is None
    assert resolve_sampler(_with(sampler="auto", n_trials=30), KMEANS_SPACE) == "grid"
    assert resolve_sampler(_with(sampler="auto", n_trials=8), KMEANS_SPACE) == "tpe"
    assert resolve_sampler(_with(sampler="random", n_trials=30), KMEANS_SPACE) == "random"
    # every configurable sampler exists; a grid is auto's choice, never asked for by name
    assert {"auto", *SAMPLERS} == set(get_args(Tuning.model_fields["sampler"].annotation))
    with pytest.raises(ConfigError, match="tuning.sampler: 'grid' is not one of"):
        make_config("tuning=optuna", "tuning.sampler=grid")


@pytest.mark.slow
def test_study_name_tells_the_sampler_that_runs_apart(tmp_path):
    auto, tpe = study_name(_config(tmp_path)), study_name(_config(tmp_path, "tuning.sampler=tpe"))
    assert auto.startswith("demo-basket-kmeans-")
    assert auto != tpe != study_name(_config(tmp_path, "tuning.sampler=random"))
    # auto falling back to TPE is the TPE study; more trials or another wait continue it
    assert study_name(_config(tmp_path, "tuning.n_trials=7")) == tpe
    assert study_name(_config(tmp_path, "tuning.n_trials=50", "tuning.wait_timeout=5")) == auto
    assert study_name(_config(tmp_path, "tuning.n_jobs=1")) == auto  # how many at once: no change
    (tmp_path / "elsewhere").mkdir()
    assert study_name(_config(tmp_path / "elsewhere")) == auto  # where it is stored: no change
    # numbering the final segments and the final fit's bootstrap change no trial
    assert study_name(_config(tmp_path, "segment.align_to=abc", "stability.rounds=3")) == auto
    for changed in ("segment.n_init=3", "seed=7", "metrics.silhouette_max_exact=12000",
                    "clean.drop_duplicates=false", "features.scaler=robust",
                    "tuning.stability_rounds=2", "stability.sample_size=500"):  # fmt: skip
        assert study_name(_config(tmp_path, changed)) != auto, changed
    with pytest.raises(TypeError, match="tuning=optuna"):
        study_name(make_config())


def test_n_jobs_auto_runs_a_grid_on_every_core_and_a_sampler_alone():
    assert resolve_n_jobs("auto", "grid") == (os.cpu_count() or 1)
    assert resolve_n_jobs("auto", "tpe") == 1  # the next point needs the last result
    assert resolve_n_jobs(3, "tpe") == 3
    for bad in ("0", "-1", "two", "1.5", "true"):
        with pytest.raises(ConfigError, match="tuning.n_jobs"):
            make_config("tuning=optuna", f"tuning.n_jobs={bad}")


def test_a_worker_waits_for_another_workers_running_trial_then_chooses_from_all(tmp_path):
    """A trial another worker is still running fills a slot: this worker runs only the rest,
    waits for it instead of choosing from a partial study, and then includes it."""
    X, _ = make_blobs(300, centers=4, random_state=0)
    config = _config(tmp_path, "tuning.sampler=tpe", "tuning.n_trials=6")
    study = optuna.create_study(study_name=study_name(config), storage=config.tuning.storage,
                                directions=["maximize", "minimize"])  # fmt: skip
    other = study.ask()  # trial 0, RUNNING in "another worker"
    mark_started(other)  # as the other worker's objective does first
    params = suggest(other, config.segment.search_space)
    metrics, labels, _ = evaluate(X, config.segment.model_copy(update=params), 0, config.metrics)
    other.set_user_attr("metrics", metrics)
    other.set_user_attr("sizes", segment_sizes(labels))

    def finish_later() -> None:
        time.sleep(2.0)
        study.tell(other, (metrics["silhouette"], metrics["davies_bouldin"]))

    thread = threading.Thread(target=finish_later)
    thread.start()
    with threadpool_limits(1):  # no OpenMP spinning when the machine is busy
        result = tune(X, config)
    assert not thread.is_alive()  # tune returned only after the other trial completed
    thread.join()
    assert sorted(t.number for t in result.trials) == list(range(6))  # no 7th trial
    assert result.new_trials == 5  # trial 0 was the other worker's
    assert {t.state for t in study.trials} == {optuna.trial.TrialState.COMPLETE}


def test_a_grid_study_evaluates_each_point_once_and_a_rerun_adds_nothing(tmp_path):
    X, _ = make_blobs(300, centers=4, random_state=0)
    config = _config(tmp_path)
    with threadpool_limits(1):
        first = tune(X, config)
        again = tune(X, config)
    assert sorted(t.params["n_clusters"] for t in first.trials) == list(range(3, 11))
    assert first.new_trials == 8 and first.sampler == "grid" and "grid" in first.notes[0]
    assert again.new_trials == 0 and again.chosen.number == first.chosen.number
    # the chosen block is the configured one with the chosen trial's parameters
    assert first.params == config.segment.model_copy(update=first.chosen.params)
    assert first.table().loc[first.chosen.number, "chosen"]


def test_search_space_is_capped_at_the_number_of_customers(tmp_path):
    """A 6-customer file with k in 3..10 tunes k = 3..5 instead of failing at k > 6."""
    X = np.random.default_rng(0).normal(size=(6, 2))
    config = make_config("tuning=optuna", f"tuning.storage=sqlite:///{tmp_path / 'o.db'}")
    result = tune(X, config)
    assert {t.params["n_clusters"] for t in result.trials} == {3, 4, 5}
    assert result.params.search_space["n_clusters"].high == 5
    with pytest.raises(ClusteringError, match=r"search_space\.n_clusters: low=3 .* only 2 cust"):
        tune(X[:2], config)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("option", "overrides"),
    [("kmeans", ()),  # OpenMP: 8 points
     ("gmm", ("segment.search_space.n_clusters.high=4", "segment.n_init=1"))],  # BLAS: 8 points
)  # fmt: skip
def test_threads_and_sequential_give_the_same_trials(tmp_path, option, overrides):
    """Two trials at a time in Optuna's threads, each on one core, change no number: every
    trial's metrics (its bootstrap stability too), the choice, and the kept fit of the chosen
    trial; the process's BLAS threads are restored afterwards."""
    X, _ = make_blobs(400, 3, centers=4, cluster_std=1.5, random_state=2)
    blas = sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")

    def tuned(name: str, n_jobs: int) -> TuningResult:
        config = make_config("tuning=optuna", f"segment={option}", *overrides,
                             f"tuning.storage=sqlite:///{tmp_path / name}.db",
                             f"tuning.n_jobs={n_jobs}")  # fmt: skip
        return tune(X, config)

    with threadpool_limits(1):  # one core per fit, as each thread has
        alone = tuned("alone", 1)
    threads = tuned("threads", 2)
    assert sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas") == blas

    def by_point(r: TuningResult) -> dict[str, dict[str, float]]:
        return {str(sorted(t.params.items())): t.metrics for t in r.trials}

    assert alone.sampler == threads.sampler == "grid" and len(by_point(alone)) == 8
    assert by_point(threads) == by_point(alone)
    assert threads.chosen.params == alone.chosen.params and threads.params == alone.params
    for r in (alone, threads):  # the final model is the chosen trial's own fit
        metrics, labels, est = r.fitted
        # the trial's record is the fit's metrics plus its stability
        assert r.chosen.metrics == metrics | {k: r.chosen.metrics[k] for k in TRIAL_STABILITY}
        assert all(0.0 <= r.chosen.metrics[k] <= 1.0 for k in TRIAL_STABILITY)
        assert (est.predict(X) == labels).all() and labels.max() + 1 == r.params.n_clusters


def test_no_fit_is_kept_for_large_data(tmp_path, monkeypatch):
    X, _ = make_blobs(300, centers=3, random_state=0)
    monkeypatch.setattr(study_module, "KEEP_FITS_UP_TO", 299)
    with threadpool_limits(1):
        result = tune(X, _config(tmp_path))
    assert result.fitted is None and len(result.trials) == 8


def test_elbow_reuses_trials_and_fits_only_missing_k():
    X, _ = make_blobs(300, centers=3, random_state=0)
    config = make_config("segment.n_init=2", "segment.n_clusters=3",
                         "segment.search_space.n_clusters.high=5")  # fmt: skip
    sentinel = {"silhouette": 0.123, "davies_bouldin": 9.0, "n_segments": 3.0}
    trials = [Trial(0, {"n_clusters": 4}, sentinel)]
    curve = elbow(X, config.segment, 0, config.metrics, trials)
    assert curve.index.tolist() == [3, 4, 5]
    assert curve.loc[4, "silhouette"] == 0.123  # taken from the study, not refitted
    assert curve.loc[3, "silhouette"] != 0.123 and "inertia" in curve.columns
    hdbscan = make_config("segment=hdbscan").segment
    assert elbow(X, hdbscan, 0, config.metrics, trials) is None  # no k to sweep


def _demo(config: Config) -> tuple[np.ndarray, np.ndarray]:
    """The demo data's scaled features and each customer's planted segment."""
    loaded = load(config.data, config.seed)
    tx, _ = clean(loaded.transactions, config.clean)
    features = builder(config.features)
    feats = features.fit_transform(tx)
    truth = loaded.truth.customers.set_index("customer_id")["segment"]
    return features.scaling(config.seed).fit_transform(feats), truth.loc[feats.index].to_numpy()


def _ari_assigned(truth: np.ndarray, labels: np.ndarray) -> float:
    assigned = labels >= 0
    return adjusted_rand_score(truth[assigned], labels[assigned])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("option", "n_complete"),
    [("kmeans", 8), ("gmm", 30)],  # sampler auto: kmeans' 8 values of k are a grid; gmm has 32
)
def test_tuned_kmeans_and_gmm_choose_the_planted_k(tmp_path, option, n_complete):
    config = _config(tmp_path, f"segment={option}")
    X, truth = _demo(config)
    result = tune(X, config)
    assert result.params.n_clusters == 5  # five planted segments
    assert len(result.trials) == n_complete == result.new_trials
    assert _ari_assigned(truth, result.fitted[1]) >= 0.9
    if option == "kmeans":  # every k exactly once, and the result says why there are only 9
        assert sorted(t.params["n_clusters"] for t in result.trials) == list(range(3, 11))
        assert "grid" in result.notes[0]
    assert all(sum(t.sizes) == len(X) for t in result.trials)


@pytest.mark.slow
def test_tuned_hdbscan_recovers_planted_segments_on_assigned_points(tmp_path):
    # demo_basket without its segment.n_clusters (HDBSCAN has none)
    storage = f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}"
    config = make_config("data=demo", "features=basket", "segment=hdbscan", "tuning=optuna",
                         "tuning.n_trials=25", storage)  # fmt: skip
    X, truth = _demo(config)
    result = tune(X, config)
    metrics, labels, est = result.fitted
    assert _ari_assigned(truth, labels) >= 0.8
    assert metrics["noise_share"] <= 0.3
    # new customers get a segment through approximate prediction, consistent with training
    assert (est.predict(X[:300]) == labels[:300]).mean() > 0.9
