"""Config name -> scikit-learn estimator. Every estimator offers fit / predict."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture


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


ALGORITHMS: dict[str, Callable[[Mapping[str, Any], int], BaseEstimator]] = {
    "kmeans": _kmeans,
    "gmm": _gmm,
}


def build_algorithm(cfg: Mapping[str, Any], seed: int) -> BaseEstimator:
    name = cfg.get("name")
    if name not in ALGORITHMS:
        raise ValueError(f"algorithm.name: unknown {name!r}; one of {list(ALGORITHMS)}")
    return ALGORITHMS[name](cfg, seed)
