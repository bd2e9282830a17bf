"""Config name -> clustering algorithm: how to build it, name it and measure it.

Every estimator follows scikit-learn's contract (`fit`, `labels_`, `predict` for new customers),
so the fitted object can be logged and reused. Label -1 means "unassigned" (HDBSCAN noise).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import hdbscan
import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

UNASSIGNED = -1


class HDBSCANSegmenter(ClusterMixin, BaseEstimator):
    """HDBSCAN with prediction data, so new customers get a segment (or -1) via
    `hdbscan.approximate_predict` instead of refitting."""

    def __init__(
        self,
        min_cluster_size: int = 50,
        min_samples: int | None = None,
        cluster_selection_method: str = "eom",
    ) -> None:
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.cluster_selection_method = cluster_selection_method

    def fit(self, X: Any, y: Any = None) -> HDBSCANSegmenter:
        self.model_ = hdbscan.HDBSCAN(
            min_cluster_size=int(self.min_cluster_size),
            min_samples=None if self.min_samples is None else int(self.min_samples),
            cluster_selection_method=self.cluster_selection_method,
            prediction_data=True,
            gen_min_span_tree=True,
        ).fit(np.asarray(X, dtype="float64"))
        self.labels_ = self.model_.labels_.astype("int64")
        return self

    def predict(self, X: Any) -> np.ndarray:
        labels, _ = hdbscan.approximate_predict(self.model_, np.asarray(X, dtype="float64"))
        return labels.astype("int64")


def _kmeans(p: Mapping[str, Any], seed: int) -> BaseEstimator:
    return KMeans(
        n_clusters=int(p["n_clusters"]), n_init=int(p.get("n_init", 10)), random_state=seed
    )


def _gmm(p: Mapping[str, Any], seed: int) -> BaseEstimator:
    return GaussianMixture(
        n_components=int(p["n_clusters"]),
        covariance_type=str(p.get("covariance_type", "full")),
        n_init=int(p.get("n_init", 1)),
        random_state=seed,
    )


def _hdbscan(p: Mapping[str, Any], seed: int) -> BaseEstimator:
    ms = p.get("min_samples")
    return HDBSCANSegmenter(
        min_cluster_size=int(p["min_cluster_size"]),
        min_samples=None if ms is None else int(ms),
        cluster_selection_method=str(p.get("cluster_selection_method", "eom")),
    )


def _kmeans_metrics(est: Any, X: np.ndarray) -> dict[str, float]:
    return {"inertia": float(est.inertia_)}


def _gmm_metrics(est: Any, X: np.ndarray) -> dict[str, float]:
    return {"bic": float(est.bic(X)), "aic": float(est.aic(X))}


def _hdbscan_metrics(est: Any, X: np.ndarray) -> dict[str, float]:
    # relative_validity_ is HDBSCAN's fast DBCV approximation on the minimum spanning tree
    return {"dbcv_relative": float(est.model_.relative_validity_)}


@dataclass(frozen=True)
class Algorithm:
    build: Callable[[Mapping[str, Any], int], BaseEstimator]
    label: Callable[[Mapping[str, Any]], str]  # run-name fragment, e.g. kmeans-k5
    metrics: Callable[[Any, np.ndarray], dict[str, float]]  # algorithm-specific extras


ALGORITHMS: dict[str, Algorithm] = {
    "kmeans": Algorithm(_kmeans, lambda p: f"kmeans-k{p['n_clusters']}", _kmeans_metrics),
    "gmm": Algorithm(
        _gmm, lambda p: f"gmm-{p.get('covariance_type', 'full')}-k{p['n_clusters']}", _gmm_metrics
    ),
    "hdbscan": Algorithm(
        _hdbscan,
        lambda p: f"hdbscan-mcs{p['min_cluster_size']}-ms{p.get('min_samples')}",
        _hdbscan_metrics,
    ),
}


def get_algorithm(cfg: Mapping[str, Any]) -> Algorithm:
    name = cfg.get("name")
    if name not in ALGORITHMS:
        raise ValueError(f"algorithm.name: unknown {name!r}; one of {list(ALGORITHMS)}")
    return ALGORITHMS[name]


def build_algorithm(cfg: Mapping[str, Any], seed: int) -> BaseEstimator:
    return get_algorithm(cfg).build(cfg, seed)


def fit_labels(est: BaseEstimator, X: np.ndarray) -> np.ndarray:
    """Fit and return training labels (GaussianMixture has no labels_)."""
    est.fit(X)
    labels = getattr(est, "labels_", None)
    return np.asarray(est.predict(X) if labels is None else labels, dtype="int64")
