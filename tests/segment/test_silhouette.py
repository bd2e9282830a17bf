"""custseg's exact silhouette against scikit-learn's: the same numbers, whatever the blocks."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_samples, silhouette_score

from custseg.segment import metrics
from custseg.segment.metrics import segmentation_metrics, silhouette, silhouette_values


@pytest.mark.parametrize(
    ("n", "k", "dims", "block_bytes"),
    [(300, 2, 2, 4 * 2**20), (1000, 7, 5, 4 * 2**20), (997, 4, 3, 8 * 97**2), (50, 3, 1, 8)],
)
def test_values_equal_sklearn(n, k, dims, block_bytes):
    """One block, many blocks with a ragged last one, and 1x1 blocks: identical results."""
    X, y = make_blobs(n, dims, centers=k, cluster_std=2.5, random_state=n)
    with patch.object(metrics, "BLOCK_BYTES", block_bytes):
        got = silhouette_values(X, y)
    np.testing.assert_allclose(got, silhouette_samples(X, y), rtol=0, atol=1e-12)
    assert silhouette(X, y) == pytest.approx(silhouette_score(X, y), abs=1e-12)


def test_any_labels_singletons_and_duplicate_points():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(40, 2)), np.zeros((5, 2))])  # five identical points
    labels = np.array(["b"] * 20 + ["a"] * 20 + ["z", "z", "q", "z", "m"])  # q, m: singletons
    got = silhouette_values(X, labels)
    np.testing.assert_allclose(got, silhouette_samples(X, labels), rtol=0, atol=1e-12)
    assert got[labels == "q"].tolist() == [0.0] and got[labels == "m"].tolist() == [0.0]


def test_needs_two_to_n_minus_one_segments():
    X = np.arange(10.0).reshape(5, 2)
    with pytest.raises(ValueError, match="2 to n_samples - 1 segments"):
        silhouette_values(X, np.zeros(5))
    with pytest.raises(ValueError, match="2 to n_samples - 1 segments"):
        silhouette_values(X, np.arange(5))


def test_segmentation_metrics_report_the_exact_score():
    X, y = make_blobs(600, 3, centers=4, random_state=1)
    m = segmentation_metrics(X, y)
    assert m["silhouette"] == pytest.approx(silhouette_score(X, y), abs=1e-12)
    assert m["silhouette_sample_size"] == 600
