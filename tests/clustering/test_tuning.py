"""Optuna tuning: selection rule, recovery of the planted k, nested runs, resume after a kill."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from custseg.clustering import tuning
from custseg.clustering.algorithms import ClusteringError
from custseg.clustering.tuning import Trial, pareto_front, select
from custseg.pipeline import run
from tests.conftest import make_cfg

SEL = {"rule": "parsimonious", "min_segment_share": 0.05, "max_segment_share": 0.8,
       "max_noise_share": 0.3, "silhouette_tolerance": 0.01}  # fmt: skip


def _t(n: int, sil: float, dbi: float, k: int, lo: float = 0.1, hi: float = 0.4, noise=0.0):
    m = {"silhouette": sil, "davies_bouldin": dbi, "n_segments": k, "min_segment_share": lo,
         "max_segment_share": hi, "noise_share": noise}  # fmt: skip
    return Trial(n, {"n_clusters": k}, m)


def test_pareto_front_keeps_only_non_dominated_points():
    v = np.array([[0.6, 0.5], [0.7, 0.6], [0.5, 0.4], [0.55, 0.55], [0.7, 0.6]])
    assert pareto_front(v).tolist() == [True, True, True, False, True]


def test_selection_refuses_dust_giants_and_noise_then_prefers_fewer_segments():
    trials = [
        _t(0, 0.80, 0.30, 2, hi=0.95),  # one giant segment
        _t(1, 0.78, 0.35, 9, lo=0.01),  # dust clusters
        _t(2, 0.76, 0.40, 6, noise=0.5),  # half unassigned
        _t(3, 0.680, 0.49, 6),
        _t(4, 0.677, 0.55, 5),  # within 0.01 of the best eligible, fewer segments
        _t(5, 0.60, 0.70, 4),
    ]
    chosen, notes = select(trials, SEL)
    assert chosen.number == 4 and not notes
    assert [t.eligible for t in trials] == [False, False, False, True, True, True]
    assert "above 80%" in trials[0].why_not and "below 5%" in trials[1].why_not
    assert "unassigned" in trials[2].why_not
    best, _ = select(trials, {**SEL, "rule": "front_best_silhouette"})
    assert best.number == 3  # on the eligible front with the best silhouette


def test_selection_without_eligible_trials_says_so():
    chosen, notes = select([_t(0, 0.8, 0.3, 2, hi=0.99), _t(1, 0.5, 0.3, 3, hi=0.9)], SEL)
    assert chosen.number == 0 and "no trial met" in notes[0]
    with pytest.raises(ValueError, match="tuning.selection.rule"):
        select([_t(0, 0.8, 0.3, 2)], {**SEL, "rule": "elbow"})


def _tuned(tmp_path: Path, algorithm: str, n_trials: int, *extra: str):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    cfg = make_cfg(f"tracking.uri={uri}", "+experiment=demo_basket", f"algorithm={algorithm}",
                   "tuning=optuna", f"tuning.n_trials={n_trials}",
                   f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}", *extra)  # fmt: skip
    return run(cfg, tmp_path / "out"), uri


def _ari(result) -> float:
    truth = result.source.truth.customers.set_index("customer_id")["segment"]
    seg = result.segments
    assigned = seg["segment"] >= 0
    return adjusted_rand_score(truth.loc[seg.index[assigned]], seg.loc[assigned, "segment"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("algorithm", "n_complete"),
    [("kmeans", 9), ("gmm", 30)],  # sampler auto: kmeans' 9 values of k are a grid; gmm has 36
)
def test_tuned_kmeans_and_gmm_choose_the_planted_k(tmp_path, algorithm, n_complete):
    result, uri = _tuned(tmp_path, algorithm, 30)
    assert result.params["n_clusters"] == 5  # five planted segments
    assert len(result.tuning.trials) == n_complete
    assert _ari(result) >= 0.9
    client = MlflowClient(uri)
    parent = client.get_run(result.run_id)
    assert parent.info.run_name.endswith("-tuned") and "-k5-" in parent.info.run_name + "-"
    assert parent.data.params["chosen.n_clusters"] == "5"
    artifacts = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"pareto_front.png", "elbow.png", "tuning_trials.csv", "elbow.csv"} <= artifacts
    children = client.search_runs(
        [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{result.run_id}'"
    )
    assert sorted(int(c.data.tags["optuna.trial"]) for c in children) == list(range(n_complete))
    if algorithm == "kmeans":  # every k exactly once, and the run says why there are only 9
        assert sorted(t.params["n_clusters"] for t in result.tuning.trials) == list(range(2, 11))
        assert "grid" in parent.data.tags["tuning.note"]
    assert all({"silhouette", "davies_bouldin"} <= set(c.data.metrics) for c in children)
    assert all(c.data.tags["segment_sizes"].startswith("[") for c in children)


@pytest.mark.slow
def test_tuned_hdbscan_recovers_planted_segments_on_assigned_points(tmp_path):
    result, _ = _tuned(tmp_path, "hdbscan", 25)
    assert _ari(result) >= 0.8
    assert result.metrics["noise_share"] <= 0.3
    # new customers get a segment through approximate prediction, consistent with training
    predicted = result.model.predict(result.features.iloc[:300])
    agree = (predicted == result.segments["segment"].to_numpy()[:300]).mean()
    assert agree > 0.9


def _complete_trials(db: Path) -> list[tuple]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as con:
        try:
            return con.execute(
                "SELECT t.number, v.value FROM trials t JOIN trial_values v USING (trial_id) "
                "WHERE t.state = 'COMPLETE' AND v.objective = 0 ORDER BY t.number"
            ).fetchall()
        except sqlite3.OperationalError:  # tables not created yet
            return []


@pytest.mark.slow
def test_killed_study_resumes_without_losing_trials(tmp_path):
    db = tmp_path / "optuna.db"
    args = [sys.executable, "-m", "custseg", "+experiment=demo_basket", "algorithm=gmm",
            "tuning=optuna", "tuning.n_trials=30", "tuning.sampler=tpe", "tuning.elbow=false",
            f"tuning.storage=sqlite:///{db}", f"hydra.run.dir={tmp_path / 'out'}"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    first = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 240
    while len(_complete_trials(db)) < 4 and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    before = _complete_trials(db)
    assert 4 <= len(before) < 30, "the study must be interrupted part-way"

    second = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=600, check=False)  # fmt: skip
    assert second.returncode == 0, second.stderr[-3000:]
    after = _complete_trials(db)
    assert len(after) == 30
    assert set(before) <= set(after)  # every trial of the killed run is still there
    (parent,) = [
        r
        for r in MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").search_runs(["1"])
        if r.info.status == "FINISHED" and "mlflow.parentRunId" not in r.data.tags
    ]
    assert parent.data.metrics["tuning.new_trials"] == 30 - len(before)
    assert parent.data.metrics["tuning.n_complete"] == 30
    # the trial the kill interrupted went stale and was retried, not left RUNNING
    study = optuna.load_study(study_name=parent.data.params["tuning.study_name"],
                              storage=f"sqlite:///{db}")  # fmt: skip
    retried = {t.system_attrs.get("failed_trial") for t in study.trials}
    for t in study.trials:
        assert t.state != optuna.trial.TrialState.RUNNING
        assert t.state != optuna.trial.TrialState.FAIL or t.number in retried


def test_elbow_reuses_trials_and_fits_only_missing_k():
    from sklearn.datasets import make_blobs

    from custseg.clustering.tuning import elbow

    X, _ = make_blobs(300, centers=3, random_state=0)
    cfg = {"name": "kmeans", "n_clusters": 3, "n_init": 2,
           "search_space": {"n_clusters": {"type": "int", "low": 2, "high": 4}}}  # fmt: skip
    metrics_cfg = {"silhouette_max_exact": 20000, "silhouette_sample_size": 10000}
    sentinel = {"silhouette": 0.123, "davies_bouldin": 9.0, "n_segments": 3.0}
    curve = elbow(X, cfg, 0, metrics_cfg, [Trial(0, {"n_clusters": 3}, sentinel)])
    assert curve.loc[3, "silhouette"] == 0.123  # taken from the study, not refitted
    assert curve.loc[2, "silhouette"] != 0.123 and "inertia" in curve.columns


KMEANS_SPACE = {"n_clusters": {"type": "int", "low": 2, "high": 10}}
COVARIANCE = {"type": "categorical", "choices": ["full", "diag", "tied"]}
GMM_SPACE = {**KMEANS_SPACE, "covariance_type": COVARIANCE}


def test_auto_sampler_is_a_grid_only_for_small_discrete_spaces():
    from custseg.clustering.tuning import grid, resolve_sampler

    assert grid(KMEANS_SPACE, 30) == {"n_clusters": list(range(2, 11))}
    assert grid(GMM_SPACE, 27)["covariance_type"] == ["full", "diag", "tied"]
    assert grid(GMM_SPACE, 26) is None  # 27 points > 26 trials
    assert grid({"x": {"type": "int", "low": 0, "high": 10**12}}, 30) is None  # counted, not listed
    assert grid({**KMEANS_SPACE, "eps": {"type": "float", "low": 0.1, "high": 1.0}}, 10**6) is None
    assert resolve_sampler({"sampler": "auto", "n_trials": 30}, KMEANS_SPACE) == "grid"
    assert resolve_sampler({"sampler": "auto", "n_trials": 8}, KMEANS_SPACE) == "tpe"
    assert resolve_sampler({"sampler": "random", "n_trials": 30}, KMEANS_SPACE) == "random"
    with pytest.raises(ValueError, match="tuning.sampler"):
        resolve_sampler({"sampler": "grid", "n_trials": 30}, KMEANS_SPACE)


def _resolved(*overrides: str) -> dict:

    cfg = make_cfg("+experiment=demo_basket", "tuning=optuna", *overrides)
    return OmegaConf.to_container(cfg, resolve=True)


def test_study_name_tells_the_sampler_that_runs_apart():
    from custseg.clustering.tuning import study_name

    auto, tpe = study_name(_resolved()), study_name(_resolved("tuning.sampler=tpe"))
    assert auto != tpe != study_name(_resolved("tuning.sampler=random"))
    # auto falling back to TPE is the TPE study; more trials or another wait continue it
    assert study_name(_resolved("tuning.n_trials=8")) == tpe
    assert study_name(_resolved("tuning.n_trials=50", "tuning.wait_timeout=5")) == auto
    assert study_name(_resolved("tuning.n_jobs=1")) == auto  # how many at once changes nothing


def test_a_worker_waits_for_another_workers_running_trial_then_chooses_from_all(tmp_path):
    """A trial another worker is still running fills a slot: this worker runs only the rest,
    waits for it instead of choosing from a partial study, and then includes it."""
    import threading

    from sklearn.datasets import make_blobs

    from custseg.clustering.tuning import evaluate, segment_sizes, study_name, suggest, tune

    X, _ = make_blobs(300, centers=4, random_state=0)
    resolved = _resolved("tuning.sampler=tpe", "tuning.n_trials=6",
                         f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}")  # fmt: skip
    study = optuna.create_study(study_name=study_name(resolved),
                                storage=resolved["tuning"]["storage"],
                                directions=["maximize", "minimize"])  # fmt: skip
    other = study.ask()  # trial 0, RUNNING in "another worker"
    params = suggest(other, resolved["algorithm"]["search_space"])
    metrics, labels, _ = evaluate(X, {**resolved["algorithm"], **params}, 0, resolved["metrics"])
    other.set_user_attr("metrics", metrics)
    other.set_user_attr("sizes", segment_sizes(labels))

    def finish_later() -> None:
        time.sleep(2.0)
        study.tell(other, (metrics["silhouette"], metrics["davies_bouldin"]))

    thread = threading.Thread(target=finish_later)
    thread.start()
    with threadpool_limits(1):  # no OpenMP spinning when the machine is busy
        result = tune(X, resolved)
    assert not thread.is_alive()  # tune returned only after the other trial completed
    thread.join()
    assert sorted(t.number for t in result.trials) == list(range(6))  # no 7th trial
    assert result.new_trials == 5  # trial 0 was the other worker's
    states = {t.state for t in study.trials}
    assert states == {optuna.trial.TrialState.COMPLETE}


def test_a_grid_study_evaluates_each_point_once_and_a_rerun_adds_nothing(tmp_path):
    from sklearn.datasets import make_blobs

    from custseg.clustering.tuning import tune

    X, _ = make_blobs(300, centers=4, random_state=0)
    resolved = _resolved(f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}")
    with threadpool_limits(1):
        first = tune(X, resolved)
        again = tune(X, resolved)
    assert sorted(t.params["n_clusters"] for t in first.trials) == list(range(2, 11))
    assert first.new_trials == 9 and first.sampler == "grid" and "grid" in first.notes[0]
    assert again.new_trials == 0 and again.chosen.number == first.chosen.number


def test_search_space_is_capped_at_the_number_of_customers(tmp_path):
    """A 6-customer file with k in 2..10 tunes k = 2..5 instead of failing at k > 6."""
    X = np.random.default_rng(0).normal(size=(6, 2))
    resolved = OmegaConf.to_container(
        make_cfg("tuning=optuna", f"tuning.storage=sqlite:///{tmp_path / 'o.db'}"), resolve=True
    )
    result = tuning.tune(X, resolved)
    ks = {t.params["n_clusters"] for t in result.trials}
    assert ks == {2, 3, 4, 5}
    with pytest.raises(ClusteringError, match=r"n_clusters: low=2 .* only 2 customers"):
        tuning.tune(X[:2], resolved)


def test_n_jobs_auto_runs_a_grid_on_every_core_and_a_sampler_alone():
    cores = os.cpu_count() or 1
    assert tuning.resolve_n_jobs({"n_jobs": "auto"}, "grid") == cores
    assert tuning.resolve_n_jobs({"n_jobs": "auto"}, "tpe") == 1  # next point needs the last
    assert tuning.resolve_n_jobs({"n_jobs": 3}, "tpe") == 3
    for bad in (0, -1, "two", 1.5, True):
        with pytest.raises(ValueError, match="tuning.n_jobs"):
            tuning.resolve_n_jobs({"n_jobs": bad}, "grid")


def test_trials_are_the_same_alone_in_threads_and_in_a_helper_process(tmp_path):
    """Where a grid trial is fitted (this process, two threads, or the helper process) changes
    no number: every trial's metrics, the choice, and the kept fit of the chosen trial."""
    from sklearn.datasets import make_blobs

    from custseg.helper import Helper

    X, _ = make_blobs(400, 3, centers=4, cluster_std=1.5, random_state=2)

    def tuned(name: str, n_jobs: int, helper: Helper | None) -> tuning.TuningResult:
        resolved = _resolved(f"tuning.storage=sqlite:///{tmp_path / name}.db",
                             f"tuning.n_jobs={n_jobs}")  # fmt: skip
        return tuning.tune(X, resolved, helper=helper)

    helper = Helper(1)
    try:
        with threadpool_limits(1):  # one core per fit everywhere, as the threads and helper run
            alone = tuned("alone", 1, None)
        threads, remote = tuned("threads", 2, None), tuned("helper", 2, helper)
    finally:
        helper.close()

    def by_k(r: tuning.TuningResult) -> dict[int, dict[str, float]]:
        return {t.params["n_clusters"]: t.metrics for t in r.trials}

    assert len(by_k(alone)) == 9
    assert by_k(threads) == by_k(alone) and by_k(remote) == by_k(alone)
    assert threads.chosen.params == remote.chosen.params == alone.chosen.params
    for r in (alone, threads, remote):  # the final model is the chosen trial's own fit
        metrics, labels, est = r.fitted
        assert metrics == r.chosen.metrics
        assert (est.predict(X) == labels).all() and labels.max() + 1 == r.params["n_clusters"]


def test_no_fit_is_kept_for_large_data(tmp_path, monkeypatch):
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(300, centers=3, random_state=0)
    monkeypatch.setattr(tuning, "KEEP_FITS_UP_TO", 299)
    result = tuning.tune(X, _resolved(f"tuning.storage=sqlite:///{tmp_path / 'o.db'}"))
    assert result.fitted is None and len(result.trials) == 9
