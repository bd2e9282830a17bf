from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf
from sklearn.metrics import silhouette_score

from custseg.clustering.algorithms import build_algorithm
from custseg.clustering.metrics import segmentation_metrics
from custseg.data import sources
from custseg.data.clean import clean
from custseg.features import build_features
from custseg.features.scaling import make_transformer
from tests.conftest import make_cfg


@pytest.mark.slow
def test_sampled_silhouette_is_within_001_of_exact_on_50k_customers():
    cfg = OmegaConf.to_container(
        make_cfg("+experiment=demo_basket", "data.generator.n_rows=3600000"), resolve=True
    )
    tx, _ = clean(sources.load(cfg["data"], seed=5).transactions, cfg["clean"])
    feats = build_features(tx, "basket", cfg["features"])
    assert len(feats) >= 50_000
    X = make_transformer(list(feats.columns), cfg["features"]["log1p"], "standard").fit_transform(
        feats
    )
    labels = build_algorithm(cfg["algorithm"], seed=0).fit_predict(X)
    sampled = segmentation_metrics(X, labels, max_exact=20_000, sample_size=10_000, seed=0)
    assert sampled["silhouette_sample_size"] == pytest.approx(10_000, abs=5)
    exact = silhouette_score(X, labels)
    assert abs(sampled["silhouette"] - exact) < 0.01
    # and the default threshold computes exactly below 20k customers
    small = np.arange(len(X)) < 15_000
    m = segmentation_metrics(X[small], labels[small])
    assert m["silhouette_sample_size"] == 15_000
