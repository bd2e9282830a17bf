from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, silhouette_score

from custseg.clustering.algorithms import build_algorithm
from custseg.clustering.metrics import segmentation_metrics, stratified_sample


def test_stratified_sample_keeps_each_segment_share():
    labels = np.repeat([0, 1, 2], [9_000, 900, 100])
    rows = stratified_sample(labels, 1_000, seed=0)
    counts = np.bincount(labels[rows])
    assert counts.tolist() == [900, 90, 10]
    assert np.unique(rows).size == rows.size


def test_silhouette_exact_below_threshold_sampled_above():
    X, y = make_blobs(3_000, centers=4, random_state=0)
    exact = segmentation_metrics(X, y, max_exact=5_000)
    assert exact["silhouette_sample_size"] == 3_000
    assert exact["silhouette"] == pytest.approx(silhouette_score(X, y))
    sampled = segmentation_metrics(X, y, max_exact=1_000, sample_size=800, seed=1)
    assert sampled["silhouette_sample_size"] == 800
    assert sampled["silhouette"] == pytest.approx(exact["silhouette"], abs=0.03)
    assert sampled["davies_bouldin"] == exact["davies_bouldin"]  # not sampled


def test_one_segment_reports_shares_but_no_scores():
    m = segmentation_metrics(np.zeros((10, 2)), np.zeros(10, dtype=int))
    assert m["n_segments"] == 1 and m["max_segment_share"] == 1.0
    assert "silhouette" not in m


@pytest.mark.parametrize("name", ["kmeans", "gmm"])
def test_registry_algorithms_recover_blobs_and_predict(name):
    X, y = make_blobs(600, centers=3, cluster_std=0.5, random_state=3)
    est = build_algorithm({"name": name, "n_clusters": 3}, seed=0).fit(X)
    assert adjusted_rand_score(y, est.predict(X)) > 0.99


def test_unknown_algorithm_is_named():
    with pytest.raises(ValueError, match="algorithm.name: unknown 'dbscan'"):
        build_algorithm({"name": "dbscan"}, 0)
