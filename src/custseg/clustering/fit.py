"""Fit one clustering configuration and score it: what every trial, the final fit and the
drift check run. Kept apart from tuning so a helper process can fit trials without importing
Optuna."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from custseg.clustering.algorithms import fit_labels, get_algorithm
from custseg.clustering.metrics import segmentation_metrics


def evaluate(
    X: np.ndarray, algo_cfg: Mapping[str, Any], seed: int, metrics_cfg: Mapping[str, Any]
) -> tuple[dict[str, float], np.ndarray, Any]:
    """Fit one configuration; return its metrics, labels and the fitted estimator."""
    algo = get_algorithm(algo_cfg)
    est = algo.build(algo_cfg, seed)
    labels = fit_labels(est, X)
    metrics = segmentation_metrics(
        X,
        labels,
        max_exact=int(metrics_cfg["silhouette_max_exact"]),
        sample_size=int(metrics_cfg["silhouette_sample_size"]),
        seed=seed,
    )
    metrics |= algo.metrics(est, X)
    return metrics, labels, est


def evaluate_single_threaded(
    X: np.ndarray, algo_cfg: Mapping[str, Any], seed: int, metrics_cfg: Mapping[str, Any]
) -> tuple[dict[str, float], np.ndarray, Any]:
    """`evaluate` on one core (BLAS and OpenMP threads of the calling thread limited to one):
    trials fitted side by side, here or in a helper, neither fight over cores nor differ in the
    last digits with the thread count (k-means' inertia sums in a thread-dependent order)."""
    with threadpool_limits(limits=1):
        return evaluate(X, algo_cfg, seed, metrics_cfg)
