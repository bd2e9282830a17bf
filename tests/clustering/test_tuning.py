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
import pytest
from mlflow.tracking import MlflowClient
from sklearn.metrics import adjusted_rand_score

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
@pytest.mark.parametrize("algorithm", ["kmeans", "gmm"])
def test_tuned_kmeans_and_gmm_choose_the_planted_k(tmp_path, algorithm):
    result, uri = _tuned(tmp_path, algorithm, 30)
    assert result.params["n_clusters"] == 5  # five planted segments
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
    assert len(children) == 30
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
            "tuning=optuna", "tuning.n_trials=30", "tuning.elbow=false",
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
