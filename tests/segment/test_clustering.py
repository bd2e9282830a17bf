"""The segment algorithms as conf/segment builds them, and the metrics every fit reports."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, silhouette_score

from custseg.config import ConfigError, groups
from custseg.segment.algorithms import UNASSIGNED, build
from custseg.segment.metrics import segmentation_metrics, stratified_sample
from tests.conftest import make_config


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


@pytest.mark.parametrize("option", groups()["segment"])
def test_every_segment_option_recovers_blobs_and_predicts(option):
    """Each conf/segment file builds (by `_target_`) an estimator that finds three clear blobs
    and gives the training customers their own segment again through `predict`."""
    X, y = make_blobs(600, centers=3, cluster_std=0.5, random_state=3)
    overrides = [] if option == "hdbscan" else ["segment.n_clusters=3"]  # hdbscan finds k itself
    segment = make_config(f"segment={option}", *overrides).segment
    est = build(segment.target, segment.params(), seed=0).fit(X)
    predicted = est.predict(X)
    assert adjusted_rand_score(y, predicted) > 0.99
    assert (predicted == est.labels_).mean() > 0.99
    assert (est.labels_ == UNASSIGNED).mean() < 0.01


def test_unknown_segment_option_is_named_with_the_close_one():
    with pytest.raises(ConfigError, match=r"segment=kmean: .*\(did you mean 'kmeans'\?\)"):
        make_config("segment=kmean")
