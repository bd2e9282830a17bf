from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from custseg.clean import clean
from custseg.data.sources import load
from custseg.features import builder
from custseg.segment.algorithms import build
from custseg.segment.metrics import segmentation_metrics
from tests.conftest import make_config


@pytest.mark.slow
def test_sampled_silhouette_is_within_001_of_exact_on_50k_customers():
    config = make_config("+experiment=demo_basket", "data.generator.n_rows=3600000")
    tx, _ = clean(load(config.data, seed=5).transactions, config.clean)
    features = builder(config.features)
    feats = features.fit_transform(tx)
    assert len(feats) >= 50_000
    X = features.scaling(0).fit_transform(feats)
    segment = config.segment
    labels = build(segment.target, segment.params(), seed=0).fit(X).labels_
    sampled = segmentation_metrics(X, labels, max_exact=20_000, sample_size=10_000, seed=0)
    assert sampled["silhouette_sample_size"] == pytest.approx(10_000, abs=5)
    exact = silhouette_score(X, labels)
    assert abs(sampled["silhouette"] - exact) < 0.01
    # and the default threshold computes exactly below 20k customers
    small = np.arange(len(X)) < 15_000
    m = segmentation_metrics(X[small], labels[small])
    assert m["silhouette_sample_size"] == 15_000
