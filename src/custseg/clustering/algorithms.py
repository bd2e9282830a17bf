"""Config name -> clustering algorithm: how to build it, name it and measure it.

Every estimator follows scikit-learn's contract (`fit`, `labels_`, `predict` for new customers),
so the fitted object can be logged and reused. Label -1 means "unassigned" (HDBSCAN noise).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from custseg.data.schema import did_you_mean

UNASSIGNED = -1


class ClusteringError(ValueError):
    """Customers or parameters a clustering cannot work with; the message names the config key
    (algorithm.*) and the value that would work, instead of scikit-learn's internals."""


def _int_param(p: Mapping[str, Any], key: str, low: int, optional: bool = False) -> int | None:
    """`algorithm.KEY` as an int >= low, or a ClusteringError that names the key."""
    value = p.get(key)
    if value is None and optional:
        return None
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if isinstance(value, float) and value.is_integer():
        value, ok = int(value), True
    if not ok or value < low:
        raise ClusteringError(
            f"algorithm.{key}: {value!r} is not a whole number >= {low}; "
            f"set e.g. algorithm.{key}={max(low, 5)}"
        )
    return int(value)


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
        import hdbscan  # imported when used: most runs never need it (0.2 s at start-up)

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


def _kmeans(p: Mapping[str, Any], seed: int) -> BaseEstimator:
    return KMeans(
        n_clusters=_int_param(p, "n_clusters", 1),
        n_init=_int_param({"n_init": 10, **p}, "n_init", 1),
        random_state=seed,
    )


COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def _gmm(p: Mapping[str, Any], seed: int) -> BaseEstimator:
    cov = str(p.get("covariance_type", "full"))
    if cov not in COVARIANCE_TYPES:
        raise ClusteringError(
            f"algorithm.covariance_type: {cov!r}{did_you_mean(cov, COVARIANCE_TYPES)} is not one "
            f"of {list(COVARIANCE_TYPES)}"
        )
    return GaussianMixture(
        n_components=_int_param(p, "n_clusters", 1),
        covariance_type=cov,
        n_init=_int_param({"n_init": 1, **p}, "n_init", 1),
        random_state=seed,
    )


def _hdbscan(p: Mapping[str, Any], seed: int) -> BaseEstimator:
    return HDBSCANSegmenter(
        min_cluster_size=_int_param(p, "min_cluster_size", 2),
        min_samples=_int_param(p, "min_samples", 1, optional=True),
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
        raise ClusteringError(
            f"algorithm.name: unknown {name!r}{did_you_mean(str(name), ALGORITHMS)}; "
            f"one of {list(ALGORITHMS)} (choose with algorithm=NAME)"
        )
    return ALGORITHMS[name]


def build_algorithm(cfg: Mapping[str, Any], seed: int) -> BaseEstimator:
    return get_algorithm(cfg).build(cfg, seed)


def check_input(est: BaseEstimator, X: np.ndarray) -> None:
    """Enough customers for the asked segments, and finite features: said in config terms
    before scikit-learn says it in its own (n_samples=3 should be >= n_clusters=5)."""
    X = np.asarray(X, dtype="float64")
    n = X.shape[0]
    if n < 2:
        raise ClusteringError(
            f"only {n} customer(s) left after cleaning: segmenting needs at least 2 (and at "
            "least algorithm.n_clusters); load more data or relax the clean.* rules"
        )
    asked = [
        (key, getattr(est, attr))
        for key, attr in (("n_clusters", "n_clusters"), ("n_clusters", "n_components"),
                          ("min_cluster_size", "min_cluster_size"), ("min_samples", "min_samples"))
        if isinstance(getattr(est, attr, None), numbers.Integral)
    ]  # fmt: skip
    for key, value in asked:
        if value > n:
            raise ClusteringError(
                f"algorithm.{key}={value} but only {n} customers are left after cleaning; "
                f"set algorithm.{key} to at most {n} (with tuning=optuna also "
                f"algorithm.search_space.{key}.high), or load more data"
            )
    bad = ~np.isfinite(X).all(axis=1)
    if bad.any():
        raise ClusteringError(
            f"{int(bad.sum())} customer(s) have missing or infinite features (rows "
            f"{np.flatnonzero(bad)[:3].tolist()}); check features.log1p and the input columns"
        )


def fit_labels(est: BaseEstimator, X: np.ndarray) -> np.ndarray:
    """Fit and return training labels (GaussianMixture has no labels_)."""
    check_input(est, X)
    est.fit(X)
    labels = getattr(est, "labels_", None)
    return np.asarray(est.predict(X) if labels is None else labels, dtype="int64")
