"""The clustering algorithms `conf/segment/*.yaml` names by `_target_`, as scikit-learn
estimators with one contract: `fit`, `labels_`, `predict` for new customers, plus `label()` (a
run-name fragment) and `quality(X)` (the algorithm's own measures). Label -1 means "unassigned"
(HDBSCAN noise).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from hydra.utils import instantiate
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

UNASSIGNED = -1


class ClusteringError(ValueError):
    """Customers a clustering cannot work with; the message names the config key (segment.*)
    and the value that would work, instead of scikit-learn's internals."""


class _Restarted(ClusterMixin, BaseEstimator):
    """k segments found by an iterative fit restarted `n_init` times (k-means, mixtures)."""

    def __init__(
        self, n_clusters: int, n_init: int, max_iter: int, tol: float, random_state: int | None
    ) -> None:
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def predict(self, X: Any) -> np.ndarray:
        return self.model_.predict(np.asarray(X, dtype="float64")).astype("int64")


class KMeansSegmenter(_Restarted):
    """k-means: compact, round segments of similar size."""

    def fit(self, X: Any, y: Any = None) -> KMeansSegmenter:
        self.model_ = KMeans(
            n_clusters=self.n_clusters, n_init=self.n_init, max_iter=self.max_iter, tol=self.tol,
            random_state=self.random_state,
        ).fit(X)  # fmt: skip
        self.labels_ = self.model_.labels_.astype("int64")
        return self

    def label(self) -> str:
        return f"kmeans-k{self.n_clusters}"

    def quality(self, X: np.ndarray) -> dict[str, float]:
        return {"inertia": float(self.model_.inertia_)}


class GMMSegmenter(_Restarted):
    """Gaussian mixture: soft, elliptical segments (labels are the most likely component)."""

    def __init__(
        self, n_clusters: int, covariance_type: str, n_init: int, max_iter: int, tol: float,
        random_state: int | None,
    ) -> None:  # fmt: skip
        super().__init__(n_clusters, n_init, max_iter, tol, random_state)
        self.covariance_type = covariance_type

    def fit(self, X: Any, y: Any = None) -> GMMSegmenter:
        self.model_ = GaussianMixture(
            n_components=self.n_clusters, covariance_type=self.covariance_type,
            n_init=self.n_init, max_iter=self.max_iter, tol=self.tol,
            random_state=self.random_state,
        )  # fmt: skip
        # fit_predict ends with an E-step, so these labels are what predict gives
        self.labels_ = self.model_.fit_predict(X).astype("int64")
        return self

    def label(self) -> str:
        return f"gmm-{self.covariance_type}-k{self.n_clusters}"

    def quality(self, X: np.ndarray) -> dict[str, float]:
        return {"bic": float(self.model_.bic(X)), "aic": float(self.model_.aic(X))}


class HDBSCANSegmenter(ClusterMixin, BaseEstimator):
    """HDBSCAN with prediction data, so new customers get a segment (or -1) through
    `hdbscan.approximate_predict` instead of refitting. Deterministic: `random_state` is
    accepted for the common contract and unused."""

    def __init__(
        self, min_cluster_size: int, min_samples: int | None, cluster_selection_method: str,
        random_state: int | None = None,
    ) -> None:  # fmt: skip
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.cluster_selection_method = cluster_selection_method
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> HDBSCANSegmenter:
        import hdbscan  # imported when used: most runs never need it

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
        import hdbscan

        labels, _ = hdbscan.approximate_predict(self.model_, np.asarray(X, dtype="float64"))
        return labels.astype("int64")

    def label(self) -> str:
        return f"hdbscan-mcs{self.min_cluster_size}-ms{self.min_samples}"

    def quality(self, X: np.ndarray) -> dict[str, float]:
        # relative_validity_ is HDBSCAN's fast DBCV approximation on the minimum spanning tree
        return {"dbcv_relative": float(self.model_.relative_validity_)}


def build(target: str, params: dict[str, Any], seed: int) -> BaseEstimator:
    """The estimator `_target_` names, with these parameters and the run's seed."""
    return instantiate({"_target_": target, **params, "random_state": seed})


_SIZE_PARAMS = ("n_clusters", "min_cluster_size", "min_samples")


def check_input(est: BaseEstimator, X: np.ndarray) -> None:
    """Enough customers for the asked segments, and finite features: said in config terms
    before scikit-learn says it in its own (n_samples=3 should be >= n_clusters=5)."""
    X = np.asarray(X, dtype="float64")
    n = X.shape[0]
    if n < 2:
        raise ClusteringError(
            f"only {n} customer(s) left after cleaning: segmenting needs at least 2 (and at "
            "least segment.n_clusters); load more data or relax the clean.* rules"
        )
    for key in _SIZE_PARAMS:
        value = getattr(est, key, None)
        if isinstance(value, numbers.Integral) and value > n:
            # a density group as large as the data is one segment at most: a quarter leaves
            # room for several
            room = f" (e.g. {max(2, n // 4)}, so several can form)" if key != "n_clusters" else ""
            raise ClusteringError(
                f"segment.{key}={value} but only {n} customers are left after cleaning; "
                f"set segment.{key} to at most {n}{room} (with tuning=optuna also "
                f"segment.search_space.{key}.high), or load more data"
            )
    bad = ~np.isfinite(X).all(axis=1)
    if bad.any():
        raise ClusteringError(
            f"{int(bad.sum())} customer(s) have missing or infinite features (rows "
            f"{np.flatnonzero(bad)[:3].tolist()}); check features.log1p and the input columns"
        )


def fit_labels(est: BaseEstimator, X: np.ndarray) -> np.ndarray:
    """Fit and return the training labels."""
    check_input(est, X)
    est.fit(X)
    return np.asarray(est.labels_, dtype="int64")
