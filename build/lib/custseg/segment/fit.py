"""Fit one clustering configuration and score it: what every tuning trial, the final fit and
the drift check run, so a trial's numbers are the final model's numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from custseg.config.schema import Metrics, Segment
from custseg.segment.algorithms import build, fit_labels
from custseg.segment.metrics import segmentation_metrics


def evaluate(
    X: np.ndarray, algorithm: Segment, seed: int, metrics: Metrics
) -> tuple[dict[str, float], np.ndarray, Any]:
    """Fit `algorithm` (a `segment` config block) on X; return its metrics, labels and the
    fitted estimator."""
    est = build(algorithm.target, algorithm.params(), seed)
    labels = fit_labels(est, X)
    scores = segmentation_metrics(
        X,
        labels,
        max_exact=metrics.silhouette_max_exact,
        sample_size=metrics.silhouette_sample_size,
        seed=seed,
    )
    return scores | est.quality(X), labels, est
